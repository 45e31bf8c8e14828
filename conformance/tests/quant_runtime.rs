//! Quantized blobs (format version 2) in the runtime: the interpreter's
//! int8 and weights-only layers against naive references, the typed int8
//! and weights-only layers against the interpreter (bit for bit), and wrong
//! shapes or modes rejected with errors.
//!
//! References (independent of the runtime's kernels): the layer's f64
//! reference (`reference::layer_f64`, from the ONNX operator definitions)
//! run on dequantized values. For an int8 layer that is ONNX
//! `QuantizeLinear` of the input (f32 division, round half to even,
//! saturation), `DequantizeLinear` of input, weights and the int32 bias, the
//! float operator, then for a linear or ReLU output `QuantizeLinear` to the
//! output's scale and zero point (in f64, as `QLinearMatMul`/`QLinearConv`
//! define the output) and `DequantizeLinear`; for sigmoid, tanh and softmax
//! the function in f64. The runtime requantizes in Q31 fixed point, within
//! one output step of the f64 rounding (docs/QUANTIZATION.md).

use anyhow::Result;
use ember_conformance::qmodel::quantize;
use ember_conformance::reference::layer_f64;
use ember_conformance::{assert_parity, rng, uniform};
use ember_export::quant::QData;
use ember_export::{AlignedBytes, Model};
use ember_runtime::qspec::{QuantMode, ScaleAxis};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{Blob, dynamic};

mod quant_runtime_support;
use quant_runtime_support::*;

/// Random parameters for every layer (weights by fan-in, others small).
fn params(layers: &[LayerSpec], seed: u64) -> Vec<Vec<f32>> {
    let mut r = rng(seed);
    let mut out = Vec::new();
    for l in layers {
        for p in 0..l.param_count() {
            let n = l.param(p).map_or(0, |s| s.dims.elements());
            let limit = if l.scale_axis(p).is_some() { 0.8 } else { 0.2 };
            out.push(uniform(&mut r, n, -limit, limit));
        }
    }
    out
}

/// A model of `layers` on f32 input of `dims`, with random parameters.
fn model(layers: Vec<LayerSpec>, dims: Dims, seed: u64) -> Model {
    let values = params(&layers, seed);
    let input = IoSpec { kind: ValueKind::F32, dims, range: None };
    Model::new("q", input, layers, values).expect("a valid model")
}

/// The stored tensors of layer 0 (the test models quantize one layer).
fn tensors(m: &Model) -> Vec<QData> {
    m.quant.as_ref().map(|q| q.tensors.iter().map(|t| t.data.clone()).collect()).unwrap_or_default()
}

/// Dequantized weight (`q · scale` along `axis`) in f64.
fn dequant(q: &[i8], s: &[f32], axis: ScaleAxis) -> Vec<f64> {
    let n = q.len() / s.len();
    match axis {
        ScaleAxis::Rows => q.iter().enumerate().map(|(i, &v)| v as f64 * s[i / n] as f64).collect(),
        ScaleAxis::Last => q.iter().enumerate().map(|(i, &v)| v as f64 * s[i % s.len()] as f64).collect(),
    }
}

/// `spec` with its activation replaced by `Linear`.
fn linear(spec: LayerSpec) -> LayerSpec {
    let mut s = spec;
    match &mut s {
        LayerSpec::Dense { activation, .. }
        | LayerSpec::Conv2d { activation, .. }
        | LayerSpec::Conv2dStrided { activation, .. }
        | LayerSpec::Conv1d { activation, .. }
        | LayerSpec::DepthwiseConv2d { activation, .. } => *activation = Activation::Linear,
        _ => {}
    }
    s
}

/// The int8 reference of a one-layer int8 model on one sample.
fn int8_reference(m: &Model, x: &[f32]) -> Vec<f64> {
    let spec = m.layers[0];
    let lq = m.quant.as_ref().expect("quantized").layers[0];
    let t = tensors(m);
    let (QData::I8(q), QData::F32(s_w), QData::I32(bias)) = (&t[0], &t[1], &t[2]) else { panic!("int8 tensors") };
    let (s_in, zp_in) = (lq.input.scale, lq.input.zero_point);
    let xq: Vec<f64> = x
        .iter()
        .map(|&v| (((v / s_in).round_ties_even() as i64 + zp_in as i64).clamp(-128, 127) - zp_in as i64) as f64)
        .map(|d| d * s_in as f64)
        .collect();
    let w = dequant(q, s_w, spec.scale_axis(0).expect("axis"));
    let b: Vec<f64> = bias.iter().zip(s_w).map(|(&b, &s)| b as f64 * s_in as f64 * s as f64).collect();
    let acc = layer_f64(&linear(spec), &[w, b], &xq);
    match spec.activation() {
        Activation::Linear | Activation::Relu => {
            let (s_out, zp) = (lq.output.scale as f64, lq.output.zero_point as i64);
            let lo = if spec.activation() == Activation::Relu { zp.max(-128) } else { -128 };
            acc.iter()
                .map(|&a| (((a / s_out).round_ties_even() as i64 + zp).clamp(lo, 127) - zp) as f64 * s_out)
                .collect()
        }
        act => {
            let mut z = acc;
            ember_conformance::act_f64(act, &mut z);
            z
        }
    }
}

