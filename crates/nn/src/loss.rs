//! Losses with Keras's reduction conventions: the mean over every element
//! (MSE, MAE, Huber, binary cross-entropy) or the mean over samples of the
//! per-sample sum (categorical cross-entropy, dense or sparse).

use ember_runtime::Activation;
use serde::{Deserialize, Serialize};

/// The threshold of [`Loss::Huber`] (Keras's default `delta`): quadratic
/// below it, linear above.
pub const HUBER_DELTA: f32 = 1.0;

/// Probabilities are clamped to `[EPS, 1 - EPS]` inside logarithms (Keras's epsilon).
pub const EPS: f32 = 1e-7;

/// A training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    Mae,
    /// Binary cross-entropy on probabilities.
    Bce,
    /// Categorical cross-entropy on a probability vector per sample (one-hot targets).
    Cce,
    /// Huber loss with `delta =` [`HUBER_DELTA`]: per element `d²/2` for
    /// `|d| ≤ delta`, else `delta·(|d| − delta/2)`, averaged over every element.
    Huber,
    /// Sparse categorical cross-entropy: the targets are one class index per
    /// sample (`[batch, 1]`, stored as `f32`), not one-hot rows; the loss is
    /// the mean over samples of `−ln p[label]`.
    SparseCce,
}

