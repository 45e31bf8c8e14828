//! Integer references of the int8 kernels (`ember_runtime::quant`), written
//! from the definitions of TFLite's reference kernels, gemmlowp and
//! CMSIS-NN: fixed-point arithmetic in `i128`, accumulators in `i64`,
//! independent of the runtime's code. Tensors are HWC, conv weights OHWI,
//! depthwise weights `[KH, KW, C·mult]`, as in TFLite.

/// TFLite's `QuantizeMultiplier`, from its definition: `real = q · 2^shift`,
/// `q ∈ [0.5, 1)`, `multiplier = round(q · 2³¹)` (half away from zero).
pub fn quantize_multiplier_ref(real: f64) -> (i32, i32) {
    let mut shift = 0i32;
    let mut q = real;
    while q >= 1.0 {
        q /= 2.0;
        shift += 1;
    }
    while q < 0.5 {
        q *= 2.0;
        shift -= 1;
    }
    let mut fixed = (q * 2f64.powi(31)).round() as i64;
    if fixed == 1 << 31 {
        fixed /= 2;
        shift += 1;
    }
    if shift < -31 { (0, 0) } else { (fixed as i32, shift) }
}

/// gemmlowp, written in i128: saturating rounding doubling high multiply.
pub fn srdhm_ref(a: i32, b: i32) -> i128 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX as i128;
    }
    let ab = a as i128 * b as i128;
    let nudge = if ab >= 0 { 1i128 << 30 } else { 1 - (1i128 << 30) };
    (ab + nudge) / (1i128 << 31) // truncating, as C++
}

/// `x / 2^e` rounded to nearest, ties away from zero (what `RoundingDivideByPOT` computes).
pub fn round_div_pot_ref(x: i128, e: u32) -> i128 {
    let d = 1i128 << e;
    if x >= 0 { (2 * x + d) / (2 * d) } else { -((-2 * x + d) / (2 * d)) }
}

/// TFLite's `MultiplyByQuantizedMultiplier` over the i128 primitives above.
pub fn mbqm_ref(x: i32, m: i32, shift: i32) -> i128 {
    let left = shift.max(0);
    let right = (-shift).max(0) as u32;
    let shifted = ((x as i128) << left).clamp(i32::MIN as i128, i32::MAX as i128) as i32;
    round_div_pot_ref(srdhm_ref(shifted, m), right)
}

/// CMSIS-NN's `arm_nn_requantize` (double rounding): `(v · m + 2³⁰) >> 31`,
/// then `arm_nn_divide_by_power_of_two`.
pub fn cmsis_requantize_ref(v: i32, m: i32, shift: i32) -> i64 {
    let left = shift.max(0);
    let right = (-shift).max(0);
    let v = (v as i64) << left;
    let high = ((v * m as i64 + (1 << 30)) >> 31) as i32;
    let mask = ((1i64 << right) - 1) as i32;
    let rem = high & mask;
    let mut result = high >> right;
    let mut threshold = mask >> 1;
    if result < 0 {
        threshold += 1;
    }
    if rem > threshold {
        result += 1;
    }
    result as i64
}

/// The output stage from its definition: an `i64` accumulator (which must
/// fit `i32`, as in every int8 kernel) scaled by `(m, shift)`, plus the zero
/// point, clamped to `[lo, hi]`.
pub fn requantize_ref(acc: i64, m: (i32, i32), zero_point: i32, lo: i8, hi: i8) -> i8 {
    let acc = i32::try_from(acc).expect("reference accumulator fits i32");
    (mbqm_ref(acc, m.0, m.1) + zero_point as i128).clamp(lo as i128, hi as i128) as i8
}

/// A quantized layer's output stage for the references: per-channel
/// `(multiplier, shift)`, output zero point, clamp bounds.
pub struct StageRef {
    /// `(multiplier, shift)` per output channel.
    pub m: Vec<(i32, i32)>,
    /// Output zero point.
    pub zero_point: i32,
    /// Clamp bounds.
    pub lo: i8,
    /// Clamp bounds.
    pub hi: i8,
}

/// Dense: `y[o] = stage(b[o] + Σ (x[i] − zp_x) · W[o, i])`, `W` `[out, in]`.
pub fn dense_ref(x: &[i8], zp_x: i32, w: &[i8], b: &[i32], s: &StageRef) -> Vec<i8> {
    let n = x.len();
    (0..b.len())
        .map(|o| {
            let acc: i64 = b[o] as i64 + (0..n).map(|i| (x[i] as i64 - zp_x as i64) * w[o * n + i] as i64).sum::<i64>();
            requantize_ref(acc, s.m[o], s.zero_point, s.lo, s.hi)
        })
        .collect()
}

