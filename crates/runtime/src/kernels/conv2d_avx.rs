//! The host path of [`conv2d`](super::conv2d) on x86-64 CPUs with AVX
//! (detected at run time; `std` feature): eight filters in the eight lanes of
//! a register, computing exactly the bits of the portable code.
//!
//! # Same bits
//! Lane `r` of an accumulator is the sum of filter `f0 + r` at one output
//! pixel: it starts at the bias and takes the window's taps inside the input
//! one by one in window order (`ky`, `kx`, `ch`), each a separate multiply
//! (`vmulps`) and add (`vaddps`), rounded as the scalar `*` and `+` are
//! (never fused). So every output is the portable sum, whichever lane or
//! block computes it.
//!
//! # Blocking
//! The weights of eight filters are first transposed into `[window, 8]`
//! (zeros for missing filters), so that one load gives a tap's eight
//! weights. Output columns whose windows lie inside the input's columns go
//! [`PIXELS`] at a time (each weight load feeds [`PIXELS`] accumulators, each
//! input value is broadcast to eight filters); the others (padding) one at a
//! time, with their window clipped.
//!
//! # Safety
//! The AVX functions are `#[target_feature(enable = "avx")]` and called only
//! after `is_x86_feature_detected!("avx")`. Every load and store is inside
//! the slices, whose lengths [`conv2d`] checks before it starts.
#![allow(unsafe_code)] // AVX intrinsics and in-bounds raw loads, each with a SAFETY note

use std::vec::Vec;

use core::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_loadu_ps, _mm256_mul_ps, _mm256_storeu_ps,
};

use crate::spec::Window2d;

/// Filters per register.
const LANES: usize = 8;
/// Output columns per block where their windows need no padding column.
const PIXELS: usize = 8;

/// [`conv2d`](super::conv2d) with AVX, if the CPU has it and the lengths
/// are as documented there; `false` (nothing written) otherwise.
///
/// # Shapes
/// As [`conv2d`](super::conv2d).
pub fn conv2d(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) -> bool {
    let (f, window) = (bias.len(), g.kh * g.kw * g.c);
    let fits = f > 0
        && weight.len() >= f * window
        && x.len() >= g.h * g.w * g.c
        && y.len() >= g.oh * g.ow * f
        && (g.dh > 0 && g.dw > 0);
    if !fits || !super::host_simd() || !std::is_x86_feature_detected!("avx") {
        return false;
    }
    let mut packed = Vec::new();
    packed.resize(window * LANES, 0.0f32);
    for f0 in (0..f).step_by(LANES) {
        let nf = LANES.min(f - f0);
        for (j, taps) in packed.chunks_exact_mut(LANES).enumerate() {
            for (r, t) in taps.iter_mut().enumerate() {
                *t = if r < nf { weight[(f0 + r) * window + j] } else { 0.0 };
            }
        }
        let mut b = [0.0f32; LANES];
        b[..nf].copy_from_slice(&bias[f0..f0 + nf]);
        // SAFETY: the CPU has AVX (detected above).
        unsafe { filters(g, &packed, &b, x, y, (f, f0, nf)) };
    }
    true
}

/// Every output of the filters `f0..f0 + nf` of `f` (packed as in the
/// module docs).
///
/// # Shapes
/// `packed`: `[window, LANES]`; `x`, `y`: as [`conv2d`] checked them.
#[target_feature(enable = "avx")]
fn filters(
    g: &Window2d,
    packed: &[f32],
    b: &[f32; LANES],
    x: &[f32],
    y: &mut [f32],
    (f, f0, nf): (usize, usize, usize),
) {
    // Whether the window columns of output column `ox` all lie inside.
    let inside = |ox: usize| (0..g.kw).all(|kx| g.col(ox, kx).is_some());
    // Whether output columns `ox..ox + p` can share a block.
    let fits = |ox: usize, p: usize| ox + p <= g.ow && inside(ox) && inside(ox + p - 1);
    for oy in 0..g.oh {
        let mut ox = 0;
        while ox < g.ow {
            let at = (oy * g.ow + ox) * f + f0;
            ox += if fits(ox, PIXELS) {
                put_all(y, at, f, nf, block::<PIXELS>(g, packed, b, x, oy, ox))
            } else if fits(ox, 4) {
                put_all(y, at, f, nf, block::<4>(g, packed, b, x, oy, ox))
            } else if fits(ox, 2) {
                put_all(y, at, f, nf, block::<2>(g, packed, b, x, oy, ox))
            } else {
                put_all(y, at, f, nf, block::<1>(g, packed, b, x, oy, ox))
            };
        }
    }
}

