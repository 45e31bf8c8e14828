//! Kernels of the image layers on HWC samples (channels innermost), shared
//! by the typed layers and the dynamic interpreter.

use super::dot;
use crate::spec::Window2d;

/// 2-D convolution (no activation): `y[oy, ox, f] = bias[f] + Σ` over the
/// window rows inside the input of one [`dot`] over the window row's inside
/// columns and all channels (padding contributes zeros). The summation order
/// is fixed (bias, then window rows in order).
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`; `weight`: `[F, g.kh, g.kw, g.c]`; `bias`: `[F]`;
/// `y`: `[g.oh, g.ow, F]`. Lengths are guaranteed by the callers.
#[inline]
pub fn conv2d(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let f = bias.len();
    let window = g.kh * g.kw * g.c;
    for (p, out) in y.chunks_exact_mut(f.max(1)).enumerate().take(g.oh * g.ow) {
        let (oy, ox) = (p / g.ow, p % g.ow);
        out.copy_from_slice(bias);
        let (kx0, kx1, ix0) = g.columns(ox);
        let span = (kx1 - kx0) * g.c;
        if span == 0 {
            continue;
        }
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            let at = (iy * g.w + ix0) * g.c;
            let Some(xs) = x.get(at..at + span) else { continue };
            let w0 = (ky * g.kw + kx0) * g.c;
            for (o, wf) in out.iter_mut().zip(weight.chunks_exact(window)) {
                *o += dot(&wf[w0..w0 + span], xs);
            }
        }
    }
}

/// Max pooling: `y[oy, ox, c]` is the largest input value under the window
/// (padded cells are skipped; every window holds at least one input cell).
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`; `y`: `[g.oh, g.ow, g.c]`.
#[inline]
pub fn max_pool2d(g: &Window2d, x: &[f32], y: &mut [f32]) {
    let c = g.c;
    for (p, out) in y.chunks_exact_mut(c.max(1)).enumerate().take(g.oh * g.ow) {
        let (oy, ox) = (p / g.ow, p % g.ow);
        out.fill(f32::NEG_INFINITY);
        let (kx0, kx1, ix0) = g.columns(ox);
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            let at = (iy * g.w + ix0) * c;
            let Some(xs) = x.get(at..at + (kx1 - kx0) * c) else { continue };
            for cell in xs.chunks_exact(c.max(1)) {
                for (o, &v) in out.iter_mut().zip(cell) {
                    if v > *o {
                        *o = v;
                    }
                }
            }
        }
    }
}

/// Nearest-neighbour upsampling by `factor`: `y[oy, ox, c] = x[oy / factor, ox / factor, c]`.
///
/// # Shapes
/// `x`: `[h, w, c]`; `y`: `[h * factor, w * factor, c]`.
#[inline]
pub fn upsample2d(h: usize, w: usize, c: usize, factor: usize, x: &[f32], y: &mut [f32]) {
    let ow = w * factor;
    for (p, out) in y.chunks_exact_mut(c.max(1)).enumerate().take(h * factor * ow) {
        let (oy, ox) = (p / ow, p % ow);
        let at = ((oy / factor) * w + ox / factor) * c;
        if let Some(src) = x.get(at..at + c) {
            out.copy_from_slice(src);
        }
    }
}

/// Batch normalisation in inference form, per channel `k` (the innermost
/// index): `y = (x - mean) · s + beta` with `s = gamma / sqrt(var + eps)`
/// computed once per channel.
///
/// # Shapes
/// `x`, `y`: `[n, C]` (any `n`); `gamma`, `beta`, `mean`, `var`: `[C]`.
pub fn batch_norm(gamma: &[f32], beta: &[f32], mean: &[f32], var: &[f32], eps: f32, x: &[f32], y: &mut [f32]) {
    let c = gamma.len();
    if c == 0 {
        return;
    }
    let params = gamma.iter().zip(beta).zip(mean).zip(var);
    for (k, (((&gamma, &beta), &mean), &var)) in params.enumerate() {
        let s = gamma / libm::sqrtf(var + eps);
        for (o, &v) in y.iter_mut().skip(k).step_by(c).zip(x.iter().skip(k).step_by(c)) {
            *o = (v - mean) * s + beta;
        }
    }
}
