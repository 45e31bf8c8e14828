//! A quantized model (`Model::quant`) as ONNX in QDQ form: the float graph of
//! the f32 model with `QuantizeLinear` / `DequantizeLinear` pairs around it.
//!
//! * Quantized weights (both modes): the `INT8` values `{name}.quantized`
//!   and their `FLOAT` scales `{name}.scale` (`[C]`, one per output channel)
//!   feed `DequantizeLinear(axis = 0)` named as the f32 initializer was
//!   (`dense_0.weight`), so the layer's node reads it unchanged. The axis is
//!   the one of the layout the writer emits: Gemm's `[units, inputs]`, Conv's
//!   OIHW / OIW (`O` first), a depthwise `[C, 1, kh, kw]` (`C` first), an
//!   embedding's `[vocab, dim]`. A recurrent `W` `[dirs, G·H, I]` (`R`
//!   likewise) has one scale per `(direction, gate row)`: its values are
//!   stored `[dirs·G·H, I]`, dequantized on axis 0 (`{name}.dequantized`) and
//!   reshaped to `[dirs, G·H, I]` by the `Reshape` named `{name}`.
//! * The bias of an int8 layer: `INT32` `{name}.quantized` with scales
//!   `s_in · s_w[c]` (`{name}.scale`), `DequantizeLinear(axis = 0)` named
//!   `{name}` (ONNX's, TFLite's and ORT's `QLinearConv` int32 bias).
//! * Activations of an int8 layer `dense_1`: its input goes through
//!   `QuantizeLinear` `dense_1.in.q` and `DequantizeLinear` `dense_1.in`
//!   (per-tensor `FLOAT` scale `dense_1.in.scale`, `INT8` zero point
//!   `dense_1.in.zero_point`); a linear or ReLU output likewise through
//!   `dense_1.out.q` and `dense_1.out`. Sigmoid, tanh and softmax outputs
//!   stay f32, as the runtime computes them.
//!
//! ONNX Runtime fuses such groups into its integer kernels (QDQ
//! transformers) or runs the float ops between them; both compute the int8
//! scheme of `ember_runtime::qspec` up to the rounding of the
//! requantization (one output step).

use ember_runtime::qspec::{LayerQuant, QuantMode};
use ember_runtime::quant::QuantParams;

use super::proto::tensor_proto::DataType;
use super::{GraphBuilder, Value, attr_int};
use crate::ExportError;
use crate::quant::{QData, QTensor, Quantized};

/// How a registered initializer is written.
pub(crate) enum QInit {
    /// Int8 values recovered from the f32 view (`q · scale`) with these
    /// per-channel scales, in the layout the layer writer emits.
    Weight {
        /// One scale per channel.
        scales: Vec<f32>,
    },
    /// An int32 bias with per-channel scales.
    Bias {
        /// The stored values.
        values: Vec<i32>,
        /// `s_in · s_w[c]`.
        scales: Vec<f32>,
    },
}

fn err(m: String) -> ExportError {
    ExportError::Onnx(m)
}

fn find<'a>(q: &'a Quantized, name: &str) -> Result<&'a QTensor, ExportError> {
    q.tensors.iter().find(|t| t.name == name).ok_or_else(|| err(format!("quantized tensor `{name}` is missing")))
}

fn f32s(t: &QTensor) -> Result<&[f32], ExportError> {
    match &t.data {
        QData::F32(v) => Ok(v),
        _ => Err(err(format!("{} is not f32", t.name))),
    }
}

/// Registers the quantized initializers of layer `i` (named `prefix`) in
/// `b` and returns its record.
pub(super) fn register(
    b: &mut GraphBuilder,
    q: &Quantized,
    spec: &ember_runtime::spec::LayerSpec,
    i: usize,
    prefix: &str,
) -> Result<LayerQuant, ExportError> {
    let lq = *q.layers.get(i).ok_or_else(|| err(format!("{prefix}: no quantization record")))?;
    if !spec.supports(lq.mode) {
        return Err(err(format!("{prefix}: a {} layer cannot run in {:?}", spec.kind_name(), lq.mode)));
    }
    match lq.mode {
        QuantMode::Float => {}
        QuantMode::WeightsOnly => {
            let mut k = 0;
            while let Some(p) = spec.qparam(k, lq.mode) {
                if p.dtype == ember_runtime::spec::DType::I8 {
                    let scale = spec.qparam(k + 1, lq.mode).ok_or_else(|| err(format!("{prefix}: no scale")))?;
                    let scales = f32s(find(q, &format!("{prefix}.{}", scale.name))?)?.to_vec();
                    b.quantized.insert(format!("{prefix}.{}", p.name), QInit::Weight { scales });
                    k += 1;
                }
                k += 1;
            }
        }
        QuantMode::Int8 => {
            let scales = f32s(find(q, &format!("{prefix}.weight_scale"))?)?.to_vec();
            let QData::I32(values) = &find(q, &format!("{prefix}.bias"))?.data else {
                return Err(err(format!("{prefix}.bias is not i32")));
            };
            let s_in = lq.input.scale as f64;
            let bias_scales = scales.iter().map(|&s| (s_in * s as f64) as f32).collect();
            b.quantized.insert(format!("{prefix}.bias"), QInit::Bias { values: values.clone(), scales: bias_scales });
            b.quantized.insert(format!("{prefix}.weight"), QInit::Weight { scales });
        }
    }
    Ok(lq)
}

