//! The aarch64 path of [`gemv_acc`](super::gemv_acc) and
//! [`row_dot`](super::row_dot): NEON (part of every aarch64 target, no
//! run-time detection), computing exactly the bits of the portable code.
//!
//! # Same bits
//! A row's `LANES` = 4 partial sums live in one `float32x4_t`, partial sum
//! `k` in lane `k`: element `j` of the row goes to partial sum `j % 4`, in
//! increasing `j`, with a separate multiply (`vmulq_f32`) and add
//! (`vaddq_f32`), each rounded as the scalar `*` and `+` are (never the
//! fused `vfmaq_f32`). The partial sums are then added in lane order
//! `((s0 + s1) + s2) + s3` and the tail one by one, as the portable code
//! does.
//!
//! # Rows per pass
//! [`ROWS`] = 8 accumulators (of NEON's 32 registers), one input load per 8
//! rows; then the remainder rows one by one.
//!
//! # Safety
//! NEON is enabled on every aarch64 target this module is compiled for
//! (`target_feature = "neon"` in its `cfg`); every load is inside the
//! slices (bounds in the SAFETY notes).
#![allow(unsafe_code)] // NEON intrinsics and in-bounds raw loads, each with a SAFETY note

use core::arch::aarch64::{float32x4_t, vaddq_f32, vdupq_n_f32, vld1q_f32, vmulq_f32, vst1q_f32};

/// Rows per pass of the main loop.
const ROWS: usize = 8;

/// The four floats of `v`.
#[inline(always)]
fn load(v: &[f32; 4]) -> float32x4_t {
    // SAFETY: `v` is 4 contiguous floats; NEON is enabled (module docs).
    unsafe { vld1q_f32(v.as_ptr()) }
}

/// The four lanes of `v`.
#[inline(always)]
fn store(v: float32x4_t) -> [f32; 4] {
    let mut out = [0.0f32; 4];
    // SAFETY: `out` is 4 writable floats; NEON is enabled (module docs).
    unsafe { vst1q_f32(out.as_mut_ptr(), v) };
    out
}

/// `acc + w·x` lane by lane: multiply, round, add, round (never fused).
#[inline(always)]
fn mul_add(acc: float32x4_t, w: float32x4_t, x: float32x4_t) -> float32x4_t {
    // SAFETY: NEON is enabled (module docs).
    unsafe { vaddq_f32(acc, vmulq_f32(w, x)) }
}

/// The portable `reduce` of one row's partial sums, then its tail.
#[inline(always)]
fn finish(acc: float32x4_t, wt: &[f32], xt: &[f32]) -> f32 {
    let [s0, s1, s2, s3] = store(acc);
    let mut sum = ((s0 + s1) + s2) + s3;
    for (a, b) in wt.iter().zip(xt) {
        sum += a * b;
    }
    sum
}

/// [`row_dot`](super::row_dot) with the 4 partial sums in one register.
#[inline]
pub fn row_dot(w: &[f32], x: &[f32]) -> f32 {
    let n = x.len().min(w.len());
    let ((wl, wt), (xl, xt)) = (w[..n].as_chunks::<4>(), x[..n].as_chunks::<4>());
    // SAFETY: NEON is enabled (module docs).
    let mut acc = unsafe { vdupq_n_f32(0.0) };
    for (a, b) in wl.iter().zip(xl) {
        acc = mul_add(acc, load(a), load(b));
    }
    finish(acc, wt, xt)
}

/// The row sums of the [`ROWS`] rows of `w`, each in the portable order.
///
/// # Shapes
/// `w`: `[ROWS, x.len()]` row-major (exactly).
#[inline(always)]
fn block_dot(w: &[f32], x: &[f32]) -> [f32; ROWS] {
    let n = x.len();
    assert_eq!(w.len(), ROWS * n, "block_dot: {ROWS} rows of {n}");
    let (xl, xt) = x.as_chunks::<4>();
    // SAFETY: NEON is enabled (module docs).
    let mut acc = [unsafe { vdupq_n_f32(0.0) }; ROWS];
    for (j, xs) in xl.iter().enumerate() {
        let xv = load(xs);
        for (r, a) in acc.iter_mut().enumerate() {
            // SAFETY: r < ROWS and 4·j + 4 <= n, so the 4 floats at
            // r·n + 4·j lie inside w (ROWS·n floats, asserted above).
            let wv = unsafe { vld1q_f32(w.as_ptr().add(r * n + 4 * j)) };
            *a = mul_add(*a, wv, xv);
        }
    }
    let tail = n - xt.len();
    core::array::from_fn(|r| finish(acc[r], &w[r * n + tail..(r + 1) * n], xt))
}

/// [`gemv_acc`](super::gemv_acc): rows in blocks of [`ROWS`], then one by
/// one, every row summed in the portable order.
///
/// # Shapes
/// `w`: `[y.len(), x.len()]` row-major (as the portable one).
#[inline]
pub fn gemv_acc(w: &[f32], x: &[f32], y: &mut [f32]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let rows = y.len().min(w.len() / n);
    let blocks = rows / ROWS;
    let (yb, yr) = y[..rows].split_at_mut(blocks * ROWS);
    let (wb, wr) = w[..rows * n].split_at(blocks * ROWS * n);
    for (ys, ws) in yb.chunks_exact_mut(ROWS).zip(wb.chunks_exact(ROWS * n)) {
        for (yo, s) in ys.iter_mut().zip(block_dot(ws, x)) {
            *yo += s;
        }
    }
    for (yo, row) in yr.iter_mut().zip(wr.chunks_exact(n)) {
        *yo += row_dot(row, x);
    }
}
