//! Quantized models (`ember_export::quant::quantize`) exported as QDQ ONNX:
//! accepted by the ONNX checker, run by ONNX Runtime, and held against an
//! independent f64 reference of the QDQ graph's semantics, written from the
//! ONNX operator definitions: `QuantizeLinear` (`saturate(round_half_even(x
//! / scale) + zero_point)`), `DequantizeLinear` (`(q − zero_point) · scale`,
//! per axis for weights), and the layer's float op between them (the f64
//! references of `conformance/src/reference`), with the weights and biases
//! dequantized from the stored int8 / int32 tensors.
//!
//! ember's interpreter on the version-2 blob is held against ORT on the QDQ
//! ONNX with the same tolerances.
//!
//! Tolerances:
//! * [`INT8_STEPS`] = 1 quantization step of the output for models whose
//!   last layer is int8 (ORT fuses the QDQ groups into integer kernels that
//!   requantize in f32, or runs the float ops in f32; a value lying within
//!   f32 rounding of a half step can land one step away);
//! * [`WEIGHTS_ONLY`] (absolute + relative) for weights-only models, whose
//!   activations are f32 throughout.

use ember_conformance::reference::layer_f64;
use ember_conformance::support::values;
use ember_export::quant::{QData, QuantizeError, QuantizeOptions, RangeMode, Scheme, has_int8_output, quantize};
use ember_export::{AlignedBytes, Model};
use ember_runtime::qspec::{QuantMode, ScaleAxis};
use ember_runtime::quant::QuantParams;
use ember_runtime::spec::{Activation, DType, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{Blob, dynamic};
use ember_verify::backends::{OrtModel, onnx_check};

/// Output steps allowed between ORT and the reference (int8 output).
const INT8_STEPS: f64 = 1.0;
/// Tolerance for weights-only models: `|a − b| ≤ t + t · |b|`.
const WEIGHTS_ONLY: f64 = 1e-4;
/// Samples compared per model.
const BATCH: usize = 16;

fn io(kind: ValueKind, dims: &[u32]) -> IoSpec {
    IoSpec { kind, dims: Dims::new(dims).expect("dims"), range: None }
}

/// A model with seeded parameters (kernels of variance about `1 / fan_in`).
fn model(name: &str, input: IoSpec, layers: Vec<LayerSpec>) -> Model {
    let mut seed = 17;
    let mut vals = Vec::new();
    for l in &layers {
        for p in 0..l.param_count() {
            let spec = l.param(p).expect("param");
            let n = spec.dims.elements();
            seed += 1;
            let fan_in = n / spec.dims.as_slice()[0].max(1) as usize;
            let scale = if spec.dims.as_slice().len() == 1 { 0.2 } else { (3.0 / fan_in.max(1) as f64).sqrt() };
            vals.push(values(seed, n, scale));
        }
    }
    Model::new(name, input, layers, vals).expect("valid model")
}

fn dense_model() -> Model {
    let d = |inputs, units, activation| LayerSpec::Dense { inputs, units, activation };
    let layers = vec![d(8, 16, Activation::Relu), d(16, 12, Activation::Tanh), d(12, 4, Activation::Linear)];
    model("qdense", io(ValueKind::F32, &[8]), layers)
}

fn conv_model() -> Model {
    let (s, relu) = (Padding::Same, Activation::Relu);
    let layers = vec![
        LayerSpec::Conv2d {
            height: 8,
            width: 8,
            channels: 2,
            filters: 4,
            kernel_h: 3,
            kernel_w: 3,
            padding: s,
            activation: relu,
        },
        LayerSpec::DepthwiseConv2d {
            height: 8,
            width: 8,
            channels: 4,
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [1, 1],
            padding: s,
            activation: relu,
        },
        LayerSpec::MaxPool2d { height: 8, width: 8, channels: 4, pool: 2, padding: Padding::Valid },
        LayerSpec::Flatten { dims: Dims::new(&[4, 4, 4]).expect("dims") },
        LayerSpec::Dense { inputs: 64, units: 3, activation: Activation::Linear },
    ];
    model("qconv", io(ValueKind::F32, &[8, 8, 2]), layers)
}

fn recurrent_model() -> Model {
    let layers = vec![
        LayerSpec::Embedding { vocab: 20, dim: 4, seq_len: 6 },
        LayerSpec::Lstm { inputs: 4, units: 5, seq_len: 6, return_sequences: true, bidirectional: false },
        LayerSpec::Gru { inputs: 5, units: 3, seq_len: 6, return_sequences: false, bidirectional: true },
        LayerSpec::Dense { inputs: 6, units: 2, activation: Activation::Linear },
    ];
    model("qseq", io(ValueKind::TokenIds, &[6]), layers)
}

/// `n` input samples for `m`: values in ±1.5, or token ids below 20.
fn samples(m: &Model, n: usize, seed: u64) -> Vec<Vec<f32>> {
    let len = m.input.dims.elements();
    (0..n)
        .map(|k| {
            let v = values(seed + k as u64, len, 1.5);
            match m.input.kind {
                ValueKind::F32 => v,
                ValueKind::TokenIds => v.iter().map(|x| ((x + 1.5) / 3.0 * 20.0).floor().clamp(0.0, 19.0)).collect(),
            }
        })
        .collect()
}

/// ONNX `QuantizeLinear` then `DequantizeLinear` (the division in f32, as ONNX computes it).
fn fake_quant(x: &mut [f64], p: QuantParams) {
    for v in x {
        let q = ((*v as f32 / p.scale).round_ties_even() as f64 + p.zero_point as f64).clamp(-128.0, 127.0);
        *v = (q - p.zero_point as f64) * p.scale as f64;
    }
}

/// `DequantizeLinear` of a weight stored with per-channel scales along `axis`.
fn dequantize(q: &[i8], dims: &[usize], scales: &[f32], axis: ScaleAxis) -> Vec<f64> {
    let last = *dims.last().expect("rank >= 1");
    let per_filter = q.len() / dims[0].max(1);
    let channel = |k: usize| match axis {
        ScaleAxis::Rows => k / last,
        ScaleAxis::First => k / per_filter,
        ScaleAxis::Last => k % last,
    };
    q.iter().enumerate().map(|(k, &v)| v as f64 * scales[channel(k)] as f64).collect()
}

/// Each layer's f64 parameters, from the stored tensors of `m.quant`.
fn reference_params(m: &Model) -> Vec<Vec<Vec<f64>>> {
    let q = m.quant.as_ref().expect("quantized");
    let mut tensors = q.tensors.iter();
    let mut out = Vec::new();
    for (spec, lq) in m.layers.iter().zip(&q.layers) {
        let stored: Vec<_> = tensors.by_ref().take(spec.qparam_count(lq.mode)).collect();
        let f32s = |k: usize| match &stored[k].data {
            QData::F32(v) => v.clone(),
            other => panic!("{} is {:?}, not f32", stored[k].name, other.dtype()),
        };
        let i8s = |k: usize| match &stored[k].data {
            QData::I8(v) => v.clone(),
            other => panic!("{} is {:?}, not i8", stored[k].name, other.dtype()),
        };
        let mut params = Vec::new();
        match lq.mode {
            QuantMode::Float => params.extend((0..stored.len()).map(|k| f32s(k).iter().map(|&v| v as f64).collect())),
            QuantMode::WeightsOnly => {
                let mut k = 0;
                for p in 0..spec.param_count() {
                    match spec.scale_axis(p) {
                        Some(axis) => {
                            params.push(dequantize(&i8s(k), &stored[k].dims, &f32s(k + 1), axis));
                            k += 2;
                        }
                        None => {
                            params.push(f32s(k).iter().map(|&v| v as f64).collect());
                            k += 1;
                        }
                    }
                }
            }
            QuantMode::Int8 => {
                let axis = spec.scale_axis(0).expect("weight axis");
                let s_w = f32s(1);
                params.push(dequantize(&i8s(0), &stored[0].dims, &s_w, axis));
                let QData::I32(b) = &stored[2].data else { panic!("int8 bias is not i32") };
                let s_in = lq.input.scale as f64;
                params.push(b.iter().zip(&s_w).map(|(&b, &s)| b as f64 * s_in * s as f64).collect());
            }
        }
        out.push(params);
    }
    out
}

/// The QDQ graph's semantics in f64, one sample.
fn reference(m: &Model, params: &[Vec<Vec<f64>>], x: &[f32]) -> Vec<f64> {
    let q = m.quant.as_ref().expect("quantized");
    let mut cur: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    for ((spec, lq), p) in m.layers.iter().zip(&q.layers).zip(params) {
        if lq.mode == QuantMode::Int8 {
            fake_quant(&mut cur, lq.input);
        }
        cur = layer_f64(spec, p, &cur);
        if lq.mode == QuantMode::Int8 && has_int8_output(spec) {
            fake_quant(&mut cur, lq.output);
        }
    }
    cur
}

/// ember's interpreter (`ember_runtime::dynamic`) on the quantized (version 2) blob.
fn interpreter(qm: &Model, xs: &[Vec<f32>]) -> Vec<f32> {
    let bytes = AlignedBytes::new(&qm.to_blob().expect("v2 blob"));
    let blob = Blob::parse(&bytes).expect("the v2 blob parses");
    let mut scratch = vec![0f32; dynamic::scratch_len(&blob)];
    let n = qm.output().dims.elements();
    let mut out = Vec::new();
    for x in xs {
        let mut y = vec![0f32; n];
        dynamic::forward(&blob, x, &mut scratch, &mut y).expect("the interpreter runs the quantized blob");
        out.extend(y);
    }
    out
}

/// Quantizes `m`, exports it, checks it and runs it in ORT; returns the
/// quantized model, the ORT outputs and the reference outputs.
fn run(m: &Model, scheme: Scheme) -> (Model, Vec<f32>, Vec<f64>) {
    let calibration = samples(m, 64, 1000);
    let options = QuantizeOptions { scheme, range: RangeMode::MinMax };
    let qm = quantize(m, &calibration, options).expect("quantize");
    let onnx = qm.to_onnx().expect("QDQ export");
    onnx_check(&onnx).unwrap_or_else(|e| panic!("{}: ONNX checker: {e}", m.name));
    let dims: Vec<usize> = m.input.dims.as_slice().iter().map(|&d| d as usize).collect();
    let xs = samples(m, BATCH, 5000);
    let flat: Vec<f32> = xs.concat();
    let mut ort = OrtModel::load(&onnx, &dims, BATCH).unwrap_or_else(|e| panic!("{}: ORT load: {e}", m.name));
    let got = ort.run(&flat).unwrap_or_else(|e| panic!("{}: ORT run: {e}", m.name));
    let params = reference_params(&qm);
    let want: Vec<f64> = xs.iter().flat_map(|x| reference(&qm, &params, x)).collect();
    assert_eq!(got.len(), want.len(), "{}: output length", m.name);
    let ours: Vec<f64> = interpreter(&qm, &xs).iter().map(|&v| v as f64).collect();
    match scheme {
        Scheme::Int8 => assert_int8(&format!("{} interpreter vs ORT", m.name), &qm, &got, &ours),
        Scheme::WeightsOnly => assert_close(&format!("{} interpreter vs ORT", m.name), &got, &ours),
    }
    (qm, got, want)
}

/// Checks ORT against the reference within `INT8_STEPS` output steps.
fn assert_int8(name: &str, qm: &Model, got: &[f32], want: &[f64]) {
    let q = qm.quant.as_ref().expect("quantized");
    let (last, spec) = (q.layers.last().expect("layers"), qm.layers.last().expect("layers"));
    assert!(last.mode == QuantMode::Int8 && has_int8_output(spec), "{name}: last layer is not int8");
    let step = last.output.scale as f64;
    let diffs: Vec<f64> = got.iter().zip(want).map(|(&g, &w)| (g as f64 - w).abs() / step).collect();
    let max = diffs.iter().fold(0f64, |a, &b| a.max(b));
    let differing = diffs.iter().filter(|&&d| d > 1e-3).count();
    eprintln!("{name}: max {max:.4} output steps from the reference, {differing} of {} values differ", diffs.len());
    assert!(max <= INT8_STEPS + 1e-3, "{name}: ORT is {max} output steps from the reference");
    assert!(differing * 10 <= diffs.len(), "{name}: {differing} of {} values differ", diffs.len());
}

/// Checks `got` against `want` within [`WEIGHTS_ONLY`].
fn assert_close(name: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: output length");
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g as f64 - w).abs() <= WEIGHTS_ONLY + WEIGHTS_ONLY * w.abs(), "{name}: output {k}: {g} vs {w}");
    }
}

