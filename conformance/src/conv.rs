//! Naive `f64` references of the image layers on HWC samples, written from
//! the ONNX operator definitions (`Conv` and `MaxPool` with explicit `pads`,
//! `Resize` nearest/asymmetric/floor, `BatchNormalization` in inference form)
//! and the Keras padding rules, independent of the runtime's kernels and of
//! its window geometry ([`ember_runtime::spec::Window2d`] is not used here).
//!
//! A sample of `h x w` pixels of `c` channels is `x[(y * w + x) * c + k]`.

use ember_runtime::spec::{LayerSpec, Padding};

/// Explicit pads `(out, before, after)` of a window of `k` cells moved by
/// `stride` over `n` cells under Keras's rule: `"valid"` pads nothing and
/// keeps the windows that fit (`out = (n - k) / stride + 1`); `"same"` gives
/// `out = ceil(n / stride)` and pads `max((out - 1) * stride + k - n, 0)`
/// cells, `total / 2` before and the rest after (TensorFlow's split, which
/// the ONNX exporters write as explicit `pads`).
///
/// # Panics
/// If a valid window is larger than the input.
pub fn keras_pads(padding: Padding, n: usize, k: usize, stride: usize) -> (usize, usize, usize) {
    match padding {
        Padding::Valid => {
            assert!(k <= n, "a valid {k}-cell window does not fit in {n} cells");
            ((n - k) / stride + 1, 0, 0)
        }
        Padding::Same => {
            let out = n.div_ceil(stride);
            let total = ((out - 1) * stride + k).saturating_sub(n);
            (out, total / 2, total - total / 2)
        }
    }
}

/// ONNX's output size of a window op on an explicitly padded axis:
/// `floor((n + before + after - k) / stride) + 1`.
fn onnx_out(n: usize, before: usize, after: usize, k: usize, stride: usize) -> usize {
    (n + before + after - k) / stride + 1
}

/// A map padded with `value` (`top`/`bottom` rows, `left`/`right` columns):
/// the input of ONNX `Conv` (zeros) after its `pads`.
///
/// # Shapes
/// `x`: `[h, w, c]` → `[h + top + bottom, w + left + right, c]`.
pub fn pad_map(x: &[f64], h: usize, w: usize, c: usize, pads: [usize; 4], value: f64) -> Vec<f64> {
    let [top, bottom, left, right] = pads;
    let pw = w + left + right;
    let mut out = vec![value; (h + top + bottom) * pw * c];
    for y in 0..h {
        for xx in 0..w {
            let src = (y * w + xx) * c;
            let dst = ((y + top) * pw + xx + left) * c;
            out[dst..dst + c].copy_from_slice(&x[src..src + c]);
        }
    }
    out
}

/// ONNX `Conv` (stride 1, no dilation, one group) on an HWC map with Keras
/// padding, no activation: the input is zero-padded explicitly, then every
/// window of the padded map is summed:
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

/// ONNX `MaxPool` with `kernel_shape = strides = [pool, pool]` and Keras
/// padding as explicit `pads`: the largest input value under each window,
/// padded cells taking no part (they are `-inf` in ONNX).
///
/// # Shapes
/// `x`: `[h, w, c]` → `[oh, ow, c]`, also returned as `(oh, ow)`.
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

/// ONNX `Resize` (mode nearest, coordinate transformation asymmetric,
/// nearest mode floor, scales `[1, factor, factor, 1]` on NHWC): output
/// pixel `(oy, ox)` reads input pixel `(floor(oy / factor), floor(ox / factor))`.
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

/// ONNX `BatchNormalization` (inference): per channel `k` (the innermost
/// index), `y = (x - mean[k]) / sqrt(var[k] + epsilon) · gamma[k] + beta[k]`.
///
/// # Shapes
/// `x`: `[n, C]` (any `n`), `gamma`, `beta`, `mean`, `var`: `[C]` → `[n, C]`.
pub fn batch_norm_f64(x: &[f64], gamma: &[f64], beta: &[f64], mean: &[f64], var: &[f64], epsilon: f64) -> Vec<f64> {
    let c = gamma.len();
    assert_eq!(x.len() % c, 0, "input size is a multiple of the channels");
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let k = i % c;
            (v - mean[k]) / (var[k] + epsilon).sqrt() * gamma[k] + beta[k]
        })
        .collect()
}

