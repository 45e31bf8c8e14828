//! Target scaling shared by the regressors and the entity models: targets
//! are trained in standard units, and the scale is folded back into the
//! last Dense layer afterwards so that every backend predicts in the
//! targets' own units.
//!
//! For output `j` with training targets of mean `m_j` and standard deviation
//! `s_j`, a network trained on `(y_j − m_j) / s_j` whose last layer is a
//! linear `Dense` (`z_j = W_j · h + b_j`) becomes the network `s_j · z_j +
//! m_j`: row `j` of `W` and `b_j` times `s_j`, then `m_j` added to `b_j`.
//! With `m_j = 0` a ReLU output can be folded too (`relu(s·z) = s·relu(z)`
//! for `s > 0`), which is what the entity models do.

use ember_nn::network::Network;

/// Mean and standard deviation of each of the `width` columns of `y`
/// (`[n, width]`, population statistics, in `f64`); a column whose standard
/// deviation is 0 (a constant) gets a scale of 1.
pub fn column_stats(y: &[f32], width: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (y.len() / width.max(1)).max(1) as f64;
    let mut mean = vec![0.0; width];
    for row in y.chunks(width) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0; width];
    for row in y.chunks(width) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v as f64 - m).powi(2);
        }
    }
    let std = var.iter().map(|v| if *v > 0.0 { (v / n).sqrt() } else { 1.0 }).collect();
    (mean, std)
}

/// `y` in standard units: `(y_j − shift_j) / scale_j` per column.
///
/// # Shapes
/// `y`: `[n, scale.len()]` → the same.
pub fn standardise(y: &[f32], shift: &[f64], scale: &[f64]) -> Vec<f32> {
    let w = scale.len().max(1);
    y.iter().enumerate().map(|(i, &v)| ((v as f64 - shift[i % w]) / scale[i % w]) as f32).collect()
}

/// Folds `scale` and `shift` into the network's last layer, a Dense whose
/// parameters are its kernel `[units, inputs]` and bias `[units]` (the last
/// two parameter tensors): row `j` and bias `j` times `scale[j]`, then
/// `shift[j]` added to bias `j` (nothing added where `shift[j]` is 0).
pub fn fold_output_scale(net: &mut Network, scale: &[f64], shift: &[f64]) {
    let mut values = net.param_values();
    let n = values.len();
    let units = scale.len();
    let inputs = values[n - 2].len() / units.max(1);
    for (j, row) in values[n - 2].chunks_mut(inputs).enumerate() {
        for w in row {
            *w = (*w as f64 * scale[j]) as f32;
        }
    }
    for (j, b) in values[n - 1].iter_mut().enumerate() {
        let mut v = *b as f64 * scale[j];
        if shift[j] != 0.0 {
            v += shift[j];
        }
        *b = v as f32;
    }
    net.set_param_values(&values);
}