#[test]
fn dense_model_in_ort_matches_the_int8_reference() {
    let m = dense_model();
    let (qm, got, want) = run(&m, Scheme::Int8);
    let modes: Vec<_> = qm.quant.as_ref().unwrap().layers.iter().map(|l| l.mode).collect();
    assert_eq!(modes, [QuantMode::Int8; 3]);
    // dense_1 (tanh) leaves an f32 output: dense_2's input is observed, not inherited
    let layers = &qm.quant.as_ref().unwrap().layers;
    assert_eq!(layers[1].input, layers[0].output, "an int8 ReLU output feeds the next int8 input unchanged");
    assert_int8("dense", &qm, &got, &want);
}

#[test]
fn conv_model_in_ort_matches_the_int8_reference() {
    let m = conv_model();
    let (qm, got, want) = run(&m, Scheme::Int8);
    let layers = &qm.quant.as_ref().unwrap().layers;
    let modes: Vec<_> = layers.iter().map(|l| l.mode).collect();
    use QuantMode::{Float, Int8};
    assert_eq!(modes, [Int8, Int8, Float, Float, Int8]);
    assert_eq!(layers[4].input, layers[1].output, "max pool and flatten pass the int8 grid through");
    assert_int8("conv", &qm, &got, &want);
}

#[test]
fn recurrent_model_weights_only_in_ort_matches_the_reference() {
    let m = recurrent_model();
    let (qm, got, want) = run(&m, Scheme::WeightsOnly);
    let modes: Vec<_> = qm.quant.as_ref().unwrap().layers.iter().map(|l| l.mode).collect();
    assert_eq!(modes, [QuantMode::WeightsOnly; 4]);
    assert_close("recurrent weights-only, ORT vs reference", &got, &want);
    // the stored weights are int8 with per-row scales
    let q = qm.quant.as_ref().unwrap();
    let r = q.tensors.iter().find(|t| t.name == "gru_2.r").expect("gru_2.r");
    assert_eq!((r.data.dtype(), r.dims.clone()), (DType::I8, vec![2, 9, 3]));
    let s = q.tensors.iter().find(|t| t.name == "gru_2.r_scale").expect("gru_2.r_scale");
    assert_eq!(s.dims, vec![2, 9]);
}