/// One sample through one layer: the image layers here, every other kind
/// through [`crate::seq::layer_f64`].
///
/// # Shapes
/// `params`: the layer's tensors in spec order; `x`: one input sample → one output sample.
pub fn layer_f64(spec: &LayerSpec, params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    let u = |v: u32| v as usize;
    match *spec {
        LayerSpec::Conv2d { height, width, channels, kernel_h, kernel_w, padding, .. } => {
            let shape = [u(height), u(width), u(channels)];
            let (mut y, _, _) = conv2d_f64(x, shape, &params[0], &params[1], [u(kernel_h), u(kernel_w)], padding);
            crate::act_f64(spec.activation(), &mut y);
            y
        }
        LayerSpec::MaxPool2d { height, width, channels, pool, padding } => {
            max_pool2d_f64(x, [u(height), u(width), u(channels)], u(pool), padding).0
        }
        LayerSpec::Upsample2d { height, width, channels, factor } => {
            upsample2d_f64(x, [u(height), u(width), u(channels)], u(factor))
        }
        LayerSpec::BatchNorm { epsilon_bits, .. } => {
            let eps = f32::from_bits(epsilon_bits) as f64;
            batch_norm_f64(x, &params[0], &params[1], &params[2], &params[3], eps)
        }
        _ => crate::seq::layer_f64(spec, params, x),
    }
}

/// The naive `f64` forward pass of any layer list over a batch (every layer
/// kind: image layers here, the others through [`crate::seq::layer_f64`]).
///
/// # Shapes
/// `params`: every tensor in spec order; `x`: `[batch, input_len]` → `[batch, output_len]`.
pub fn model_f64(layers: &[LayerSpec], params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    let n_in = layers[0].input_len();
    let mut out = Vec::new();
    for sample in x.chunks(n_in) {
        let mut cur = sample.to_vec();
        let mut p = 0;
        for spec in layers {
            cur = layer_f64(spec, &params[p..p + spec.param_count()], &cur);
            p += spec.param_count();
        }
        out.extend(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_same_and_valid_sizes() {
        // Keras: "same" keeps ceil(n / s); TensorFlow puts the odd cell after.
        assert_eq!(keras_pads(Padding::Same, 28, 3, 1), (28, 1, 1));
        assert_eq!(keras_pads(Padding::Same, 5, 2, 1), (5, 0, 1));
        assert_eq!(keras_pads(Padding::Same, 7, 4, 1), (7, 1, 2));
        assert_eq!(keras_pads(Padding::Same, 7, 2, 2), (4, 0, 1));
        assert_eq!(keras_pads(Padding::Same, 8, 2, 2), (4, 0, 0));
        assert_eq!(keras_pads(Padding::Same, 7, 3, 3), (3, 1, 1));
        assert_eq!(keras_pads(Padding::Valid, 7, 2, 2), (3, 0, 0));
        assert_eq!(keras_pads(Padding::Valid, 5, 3, 1), (3, 0, 0));
    }

    #[test]
    fn conv_of_a_known_map() {
        // 2x2x1 input, one 2x2 filter of ones, "same": pads after only, so
        // y[0,0] sums all four cells, y[1,1] only the last one.
        let (y, oh, ow) = conv2d_f64(&[1.0, 2.0, 3.0, 4.0], [2, 2, 1], &[1.0; 4], &[0.5], [2, 2], Padding::Same);
        assert_eq!((oh, ow), (2, 2));
        assert_eq!(y, [10.5, 6.5, 7.5, 4.5]);
    }

    #[test]
    fn pooling_skips_padding_and_upsampling_repeats() {
        let x = [-1.0, -2.0, -3.0]; // 1x3x1
        let (y, oh, ow) = max_pool2d_f64(&x, [1, 3, 1], 2, Padding::Same);
        assert_eq!((oh, ow, y), (1, 2, vec![-1.0, -3.0]));
        assert_eq!(upsample2d_f64(&[1.0, 2.0], [1, 2, 1], 2), [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }
}
