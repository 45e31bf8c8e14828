//! Window geometry shared by the [`super::conv2d`] and [`super::max_pool2d`]
//! references: Keras's `"same"`/`"valid"` rules turned into the explicit
//! `pads` of ONNX, written from the rules themselves, independent of the
//! runtime's window geometry ([`ember_runtime::spec::Window2d`] is not used).

use ember_runtime::spec::Padding;

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

/// [`keras_pads`] of a window of `k` cells `dilation` apart: it spans
/// `(k - 1) * dilation + 1` cells (ONNX `dilations`, Keras `dilation_rate`).
pub fn keras_pads_dilated(
    padding: Padding,
    n: usize,
    k: usize,
    stride: usize,
    dilation: usize,
) -> (usize, usize, usize) {
    keras_pads(padding, n, (k - 1) * dilation + 1, stride)
}

/// ONNX's output size of a window op on an explicitly padded axis:
/// `floor((n + before + after - k) / stride) + 1`.
pub fn onnx_out(n: usize, before: usize, after: usize, k: usize, stride: usize) -> usize {
    (n + before + after - k) / stride + 1
}

/// A map padded with `value` (`top`/`bottom` rows, `left`/`right` columns):
/// the input of ONNX `Conv` (zeros) or `MaxPool` (`-inf`) after its `pads`.
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
}
