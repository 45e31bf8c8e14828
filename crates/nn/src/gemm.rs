//! The one wrapper of the `gemm` crate: row-major `f32` matrix products,
//! parallel over output rows with rayon (never inside one small GEMM:
//! measured slower on 2 cores), and [`matmul_strided`], the bounds-checked
//! strided product every other caller (the recurrent layers' per-step
//! products, PCA in `f64`) goes through.

use gemm::Parallelism;
use rayon::prelude::*;

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// As stored (row-major `[rows, cols]`).
    N,
    /// Transposed (stored row-major `[cols, rows]`).
    T,
}

/// An element type [`matmul_strided`] multiplies: `f32` (training) or `f64`
/// (PCA).
pub trait Scalar: Copy + PartialEq + Send + Sync + 'static {
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
}

impl Scalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Scalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// A strided operand: its values, its row stride and its column stride
/// (element `(i, j)` is `values[i * row_stride + j * column_stride]`).
pub type Strided<'a, T> = (&'a [T], usize, usize);

/// `C = scale·A·B`, or `C += scale·A·B` with `accumulate`, with explicit
/// strides for `A` and `B` and a row stride for `C` (its columns are
/// contiguous); on the calling thread unless `parallel` (then the `gemm`
/// crate splits it over rayon's threads: only for products too big for one
/// core).
///
/// # Shapes
/// `A`: `[m, k]`, `B`: `[k, n]`, `C`: `[m, n]` with rows `c_rs` apart, each
/// inside its slice.
///
/// # Panics
/// If a stride would reach outside a slice.
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided<T: Scalar>(
    m: usize,
    n: usize,
    k: usize,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    c: &mut [T],
    c_rs: usize,
    accumulate: bool,
    scale: T,
    parallel: bool,
) {
    let (a, a_rs, a_cs) = a;
    let (b, b_rs, b_cs) = b;
    if m == 0 || n == 0 {
        return;
    }
    assert!(n <= c_rs || m == 1, "C rows overlap");
    assert!((m - 1) * c_rs + n <= c.len(), "C out of bounds");
    if k == 0 {
        if !accumulate {
            c.chunks_mut(c_rs).take(m).for_each(|row| row[..n].fill(T::ZERO));
        }
        return;
    }
    assert!((m - 1) * a_rs + (k - 1) * a_cs < a.len(), "A out of bounds");
    assert!((k - 1) * b_rs + (n - 1) * b_cs < b.len(), "B out of bounds");
    let parallelism = if parallel { Parallelism::Rayon(0) } else { Parallelism::None };
    // SAFETY: the asserts above bound every index the kernel touches: (i, p)
    // of A, (p, j) of B and (i, j) of C for i < m, j < n, p < k; `c` is
    // exclusively borrowed, so it aliases neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            c_rs as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            T::ONE,
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Rows of output below which one thread does the whole product.
const MIN_ROWS_PER_TASK: usize = 16;

/// `C = A·B` or `C += A·B` (with `accumulate`), row-major.
///
/// # Shapes
/// `op(A)`: `[m, k]`, `op(B)`: `[k, n]`, `C`: `[m, n]`. `A` is stored `[m, k]`
/// for [`Op::N`] and `[k, m]` for [`Op::T`]; likewise `B`.
#[allow(clippy::too_many_arguments)]
pub fn matmul(m: usize, n: usize, k: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op, c: &mut [f32], accumulate: bool) {
    if trivial(m, n, k, a, b, c, accumulate) {
        return;
    }
    let tasks = (m / MIN_ROWS_PER_TASK).clamp(1, rayon::current_num_threads());
    let rows_per = m.div_ceil(tasks);
    c.par_chunks_mut(rows_per * n).enumerate().for_each(|(t, chunk)| {
        let r0 = t * rows_per;
        // Rows r0.. of op(A): row-major A[i, p] or A[p, i].
        let a_rows = match op_a {
            Op::N => &a[r0 * k..],
            Op::T => &a[r0..],
        };
        gemm_rows(chunk.len() / n, n, k, a_rows, op_a, m, b, op_b, chunk, accumulate);
    });
}

/// Checks the lengths (panics on a mismatch) and handles the empty
/// products; `true` when nothing is left to compute.
fn trivial(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) -> bool {
    assert_eq!(a.len(), m * k, "A has the wrong length");
    assert_eq!(b.len(), k * n, "B has the wrong length");
    assert_eq!(c.len(), m * n, "C has the wrong length");
    if k == 0 && !accumulate {
        c.fill(0.0);
    }
    m == 0 || n == 0 || k == 0
}

/// [`matmul`] on the calling thread only: for callers that already run in
/// parallel (one task per group of samples).
///
/// # Shapes
/// As [`matmul`].
#[allow(clippy::too_many_arguments)]
pub fn matmul_serial(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    op_a: Op,
    b: &[f32],
    op_b: Op,
    c: &mut [f32],
    accumulate: bool,
) {
    if trivial(m, n, k, a, b, c, accumulate) {
        return;
    }
    gemm_rows(m, n, k, a, op_a, m, b, op_b, c, accumulate);
}

/// Columns of `C` below which [`matmul_serial_narrow`] forms the product
/// transposed: the `gemm` crate's kernels run along `C`'s contiguous
/// dimension, which for so few columns would leave most of a kernel idle.
const NARROW: usize = 16;

/// [`matmul_serial`] for a `C` with few columns and many rows (a
/// convolution with 8 filters): the product is formed as `Cᵀ` in `scratch`
/// and transposed into `c`. Sums may then differ in the last bits from
/// [`matmul_serial`]'s.
///
/// # Shapes
/// As [`matmul`].
#[allow(clippy::too_many_arguments)]
pub fn matmul_serial_narrow(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    op_a: Op,
    b: &[f32],
    op_b: Op,
    c: &mut [f32],
    accumulate: bool,
    scratch: &mut Vec<f32>,
) {
    if n >= NARROW || m <= n {
        return matmul_serial(m, n, k, a, op_a, b, op_b, c, accumulate);
    }
    if trivial(m, n, k, a, b, c, accumulate) {
        return;
    }
    // Cᵀ[j, i] = Σ_p op(B)[p, j] · op(A)[i, p], as a row-major [n, m] product.
    let bt = match op_b {
        Op::N => (b, 1, n),
        Op::T => (b, k, 1),
    };
    let at = match op_a {
        Op::N => (a, 1, k),
        Op::T => (a, m, 1),
    };
    scratch.resize(m * n, 0.0);
    matmul_strided(n, m, k, bt, at, scratch, m, false, 1.0, false);
    for (i, row) in c.chunks_exact_mut(n).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let t = scratch[j * m + i];
            *v = if accumulate { *v + t } else { t };
        }
    }
}

