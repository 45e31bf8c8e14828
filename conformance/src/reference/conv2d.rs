//! The `Conv2d` reference, ONNX `Conv` (stride 1, no dilation, one group)
//! on HWC samples with Keras padding written as explicit zero `pads`. The
//! activation after it is applied by [`super::layer_f64`].

use ember_runtime::spec::Padding;

use super::padding::{keras_pads, keras_pads_dilated, onnx_out, pad_map};

/// ONNX `Conv` on an HWC map with Keras padding, no activation: the input is
/// zero-padded explicitly, then every window of the padded map is summed:
/// `y[oy, ox, f] = b[f] + Σ_{ky, kx, k} W[f, ky, kx, k] · xp[oy + ky, ox + kx, k]`.
///
/// # Shapes
/// `x`: `[h, w, c]`; `weight`: `[f, kh, kw, c]` (OHWI); `bias`: `[f]` →
/// `[oh, ow, f]`, also returned as `(oh, ow)`.
pub fn conv2d_f64(
    x: &[f64],
    [h, w, c]: [usize; 3],
    weight: &[f64],
    bias: &[f64],
    [kh, kw]: [usize; 2],
    padding: Padding,
) -> (Vec<f64>, usize, usize) {
    let f = bias.len();
    assert_eq!(x.len(), h * w * c, "input size");
    assert_eq!(weight.len(), f * kh * kw * c, "weight size");
    let (oh, top, bottom) = keras_pads(padding, h, kh, 1);
    let (ow, left, right) = keras_pads(padding, w, kw, 1);
    assert_eq!((onnx_out(h, top, bottom, kh, 1), onnx_out(w, left, right, kw, 1)), (oh, ow), "ONNX output size");
    let xp = pad_map(x, h, w, c, [top, bottom, left, right], 0.0);
    let pw = w + left + right;
    let mut y = vec![0.0; oh * ow * f];
    for oy in 0..oh {
        for ox in 0..ow {
            for fi in 0..f {
                let mut s = bias[fi];
                for ky in 0..kh {
                    for kx in 0..kw {
                        for k in 0..c {
                            s += weight[((fi * kh + ky) * kw + kx) * c + k] * xp[((oy + ky) * pw + ox + kx) * c + k];
                        }
                    }
                }
                y[(oy * ow + ox) * f + fi] = s;
            }
        }
    }
    (y, oh, ow)
}

/// ONNX `Conv` with `strides` and `dilations` on an HWC map with Keras
/// padding, no activation: the input is zero-padded explicitly, then
/// `y[oy, ox, f] = b[f] + Σ_{ky, kx, k} W[f, ky, kx, k] · xp[oy·sh + ky·dh, ox·sw + kx·dw, k]`.
///
/// # Shapes
/// `x`: `[h, w, c]`; `weight`: `[f, kh, kw, c]` (OHWI); `bias`: `[f]` →
/// `[oh, ow, f]`, also returned as `(oh, ow)`.
pub fn conv2d_strided_f64(
    x: &[f64],
    [h, w, c]: [usize; 3],
    weight: &[f64],
    bias: &[f64],
    [[kh, kw], [sh, sw], [dh, dw]]: [[usize; 2]; 3],
    padding: Padding,
) -> (Vec<f64>, usize, usize) {
    let f = bias.len();
    assert_eq!(x.len(), h * w * c, "input size");
    assert_eq!(weight.len(), f * kh * kw * c, "weight size");
    let (oh, top, bottom) = keras_pads_dilated(padding, h, kh, sh, dh);
    let (ow, left, right) = keras_pads_dilated(padding, w, kw, sw, dw);
    let (ekh, ekw) = ((kh - 1) * dh + 1, (kw - 1) * dw + 1);
    assert_eq!((onnx_out(h, top, bottom, ekh, sh), onnx_out(w, left, right, ekw, sw)), (oh, ow), "ONNX output size");
    let xp = pad_map(x, h, w, c, [top, bottom, left, right], 0.0);
    let pw = w + left + right;
    let mut y = vec![0.0; oh * ow * f];
    for oy in 0..oh {
        for ox in 0..ow {
            for fi in 0..f {
                let mut s = bias[fi];
                for ky in 0..kh {
                    for kx in 0..kw {
                        let at = ((oy * sh + ky * dh) * pw + ox * sw + kx * dw) * c;
                        for k in 0..c {
                            s += weight[((fi * kh + ky) * kw + kx) * c + k] * xp[at + k];
                        }
                    }
                }
                y[(oy * ow + ox) * f + fi] = s;
            }
        }
    }
    (y, oh, ow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_dilated_conv_of_a_known_row() {
        // 1x5x1 row 1..5, kernel 1x2 of ones dilated by 2, stride 2, valid:
        // windows (0, 2) and (2, 4): 1 + 3, 3 + 5.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let (y, oh, ow) =
            conv2d_strided_f64(&x, [1, 5, 1], &[1.0; 2], &[0.0], [[1, 2], [1, 2], [1, 2]], Padding::Valid);
        assert_eq!((oh, ow, y), (1, 2, vec![4.0, 8.0]));
    }

    #[test]
    fn conv_of_a_known_map() {
        // 2x2x1 input, one 2x2 filter of ones, "same": pads after only, so
        // y[0,0] sums all four cells, y[1,1] only the last one.
        let (y, oh, ow) = conv2d_f64(&[1.0, 2.0, 3.0, 4.0], [2, 2, 1], &[1.0; 4], &[0.5], [2, 2], Padding::Same);
        assert_eq!((oh, ow), (2, 2));
        assert_eq!(y, [10.5, 6.5, 7.5, 4.5]);
    }
}
