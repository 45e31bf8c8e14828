//! The register-blocked matrix-vector product (`kernels::gemv_acc`, which
//! Dense and the recurrent gates sum with) against the naive `f64`
//! reference (`reference::dense::dense_pre_f64`), on shapes with every
//! remainder: rows mod 4 = 0..3 (a block of four rows, then one by one) and
//! columns that leave every remainder of the 4-wide lane steps and of the
//! 16-wide unrolled steps, odd ones included.
//!
//! Tolerance: the classic bound of any summation order of `n` products in
//! `f32`, `|got - exact| <= γ(n + 1) (|b| + Σ|w·x|)` with
//! `γ(k) = k u / (1 - k u)`, `u = 2⁻²⁴`: an order that drops, repeats or
//! misplaces a term (a wrong row, a lost remainder) fails it by far.

use ember_conformance::{dense_pre_f64, rng, uniform};
use ember_runtime::kernels::{dense, gemv_acc, gemv_acc_portable, row_dot, row_dot_portable};
use rand::RngExt as _;

const ROWS: [usize; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 13];
const COLS: [usize; 17] = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 19, 31, 33, 100, 129, 785];

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// `γ(n + 1) (|b| + Σ|w·x|)` for every row.
fn bounds(w: &[f32], b: &[f32], x: &[f32]) -> Vec<f64> {
    let u = f64::from(f32::EPSILON) / 2.0;
    let k = (x.len() + 1) as f64 * u;
    let gamma = k / (1.0 - k);
    b.iter()
        .zip(w.chunks_exact(x.len()))
        .map(|(&bo, row)| {
            let mass: f64 = row.iter().zip(x).map(|(&wi, &xi)| (f64::from(wi) * f64::from(xi)).abs()).sum();
            gamma * (f64::from(bo).abs() + mass)
        })
        .collect()
}

#[test]
fn blocked_gemv_matches_the_f64_reference_for_every_remainder() {
    let mut rng = rng(12);
    for rows in ROWS {
        for cols in COLS {
            let (w, b, x) = (
                uniform(&mut rng, rows * cols, -1.0, 1.0),
                uniform(&mut rng, rows, -1.0, 1.0),
                uniform(&mut rng, cols, -1.0, 1.0),
            );
            let want = dense_pre_f64(&to_f64(&w), &to_f64(&b), &to_f64(&x));
            let bound = bounds(&w, &b, &x);

            let mut acc = b.clone();
            gemv_acc(&w, &x, &mut acc);
            let mut y = vec![0.0f32; rows];
            dense(&w, &b, &x, &mut y);
            for r in 0..rows {
                let err = (f64::from(acc[r]) - want[r]).abs();
                assert!(
                    err <= bound[r],
                    "{rows}x{cols} row {r}: gemv {} reference {} (bound {:e})",
                    acc[r],
                    want[r],
                    bound[r]
                );
                assert_eq!(y[r].to_bits(), acc[r].to_bits(), "{rows}x{cols} row {r}: dense differs from b + gemv");
                // A row's sum does not depend on where the row falls (block or remainder).
                let alone = b[r] + row_dot(&w[r * cols..(r + 1) * cols], &x);
                assert_eq!(acc[r].to_bits(), alone.to_bits(), "{rows}x{cols} row {r}: blocked differs from row_dot");
            }
        }
    }
}

#[test]
fn blocked_gemv_leaves_rows_beyond_the_weights_alone() {
    // `y` longer than the weights' rows: the extra outputs keep their values.
    let w = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let x = [1.0f32, 1.0, 1.0];
    let mut y = [0.5f32; 4];
    gemv_acc(&w, &x, &mut y);
    assert_eq!(y, [6.5, 15.5, 0.5, 0.5]);
}

/// `uniform(-1, 1)` values scaled by powers of two from 2⁻¹² to 2¹²: sums
/// whose rounding depends on the order, so a path that sums in another order
/// (or fuses a multiply-add) differs in some bit.
fn spread(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> Vec<f32> {
    uniform(rng, n, -1.0, 1.0).into_iter().map(|v| v * 2f32.powi(rng.random_range(-12..=12))).collect()
}

#[test]
fn host_simd_gemv_equals_the_portable_code_bit_for_bit() {
    // On x86-64 `gemv_acc` runs the AVX path (blocks of 8 rows, two per
    // register) where the CPU has AVX, then the SSE path (8 rows, then 4,
    // then one by one), `row_dot` the SSE path; on aarch64 both run NEON.
    // Rows 0..=19 leave every remainder of them all, the columns every
    // remainder of the 4-wide lane steps. Elsewhere both are portable.
    let mut rng = rng(1212);
    for rows in 0..=19 {
        for cols in COLS {
            let (w, x, b) = (spread(&mut rng, rows * cols), spread(&mut rng, cols), spread(&mut rng, rows));
            let (mut simd, mut portable) = (b.clone(), b.clone());
            gemv_acc(&w, &x, &mut simd);
            gemv_acc_portable(&w, &x, &mut portable);
            for r in 0..rows {
                assert_eq!(simd[r].to_bits(), portable[r].to_bits(), "{rows}x{cols} row {r}: gemv_acc");
                let row = &w[r * cols..(r + 1) * cols];
                assert_eq!(
                    row_dot(row, &x).to_bits(),
                    row_dot_portable(row, &x).to_bits(),
                    "{rows}x{cols} row {r}: row_dot"
                );
            }
        }
    }
}
