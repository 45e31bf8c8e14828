//! The interpreter's quantized layers: [`QuantMode::Int8`] through
//! [`Int8Layer::run`] (f32 in, quantize, integer kernel, dequantize or f32
//! activation) and [`QuantMode::WeightsOnly`] through
//! [`crate::quant::weights_only`]. The typed layers call the same functions.

use crate::format::LayerEntry;
use crate::kernels;
use crate::qspec::QuantMode;
use crate::quant::{Int8Layer, Int8Shape, QCellParams, weights_only as wo};
use crate::spec::{Activation, LayerSpec};
use crate::{Error, activation};

/// The shape, output channels and activation of a layer's int8 arithmetic,
/// `None` for kinds without an int8 form.
pub(crate) fn int8_shape(spec: &LayerSpec) -> Option<(Int8Shape, usize, Activation)> {
    Some(match *spec {
        LayerSpec::Dense { inputs, units, activation } => {
            (Int8Shape::Dense { inputs: inputs as usize }, units as usize, activation)
        }
        LayerSpec::Conv2d { filters, activation, .. }
        | LayerSpec::Conv2dStrided { filters, activation, .. }
        | LayerSpec::Conv1d { filters, activation, .. } => {
            (Int8Shape::Conv(spec.window()?), filters as usize, activation)
        }
        LayerSpec::DepthwiseConv2d { channels, activation, .. } => {
            (Int8Shape::Depthwise(spec.window()?), channels as usize, activation)
        }
        _ => return None,
    })
}

/// `f32` scratch slots a layer in `mode` needs for its quantized input.
pub(crate) fn int8_scratch(spec: &LayerSpec, mode: QuantMode) -> usize {
    match (mode, int8_shape(spec)) {
        (QuantMode::Int8, Some((shape, _, _))) => shape.input_len().div_ceil(4),
        _ => 0,
    }
}

/// Runs a quantized layer from `x` into `y`; `Ok(false)` for an f32 layer
/// (left to the caller). `extra` is the interpreter's scratch beyond the
/// activations (recurrent state, the quantized input).
///
/// # Errors
/// [`Error::LayerKind`] for a kind that has no such mode, tensor errors,
/// [`Error::TensorShape`] for tensors that disagree with the spec,
/// [`Error::BufferTooSmall`] if `extra` is short.
pub(crate) fn run(entry: &LayerEntry<'_, '_>, x: &[f32], y: &mut [f32], extra: &mut [f32]) -> Result<bool, Error> {
    match entry.mode() {
        QuantMode::Float => Ok(false),
        QuantMode::Int8 => {
            let (shape, channels, act) = int8_shape(&entry.spec).ok_or(Error::LayerKind)?;
            let (w, s) = (entry.param_i8(0)?, entry.param_f32(1)?);
            let (kb, rq) = (entry.param_i32(3)?, entry.param_i32(4)?);
            let q = entry.quant;
            let layer = Int8Layer::new(shape, w, s, kb, rq, q.input, q.output, act)?;
            if layer.channels() != channels {
                return Err(Error::TensorShape);
            }
            let bytes: &mut [i8] = bytemuck::cast_slice_mut(extra);
            let xq = bytes.get_mut(..x.len()).ok_or(Error::BufferTooSmall)?;
            layer.run(x, xq, y)?;
            Ok(true)
        }
        QuantMode::WeightsOnly => {
            weights_only(entry, x, y, extra)?;
            Ok(true)
        }
    }
}

/// Checks a tensor's length.
fn sized<T>(t: &[T], len: usize) -> Result<&[T], Error> {
    if t.len() == len { Ok(t) } else { Err(Error::TensorShape) }
}

/// A weights-only layer.
fn weights_only(entry: &LayerEntry<'_, '_>, x: &[f32], y: &mut [f32], extra: &mut [f32]) -> Result<(), Error> {
    let spec = entry.spec;
    match spec {
        LayerSpec::Dense { inputs, units, activation } => {
            let (i, o) = (inputs as usize, units as usize);
            let w = sized(entry.param_i8(0)?, i * o)?;
            let (s, b) = (sized(entry.param_f32(1)?, o)?, sized(entry.param_f32(2)?, o)?);
            wo::dense(w, s, b, x, y);
            activation::apply(activation, y);
        }
        LayerSpec::Embedding { vocab, dim, .. } => {
            let (v, d) = (vocab as usize, dim as usize);
            let (table, scale) = (sized(entry.param_i8(0)?, v * d)?, sized(entry.param_f32(1)?, v)?);
            for (out, &id) in y.chunks_exact_mut(d.max(1)).zip(x) {
                let i = id as usize;
                let (Some(row), Some(&s)) = (table.get(i * d..(i + 1) * d), scale.get(i)) else {
                    return Err(Error::TokenOutOfRange);
                };
                wo::embedding_row(row, s, out);
            }
        }
        LayerSpec::Conv2d { filters, activation, .. }
        | LayerSpec::Conv2dStrided { filters, activation, .. }
        | LayerSpec::Conv1d { filters, activation, .. } => {
            let g = spec.window().ok_or(Error::BadLayer)?;
            let f = filters as usize;
            let w = sized(entry.param_i8(0)?, f * g.kh * g.kw * g.c)?;
            let (s, b) = (sized(entry.param_f32(1)?, f)?, sized(entry.param_f32(2)?, f)?);
            wo::conv2d(&g, w, s, b, x, y);
            activation::apply(activation, y);
        }
        LayerSpec::DepthwiseConv2d { activation, .. } => {
            let g = spec.window().ok_or(Error::BadLayer)?;
            let w = sized(entry.param_i8(0)?, g.kh * g.kw * g.c)?;
            let (s, b) = (sized(entry.param_f32(1)?, g.c)?, sized(entry.param_f32(2)?, g.c)?);
            wo::depthwise_conv2d(&g, w, s, b, x, y);
            activation::apply(activation, y);
        }
        LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => {
            let r = spec.recurrent().ok_or(Error::LayerKind)?;
            let gh = r.gates * r.units;
            let w = sized(entry.param_i8(0)?, r.dirs * gh * r.inputs)?;
            let ws = sized(entry.param_f32(1)?, r.dirs * gh)?;
            let rw = sized(entry.param_i8(2)?, r.dirs * gh * r.units)?;
            let rs = sized(entry.param_f32(3)?, r.dirs * gh)?;
            let b = sized(entry.param_f32(4)?, r.dirs * 2 * gh)?;
            let (h, rest) = extra.split_at_mut(r.units);
            let (c, rest) = rest.split_at_mut(r.units);
            let z = rest.get_mut(..gh).ok_or(Error::BufferTooSmall)?;
            for d in 0..r.dirs {
                let p = QCellParams::direction(w, ws, rw, rs, b, r.gates, r.units, r.inputs, d)
                    .ok_or(Error::TensorShape)?;
                kernels::run_direction(r.gates, &p, x, r.inputs, d == 1, h, c, z, |t, h| {
                    let at = if r.return_sequences { t * r.step_out() } else { 0 } + d * r.units;
                    y[at..at + r.units].copy_from_slice(h);
                });
            }
        }
        _ => return Err(Error::LayerKind),
    }
    Ok(())
}
