//! The `DepthwiseConv2d` reference, ONNX `Conv` with `group = channels`
//! (one input and one output channel per group), `strides` and
//! `dilations`, on HWC samples with Keras padding as explicit zero `pads`.

use ember_runtime::spec::Padding;

use super::padding::{keras_pads_dilated, pad_map};

/// `y[oy, ox, k] = b[k] + Σ_{ky, kx} W[ky, kx, k] · xp[oy·sh + ky·dh, ox·sw + kx·dw, k]`.
///
/// # Shapes
/// `x`: `[h, w, c]`; `weight`: `[kh, kw, c]`; `bias`: `[c]` → `[oh, ow, c]`.
pub fn depthwise_conv2d_f64(
    x: &[f64],
    [h, w, c]: [usize; 3],
    weight: &[f64],
    bias: &[f64],
    [[kh, kw], [sh, sw], [dh, dw]]: [[usize; 2]; 3],
    padding: Padding,
) -> Vec<f64> {
    assert_eq!(x.len(), h * w * c, "input size");
    assert_eq!((weight.len(), bias.len()), (kh * kw * c, c), "parameter sizes");
    let (oh, top, bottom) = keras_pads_dilated(padding, h, kh, sh, dh);
    let (ow, left, right) = keras_pads_dilated(padding, w, kw, sw, dw);
    let xp = pad_map(x, h, w, c, [top, bottom, left, right], 0.0);
    let pw = w + left + right;
    let mut y = vec![0.0; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            for k in 0..c {
                let mut s = bias[k];
                for ky in 0..kh {
                    for kx in 0..kw {
                        s +=
                            weight[(ky * kw + kx) * c + k] * xp[((oy * sh + ky * dh) * pw + ox * sw + kx * dw) * c + k];
                    }
                }
                y[(oy * ow + ox) * c + k] = s;
            }
        }
    }
    y
}
