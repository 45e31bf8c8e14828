//! Dense `f64` linear algebra for PCA: products through `ember_nn::gemm`, the
//! cyclic Jacobi eigen decomposition of a symmetric matrix, and modified
//! Gram-Schmidt orthonormalisation.

use ember_data::rng::Stream;

/// A strided matrix operand: `(data, row stride, column stride)`.
pub(super) type Strided<'a> = ember_nn::gemm::Strided<'a, f64>;

/// `dst = alpha · lhs · rhs` with `lhs` `m×k`, `rhs` `k×n`, `dst` row-major
/// `m×n`, through the one GEMM wrapper (split over threads when the product
/// is big: `m·n·k >= 2^24`).
///
/// # Panics
/// If a stride would reach outside a slice.
pub(super) fn matmul(m: usize, n: usize, k: usize, lhs: Strided<'_>, rhs: Strided<'_>, dst: &mut [f64], alpha: f64) {
    ember_nn::gemm::matmul_strided(m, n, k, lhs, rhs, dst, n, false, alpha, m * n * k >= 1 << 24);
}

/// All eigenvalues (descending) and unit eigenvectors (rows, same order) of
/// the symmetric row-major `n×n` matrix `a`, by cyclic Jacobi rotations.
pub(super) fn jacobi_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0f64; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let norm2: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..100 {
        let off2: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        if off2 <= 1e-30 * norm2 || off2 == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + theta.hypot(1.0));
                let c = 1.0 / t.hypot(1.0);
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                a[p * n + q] = 0.0;
                a[q * n + p] = 0.0;
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]));
    let values = order.iter().map(|&i| a[i * n + i]).collect();
    let vectors = order.iter().flat_map(|&i| (0..n).map(move |k| (k, i))).map(|(k, i)| v[k * n + i]).collect();
    (values, vectors)
}

/// Makes the rows of `q` (`[p, d]`) orthonormal by modified Gram-Schmidt,
/// applied twice for stability. A row that is (numerically) dependent on
/// the previous ones is replaced by a random one, so the result always has
/// `p` orthonormal rows (`p ≤ d`).
pub(super) fn orthonormalize(q: &mut [f64], d: usize, rng: &mut Stream) {
    let p = q.len() / d;
    for i in 0..p {
        for _attempt in 0..8 {
            let scale = norm(&q[i * d..(i + 1) * d]);
            for _pass in 0..2 {
                let (done, rest) = q.split_at_mut(i * d);
                let row = &mut rest[..d];
                for prev in done.chunks_exact(d) {
                    let dot: f64 = prev.iter().zip(row.iter()).map(|(a, b)| a * b).sum();
                    row.iter_mut().zip(prev).for_each(|(r, &b)| *r -= dot * b);
                }
            }
            let row = &mut q[i * d..(i + 1) * d];
            let len = norm(row);
            if len > 0.0 && len > 1e-10 * scale {
                row.iter_mut().for_each(|r| *r /= len);
                break;
            }
            row.iter_mut().for_each(|r| *r = rng.normal());
        }
    }
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}
