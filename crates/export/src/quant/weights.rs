//! Weight quantization: symmetric int8 per row (per output channel of a
//! dense or convolution layer, per token of an embedding table) and int32
//! biases.

use ember_runtime::quant::linear::quantize_bias;

/// An int8 matrix with one scale per row: `real[r, j] = scale[r] · q[r, j]`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedRows {
    /// Values `[rows, cols]` row-major, in `[−127, 127]`.
    pub values: Vec<i8>,
    /// One scale per row: `max |row| / 127` (1.0 for an all-zero row).
    pub scales: Vec<f32>,
}

/// Quantizes `w` (`[rows, cols]` row-major) symmetrically with one scale per
/// row, rounding half to even. The range `[−127, 127]` (not −128) keeps the
/// scheme symmetric, as TFLite's per-channel weights are. A dense layer's
/// `[out, in]` and a convolution's OHWI weights have one row per output
/// channel; an embedding table `[vocab, dim]` has one row per token, so a
/// rare token with small weights keeps its precision.
///
/// # Panics
/// Never; `cols == 0` or a length that is not a multiple of `cols` gives
/// empty output for the incomplete part. Non-finite weights must be rejected
/// by the caller (the trainer never produces them).
pub fn quantize_rows_symmetric(w: &[f32], cols: usize) -> QuantizedRows {
    let mut out = QuantizedRows { values: Vec::with_capacity(w.len()), scales: Vec::new() };
    if cols == 0 {
        return out;
    }
    for row in w.chunks_exact(cols) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        out.scales.push(scale);
        out.values.extend(row.iter().map(|&v| (v / scale).round_ties_even().clamp(-127.0, 127.0) as i8));
    }
    out
}

/// Biases to `i32` at the scales `input_scale · weight_scales[c]`.
pub fn quantize_bias_i32(bias: &[f32], input_scale: f32, weight_scales: &[f32]) -> Vec<i32> {
    bias.iter().zip(weight_scales).map(|(&b, &s)| quantize_bias(b, input_scale, s)).collect()
}