/// The accumulators of output columns `ox..ox + P` of output row `oy`
/// (lane `r`: filter `r` of the block). With `P > 1` the windows of all
/// `P` columns must lie inside the input's columns.
#[inline]
#[target_feature(enable = "avx")]
fn block<const P: usize>(
    g: &Window2d,
    packed: &[f32],
    b: &[f32; LANES],
    x: &[f32],
    oy: usize,
    ox: usize,
) -> [__m256; P] {
    // SAFETY: `b` holds 8 floats.
    let mut acc = [unsafe { _mm256_loadu_ps(b.as_ptr()) }; P];
    let c = g.c;
    for ky in 0..g.kh {
        let Some(iy) = g.row(oy, ky) else { continue };
        for kx in 0..g.kw {
            // With adjacent window columns (dw = 1) the window row's inside
            // columns are one contiguous run of taps, taken at its first
            // column (for a block of P > 1 columns the whole row, all
            // inside); otherwise one run of `c` taps per column.
            let (w0, at, n) = if g.dw == 1 {
                if kx > 0 {
                    break;
                }
                let (kx0, kx1, ix0) = g.columns(ox);
                let at: [usize; P] = core::array::from_fn(|p| (iy * g.w + ix0 + p * g.sw) * c);
                ((ky * g.kw + kx0) * c, at, (kx1 - kx0) * c)
            } else {
                let Some(ix) = g.col(ox, kx) else { continue };
                let at: [usize; P] = core::array::from_fn(|p| (iy * g.w + ix + p * g.sw) * c);
                ((ky * g.kw + kx) * c, at, c)
            };
            if (w0 + n) * LANES > packed.len() || at.iter().any(|&a| a + n > x.len()) {
                continue;
            }
            for t in 0..n {
                // SAFETY: (w0 + t + 1)·LANES <= packed.len() (checked above).
                let w = unsafe { _mm256_loadu_ps(packed.as_ptr().add((w0 + t) * LANES)) };
                for p in 0..P {
                    // SAFETY: at[p] + t < x.len() (checked above).
                    let v = unsafe { _mm256_broadcast_ss(&*x.as_ptr().add(at[p] + t)) };
                    acc[p] = _mm256_add_ps(acc[p], _mm256_mul_ps(w, v));
                }
            }
        }
    }
    acc
}

/// The `P` pixels of a block into `y` (pixel `p` at `at + p·f`); `P`.
#[inline]
#[target_feature(enable = "avx")]
fn put_all<const P: usize>(y: &mut [f32], at: usize, f: usize, nf: usize, acc: [__m256; P]) -> usize {
    for (p, a) in acc.into_iter().enumerate() {
        put(y, at + p * f, nf, a);
    }
    P
}

/// `y[at..at + nf]` = lanes `0..nf` of `acc`.
#[inline]
#[target_feature(enable = "avx")]
fn put(y: &mut [f32], at: usize, nf: usize, acc: __m256) {
    let mut lanes = [0.0f32; LANES];
    // SAFETY: `lanes` holds 8 writable floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc) };
    if let Some(out) = y.get_mut(at..at + nf) {
        out.copy_from_slice(&lanes[..nf]);
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::{Padding, Window2d};

    /// Fills `out` with a deterministic, sign-mixed value stream.
    fn fill(out: &mut [f32], seed: u32) {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        for v in out {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            *v = (s % 2001) as f32 / 1000.0 - 1.0;
        }
    }

    /// The documented order, one output at a time: the bias, then every
    /// tap inside the input in window order, added one by one.
    fn naive(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
        let f = bias.len();
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                for (k, b) in bias.iter().enumerate() {
                    let mut sum = *b;
                    for ky in 0..g.kh {
                        for kx in 0..g.kw {
                            let (Some(iy), Some(ix)) = (g.row(oy, ky), g.col(ox, kx)) else { continue };
                            for ch in 0..g.c {
                                sum += weight[((k * g.kh + ky) * g.kw + kx) * g.c + ch] * x[(iy * g.w + ix) * g.c + ch];
                            }
                        }
                    }
                    y[(oy * g.ow + ox) * f + k] = sum;
                }
            }
        }
    }

    #[test]
    fn avx_conv_equals_the_window_order_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx") {
            return;
        }
        let mut x = std::vec![0.0f32; 9 * 23 * 5];
        let mut w = std::vec![0.0f32; 17 * 3 * 3 * 5];
        let mut b = [0.0f32; 17];
        for (h, wd, c) in [(9, 23, 5), (1, 21, 3), (6, 7, 1), (5, 5, 2), (3, 19, 1)] {
            for (k, stride, dil, pad) in [
                (3, 1, 1, Padding::Same),
                (3, 2, 1, Padding::Same),
                (2, 1, 2, Padding::Valid),
                (3, 1, 2, Padding::Same),
                (1, 1, 1, Padding::Valid),
            ] {
                let Some(g) = Window2d::general(h, wd, c, [k.min(h), k], [1, stride], [1, dil], pad) else { continue };
                for f in [1, 4, 7, 8, 9, 16, 17] {
                    let (x, w, b) = (&mut x[..h * wd * c], &mut w[..f * g.kh * g.kw * c], &mut b[..f]);
                    fill(x, 3);
                    fill(w, 5);
                    fill(b, 7);
                    let n = g.oh * g.ow * f;
                    let (mut got, mut want) = (std::vec![f32::NAN; n], std::vec![0.0f32; n]);
                    assert!(super::conv2d(&g, w, b, x, &mut got));
                    naive(&g, w, b, x, &mut want);
                    for (i, (a, e)) in got.iter().zip(&want).enumerate() {
                        assert_eq!(a.to_bits(), e.to_bits(), "{g:?} f {f} output {i}");
                    }
                }
            }
        }
    }
}
