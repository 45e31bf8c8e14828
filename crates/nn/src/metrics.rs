//! Classification and regression metrics: general-purpose functions of
//! predictions and targets, shared by the fit loop, the training reports and
//! `ember evaluate`.

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

/// Fraction of samples whose arg-max output (threshold 0.5 for one output
/// unit) is the class index in `labels` (sparse targets).
///
/// # Shapes
/// `pred`: `[n, width]`; `labels`: `[n]` (class indices as `f32`).
pub fn sparse_accuracy(pred: &[f32], labels: &[f32], width: usize) -> f64 {
    let predicted = ClassificationReport::predictions(pred, width);
    if predicted.is_empty() {
        return 0.0;
    }
    let correct = predicted.iter().zip(labels).filter(|&(&p, &t)| p as f32 == t).count();
    correct as f64 / predicted.len() as f64
}

/// Mean squared error over every element, in `f64`.
///
/// # Shapes
/// `pred`, `target`: the same length.
pub fn mse(pred: &[f32], target: &[f32]) -> f64 {
    let sum: f64 = pred.iter().zip(target).map(|(&p, &t)| (p as f64 - t as f64).powi(2)).sum();
    sum / pred.len().max(1) as f64
}

/// Mean absolute error over every element, in `f64`.
///
/// # Shapes
/// `pred`, `target`: the same length.
pub fn mae(pred: &[f32], target: &[f32]) -> f64 {
    let sum: f64 = pred.iter().zip(target).map(|(&p, &t)| (p as f64 - t as f64).abs()).sum();
    sum / pred.len().max(1) as f64
}

/// Mean squared error of each sample (a reconstruction error per window).
///
/// # Shapes
/// `pred`, `target`: `[n, width]` → `[n]`.
pub fn per_sample_mse(pred: &[f32], target: &[f32], width: usize) -> Vec<f64> {
    pred.chunks(width.max(1)).zip(target.chunks(width.max(1))).map(|(p, t)| mse(p, t)).collect()
}

/// The `q`-th percentile (`q` in `[0, 100]`) of `values` with linear
/// interpolation between the closest ranks (NumPy's default); NaN for no values.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 100.0) / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Index of the largest value (the first one on ties).
pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

/// The probability each row gives its true class: `p` itself or `1 - p` for
/// one sigmoid unit (two classes), `probs[truth]` otherwise.
fn true_class_probability(row: &[f32], truth: u32) -> f64 {
    if row.len() == 1 {
        let p = f64::from(row[0]);
        if truth == 1 { p } else { 1.0 - p }
    } else {
        row.get(truth as usize).map_or(0.0, |&p| f64::from(p))
    }
}

/// Mean cross-entropy (natural log) of the true classes, with probabilities
/// clamped to `[EPS, 1 - EPS]` as the training loss does
/// ([`crate::loss::EPS`]); perplexity is its `exp`.
///
/// # Shapes
/// `probs`: `[n, width]` (one sigmoid unit, or a probability per class);
/// `truth`: `[n]` class indices.
pub fn cross_entropy(probs: &[f32], width: usize, truth: &[u32]) -> f64 {
    let eps = f64::from(crate::loss::EPS);
    let total: f64 = probs
        .chunks(width.max(1))
        .zip(truth)
        .map(|(row, &t)| -true_class_probability(row, t).clamp(eps, 1.0 - eps).ln())
        .sum();
    total / truth.len().min(probs.len() / width.max(1)).max(1) as f64
}

/// Fraction of rows whose true class is among the `k` most probable (a
/// class counts as within the top `k` when fewer than `k` classes have a
/// strictly higher probability).
///
/// # Shapes
/// `probs`: `[n, width]`; `truth`: `[n]` class indices.
pub fn top_k_accuracy(probs: &[f32], width: usize, truth: &[u32], k: usize) -> f64 {
    let rows = probs.chunks(width.max(1)).zip(truth);
    let n = truth.len().min(probs.len() / width.max(1));
    let hits =
        rows.filter(|(p, t)| p.get(**t as usize).is_some_and(|&pt| p.iter().filter(|&&v| v > pt).count() < k)).count();
    hits as f64 / n.max(1) as f64
}

/// Precision, recall, F1 and support of one class (or an average).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassScores {
    /// Class name, or `macro avg` / `weighted avg`.
    pub name: String,
    /// `tp / (tp + fp)`, 0 when nothing was predicted as this class.
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when the class has no sample.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Samples whose true class this is.
    pub support: usize,
}

/// A per-class report with accuracy and macro / weighted averages, computed
/// as scikit-learn's `classification_report` (zero where undefined).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassificationReport {
    /// One row per class, in class order.
    pub classes: Vec<ClassScores>,
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Unweighted mean over classes.
    pub macro_avg: ClassScores,
    /// Mean weighted by support.
    pub weighted_avg: ClassScores,
    /// Number of samples.
    pub samples: usize,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
}

