//! Branch-free `exp`, `sigmoid` and `tanh` that the compiler vectorises
//! (libm's are scalar calls: too slow for the hundreds of millions of gate
//! values of an epoch). Accurate to a few ulps (tested in
//! the tests below); NaN stays NaN. The one definition the layers'
//! activations and the recurrent cells share.

/// `1.5 · 2^23`: adding it rounds an `f32` of magnitude below `2^22` to an integer.
const ROUND: f32 = 12_582_912.0;

/// `e^x` (Cephes `expf`: Cody-Waite reduction by `ln 2`, degree-5
/// polynomial), with `x` clamped to `[-87, 88]`.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = if x < -87.0 { -87.0 } else { x };
    let x = if x > 88.0 { 88.0 } else { x };
    let k = x * std::f32::consts::LOG2_E + ROUND;
    let n = k - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p =
        ((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r + 0.5;
    let e = p * (r * r) + r + 1.0;
    // 2^n from the integer n held in k's low mantissa bits (|n| <= 127).
    let scale = f32::from_bits(k.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23);
    e * scale
}

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x`: an odd Taylor polynomial below `|x| = 0.25`, else
/// `(1 - e^-2|x|) / (1 + e^-2|x|)` with the sign of `x`.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let e = exp(-2.0 * a);
    let big = (1.0 - e) / (1.0 + e);
    let s = a * a;
    let small = a
        * (1.0
            + s * (-1.0 / 3.0
                + s * (2.0 / 15.0 + s * (-17.0 / 315.0 + s * (62.0 / 2835.0 + s * (-1382.0 / 155_925.0))))));
    let y = if a < 0.25 { small } else { big };
    y.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_math_matches_f64() {
        let mut worst = [0f64; 3];
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4 * 3.0;
            for (k, (got, want)) in [
                (exp(x), (x as f64).exp()),
                (sigmoid(x), 1.0 / (1.0 + (-(x as f64)).exp())),
                (tanh(x), (x as f64).tanh()),
            ]
            .into_iter()
            .enumerate()
            {
                let err = (got as f64 - want).abs() / want.abs().max(1e-30);
                worst[k] = worst[k].max(err);
            }
        }
        // A few ulps (f32::EPSILON = 1.19e-7).
        assert!(worst.iter().all(|&e| e < 4e-7), "relative errors exp, sigmoid, tanh: {worst:?}");
        assert!(exp(f32::NAN).is_nan() && sigmoid(f32::NAN).is_nan() && tanh(f32::NAN).is_nan());
        assert_eq!((tanh(100.0), tanh(-100.0), sigmoid(-200.0) < 1e-37, sigmoid(200.0)), (1.0, -1.0, true, 1.0));
    }
}
