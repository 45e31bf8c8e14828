//! A simple, deterministic quantizer for tests (not `ember quantize`):
//! per-row symmetric int8 weights (`ember_export::quant::quantize_rows_symmetric`),
//! activation ranges from `ember_export::quant::Observer` (min/max) over the
//! f32 activations of given sample inputs, and the stored tensors that
//! `LayerSpec::qparam` lists for each layer's mode.

use anyhow::{Context, Result, ensure};
use ember_export::quant::{Observer, QData, QTensor, Quantized, RangeMode, quantize_bias_i32, quantize_rows_symmetric};
use ember_export::{AlignedBytes, Model};
use ember_runtime::Blob;
use ember_runtime::dynamic;
use ember_runtime::qspec::{LayerQuant, QuantMode, ScaleAxis};
use ember_runtime::quant::{QuantParams, QuantizedMultiplier};
use ember_runtime::spec::{Activation, IoSpec, ValueKind};

/// Runs the f32 `model` on `samples` (flattened, whole samples) through the
/// runtime interpreter, one layer at a time: the input of every layer and
/// the model's output, each over all samples (`acts[i]` enters layer `i`).
pub fn layer_activations(model: &Model, samples: &[f32]) -> Result<Vec<Vec<f32>>> {
    let mut acts = vec![samples.to_vec()];
    let mut input = model.input;
    for i in 0..model.layers.len() {
        let spec = model.layers[i];
        let values = model.layer_params(i).iter().map(|t| t.data.clone()).collect();
        let one = Model::new(format!("layer{i}"), input, vec![spec], values).context("one-layer model")?;
        let bytes = AlignedBytes::new(&one.to_blob()?);
        let blob = Blob::parse(&bytes).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let (n_in, n_out) = (input.dims.elements(), spec.output_len());
        let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
        let mut out = Vec::new();
        for x in acts[i].chunks_exact(n_in) {
            let mut y = vec![0.0; n_out];
            dynamic::forward(&blob, x, &mut scratch, &mut y).map_err(|e| anyhow::anyhow!("layer {i}: {e:?}"))?;
            out.extend(y);
        }
        acts.push(out);
        input = IoSpec { kind: ValueKind::F32, dims: spec.output_dims(), range: None };
    }
    Ok(acts)
}

/// Min/max activation parameters of `values`.
fn observed(name: &str, values: &[f32]) -> Result<QuantParams> {
    let mut o = Observer::new(name, RangeMode::MinMax);
    o.observe(values);
    Ok(o.params()?)
}

/// `w` (`[rows, cols]`) quantized with one scale per column (depthwise `[kh, kw, C]`).
fn quantize_columns(w: &[f32], cols: usize) -> (Vec<i8>, Vec<f32>) {
    let rows = w.len() / cols;
    let t: Vec<f32> = (0..cols).flat_map(|c| (0..rows).map(move |r| w[r * cols + c])).collect();
    let q = quantize_rows_symmetric(&t, rows);
    let values = (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c))).map(|(r, c)| q.values[c * rows + r]).collect();
    (values, q.scales)
}

/// A weight quantized along `axis`: values and scales.
fn quantize_weight(w: &[f32], dims: &[usize], axis: ScaleAxis) -> (Vec<i8>, Vec<f32>) {
    let last = *dims.last().unwrap_or(&1);
    match axis {
        ScaleAxis::Rows => {
            let q = quantize_rows_symmetric(w, last);
            (q.values, q.scales)
        }
        ScaleAxis::Last => quantize_columns(w, last),
    }
}

/// Quantizes `model` with one mode per layer, calibrating int8 layers on
/// `samples` (whole input samples, flattened). The returned model's `params`
/// stay the f32 ones; its `quant` holds the stored tensors.
pub fn quantize(model: &Model, modes: &[QuantMode], samples: &[f32]) -> Result<Model> {
    ensure!(modes.len() == model.layers.len(), "one mode per layer");
    let acts = layer_activations(model, samples)?;
    let mut layers = Vec::new();
    let mut tensors = Vec::new();
    for (i, (spec, &mode)) in model.layers.iter().zip(modes).enumerate() {
        ensure!(spec.supports(mode), "layer {i} ({}) cannot run in {mode:?}", spec.kind_name());
        let params = model.layer_params(i);
        let mut push = |p: usize, data: QData| {
            let ps = spec.qparam(p, mode).expect("qparam below qparam_count");
            let dims = ps.dims.as_slice().iter().map(|&d| d as usize).collect();
            let name = ember_export::model::param_name(spec, i, ps.name);
            tensors.push(QTensor { name, dims, data });
        };
        let lq = match mode {
            QuantMode::Float => {
                for (p, t) in params.iter().enumerate() {
                    push(p, QData::F32(t.data.clone()));
                }
                LayerQuant::FLOAT
            }
            QuantMode::WeightsOnly => {
                let mut at = 0;
                for (p, t) in params.iter().enumerate() {
                    match spec.scale_axis(p) {
                        Some(axis) => {
                            let (q, s) = quantize_weight(&t.data, &t.dims, axis);
                            push(at, QData::I8(q));
                            push(at + 1, QData::F32(s));
                            at += 2;
                        }
                        None => {
                            push(at, QData::F32(t.data.clone()));
                            at += 1;
                        }
                    }
                }
                LayerQuant::WEIGHTS_ONLY
            }
            QuantMode::Int8 => {
                let input = observed("in", &acts[i])?;
                let fused = matches!(spec.activation(), Activation::Linear | Activation::Relu);
                let output = if fused { observed("out", &acts[i + 1])? } else { LayerQuant::UNUSED };
                let axis = spec.scale_axis(0).context("int8 weight axis")?;
                let (w, b) = (&params[0], &params[1]);
                let (q, s_w) = quantize_weight(&w.data, &w.dims, axis);
                let bias = quantize_bias_i32(&b.data, input.scale, &s_w);
                let c = s_w.len();
                let taps = q.len() / c;
                let sum = |ch: usize| -> i64 {
                    match axis {
                        ScaleAxis::Rows => q[ch * taps..(ch + 1) * taps].iter().map(|&v| v as i64).sum(),
                        ScaleAxis::Last => q.iter().skip(ch).step_by(c).map(|&v| v as i64).sum(),
                    }
                };
                let kernel_bias: Result<Vec<i32>, _> =
                    (0..c).map(|ch| i32::try_from(bias[ch] as i64 - input.zero_point as i64 * sum(ch))).collect();
                let requant = s_w
                    .iter()
                    .flat_map(|&s| {
                        let m = QuantizedMultiplier::from_real(input.scale as f64 * s as f64 / output.scale as f64);
                        [m.multiplier, m.shift]
                    })
                    .collect();
                push(0, QData::I8(q));
                push(1, QData::F32(s_w));
                push(2, QData::I32(bias));
                push(3, QData::I32(kernel_bias.context("kernel bias out of i32")?));
                push(4, QData::I32(requant));
                LayerQuant { mode, input, output }
            }
        };
        layers.push(lq);
    }
    let mut out = model.clone();
    out.quant = Some(Quantized { layers, tensors });
    Ok(out)
}
