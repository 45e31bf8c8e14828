//! f32 ↔ i8, as ONNX `QuantizeLinear` and `DequantizeLinear` define it.

/// The affine parameters of one quantized tensor: `real = scale · (q − zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QuantParams {
    /// Real value of one integer step; finite and positive.
    pub scale: f32,
    /// The integer that stands for the real 0.0 (0 for symmetric tensors).
    pub zero_point: i32,
}

/// ONNX `QuantizeLinear` to `i8`: `saturate(round(x / scale) + zero_point)`,
/// rounding half to even. NaN maps to the zero point (ONNX leaves it
/// unspecified); ±∞ saturate.
pub fn quantize(x: f32, p: QuantParams) -> i8 {
    if x.is_nan() {
        return p.zero_point.clamp(-128, 127) as i8;
    }
    let v = x / p.scale;
    // Below 2^22 in magnitude, adding and subtracting 1.5 · 2^23 rounds to an
    // integer, ties to even (the sum has unit spacing and the constant is
    // even): the same value as `roundevenf`, in two instructions.
    const MAGIC: f32 = 12_582_912.0;
    let r = if v.abs() < 4_194_304.0 { (v + MAGIC) - MAGIC } else { libm::roundevenf(v) };
    // `as i32` saturates (and ±∞ saturate), so the sum cannot overflow i64.
    let v = r as i32 as i64 + p.zero_point as i64;
    v.clamp(-128, 127) as i8
}

/// ONNX `DequantizeLinear`: `(q − zero_point) · scale`.
#[inline]
pub fn dequantize(q: i8, p: QuantParams) -> f32 {
    (q as i32 - p.zero_point) as f32 * p.scale
}

/// Quantizes a slice into `out` (the shorter length wins).
pub fn quantize_slice(x: &[f32], p: QuantParams, out: &mut [i8]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = quantize(v, p);
    }
}

/// Dequantizes a slice into `out` (the shorter length wins).
pub fn dequantize_slice(q: &[i8], p: QuantParams, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(q) {
        *o = dequantize(v, p);
    }
}

/// A bias to `i32` with scale `input_scale · weight_scale` and zero point 0
/// (TFLite and ONNX `QLinearConv` store biases this way), rounding half to
/// even and saturating.
pub fn quantize_bias(b: f32, input_scale: f32, weight_scale: f32) -> i32 {
    let s = input_scale as f64 * weight_scale as f64;
    if b.is_nan() || s <= 0.0 {
        return 0;
    }
    let r = libm::roundeven(b as f64 / s);
    r.clamp(i32::MIN as f64, i32::MAX as f64) as i32
}
