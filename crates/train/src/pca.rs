//! Principal component analysis, computed in `f64`.
//!
//! [`Pca::fit`] mean-centres the data, forms the covariance matrix
//! `Xcᵀ·Xc / (n - 1)` with a GEMM, and finds its top `k` eigenvectors by
//! subspace (block power) iteration with Rayleigh-Ritz steps and `k + 10`
//! vectors, stopping when every wanted residual `‖C·v - λ·v‖` is below
//! `1e-9·λ₁`. When `k + 10` is at least half of `d` (or `d ≤ 64`) it instead
//! diagonalises the whole covariance with cyclic Jacobi, which costs
//! `O(d³)` per sweep: fine for small `d`, slow (seconds) for `d = 784` with
//! hundreds of components. Signs are fixed so that each component's entry
//! of largest magnitude is positive.

mod eigen;

use serde::{Deserialize, Serialize};

use eigen::{jacobi_eigen, matmul, orthonormalize};
use ember_data::rng::Stream;

/// Extra vectors carried by the subspace iteration beyond the `k` wanted.
const OVERSAMPLE: usize = 10;
/// Convergence: every wanted residual below this times the top eigenvalue.
const RESIDUAL_TOL: f64 = 1e-9;
/// Iteration cap of the subspace iteration.
const MAX_ITERATIONS: usize = 2000;

/// A fitted principal component analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    d: usize,
    k: usize,
    mean: Vec<f32>,
    components: Vec<f32>,
    explained_variance: Vec<f64>,
    total_variance: f64,
}

impl Pca {
    /// Fits `k` components (clamped to `d`) to `n` samples of `d` values,
    /// stored row-major in `data`.
    ///
    /// # Panics
    /// If `data.len() != n * d`, or `n == 0` or `d == 0`.
    pub fn fit(data: &[f32], n: usize, d: usize, k: usize) -> Pca {
        assert!(n > 0 && d > 0, "Pca::fit needs at least one sample of at least one value (n = {n}, d = {d})");
        assert_eq!(data.len(), n * d, "Pca::fit: data holds {} values, not n * d = {n} * {d}", data.len());
        let k = k.min(d);
        let mut mean = vec![0f64; d];
        for row in data.chunks_exact(d) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += f64::from(v));
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let centred: Vec<f64> =
            data.chunks_exact(d).flat_map(|row| row.iter().zip(&mean).map(|(&v, &m)| f64::from(v) - m)).collect();
        // C = Xcᵀ Xc / (n - 1): lhs Xcᵀ (row stride 1, column stride d), rhs Xc.
        let mut cov = vec![0f64; d * d];
        matmul(d, d, n, (&centred, 1, d), (&centred, d, 1), &mut cov, 1.0 / (n.max(2) - 1) as f64);
        let total_variance = (0..d).map(|i| cov[i * d + i]).sum();
        let (values, vectors) = top_eigen(&cov, d, k);
        let mut components = Vec::with_capacity(k * d);
        for v in vectors.chunks_exact(d).take(k) {
            let big = v.iter().copied().fold(0f64, |a, x| if x.abs() > a.abs() { x } else { a });
            let sign = if big < 0.0 { -1.0 } else { 1.0 };
            components.extend(v.iter().map(|&x| (sign * x) as f32));
        }
        Pca {
            d,
            k,
            mean: mean.iter().map(|&m| m as f32).collect(),
            components,
            explained_variance: values.into_iter().take(k).map(|v| v.max(0.0)).collect(),
            total_variance,
        }
    }

    /// The codes of `x` (row-major `[n, d]`): `(x - mean)·Wᵀ`, row-major `[n, k]`.
    ///
    /// # Panics
    /// If `x.len()` is not a multiple of `d`.
    pub fn transform(&self, x: &[f32]) -> Vec<f32> {
        assert_eq!(x.len() % self.d, 0, "Pca::transform: {} values are not rows of {}", x.len(), self.d);
        let mut codes = Vec::with_capacity(x.len() / self.d * self.k);
        for row in x.chunks_exact(self.d) {
            let centred: Vec<f64> = row.iter().zip(&self.mean).map(|(&v, &m)| f64::from(v) - f64::from(m)).collect();
            for w in self.components.chunks_exact(self.d) {
                codes.push(centred.iter().zip(w).map(|(&c, &w)| c * f64::from(w)).sum::<f64>() as f32);
            }
        }
        codes
    }

    /// Maps codes (row-major `[n, k]`) back to the data space: `mean + codes·W`.
    ///
    /// # Panics
    /// If `codes.len()` is not a multiple of `k` (with `k > 0`).
    pub fn inverse_transform(&self, codes: &[f32]) -> Vec<f32> {
        let n = codes.len().checked_div(self.k).unwrap_or(0);
        assert!(
            self.k == 0 || codes.len().is_multiple_of(self.k),
            "Pca::inverse_transform: codes are not rows of {}",
            self.k
        );
        let mut out = Vec::with_capacity(n * self.d);
        let mut acc = vec![0f64; self.d];
        for code in codes.chunks_exact(self.k.max(1)).take(n) {
            acc.iter_mut().zip(&self.mean).for_each(|(a, &m)| *a = f64::from(m));
            for (&c, w) in code.iter().zip(self.components.chunks_exact(self.d)) {
                acc.iter_mut().zip(w).for_each(|(a, &w)| *a += f64::from(c) * f64::from(w));
            }
            out.extend(acc.iter().map(|&a| a as f32));
        }
        out
    }

    /// Mean squared error, over all values, of reconstructing `x` from its codes.
    pub fn reconstruction_mse(&self, x: &[f32]) -> f64 {
        let rec = if self.k == 0 {
            x.chunks_exact(self.d).flat_map(|_| self.mean.iter().copied()).collect()
        } else {
            self.inverse_transform(&self.transform(x))
        };
        let sum: f64 = x.iter().zip(&rec).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum();
        sum / x.len().max(1) as f64
    }

    /// The fraction of the total variance carried by each component, largest first.
    pub fn explained_variance_ratio(&self) -> Vec<f64> {
        let total = if self.total_variance > 0.0 { self.total_variance } else { 1.0 };
        self.explained_variance.iter().map(|v| v / total).collect()
    }

    /// The variance along each component (covariance eigenvalues, `n - 1` normalisation).
    pub fn explained_variance(&self) -> &[f64] {
        &self.explained_variance
    }

    /// The components, orthonormal rows, row-major `[k, d]`.
    pub fn components(&self) -> &[f32] {
        &self.components
    }

    /// The per-feature mean subtracted before projecting (`[d]`).
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Number of components `k`.
    pub fn n_components(&self) -> usize {
        self.k
    }

    /// Number of input features `d`.
    pub fn n_features(&self) -> usize {
        self.d
    }
}

