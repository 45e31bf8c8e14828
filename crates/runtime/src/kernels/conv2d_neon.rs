//! The host path of [`conv2d`](super::conv2d) on aarch64 (NEON, part of
//! every aarch64 target; `std` feature, for the packing buffer): four filters
//! in the four lanes of a register, computing exactly the bits of the
//! portable code. A port of `conv2d_avx` (same structure, 4 lanes).
//! Compiled and checked for `aarch64-unknown-linux-gnu`; not run here.
//!
//! # Same bits
//! Lane `r` of an accumulator is the sum of filter `f0 + r` at one output
//! pixel: it starts at the bias and takes the window's taps inside the input
//! one by one in window order (`ky`, `kx`, `ch`), each a separate multiply
//! (`vmulq_f32`) and add (`vaddq_f32`; never the fused `vfmaq_f32`), rounded as the scalar `*` and `+` are
//! (never fused). So every output is the portable sum, whichever lane or
//! block computes it.
//!
//! # Blocking
//! The weights of four filters are first transposed into `[window, 4]`
//! (zeros for missing filters), so that one load gives a tap's eight
//! weights. Output columns whose windows lie inside the input's columns go
//! [`PIXELS`] at a time (each weight load feeds [`PIXELS`] accumulators, each
//! input value is broadcast to four filters); the others (padding) one at a
//! time, with their window clipped.
//!
//! # Safety
//! NEON is enabled on every target this module is compiled for
//! (`target_feature = "neon"` in its `cfg`). Every load and store is inside
//! the slices, whose lengths [`conv2d`] checks before it starts.
#![allow(unsafe_code)] // NEON intrinsics and in-bounds raw loads, each with a SAFETY note

use std::vec::Vec;

use core::arch::aarch64::{float32x4_t, vaddq_f32, vld1q_dup_f32, vld1q_f32, vmulq_f32, vst1q_f32};

use crate::spec::Window2d;

/// Filters per register.
const LANES: usize = 4;
/// Output columns per block where their windows need no padding column.
const PIXELS: usize = 8;

/// [`conv2d`](super::conv2d) with NEON, if the lengths are as documented
/// there; `false` (nothing written) otherwise.
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
    if !fits {
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
        filters(g, &packed, &b, x, y, (f, f0, nf));
    }
    true
}

/// Every output of the filters `f0..f0 + nf` of `f` (packed as in the
/// module docs).
///
/// # Shapes
/// `packed`: `[window, LANES]`; `x`, `y`: as [`conv2d`] checked them.
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
fn block<const P: usize>(
    g: &Window2d,
    packed: &[f32],
    b: &[f32; LANES],
    x: &[f32],
    oy: usize,
    ox: usize,
) -> [float32x4_t; P] {
    // SAFETY: `b` holds 4 floats; NEON is enabled (module docs).
    let mut acc = [unsafe { vld1q_f32(b.as_ptr()) }; P];
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
                let w = unsafe { vld1q_f32(packed.as_ptr().add((w0 + t) * LANES)) };
                for p in 0..P {
                    // SAFETY: at[p] + t < x.len() (checked above).
                    let v = unsafe { vld1q_dup_f32(x.as_ptr().add(at[p] + t)) };
                    // SAFETY: NEON is enabled (module docs).
                    acc[p] = unsafe { vaddq_f32(acc[p], vmulq_f32(w, v)) };
                }
            }
        }
    }
    acc
}

/// The `P` pixels of a block into `y` (pixel `p` at `at + p·f`); `P`.
#[inline]
fn put_all<const P: usize>(y: &mut [f32], at: usize, f: usize, nf: usize, acc: [float32x4_t; P]) -> usize {
    for (p, a) in acc.into_iter().enumerate() {
        put(y, at + p * f, nf, a);
    }
    P
}

/// `y[at..at + nf]` = lanes `0..nf` of `acc`.
#[inline]
fn put(y: &mut [f32], at: usize, nf: usize, acc: float32x4_t) {
    let mut lanes = [0.0f32; LANES];
    // SAFETY: `lanes` holds 4 writable floats; NEON is enabled.
    unsafe { vst1q_f32(lanes.as_mut_ptr(), acc) };
    if let Some(out) = y.get_mut(at..at + nf) {
        out.copy_from_slice(&lanes[..nf]);
    }
}