/// A window geometry for the references: `[h, w, c]`, kernel `[kh, kw]`,
/// strides `[sh, sw]`, pads `[top, left, bottom, right]`.
#[derive(Clone, Copy, Debug)]
pub struct WindowRef {
    /// Input `[h, w, c]`.
    pub hwc: [usize; 3],
    /// Kernel `[kh, kw]`.
    pub k: [usize; 2],
    /// Strides `[sh, sw]`.
    pub s: [usize; 2],
    /// Pads `[top, left, bottom, right]`.
    pub pads: [usize; 4],
}

impl WindowRef {
    /// Output `(h, w)`.
    pub fn out(&self) -> (usize, usize) {
        let h = (self.hwc[0] + self.pads[0] + self.pads[2] - self.k[0]) / self.s[0] + 1;
        let w = (self.hwc[1] + self.pads[1] + self.pads[3] - self.k[1]) / self.s[1] + 1;
        (h, w)
    }

    /// The input pixel `(iy, ix)` under tap `(ky, kx)` of output `(oy, ox)`,
    /// computed in signed coordinates, or `None` in the padding.
    pub fn at(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.s[0] + ky) as i64 - self.pads[0] as i64;
        let ix = (ox * self.s[1] + kx) as i64 - self.pads[1] as i64;
        let inside = iy >= 0 && ix >= 0 && iy < self.hwc[0] as i64 && ix < self.hwc[1] as i64;
        inside.then_some((iy as usize, ix as usize))
    }
}

/// Convolution over HWC, weights OHWI, padding holding the zero point.
pub fn conv_ref(x: &[i8], zp_x: i32, g: WindowRef, w: &[i8], b: &[i32], s: &StageRef) -> Vec<i8> {
    let [_, iw, ic] = g.hwc;
    let [kh, kw] = g.k;
    let (oh, ow) = g.out();
    let mut y = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            for (c, &bias) in b.iter().enumerate() {
                let mut acc = bias as i64;
                for ky in 0..kh {
                    for kx in 0..kw {
                        for k in 0..ic {
                            // a padded tap reads the zero point: (zp - zp) * w = 0
                            let xv = g.at(oy, ox, ky, kx).map_or(zp_x, |(iy, ix)| x[(iy * iw + ix) * ic + k] as i32);
                            acc += (xv as i64 - zp_x as i64) * w[((c * kh + ky) * kw + kx) * ic + k] as i64;
                        }
                    }
                }
                y.push(requantize_ref(acc, s.m[c], s.zero_point, s.lo, s.hi));
            }
        }
    }
    y
}

/// Depthwise convolution: output channel `c · mult + m` from input channel `c`,
/// weights `[KH, KW, C · mult]`.
pub fn depthwise_ref(x: &[i8], zp_x: i32, g: WindowRef, mult: usize, w: &[i8], b: &[i32], s: &StageRef) -> Vec<i8> {
    let [_, iw, ic] = g.hwc;
    let [kh, kw] = g.k;
    let oc = ic * mult;
    let (oh, ow) = g.out();
    let mut y = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..oc {
                let mut acc = b[c] as i64;
                for ky in 0..kh {
                    for kx in 0..kw {
                        if let Some((iy, ix)) = g.at(oy, ox, ky, kx) {
                            let xv = x[(iy * iw + ix) * ic + c / mult] as i64 - zp_x as i64;
                            acc += xv * w[(ky * kw + kx) * oc + c] as i64;
                        }
                    }
                }
                y.push(requantize_ref(acc, s.m[c], s.zero_point, s.lo, s.hi));
            }
        }
    }
    y
}

/// Max (`avg = false`) or average pooling over the valid taps; the average
/// is the quotient rounded half away from zero (TFLite), clamped to `[lo, hi]`.
pub fn pool_ref(x: &[i8], g: WindowRef, avg: bool, lo: i8, hi: i8) -> Vec<i8> {
    let [_, iw, c] = g.hwc;
    let (oh, ow) = g.out();
    let mut y = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            for k in 0..c {
                let vals: Vec<i64> = (0..g.k[0])
                    .flat_map(|ky| (0..g.k[1]).map(move |kx| (ky, kx)))
                    .filter_map(|(ky, kx)| g.at(oy, ox, ky, kx))
                    .map(|(iy, ix)| x[(iy * iw + ix) * c + k] as i64)
                    .collect();
                let v = if !avg {
                    vals.iter().copied().max().unwrap_or(-128)
                } else if vals.is_empty() {
                    0
                } else {
                    let (sum, n) = (vals.iter().sum::<i64>(), vals.len() as i64);
                    // round half away from zero, from the definition
                    let q = (2 * sum.abs() + n) / (2 * n);
                    (if sum < 0 { -q } else { q }).clamp(lo as i64, hi as i64)
                };
                y.push(v as i8);
            }
        }
    }
    y
}
