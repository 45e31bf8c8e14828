//! The `GlobalAveragePool` reference, ONNX `GlobalAveragePool` then
//! `Flatten`: the mean of each channel over every other axis.

/// `y[k] = mean over p of x[p, k]`.
///
/// # Shapes
/// `x`: `[n, c]` (a sequence, or a map with `n = h·w`) → `[c]`.
pub fn global_average_pool_f64(x: &[f64], c: usize) -> Vec<f64> {
    let n = x.len() / c;
    (0..c).map(|k| (0..n).map(|p| x[p * c + k]).sum::<f64>() / n as f64).collect()
}
