//! The kernel of [`crate::spec::LayerSpec::AveragePool2d`] (and
//! [`crate::spec::LayerSpec::AveragePool1d`] as a map of height 1) on HWC
//! samples, shared by the typed layers and the dynamic interpreter.

use crate::spec::Window2d;

/// Average pooling that does not count padding (ONNX `AveragePool` with
/// `count_include_pad = 0`, Keras `"same"`): `y[oy, ox, k]` is the sum of
/// the input cells under the window, in window order, divided by their
/// number (every window holds at least one input cell).
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`; `y`: `[g.oh, g.ow, g.c]`.
#[inline]
pub fn average_pool2d(g: &Window2d, x: &[f32], y: &mut [f32]) {
    let c = g.c;
    for (p, out) in y.chunks_exact_mut(c.max(1)).enumerate().take(g.oh * g.ow) {
        let (oy, ox) = (p / g.ow, p % g.ow);
        out.fill(0.0);
        let mut n = 0u32;
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            for kx in 0..g.kw {
                let Some(ix) = g.col(ox, kx) else { continue };
                let at = (iy * g.w + ix) * c;
                let Some(xs) = x.get(at..at + c) else { continue };
                n += 1;
                for (o, &v) in out.iter_mut().zip(xs) {
                    *o += v;
                }
            }
        }
        let n = n.max(1) as f32;
        for o in out.iter_mut() {
            *o /= n;
        }
    }
}
