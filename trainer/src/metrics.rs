//! Classification metrics.

/// Fraction of samples classified correctly: threshold 0.5 for one output
/// unit (binary), arg-max otherwise (categorical, one-hot targets).
///
/// # Shapes
/// `pred`, `target`: `[n, width]`.
pub fn accuracy(pred: &[f32], target: &[f32], width: usize) -> f64 {
    let n = pred.len() / width.max(1);
    if n == 0 {
        return 0.0;
    }
    let correct = pred
        .chunks(width)
        .zip(target.chunks(width))
        .filter(|(p, t)| if width == 1 { (p[0] >= 0.5) == (t[0] >= 0.5) } else { argmax(p) == argmax(t) })
        .count();
    correct as f64 / n as f64
}

/// Index of the largest value (the first one on ties).
pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}
