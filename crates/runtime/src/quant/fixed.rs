//! Fixed-point requantization: TFLite's `QuantizeMultiplier` and
//! `MultiplyByQuantizedMultiplier`, built on gemmlowp's
//! `SaturatingRoundingDoublingHighMul` and `RoundingDivideByPOT`.
//!
//! A real factor `m > 0` is written `m = q · 2^shift` with `q ∈ [0.5, 1)`;
//! `q` is stored in Q31 (`multiplier = round(q · 2³¹)`). Applying it to an
//! accumulator `x` computes `x · 2^max(shift, 0)`, then the rounded doubling
//! high half of the product with `multiplier` (`x · q` rounded to nearest,
//! ties toward +∞), then a rounding right shift by `max(−shift, 0)` (ties away
//! from zero). The result is within one unit of `round(x · m)`: two
//! roundings, each at most half a unit, plus the error of the Q31 mantissa
//! (at most `|x| · m · 2⁻³¹`, far below a unit for `|x| < 2³⁰`).
//!
//! CMSIS-NN's `arm_nn_requantize` (without `CMSIS_NN_USE_SINGLE_ROUNDING`)
//! computes the same integer: its `(a · b + 2³⁰) >> 31` equals gemmlowp's
//! nudged, truncating division for every product but the saturated
//! `i32::MIN · i32::MIN`.

/// A real multiplier as a Q31 mantissa and a power-of-two exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QuantizedMultiplier {
    /// `round(q · 2³¹)` with `q ∈ [0.5, 1)`, or 0 for a zero (or tiny) factor.
    pub multiplier: i32,
    /// The exponent: positive is a left shift, negative a right shift; in `[−31, 30]`.
    pub shift: i32,
}

impl QuantizedMultiplier {
    /// TFLite's `QuantizeMultiplier`: the mantissa and exponent of `real`
    /// (`frexp`), the mantissa rounded half away from zero to Q31. Factors
    /// below 2⁻³² become zero; factors of 2³⁰ and above saturate (TFLite does
    /// the same). A negative or non-finite factor is a caller error and gives
    /// the zero multiplier.
    pub fn from_real(real: f64) -> Self {
        if real.is_nan() || real <= 0.0 || real.is_infinite() {
            return Self::default();
        }
        let (q, mut shift) = libm::frexp(real);
        let mut q_fixed = libm::round(q * (1u64 << 31) as f64) as i64;
        if q_fixed == 1i64 << 31 {
            q_fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            return Self::default();
        }
        if shift > 30 {
            return Self { multiplier: i32::MAX, shift: 30 };
        }
        Self { multiplier: q_fixed as i32, shift }
    }

    /// The real factor this multiplier stands for: `multiplier · 2^(shift − 31)`.
    pub fn to_real(self) -> f64 {
        self.multiplier as f64 * libm::pow(2.0, (self.shift - 31) as f64)
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: `a · b / 2³¹` rounded to
/// nearest with ties toward +∞ (the nudge `1 − 2³⁰` of negative products
/// followed by a truncating division does that), saturating the single overflow case `a = b = i32::MIN`.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    // gemmlowp's `(ab + nudge) / 2³¹` (nudge 2³⁰, or 1 − 2³⁰ for a negative
    // product; the division truncates) equals `(ab + 2³⁰) >> 31` (a floor):
    // for ab < 0, trunc((ab + 1 − 2³⁰) / 2³¹) = ceil(…) = floor((ab + 2³⁰) / 2³¹).
    // This is CMSIS-NN's form: a long multiply, an add and a shift.
    let ab = a as i64 * b as i64;
    ((ab + (1 << 30)) >> 31) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded half away from
/// zero, for `exponent` in `[0, 31]`.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let exponent = exponent.clamp(0, 31) as u32;
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite's `MultiplyByQuantizedMultiplier`: `x · multiplier · 2^(shift − 31)`
/// with gemmlowp's rounding. The left shift (only for factors ≥ 1, which
/// int8 layers hardly see) saturates instead of overflowing.
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, m: QuantizedMultiplier) -> i32 {
    let left = m.shift.clamp(0, 30);
    let right = (-m.shift).clamp(0, 31);
    // Factors below 1 (every int8 layer's in practice) skip the widened shift.
    let shifted = if left == 0 { x } else { ((x as i64) << left).clamp(i32::MIN as i64, i32::MAX as i64) as i32 };
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m.multiplier), right)
}

/// An `i32` accumulator to `i8`: scaled by `m`, plus the output zero point,
/// clamped to `[act_min, act_max]`.
#[inline(always)]
pub fn requantize(acc: i32, m: QuantizedMultiplier, stage: super::OutputStage) -> i8 {
    let v = multiply_by_quantized_multiplier(acc, m).saturating_add(stage.zero_point);
    v.clamp(stage.act_min as i32, stage.act_max as i32) as i8
}