#[test]
fn recurrent_model_int8_scheme_in_ort_matches_the_reference() {
    let m = recurrent_model();
    let (qm, got, want) = run(&m, Scheme::Int8);
    let modes: Vec<_> = qm.quant.as_ref().unwrap().layers.iter().map(|l| l.mode).collect();
    use QuantMode::{Int8, WeightsOnly};
    assert_eq!(modes, [WeightsOnly, WeightsOnly, WeightsOnly, Int8]);
    assert_int8("recurrent", &qm, &got, &want);
}

#[test]
fn bad_calibration_data_gives_clear_errors() {
    let m = dense_model();
    let opts = QuantizeOptions::default();
    let e = quantize(&m, &[], opts).unwrap_err();
    assert!(matches!(e, QuantizeError::EmptyCalibration), "{e}");
    assert!(e.to_string().contains("empty"), "{e}");
    let e = quantize(&m, &[vec![0.0; 8], vec![0.0; 7]], opts).unwrap_err();
    assert!(matches!(e, QuantizeError::SampleLength { index: 1, got: 7, want: 8 }), "{e}");
    let mut bad = vec![0.5; 8];
    bad[3] = f32::NAN;
    let e = quantize(&m, &[bad], opts).unwrap_err();
    assert!(matches!(e, QuantizeError::NonFinite { index: 0, position: 3, .. }), "{e}");
    assert!(e.to_string().contains("NaN"), "{e}");
    let e = quantize(&recurrent_model(), &[vec![25.0; 6]], opts).unwrap_err();
    assert!(matches!(e, QuantizeError::Forward { index: 0, layer: 0, .. }), "{e}");
    let pct = QuantizeOptions { range: RangeMode::Percentile(30.0), ..opts };
    assert!(quantize(&m, &[vec![0.5; 8]], pct).is_err());
}
