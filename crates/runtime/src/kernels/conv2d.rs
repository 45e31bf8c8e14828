//! The kernel of [`crate::spec::LayerSpec::Conv2d`] (and its strided and
//! dilated form, and [`crate::spec::LayerSpec::Conv1d`] as a map of height 1)
//! on HWC samples (channels innermost), shared by the typed layers and the
//! dynamic interpreter.

use super::dot;
use crate::spec::Window2d;

/// 2-D convolution (no activation): `y[oy, ox, f] = bias[f] + Σ` over the
/// window rows inside the input of one [`dot`] over the window row's inside
/// columns and all channels (padding contributes zeros). The summation order
/// is fixed (bias, then window rows in order). With dilated columns
/// (`g.dw > 1`) a window row is not contiguous: one [`dot`] per window cell
/// inside the input, over the channels, in window order.
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`; `weight`: `[F, g.kh, g.kw, g.c]`; `bias`: `[F]`;
/// `y`: `[g.oh, g.ow, F]`. Lengths are guaranteed by the callers.
#[inline]
pub fn conv2d(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    if g.dw != 1 {
        return conv2d_cells(g, weight, bias, x, y);
    }
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

/// [`conv2d`] with one [`dot`] per window cell (any dilation).
fn conv2d_cells(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let f = bias.len();
    let window = g.kh * g.kw * g.c;
    for (p, out) in y.chunks_exact_mut(f.max(1)).enumerate().take(g.oh * g.ow) {
        let (oy, ox) = (p / g.ow, p % g.ow);
        out.copy_from_slice(bias);
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            for kx in 0..g.kw {
                let Some(ix) = g.col(ox, kx) else { continue };
                let at = (iy * g.w + ix) * g.c;
                let Some(xs) = x.get(at..at + g.c) else { continue };
                let w0 = (ky * g.kw + kx) * g.c;
                for (o, wf) in out.iter_mut().zip(weight.chunks_exact(window)) {
                    *o += dot(&wf[w0..w0 + g.c], xs);
                }
            }
        }
    }
}