impl Loss {
    /// Parses `mse`, `mae`, `bce` (or `binary_crossentropy`), `cce` (or
    /// `categorical_crossentropy`), `huber`, `sparse_cce` (or
    /// `sparse_categorical_crossentropy`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "huber" => Loss::Huber,
            "sparse_cce" | "sparse_categorical_crossentropy" => Loss::SparseCce,
            "mse" | "mean_squared_error" => Loss::Mse,
            "mae" | "mean_absolute_error" => Loss::Mae,
            "bce" | "binary_crossentropy" => Loss::Bce,
            "cce" | "categorical_crossentropy" => Loss::Cce,
            _ => return None,
        })
    }

    /// Whether the gradient is taken at the pre-activation of a final layer
    /// with activation `act` (sigmoid + BCE, softmax + CCE): `p - t`, which is
    /// exact and avoids dividing by `p (1 - p)`.
    pub fn fuses_with(self, act: Activation) -> bool {
        matches!((self, act), (Loss::Bce, Activation::Sigmoid) | (Loss::Cce | Loss::SparseCce, Activation::Softmax))
    }

    /// Target values per sample for a network of `output_len` outputs: one
    /// class index for [`Loss::SparseCce`], `output_len` otherwise.
    pub fn target_len(self, output_len: usize) -> usize {
        if self == Loss::SparseCce { 1 } else { output_len }
    }

    /// The loss of predictions `y` against targets `t`, and its gradient
    /// written into `grad` (at the output, or at the pre-activation when
    /// `fused`).
    ///
    /// # Shapes
    /// `y`, `grad`: `[batch, n]`; `t`: `[batch, n]`, or `[batch, 1]` class
    /// indices for [`Loss::SparseCce`].
    ///
    /// # Panics
    /// If `t` has the wrong length, or (sparse) a class index is not an
    /// integer below `n` (the tasks check labels against the class count
    /// before training).
    pub fn value_and_grad(self, y: &[f32], t: &[f32], batch: usize, fused: bool, grad: &mut Vec<f32>) -> f64 {
        assert!(self == Loss::SparseCce || y.len() == t.len(), "predictions and targets differ in length");
        grad.resize(y.len(), 0.0);
        let total = y.len().max(1) as f32;
        let mut sum = 0f64;
        match self {
            Loss::Mse => {
                for ((g, &y), &t) in grad.iter_mut().zip(y).zip(t) {
                    let d = y - t;
                    sum += (d as f64) * (d as f64);
                    *g = 2.0 * d / total;
                }
                sum / total as f64
            }
            Loss::Mae => {
                for ((g, &y), &t) in grad.iter_mut().zip(y).zip(t) {
                    let d = y - t;
                    sum += d.abs() as f64;
                    *g = if d > 0.0 {
                        1.0 / total
                    } else if d < 0.0 {
                        -1.0 / total
                    } else {
                        0.0
                    };
                }
                sum / total as f64
            }
            Loss::Bce => {
                for ((g, &y), &t) in grad.iter_mut().zip(y).zip(t) {
                    let p = y.clamp(EPS, 1.0 - EPS);
                    sum -= t as f64 * (p as f64).ln() + (1.0 - t as f64) * (1.0 - p as f64).ln();
                    *g = if fused { (y - t) / total } else { (p - t) / (p * (1.0 - p)) / total };
                }
                sum / total as f64
            }
            Loss::Cce => {
                let b = batch.max(1) as f32;
                for ((g, &y), &t) in grad.iter_mut().zip(y).zip(t) {
                    let p = y.clamp(EPS, 1.0 - EPS);
                    // Zero targets (all but one of a one-hot row) add nothing: skip their log.
                    if t != 0.0 {
                        sum -= t as f64 * (p as f64).ln();
                    }
                    *g = if fused { (y - t) / b } else { -t / p / b };
                }
                sum / b as f64
            }
            Loss::Huber => {
                for ((g, &y), &t) in grad.iter_mut().zip(y).zip(t) {
                    let d = y - t;
                    if d.abs() <= HUBER_DELTA {
                        sum += 0.5 * (d as f64) * (d as f64);
                        *g = d / total;
                    } else {
                        sum += HUBER_DELTA as f64 * (d.abs() as f64 - 0.5 * HUBER_DELTA as f64);
                        *g = HUBER_DELTA * d.signum() / total;
                    }
                }
                sum / total as f64
            }
            Loss::SparseCce => sparse_cce(y, t, batch, fused, grad),
        }
    }

    /// [`value_and_grad`](Self::value_and_grad) with each sample's loss
    /// scaled by `weights[i]` (Keras's `sample_weight`, as `class_weight`
    /// makes it): `(1 / batch) · Σᵢ wᵢ · Lᵢ`, where `Lᵢ` is sample `i`'s loss
    /// under this loss's reduction (the mean over its values, or for `cce`
    /// their sum); the gradient of sample `i` is scaled by `wᵢ` alike.
    ///
    /// # Shapes
    /// `y`, `t`, `grad`: `[batch, n]`; `weights`: `[batch]`.
    pub fn weighted_value_and_grad(
        self,
        y: &[f32],
        t: &[f32],
        weights: &[f32],
        fused: bool,
        grad: &mut Vec<f32>,
    ) -> f64 {
        let batch = weights.len();
        assert!(batch > 0 && y.len().is_multiple_of(batch), "one weight per sample");
        assert_eq!(y.len(), t.len(), "predictions and targets differ in length");
        let n = y.len() / batch;
        grad.resize(y.len(), 0.0);
        let mut row_grad = Vec::with_capacity(n);
        let mut sum = 0f64;
        for (i, &w) in weights.iter().enumerate() {
            let r = i * n..(i + 1) * n;
            sum += w as f64 * self.value_and_grad(&y[r.clone()], &t[r.clone()], 1, fused, &mut row_grad);
            for (g, &rg) in grad[r].iter_mut().zip(&row_grad) {
                *g = w * rg / batch as f32;
            }
        }
        sum / batch as f64
    }
}

/// [`Loss::SparseCce`]: `t` holds one class index per sample; the one-hot
/// rows are never built.
fn sparse_cce(y: &[f32], t: &[f32], batch: usize, fused: bool, grad: &mut Vec<f32>) -> f64 {
    let b = batch.max(1);
    assert_eq!(t.len(), b, "sparse targets are one class index per sample");
    assert!(y.len().is_multiple_of(b), "predictions do not split into {b} samples");
    let n = y.len() / b;
    grad.resize(y.len(), 0.0);
    let bf = b as f32;
    let mut sum = 0f64;
    for ((g, y), &label) in grad.chunks_mut(n).zip(y.chunks(n)).zip(t) {
        let k = label as usize;
        assert!(label >= 0.0 && label.fract() == 0.0 && k < n, "class index {label} is not in 0..{n}");
        let p = y[k].clamp(EPS, 1.0 - EPS);
        sum -= (p as f64).ln();
        if fused {
            for (j, (g, &y)) in g.iter_mut().zip(y).enumerate() {
                *g = (y - f32::from(j == k)) / bf;
            }
        } else {
            g.fill(0.0);
            g[k] = -1.0 / p / bf;
        }
    }
    sum / b as f64
}
