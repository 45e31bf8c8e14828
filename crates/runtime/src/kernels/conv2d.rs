//! The kernel of [`crate::spec::LayerSpec::Conv2d`] (and its strided and
//! dilated form, and [`crate::spec::LayerSpec::Conv1d`] as a map of height 1)
//! on HWC samples (channels innermost), shared by the typed layers and the
//! dynamic interpreter.
//!
//! # Blocking
//! Outputs are computed [`FILTERS`] filters at a time, so that every input
//! value loaded feeds [`FILTERS`] multiply-adds, and, where the windows of
//! [`PIXELS`] adjacent output columns lie wholly inside the input's columns
//! (no padding), [`PIXELS`] output columns at a time, so that every weight
//! loaded feeds [`PIXELS`] multiply-adds too: `PIXELS * FILTERS` = 8 sums
//! in registers, with no bounds check per tap. The border columns (padding)
//! and dilated columns take the same blocks one output column at a time, each
//! window row clipped to the input once.
//!
//! # Summation order
//! `y[oy, ox, f] = bias[f] + t_0 + t_1 + …` added one by one from left to
//! right, over the window's taps inside the input (`weight[f, ky, kx, ch] ·
//! x[iy, ix, ch]`, padding skipped) in window order (`ky`, then `kx`, then
//! `ch`). Every path sums in this order, with plain `*` and `+` (no fused
//! multiply-add), so the host and both boards compute the same bits.

use crate::spec::Window2d;

/// Filters per block.
const FILTERS: usize = 4;
/// Output columns per block where their windows need no padding.
const PIXELS: usize = 2;

/// Taps per iteration of [`taps`]' main loop (amortising its pointer
/// updates and branch; the order of the sums is unchanged).
const UNROLL: usize = 4;

/// `acc[p][r] += w[r][j] · x[p][j]` for `j` in `0..n`, in increasing `j`.
///
/// # Shapes
/// `w[r]` and `x[p]`: `n` values each (as [`runs`] cuts them).
#[inline(always)]
fn taps<const P: usize, const F: usize>(acc: &mut [[f32; F]; P], w: [&[f32]; F], x: [&[f32]; P], n: usize) {
    if w.iter().any(|s| s.len() < n) || x.iter().any(|s| s.len() < n) {
        return;
    }
    // Every run exactly `n` long (what lets the loops go unchecked), and a
    // local copy of the sums, so that they stay in registers.
    let (w, x) = (w.map(|s| &s[..n]), x.map(|s| &s[..n]));
    let mut a = *acc;
    let (wc, xc) = (w.map(|s| s.as_chunks::<UNROLL>().0), x.map(|s| s.as_chunks::<UNROLL>().0));
    let m = n / UNROLL;
    for i in 0..m {
        for u in 0..UNROLL {
            let wj: [f32; F] = core::array::from_fn(|r| wc[r][i][u]);
            for p in 0..P {
                let xv = xc[p][i][u];
                for r in 0..F {
                    a[p][r] += wj[r] * xv;
                }
            }
        }
    }
    for j in m * UNROLL..n {
        let wj: [f32; F] = core::array::from_fn(|r| w[r][j]);
        for p in 0..P {
            let xv = x[p][j];
            for r in 0..F {
                a[p][r] += wj[r] * xv;
            }
        }
    }
    *acc = a;
}

/// `[s[k][at[k]..at[k] + n] for every k]`, `None` if one is out of range.
#[inline(always)]
fn runs<const K: usize>(s: [&[f32]; K], at: [usize; K], n: usize) -> Option<[&[f32]; K]> {
    let mut out: [&[f32]; K] = [&[]; K];
    for k in 0..K {
        out[k] = s[k].get(at[k]..at[k].checked_add(n)?)?;
    }
    Some(out)
}

/// The outputs of filters `f0..f0 + F` at output columns `ox..ox + P` of
/// output row `oy` into `out` (`[P, bias.len()]`). With `P > 1` the windows
/// of all `P` columns must lie inside the input's columns (`g.dw == 1`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn block<const P: usize, const F: usize>(
    g: &Window2d,
    weight: &[f32],
    bias: &[f32],
    x: &[f32],
    (oy, ox): (usize, usize),
    f0: usize,
    out: &mut [f32],
) {
    let (f, window, c) = (bias.len(), g.kh * g.kw * g.c, g.c);
    let mut acc = init::<P, F>(bias, f0);
    let wf: [&[f32]; F] = [weight; F];
    let w_at = |w0: usize| core::array::from_fn(|r| (f0 + r) * window + w0);
    let x_at = |x0: usize| core::array::from_fn(|p| x0 + p * g.sw * c);
    let (kx0, kx1, ix0) = g.columns(ox);
    for ky in 0..g.kh {
        let Some(iy) = g.row(oy, ky) else { continue };
        if g.dw == 1 {
            // The window row's inside columns: one contiguous run of taps.
            let n = (kx1 - kx0) * c;
            let (w0, x0) = ((ky * g.kw + kx0) * c, (iy * g.w + ix0) * c);
            if let (Some(ws), Some(xs)) = (runs(wf, w_at(w0), n), runs([x; P], x_at(x0), n)) {
                taps(&mut acc, ws, xs, n);
            }
        } else {
            for kx in 0..g.kw {
                let Some(ix) = g.col(ox, kx) else { continue };
                let (w0, x0) = ((ky * g.kw + kx) * c, (iy * g.w + ix) * c);
                if let (Some(ws), Some(xs)) = (runs(wf, w_at(w0), c), runs([x; P], x_at(x0), c)) {
                    taps(&mut acc, ws, xs, c);
                }
            }
        }
    }
    store(&acc, out, f, f0);
}

