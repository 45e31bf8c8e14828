//! The `Upsample2d` reference, ONNX `Resize` (mode nearest, coordinate
//! transformation asymmetric, nearest mode floor, scales
//! `[1, factor, factor, 1]` on NHWC), as Keras's `UpSampling2D`.

/// Output pixel `(oy, ox)` reads input pixel
/// `(floor(oy / factor), floor(ox / factor))`.
///
/// # Shapes
/// `x`: `[h, w, c]` → `[h * factor, w * factor, c]`.
pub fn upsample2d_f64(x: &[f64], [h, w, c]: [usize; 3], factor: usize) -> Vec<f64> {
    assert_eq!(x.len(), h * w * c, "input size");
    let (oh, ow) = (h * factor, w * factor);
    let mut y = Vec::with_capacity(oh * ow * c);
    for oy in 0..oh {
        for ox in 0..ow {
            let (iy, ix) = ((oy as f64 / factor as f64).floor() as usize, (ox as f64 / factor as f64).floor() as usize);
            y.extend_from_slice(&x[(iy * w + ix) * c..(iy * w + ix + 1) * c]);
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampling_repeats() {
        assert_eq!(upsample2d_f64(&[1.0, 2.0], [1, 2, 1], 2), [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }
}