/// The `k` largest eigenvalues (descending) of the symmetric `d×d` matrix
/// `c` and their unit eigenvectors as rows (`[≥k, d]`).
fn top_eigen(c: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let p = (k + OVERSAMPLE).min(d);
    if d <= 64 || 2 * p >= d {
        return jacobi_eigen(c, d);
    }
    let mut rng = Stream::new(0x0005_eed0_f9ca);
    let mut q: Vec<f64> = (0..p * d).map(|_| rng.normal()).collect();
    orthonormalize(&mut q, d, &mut rng);
    let mut theta: Vec<f64> = Vec::new();
    let mut z = vec![0f64; p * d];
    for iteration in 0..MAX_ITERATIONS {
        if iteration > 0 {
            // q holds Ritz vectors and z = C·q: check the wanted residuals.
            let worst = (0..k)
                .map(|i| {
                    let (qi, zi) = (&q[i * d..(i + 1) * d], &z[i * d..(i + 1) * d]);
                    qi.iter().zip(zi).map(|(&a, &b)| (b - theta[i] * a).powi(2)).sum::<f64>().sqrt()
                })
                .fold(0f64, f64::max);
            if worst <= RESIDUAL_TOL * theta[0].abs().max(f64::MIN_POSITIVE) {
                break;
            }
            q.copy_from_slice(&z);
            orthonormalize(&mut q, d, &mut rng);
        }
        // Rayleigh-Ritz: W = Q·C (p×d), B = W·Qᵀ (p×p), B = V·Θ·Vᵀ, Q ← VᵀQ, Z ← VᵀW.
        let mut w = vec![0f64; p * d];
        matmul(p, d, d, (&q, d, 1), (c, d, 1), &mut w, 1.0);
        let mut b = vec![0f64; p * p];
        matmul(p, p, d, (&w, d, 1), (&q, 1, d), &mut b, 1.0);
        let (values, vt) = jacobi_eigen(&b, p);
        theta = values;
        let (q_old, w_old) = (q.clone(), w);
        matmul(p, d, p, (&vt, p, 1), (&q_old, d, 1), &mut q, 1.0);
        matmul(p, d, p, (&vt, p, 1), (&w_old, d, 1), &mut z, 1.0);
    }
    (theta, q)
}
