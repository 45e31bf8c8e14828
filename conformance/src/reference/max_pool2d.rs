//! The `MaxPool2d` reference, ONNX `MaxPool` with
//! `kernel_shape = strides = [pool, pool]` and Keras padding written as
//! explicit `pads`, on HWC samples.

use ember_runtime::spec::Padding;

use super::padding::{keras_pads, onnx_out, pad_map};

/// The largest input value under each window, padded cells taking no part
/// (they are `-inf` in ONNX).
///
/// # Shapes
/// `x`: `[h, w, c]` → `[oh, ow, c]`, also returned as `(oh, ow)`.
///
/// # Panics
/// If a window holds no input cell.
pub fn max_pool2d_f64(x: &[f64], [h, w, c]: [usize; 3], pool: usize, padding: Padding) -> (Vec<f64>, usize, usize) {
    assert_eq!(x.len(), h * w * c, "input size");
    let (oh, top, bottom) = keras_pads(padding, h, pool, pool);
    let (ow, left, right) = keras_pads(padding, w, pool, pool);
    assert_eq!((onnx_out(h, top, bottom, pool, pool), onnx_out(w, left, right, pool, pool)), (oh, ow));
    let xp = pad_map(x, h, w, c, [top, bottom, left, right], f64::NEG_INFINITY);
    let pw = w + left + right;
    let mut y = vec![f64::NEG_INFINITY; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            for k in 0..c {
                let out = &mut y[(oy * ow + ox) * c + k];
                for ky in 0..pool {
                    for kx in 0..pool {
                        *out = out.max(xp[((oy * pool + ky) * pw + ox * pool + kx) * c + k]);
                    }
                }
                assert!(out.is_finite(), "window ({oy}, {ox}) holds no input cell");
            }
        }
    }
    (y, oh, ow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_skips_padding() {
        let x = [-1.0, -2.0, -3.0]; // 1x3x1
        let (y, oh, ow) = max_pool2d_f64(&x, [1, 3, 1], 2, Padding::Same);
        assert_eq!((oh, ow, y), (1, 2, vec![-1.0, -3.0]));
    }
}
