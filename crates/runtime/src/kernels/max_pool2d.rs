//! The kernel of [`crate::spec::LayerSpec::MaxPool2d`] on HWC samples
//! (channels innermost), shared by the typed layer and the dynamic interpreter.

use crate::spec::Window2d;

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