/// `P` copies of `bias[f0..f0 + F]`: the start of every sum.
#[inline(always)]
fn init<const P: usize, const F: usize>(bias: &[f32], f0: usize) -> [[f32; F]; P] {
    [core::array::from_fn(|r| bias.get(f0 + r).copied().unwrap_or(0.0)); P]
}

/// `out[p * f + f0 + r] = acc[p][r]`.
#[inline(always)]
fn store<const P: usize, const F: usize>(acc: &[[f32; F]; P], out: &mut [f32], f: usize, f0: usize) {
    for (p, row) in acc.iter().enumerate() {
        if let Some(o) = out.get_mut(p * f + f0..p * f + f0 + F) {
            o.copy_from_slice(row);
        }
    }
}

/// Every filter at output columns `ox..ox + P` of output row `oy`.
#[inline(always)]
fn pixels<const P: usize>(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], at: (usize, usize), out: &mut [f32]) {
    let f = bias.len();
    let mut f0 = 0;
    while f0 + FILTERS <= f {
        block::<P, FILTERS>(g, weight, bias, x, at, f0, out);
        f0 += FILTERS;
    }
    while f0 < f {
        block::<P, 1>(g, weight, bias, x, at, f0, out);
        f0 += 1;
    }
}

/// 2-D convolution (no activation): `y[oy, ox, f] = bias[f] + Σ
/// weight[f, ky, kx, ch] · x[iy, ix, ch]` over the window's taps inside the
/// input (padding contributes zeros), summed in the order of the module docs.
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`; `weight`: `[F, g.kh, g.kw, g.c]`; `bias`: `[F]`;
/// `y`: `[g.oh, g.ow, F]`. Lengths are guaranteed by the callers.
#[inline]
pub fn conv2d(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let f = bias.len();
    if f == 0 {
        return;
    }
    // On an x86-64 host with AVX, eight filters per register; on aarch64,
    // four (same bits).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::conv2d_avx::conv2d(g, weight, bias, x, y) {
        return;
    }
    #[cfg(all(feature = "std", target_arch = "aarch64", target_feature = "neon"))]
    if super::conv2d_neon::conv2d(g, weight, bias, x, y) {
        return;
    }
    // Whether the window of output column `ox` needs no padding column.
    let inside = |ox: usize| {
        let (kx0, kx1, _) = g.columns(ox);
        kx0 == 0 && kx1 == g.kw
    };
    for oy in 0..g.oh {
        let mut ox = 0;
        while ox < g.ow {
            let at = (oy * g.ow + ox) * f;
            let wide = g.dw == 1 && ox + PIXELS <= g.ow && inside(ox) && inside(ox + PIXELS - 1);
            if wide && let Some(out) = y.get_mut(at..at + PIXELS * f) {
                pixels::<PIXELS>(g, weight, bias, x, (oy, ox), out);
                ox += PIXELS;
            } else if let Some(out) = y.get_mut(at..at + f) {
                pixels::<1>(g, weight, bias, x, (oy, ox), out);
                ox += 1;
            } else {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Padding;

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
                                let w = weight[((k * g.kh + ky) * g.kw + kx) * g.c + ch];
                                sum += w * x[(iy * g.w + ix) * g.c + ch];
                            }
                        }
                    }
                    y[(oy * g.ow + ox) * f + k] = sum;
                }
            }
        }
    }

    #[test]
    fn blocked_conv_sums_in_window_order_bit_for_bit() {
        let (mut x, mut w, mut b) = ([0.0f32; 9 * 11 * 5], [0.0f32; 7 * 3 * 3 * 5], [0.0f32; 7]);
        let (mut got, mut want) = ([0.0f32; 9 * 11 * 7], [0.0f32; 9 * 11 * 7]);
        for (h, wd, c) in [(9, 11, 5), (1, 11, 3), (6, 7, 1), (5, 5, 2)] {
            for (k, stride, dil, pad) in [(3, 1, 1, Padding::Same), (3, 2, 1, Padding::Same), (2, 1, 2, Padding::Valid)]
            {
                let Some(g) = Window2d::general(h, wd, c, [k.min(h), k], [1, stride], [1, dil], pad) else { continue };
                for f in [1, 4, 7] {
                    let (x, w, b) = (&mut x[..h * wd * c], &mut w[..f * g.kh * g.kw * c], &mut b[..f]);
                    fill(x, 3);
                    fill(w, 5);
                    fill(b, 7);
                    let n = g.oh * g.ow * f;
                    conv2d(&g, w, b, x, &mut got[..n]);
                    naive(&g, w, b, x, &mut want[..n]);
                    for (i, (a, e)) in got[..n].iter().zip(&want[..n]).enumerate() {
                        assert_eq!(a.to_bits(), e.to_bits(), "{g:?} f {f} output {i}");
                    }
                }
            }
        }
    }
}
