//! The `Conv1d` reference, ONNX 1-D `Conv` (`strides = [s]`, `dilations =
//! [d]`, one group) on a time-major sequence `[length, channels]` with Keras
//! padding written as explicit zero `pads`. The activation after it is
//! applied by [`super::layer_f64`].

use ember_runtime::spec::Padding;

use super::padding::{keras_pads_dilated, onnx_out};

/// `y[t, f] = b[f] + Σ_{j, k} W[f, j, k] · xp[t·s + j·d, k]` over the
/// zero-padded sequence `xp`.
///
/// # Shapes
/// `x`: `[l, c]`; `weight`: `[f, kernel, c]` (OWI); `bias`: `[f]` → `[out, f]`.
pub fn conv1d_f64(
    x: &[f64],
    [l, c]: [usize; 2],
    weight: &[f64],
    bias: &[f64],
    [kernel, stride, dilation]: [usize; 3],
    padding: Padding,
) -> Vec<f64> {
    let f = bias.len();
    assert_eq!(x.len(), l * c, "input size");
    assert_eq!(weight.len(), f * kernel * c, "weight size");
    let (out, before, after) = keras_pads_dilated(padding, l, kernel, stride, dilation);
    assert_eq!(onnx_out(l, before, after, (kernel - 1) * dilation + 1, stride), out, "ONNX output size");
    let mut xp = vec![0.0; before * c];
    xp.extend_from_slice(x);
    xp.resize((before + l + after) * c, 0.0);
    let mut y = vec![0.0; out * f];
    for t in 0..out {
        for fi in 0..f {
            let mut s = bias[fi];
            for j in 0..kernel {
                for k in 0..c {
                    s += weight[(fi * kernel + j) * c + k] * xp[(t * stride + j * dilation) * c + k];
                }
            }
            y[t * f + fi] = s;
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_strided_conv_of_a_known_sequence() {
        // 4 steps of 1 channel, kernel [1, 1, 1], stride 2, same: out 2,
        // total pad (2 - 1) * 2 + 3 - 4 = 1, after: windows (1,2,3), (3,4,0).
        let y = conv1d_f64(&[1.0, 2.0, 3.0, 4.0], [4, 1], &[1.0; 3], &[0.0], [3, 2, 1], Padding::Same);
        assert_eq!(y, [6.0, 7.0]);
    }
}