/// The weights-only reference of a model whose layers are all weights-only.
fn weights_only_reference(m: &Model, x: &[f64]) -> Vec<f64> {
    let t = tensors(m);
    let mut at = 0;
    let mut v = x.to_vec();
    for spec in &m.layers {
        let mut ps = Vec::new();
        for p in 0..spec.param_count() {
            match (spec.scale_axis(p), &t[at]) {
                (Some(axis), QData::I8(q)) => {
                    let QData::F32(s) = &t[at + 1] else { panic!("scales") };
                    ps.push(dequant(q, s, axis));
                    at += 2;
                }
                (_, QData::F32(f)) => {
                    ps.push(f.iter().map(|&v| v as f64).collect());
                    at += 1;
                }
                _ => panic!("unexpected tensor"),
            }
        }
        v = layer_f64(spec, &ps, &v);
    }
    v
}

/// The int8 layers under test, one per kind, shape and activation.
fn int8_layers() -> Vec<(LayerSpec, Dims)> {
    let conv = |activation| LayerSpec::Conv2d {
        height: 5,
        width: 6,
        channels: 3,
        filters: 4,
        kernel_h: 3,
        kernel_w: 3,
        padding: Padding::Same,
        activation,
    };
    let mut v: Vec<(LayerSpec, Dims)> =
        [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax]
            .into_iter()
            .map(|a| (LayerSpec::Dense { inputs: 10, units: 7, activation: a }, Dims::d1(10)))
            .collect();
    v.push((conv(Activation::Relu), d3(5, 6, 3)));
    v.push((conv(Activation::Linear), d3(5, 6, 3)));
    v.push((conv(Activation::Sigmoid), d3(5, 6, 3)));
    v.push((STRIDED, d3(7, 6, 2)));
    v.push((CONV1D, Dims::d2(12, 3)));
    v.push((DEPTHWISE, d3(6, 5, 4)));
    v
}

/// Inputs: `n` samples in `[-1.5, 1.5)` (beyond the calibration range of
/// the first samples, so input saturation is exercised too).
fn inputs(len: usize, n: usize, seed: u64) -> Vec<f32> {
    uniform(&mut rng(seed), len * n, -1.5, 1.5)
}

#[test]
fn int8_layers_match_the_onnx_reference() -> Result<()> {
    for (k, (spec, dims)) in int8_layers().into_iter().enumerate() {
        let f32_model = model(vec![spec], dims, 10 + k as u64);
        let n = dims.elements();
        let calib: Vec<f32> = inputs(n, 8, 100 + k as u64).iter().map(|v| v / 1.5).collect();
        let m = quantize(&f32_model, &[QuantMode::Int8], &calib)?;
        let xs = inputs(n, 6, 200 + k as u64);
        let got = run_interpreter(&m, &xs)?;
        let s_out = m.quant.as_ref().expect("quantized").layers[0].output.scale as f64;
        let fused = matches!(spec.activation(), Activation::Linear | Activation::Relu);
        let (mut exact, mut total) = (0, 0);
        for (x, y) in xs.chunks_exact(n).zip(got.chunks_exact(spec.output_len())) {
            let want = int8_reference(&m, x);
            for (&g, &w) in y.iter().zip(&want) {
                let err = (g as f64 - w).abs();
                if fused {
                    assert!(
                        err <= s_out * 1.001,
                        "{} {:?}: {g} vs {w} (step {s_out})",
                        spec.kind_name(),
                        spec.activation()
                    );
                    exact += usize::from(err <= s_out * 1e-3);
                } else {
                    assert!(err <= 1e-5 + 1e-5 * w.abs(), "{}: {g} vs {w}", spec.kind_name());
                    exact += 1;
                }
                total += 1;
            }
        }
        // Off by one step only where the fixed-point and the f64 rounding part.
        assert!(exact * 20 >= total * 19, "{}: only {exact} of {total} outputs exact", spec.kind_name());
    }
    Ok(())
}

#[test]
fn weights_only_layers_match_the_reference() -> Result<()> {
    for (k, (layers, dims, ids)) in weights_only_models().into_iter().enumerate() {
        let input = IoSpec { kind: if ids { ValueKind::TokenIds } else { ValueKind::F32 }, dims, range: None };
        let values = params(&layers, 40 + k as u64);
        let f32_model = Model::new("wo", input, layers.clone(), values)?;
        let n = dims.elements();
        let xs: Vec<f32> = if ids { token_ids(n, 4, 7) } else { inputs(n, 4, 300 + k as u64) };
        let m = quantize(&f32_model, &vec![QuantMode::WeightsOnly; layers.len()], &xs)?;
        let got = run_interpreter(&m, &xs)?;
        let out = m.output().dims.elements();
        for (x, y) in xs.chunks_exact(n).zip(got.chunks_exact(out)) {
            let want = weights_only_reference(&m, &x.iter().map(|&v| v as f64).collect::<Vec<_>>());
            assert_parity(&format!("weights-only {}", layers[0].kind_name()), y, &want);
        }
    }
    Ok(())
}

#[test]
fn scratch_len_covers_the_int8_input_and_short_scratch_is_an_error() -> Result<()> {
    let f32_model =
        model(vec![LayerSpec::Dense { inputs: 10, units: 7, activation: Activation::Relu }], Dims::d1(10), 3);
    let xs = inputs(10, 4, 4);
    let m = quantize(&f32_model, &[QuantMode::Int8], &xs)?;
    let bytes = AlignedBytes::new(&m.to_blob()?);
    let blob = Blob::parse(&bytes).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let len = dynamic::scratch_len(&blob);
    assert!(len >= 2 * 10 + 3, "scratch {len} must hold two activations and 10 int8 bytes");
    let mut y = [0.0f32; 7];
    let mut short = vec![0.0; len - 1];
    assert_eq!(dynamic::forward(&blob, &xs[..10], &mut short, &mut y), Err(ember_runtime::Error::BufferTooSmall));
    let mut ok = vec![0.0; len];
    assert_eq!(dynamic::forward(&blob, &xs[..10], &mut ok, &mut y), Ok(7));
    Ok(())
}