/// Checks that the layer writer consumed every registered initializer.
pub(super) fn check_consumed(b: &GraphBuilder, prefix: &str) -> Result<(), ExportError> {
    match b.quantized.keys().next() {
        Some(name) => Err(err(format!("{prefix}: the writer did not emit `{name}`"))),
        None => Ok(()),
    }
}

fn le<T: Copy, const N: usize>(v: &[T], bytes: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    v.iter().flat_map(|&x| bytes(x)).collect()
}

/// Writes the registered tensor `name` (f32 view `data`, dims `dims` as the
/// layer writer lays it out) as integers plus `DequantizeLinear`; returns the
/// name of the f32 value (`name`).
pub(super) fn dequantized(
    b: &mut GraphBuilder,
    name: &str,
    dims: &[usize],
    data: &[f32],
    q: QInit,
) -> Result<String, ExportError> {
    let (qname, sname) = (format!("{name}.quantized"), format!("{name}.scale"));
    let axis = vec![attr_int("axis", 0)];
    match q {
        QInit::Bias { values, scales } => {
            if dims != [values.len()] || scales.len() != values.len() {
                return Err(err(format!("{name}: bias dims {dims:?} do not match {} values", values.len())));
            }
            b.initializer_raw(&qname, DataType::Int32, dims, le(&values, i32::to_le_bytes))?;
            b.initializer_raw(&sname, DataType::Float, &[scales.len()], le(&scales, f32::to_le_bytes))?;
            b.node("DequantizeLinear", name, &[&qname, &sname], axis)
        }
        QInit::Weight { scales } => {
            let c = scales.len();
            if c == 0 || !data.len().is_multiple_of(c) {
                return Err(err(format!("{name}: {} values do not split into {c} channels", data.len())));
            }
            let per = data.len() / c;
            let mut values = Vec::with_capacity(data.len());
            for (k, &v) in data.iter().enumerate() {
                let r = v / scales[k / per];
                let qv = r.round_ties_even();
                if (r - qv).abs() > 1e-3 || qv.abs() > 127.0 {
                    return Err(err(format!("{name}[{k}] = {v} is not on its int8 grid (scale {})", scales[k / per])));
                }
                values.push(qv as i8);
            }
            let raw = values.iter().map(|&v| v as u8).collect();
            let sraw = le(&scales, f32::to_le_bytes);
            if dims.first() == Some(&c) {
                b.initializer_raw(&qname, DataType::Int8, dims, raw)?;
                b.initializer_raw(&sname, DataType::Float, &[c], sraw)?;
                b.node("DequantizeLinear", name, &[&qname, &sname], axis)
            } else {
                b.initializer_raw(&qname, DataType::Int8, &[c, per], raw)?;
                b.initializer_raw(&sname, DataType::Float, &[c], sraw)?;
                let dq = b.node("DequantizeLinear", &format!("{name}.dequantized"), &[&qname, &sname], axis)?;
                let shape: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
                b.reshape(name, &dq, &shape)
            }
        }
    }
}

/// `QuantizeLinear` then `DequantizeLinear` of the activation `x` with the
/// per-tensor parameters `p`, named `{prefix}.q` and `{prefix}`.
///
/// # Shapes
/// Any shape → the same shape.
pub(super) fn fake_quant(b: &mut GraphBuilder, prefix: &str, x: Value, p: QuantParams) -> Result<Value, ExportError> {
    let zp = i8::try_from(p.zero_point).map_err(|_| err(format!("{prefix}: zero point {} is not i8", p.zero_point)))?;
    if !(p.scale.is_finite() && p.scale > 0.0) {
        return Err(err(format!("{prefix}: scale {} is not finite and positive", p.scale)));
    }
    let s = b.initializer_raw(&format!("{prefix}.scale"), DataType::Float, &[], p.scale.to_le_bytes().to_vec())?;
    let z = b.initializer_raw(&format!("{prefix}.zero_point"), DataType::Int8, &[], vec![zp as u8])?;
    let q = b.node("QuantizeLinear", &format!("{prefix}.q"), &[&x.name, &s, &z], vec![])?;
    let y = b.node("DequantizeLinear", prefix, &[&q, &s, &z], vec![])?;
    Ok(Value { name: y, dims: x.dims })
}