/// `rows` rows of `op(A)·B` into `c` (`[rows, n]`). `a` starts at the first
/// of these rows; `lda_t` is the stored row length of `A` when `op_a` is
/// [`Op::T`] (`A` stored `[k, lda_t]`).
#[allow(clippy::too_many_arguments)]
fn gemm_rows(
    rows: usize,
    n: usize,
    k: usize,
    a: &[f32],
    op_a: Op,
    lda_t: usize,
    b: &[f32],
    op_b: Op,
    c: &mut [f32],
    accumulate: bool,
) {
    let (a_rs, a_cs) = match op_a {
        Op::N => (k, 1),
        Op::T => (1, lda_t),
    };
    let (b_rs, b_cs) = match op_b {
        Op::N => (n, 1),
        Op::T => (1, k),
    };
    matmul_strided(rows, n, k, (a, a_rs, a_cs), (b, b_rs, b_cs), c, n, accumulate, 1.0, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op) -> Vec<f64> {
        let mut c = vec![0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let av = if op_a == Op::N { a[i * k + p] } else { a[p * m + i] };
                    let bv = if op_b == Op::N { b[p * n + j] } else { b[j * k + p] };
                    c[i * n + j] += av as f64 * bv as f64;
                }
            }
        }
        c
    }

    #[test]
    fn narrow_matches_naive_for_all_transposes() {
        let (m, n, k) = (37, 8, 23);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104729) % 89) as f32 / 89.0 - 0.5).collect();
        let mut scratch = Vec::new();
        for op_a in [Op::N, Op::T] {
            for op_b in [Op::N, Op::T] {
                let want = naive(m, n, k, &a, op_a, &b, op_b);
                for accumulate in [false, true] {
                    let mut c = vec![1.0f32; m * n];
                    matmul_serial_narrow(m, n, k, &a, op_a, &b, op_b, &mut c, accumulate, &mut scratch);
                    let base = if accumulate { 1.0 } else { 0.0 };
                    for (got, want) in c.iter().zip(&want) {
                        assert!(
                            (*got as f64 - (want + base)).abs() < 1e-4,
                            "{op_a:?}{op_b:?}: {got} vs {}",
                            want + base
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn matches_naive_for_all_transposes() {
        let (m, n, k) = (37, 11, 23);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104729) % 89) as f32 / 89.0 - 0.5).collect();
        for op_a in [Op::N, Op::T] {
            for op_b in [Op::N, Op::T] {
                let want = naive(m, n, k, &a, op_a, &b, op_b);
                let mut c = vec![1.0f32; m * n];
                matmul(m, n, k, &a, op_a, &b, op_b, &mut c, true);
                for (got, want) in c.iter().zip(&want) {
                    assert!((*got as f64 - (want + 1.0)).abs() < 1e-4, "{op_a:?}{op_b:?}: {got} vs {}", want + 1.0);
                }
            }
        }
    }
}
