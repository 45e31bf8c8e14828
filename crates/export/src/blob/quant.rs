//! The version-2 side of the blob: a quantized model's stored tensors
//! written and read back, and their f32 view.

use ember_runtime::format::Blob;
use ember_runtime::qspec::{QuantMode, ScaleAxis};
use ember_runtime::spec::{DType, LayerSpec};

use super::{Stored, dims_of};
use crate::model::param_name;
use crate::quant::{QData, QTensor, Quantized};
use crate::{ExportError, Model};

fn invalid<T>(m: String) -> Result<T, ExportError> {
    Err(ExportError::Invalid(m))
}

/// Checks `q` against the model's layers (one entry per layer, each mode
/// supported, the tensors exactly the layers' `LayerSpec::qparam` lists:
/// names, dims, types, lengths; f32 values finite) and encodes its tensors.
pub(super) fn stored<'m>(model: &'m Model, q: &'m Quantized) -> Result<Vec<Stored<'m>>, ExportError> {
    if q.layers.len() != model.layers.len() {
        return invalid(format!("{} quantization entries for {} layers", q.layers.len(), model.layers.len()));
    }
    let mut tensors = q.tensors.iter();
    let mut out = Vec::with_capacity(q.tensors.len());
    for (i, (l, lq)) in model.layers.iter().zip(&q.layers).enumerate() {
        if !l.supports(lq.mode) {
            return invalid(format!("layer {i} ({}) cannot run in mode {:?}", l.kind_name(), lq.mode));
        }
        for p in 0..l.qparam_count(lq.mode) {
            let want = l.qparam(p, lq.mode).expect("index below qparam_count");
            let name = param_name(l, i, want.name);
            let Some(t) = tensors.next() else {
                return invalid(format!("missing quantized tensor {name}"));
            };
            let dims: Vec<usize> = want.dims.as_slice().iter().map(|&d| d as usize).collect();
            if t.name != name || t.dims != dims || t.data.dtype() != want.dtype || t.data.len() != want.dims.elements()
            {
                return invalid(format!(
                    "quantized tensor {} ({:?}, dims {:?}, {} values) should be {name} ({:?}, dims {dims:?})",
                    t.name,
                    t.data.dtype(),
                    t.dims,
                    t.data.len(),
                    want.dtype
                ));
            }
            let bytes = match &t.data {
                QData::F32(v) => {
                    if let Some(bad) = v.iter().position(|x| !x.is_finite()) {
                        return invalid(format!("{} holds a non-finite value at index {bad}", t.name));
                    }
                    v.iter().flat_map(|x| x.to_le_bytes()).collect()
                }
                QData::I8(v) => v.iter().map(|&x| x as u8).collect(),
                QData::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            };
            out.push(Stored { name: &t.name, dtype: t.data.dtype(), dims: dims_of(&t.name, &t.dims)?, bytes });
        }
    }
    if let Some(extra) = tensors.next() {
        return invalid(format!("quantized tensor {} is more than the layers need", extra.name));
    }
    Ok(out)
}

/// The stored tensors of a (parsed) version-2 blob.
pub(super) fn read(blob: &Blob<'_>) -> Result<Quantized, ExportError> {
    let h = blob.header();
    let mut tensors = Vec::with_capacity(h.layer_tensor_count());
    for (i, e) in h.tensors.iter().enumerate().take(h.layer_tensor_count()) {
        let data = match e.dtype {
            DType::F32 => QData::F32(blob.tensor_f32(i)?.to_vec()),
            DType::I8 => QData::I8(blob.tensor_i8(i)?.to_vec()),
            DType::I32 => QData::I32(blob.tensor_i32(i)?.to_vec()),
            other => return invalid(format!("{} has type {other:?}, which no layer parameter uses", e.name)),
        };
        let dims = e.dims.as_slice().iter().map(|&d| d as usize).collect();
        tensors.push(QTensor { name: e.name.to_string(), dims, data });
    }
    Ok(Quantized { layers: h.quant.to_vec(), tensors })
}

