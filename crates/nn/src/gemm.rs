//! Row-major `f32` matrix products on the `gemm` crate, parallel over output
//! rows with rayon (never inside one small GEMM: measured slower on 2 cores).

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
        // SAFETY: see `gemm_rows`; the rows of this chunk lie inside A.
        unsafe { gemm_rows(chunk.len() / n, n, k, a_rows, op_a, m, b, op_b, chunk, accumulate) };
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
    // SAFETY: lengths asserted above.
    unsafe { gemm_rows(m, n, k, a, op_a, m, b, op_b, c, accumulate) };
}

/// `rows` rows of `op(A)·B` into `c` (`[rows, n]`). `a` starts at the first
/// of these rows; `lda_t` is the stored row length of `A` when `op_a` is
/// [`Op::T`] (`A` stored `[k, lda_t]`).
///
/// # Safety
/// For `i < rows`, `p < k`: `a[i * k + p]` (N) or `a[p * lda_t + i]` (T) is in
/// bounds; `b` holds `k * n` values; `c` holds `rows * n`.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_rows(
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
        Op::N => (k as isize, 1isize),
        Op::T => (1isize, lda_t as isize),
    };
    let (b_rs, b_cs) = match op_b {
        Op::N => (n as isize, 1isize),
        Op::T => (1isize, k as isize),
    };
    // SAFETY: the caller guarantees every index the kernel touches is inside the slices.
    unsafe {
        gemm::gemm(
            rows,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
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
