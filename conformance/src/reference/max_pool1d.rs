//! The `MaxPool1d` reference, ONNX 1-D `MaxPool` (`kernel_shape = [pool]`,
//! `strides = [stride]`) with Keras padding as explicit `pads` (`-inf`).

use ember_runtime::spec::Padding;

use super::padding::keras_pads;

/// The largest value of each channel under each window, padded steps
/// taking no part.
///
/// # Shapes
/// `x`: `[l, c]` → `[out, c]`.
pub fn max_pool1d_f64(x: &[f64], [l, c]: [usize; 2], pool: usize, stride: usize, padding: Padding) -> Vec<f64> {
    let (out, before, _) = keras_pads(padding, l, pool, stride);
    let mut y = vec![f64::NEG_INFINITY; out * c];
    for t in 0..out {
        for j in 0..pool {
            let Some(i) = (t * stride + j).checked_sub(before).filter(|&i| i < l) else { continue };
            for k in 0..c {
                y[t * c + k] = y[t * c + k].max(x[i * c + k]);
            }
        }
    }
    assert!(y.iter().all(|v| v.is_finite()), "a window holds no input step");
    y
}
