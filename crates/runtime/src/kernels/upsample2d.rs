//! The kernel of [`crate::spec::LayerSpec::Upsample2d`] on HWC samples
//! (channels innermost), shared by the typed layer and the dynamic interpreter.

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
