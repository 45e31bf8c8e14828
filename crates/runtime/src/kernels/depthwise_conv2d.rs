//! The kernel of [`crate::spec::LayerSpec::DepthwiseConv2d`] on HWC samples,
//! shared by the typed layer and the dynamic interpreter.

use crate::spec::Window2d;

/// Depthwise convolution, depth multiplier 1 (no activation):
/// `y[oy, ox, k] = bias[k] + Σ weight[ky, kx, k] · x[iy, ix, k]` over the
/// window cells inside the input (padding contributes zeros), cells summed
/// in window order (row by row), every channel at once.
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`; `weight`: `[g.kh, g.kw, g.c]`; `bias`: `[g.c]`;
/// `y`: `[g.oh, g.ow, g.c]`. Lengths are guaranteed by the callers.
#[inline]
pub fn depthwise_conv2d(g: &Window2d, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let c = g.c;
    for (p, out) in y.chunks_exact_mut(c.max(1)).enumerate().take(g.oh * g.ow) {
        let (oy, ox) = (p / g.ow, p % g.ow);
        out.copy_from_slice(bias);
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            for kx in 0..g.kw {
                let Some(ix) = g.col(ox, kx) else { continue };
                let at = (iy * g.w + ix) * c;
                let w0 = (ky * g.kw + kx) * c;
                let (Some(xs), Some(ws)) = (x.get(at..at + c), weight.get(w0..w0 + c)) else { continue };
                for ((o, &w), &v) in out.iter_mut().zip(ws).zip(xs) {
                    *o += w * v;
                }
            }
        }
    }
}