fn f32s<'q>(t: &'q QTensor) -> Result<&'q [f32], ExportError> {
    match &t.data {
        QData::F32(v) => Ok(v),
        _ => invalid(format!("{} should be F32", t.name)),
    }
}

fn i8s<'q>(t: &'q QTensor) -> Result<&'q [i8], ExportError> {
    match &t.data {
        QData::I8(v) => Ok(v),
        _ => invalid(format!("{} should be I8", t.name)),
    }
}

fn i32s<'q>(t: &'q QTensor) -> Result<&'q [i32], ExportError> {
    match &t.data {
        QData::I32(v) => Ok(v),
        _ => invalid(format!("{} should be I32", t.name)),
    }
}

/// `q · scale`, the scale of element `k` chosen by `axis` (`Rows`: its row
/// of `last` elements; `Last`: its index along the last axis).
fn dequantize(t: &QTensor, scales: &QTensor, axis: ScaleAxis) -> Result<Vec<f32>, ExportError> {
    let (q, s) = (i8s(t)?, f32s(scales)?);
    let last = t.dims.last().copied().unwrap_or(1).max(1);
    let scale_of = |k: usize| match axis {
        ScaleAxis::Rows => s.get(k / last),
        ScaleAxis::Last => s.get(k % last),
    };
    q.iter()
        .enumerate()
        .map(|(k, &v)| match scale_of(k) {
            Some(&sc) => Ok(v as f32 * sc),
            None => invalid(format!("{} has too few scales for {}", scales.name, t.name)),
        })
        .collect()
}

/// The f32 view of a quantized model's parameters, in [`LayerSpec::param`]
/// order (the values [`Model::new`] takes):
///
/// * `Float` layers: their f32 tensors;
/// * `WeightsOnly`: each weight `q · scale` (per row, or per last-axis index
///   for depthwise), the other parameters copied;
/// * `Int8`: the weight as above and the bias `bias_i32 · s_in · s_w[c]`
///   (computed in f64, rounded to f32).
///
/// `q` must hold the layers' tensors in order (as a parsed blob or a checked
/// [`Quantized`] does); otherwise an [`ExportError::Invalid`].
pub fn dequantized_params(layers: &[LayerSpec], q: &Quantized) -> Result<Vec<Vec<f32>>, ExportError> {
    if q.layers.len() != layers.len() {
        return invalid(format!("{} quantization entries for {} layers", q.layers.len(), layers.len()));
    }
    let mut values = Vec::new();
    let mut at = 0;
    for (l, lq) in layers.iter().zip(&q.layers) {
        let count = l.qparam_count(lq.mode);
        let Some(ts) = q.tensors.get(at..at + count) else {
            return invalid(format!("{} quantized tensors, the layers need more", q.tensors.len()));
        };
        at += count;
        match lq.mode {
            QuantMode::Float => {
                for t in ts {
                    values.push(f32s(t)?.to_vec());
                }
            }
            QuantMode::WeightsOnly => {
                let mut k = 0;
                for p in 0..l.param_count() {
                    match (l.scale_axis(p), ts.get(k), ts.get(k + 1)) {
                        (Some(axis), Some(w), Some(s)) => {
                            values.push(dequantize(w, s, axis)?);
                            k += 2;
                        }
                        (None, Some(t), _) => {
                            values.push(f32s(t)?.to_vec());
                            k += 1;
                        }
                        _ => return invalid(format!("{} lacks tensors for weights-only mode", l.kind_name())),
                    }
                }
            }
            QuantMode::Int8 => {
                let (Some(axis), [w, s, b, ..]) = (l.scale_axis(0), ts) else {
                    return invalid(format!("{} lacks tensors for int8 mode", l.kind_name()));
                };
                if l.param_count() != 2 {
                    return invalid(format!("{} in int8 mode should have a weight and a bias", l.kind_name()));
                }
                values.push(dequantize(w, s, axis)?);
                let s_in = lq.input.scale as f64;
                let bias = i32s(b)?.iter().zip(f32s(s)?);
                values.push(bias.map(|(&b, &sw)| (b as f64 * s_in * sw as f64) as f32).collect());
            }
        }
    }
    Ok(values)
}