impl ClassificationReport {
    /// Builds the report from true and predicted class indices.
    pub fn new(truth: &[u32], predicted: &[u32], names: &[String]) -> Self {
        let k = names.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&t, &p) in truth.iter().zip(predicted) {
            if (t as usize) < k && (p as usize) < k {
                confusion[t as usize][p as usize] += 1;
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let classes: Vec<ClassScores> = (0..k)
            .map(|c| {
                let tp = confusion[c][c];
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                let support: usize = confusion[c].iter().sum();
                let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
                let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
                ClassScores { name: names[c].clone(), precision, recall, f1, support }
            })
            .collect();
        let samples = truth.len();
        let correct = (0..k).map(|c| confusion[c][c]).sum();
        let avg = |name: &str, weight: &dyn Fn(&ClassScores) -> f64| {
            let total: f64 = classes.iter().map(weight).sum();
            let mean = |f: &dyn Fn(&ClassScores) -> f64| {
                if total == 0.0 { 0.0 } else { classes.iter().map(|c| weight(c) * f(c)).sum::<f64>() / total }
            };
            ClassScores {
                name: name.into(),
                precision: mean(&|c| c.precision),
                recall: mean(&|c| c.recall),
                f1: mean(&|c| c.f1),
                support: samples,
            }
        };
        let macro_avg = avg("macro avg", &|_| 1.0);
        let weighted_avg = avg("weighted avg", &|c| c.support as f64);
        ClassificationReport { classes, accuracy: ratio(correct, samples), macro_avg, weighted_avg, samples, confusion }
    }

    /// Class indices from model outputs: threshold 0.5 for one sigmoid unit,
    /// arg-max otherwise.
    ///
    /// # Shapes
    /// `outputs`: `[n, width]` → `[n]`.
    pub fn predictions(outputs: &[f32], width: usize) -> Vec<u32> {
        outputs.chunks(width.max(1)).map(|o| if width == 1 { (o[0] >= 0.5) as u32 } else { argmax(o) as u32 }).collect()
    }
}

impl std::fmt::Display for ClassificationReport {
    /// The layout of scikit-learn's `classification_report`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = self.classes.iter().map(|c| c.name.len()).chain([12]).max().unwrap_or(12);
        writeln!(f, "{:>w$} {:>9} {:>9} {:>9} {:>9}\n", "", "precision", "recall", "f1-score", "support")?;
        let row = |f: &mut std::fmt::Formatter<'_>, c: &ClassScores| {
            writeln!(f, "{:>w$} {:>9.2} {:>9.2} {:>9.2} {:>9}", c.name, c.precision, c.recall, c.f1, c.support)
        };
        for c in &self.classes {
            row(f, c)?;
        }
        writeln!(f)?;
        writeln!(f, "{:>w$} {:>9} {:>9} {:>9.2} {:>9}", "accuracy", "", "", self.accuracy, self.samples)?;
        row(f, &self.macro_avg)?;
        row(f, &self.weighted_avg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_metrics_match_hand_computed_values() {
        let (p, t) = ([1.0, 2.0, 4.0], [1.0, 3.0, 2.0]);
        assert_eq!(mse(&p, &t), 5.0 / 3.0);
        assert_eq!(mae(&p, &t), 1.0);
        assert_eq!(per_sample_mse(&[1.0, 2.0, 4.0, 0.0], &[1.0, 3.0, 2.0, 0.0], 2), vec![0.5, 2.0]);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        // numpy.percentile([4, 1, 3, 2], q) for q = 0, 50, 99, 100: 1, 2.5, 3.97, 4.
        let v = [4.0, 1.0, 3.0, 2.0];
        for (q, want) in [(0.0, 1.0), (50.0, 2.5), (99.0, 3.97), (100.0, 4.0)] {
            assert!((percentile(&v, q) - want).abs() < 1e-12, "q {q}: {}", percentile(&v, q));
        }
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn sparse_accuracy_counts_matching_class_indices() {
        let pred = [0.1, 0.9, 0.8, 0.2, 0.3, 0.7];
        assert_eq!(sparse_accuracy(&pred, &[1.0, 1.0, 1.0], 2), 2.0 / 3.0);
        assert_eq!(sparse_accuracy(&[0.2, 0.7], &[0.0, 1.0], 1), 1.0);
    }

    #[test]
    fn errors_and_cross_entropy_by_hand() {
        assert_eq!(mse(&[1.0, 2.0], &[0.0, 0.0]), 2.5);
        assert_eq!(mae(&[1.0, -2.0], &[0.0, 0.0]), 1.5);
        // One sigmoid unit: p for class 1, 1 - p for class 0.
        let ce = cross_entropy(&[0.8, 0.8], 1, &[1, 0]);
        assert!((ce - (-(0.8f64.ln()) - 0.2f64.ln()) / 2.0).abs() < 1e-6, "{ce}");
        // A softmax row, and a zero probability clamped to EPS.
        let ce = cross_entropy(&[0.1, 0.7, 0.2, 1.0, 0.0, 0.0], 3, &[2, 1]);
        assert!((ce - (-(0.2f64.ln()) - 1e-7f64.ln()) / 2.0).abs() < 1e-5, "{ce}");
    }

    #[test]
    fn top_k_counts_the_classes_strictly_more_probable() {
        let p = [0.1, 0.7, 0.2, 0.5, 0.5, 0.0];
        assert_eq!(top_k_accuracy(&p, 3, &[0, 0], 1), 0.5); // row 2: a tie at the top counts
        assert_eq!(top_k_accuracy(&p, 3, &[0, 2], 2), 0.0);
        assert_eq!(top_k_accuracy(&p, 3, &[0, 2], 3), 1.0);
        assert_eq!(top_k_accuracy(&p, 3, &[1, 1], 1), 1.0);
    }
}
