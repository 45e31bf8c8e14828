//! One layer's stored tensors (`LayerSpec::qparam` for its mode); the f32
//! view of them is `crate::blob::dequantized_params`.

use ember_runtime::qspec::{LayerQuant, QuantMode, ScaleAxis};
use ember_runtime::quant::QuantizedMultiplier;
use ember_runtime::spec::{LayerSpec, ParamSpec};

use super::weights::{quantize_bias_i32, quantize_rows_symmetric};
use super::{QData, QTensor, QuantizeError};
use crate::Tensor;
use crate::model::param_name;

/// A weight quantized symmetrically along `axis`.
struct QWeight {
    values: Vec<i8>,
    /// One scale per channel (row, filter, or index of the last axis).
    scales: Vec<f32>,
    /// The channel of each element.
    channel: Vec<usize>,
}

impl QWeight {
    /// Quantizes `t` (rounding half to even, range `[−127, 127]`).
    fn new(t: &Tensor, axis: ScaleAxis) -> Self {
        let last = t.dims.last().copied().unwrap_or(1).max(1);
        // Rows: one scale per row of the last axis; First: one per index of
        // the first axis (a convolution's filter), i.e. rows of everything else.
        let row = match axis {
            ScaleAxis::Rows => last,
            ScaleAxis::First => t.data.len() / t.dims.first().copied().unwrap_or(1).max(1),
            ScaleAxis::Last => 0,
        }
        .max(1);
        match axis {
            ScaleAxis::Rows | ScaleAxis::First => {
                let q = quantize_rows_symmetric(&t.data, row);
                let channel = (0..t.data.len()).map(|k| k / row).collect();
                QWeight { values: q.values, scales: q.scales, channel }
            }
            ScaleAxis::Last => {
                let mut max = vec![0f32; last];
                for (k, v) in t.data.iter().enumerate() {
                    max[k % last] = max[k % last].max(v.abs());
                }
                let scales: Vec<f32> = max.iter().map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 }).collect();
                let values = t
                    .data
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| (v / scales[k % last]).round_ties_even().clamp(-127.0, 127.0) as i8)
                    .collect();
                QWeight { values, scales, channel: (0..t.data.len()).map(|k| k % last).collect() }
            }
        }
    }

    /// `Σ q` over each channel's taps.
    fn channel_sums(&self) -> Vec<i64> {
        let mut sums = vec![0i64; self.scales.len()];
        for (&q, &c) in self.values.iter().zip(&self.channel) {
            sums[c] += q as i64;
        }
        sums
    }
}

/// A stored tensor named and shaped as `spec` says.
fn stored(spec: &LayerSpec, layer: usize, p: ParamSpec, data: QData) -> Result<QTensor, QuantizeError> {
    let name = param_name(spec, layer, p.name);
    if p.dims.elements() != data.len() || p.dtype != data.dtype() {
        return Err(QuantizeError::Internal(format!(
            "{name}: {} {:?} values for {:?} of dims {:?}",
            data.len(),
            data.dtype(),
            p.dtype,
            p.dims.as_slice()
        )));
    }
    Ok(QTensor { name, dims: p.dims.as_slice().iter().map(|&d| d as usize).collect(), data })
}

/// The stored tensors of layer `layer` in the mode `lq.mode`.
///
/// # Shapes
/// `params`: the layer's f32 tensors in `LayerSpec::param` order; returns
/// `spec.qparam_count(mode)` tensors.
pub(super) fn quantize_layer(
    spec: &LayerSpec,
    layer: usize,
    params: &[Tensor],
    lq: &LayerQuant,
) -> Result<Vec<QTensor>, QuantizeError> {
    let mode = lq.mode;
    let qparam = |i: usize| {
        spec.qparam(i, mode).ok_or_else(|| QuantizeError::Internal(format!("layer {layer} has no qparam {i}")))
    };
    let mut tensors = Vec::new();
    match mode {
        QuantMode::Float => {
            for (i, t) in params.iter().enumerate() {
                tensors.push(stored(spec, layer, qparam(i)?, QData::F32(t.data.clone()))?);
            }
        }
        QuantMode::WeightsOnly => {
            let mut at = 0;
            for (p, t) in params.iter().enumerate() {
                match spec.scale_axis(p) {
                    Some(axis) => {
                        let w = QWeight::new(t, axis);
                        tensors.push(stored(spec, layer, qparam(at)?, QData::I8(w.values))?);
                        tensors.push(stored(spec, layer, qparam(at + 1)?, QData::F32(w.scales))?);
                        at += 2;
                    }
                    None => {
                        tensors.push(stored(spec, layer, qparam(at)?, QData::F32(t.data.clone()))?);
                        at += 1;
                    }
                }
            }
        }
        QuantMode::Int8 => {
            let (Some(axis), [weight, bias]) = (spec.scale_axis(0), params) else {
                return Err(QuantizeError::Internal(format!("layer {layer} cannot run in int8")));
            };
            let w = QWeight::new(weight, axis);
            let (s_in, zp_in, s_out) = (lq.input.scale, lq.input.zero_point as i64, lq.output.scale as f64);
            let bias_q = quantize_bias_i32(&bias.data, s_in, &w.scales);
            let kernel_bias: Vec<i32> = bias_q
                .iter()
                .zip(w.channel_sums())
                .map(|(&b, sum)| (b as i64 - zp_in * sum).clamp(i32::MIN as i64, i32::MAX as i64) as i32)
                .collect();
            let requant: Vec<i32> = w
                .scales
                .iter()
                .flat_map(|&s| {
                    let m = QuantizedMultiplier::from_real(s_in as f64 * s as f64 / s_out);
                    [m.multiplier, m.shift]
                })
                .collect();
            tensors.push(stored(spec, layer, qparam(0)?, QData::I8(w.values))?);
            tensors.push(stored(spec, layer, qparam(1)?, QData::F32(w.scales))?);
            tensors.push(stored(spec, layer, qparam(2)?, QData::I32(bias_q))?);
            tensors.push(stored(spec, layer, qparam(3)?, QData::I32(kernel_bias))?);
            tensors.push(stored(spec, layer, qparam(4)?, QData::I32(requant))?);
        }
    }
    Ok(tensors)
}
