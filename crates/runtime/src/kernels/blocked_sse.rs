//! The x86-64 path of [`gemv_acc`](super::gemv_acc) and
//! [`row_dot`](super::row_dot): SSE, the x86-64 baseline (no run-time
//! detection), computing exactly the bits of the portable code.
//!
//! # Same bits
//! A row's `LANES` = 4 partial sums live in one `__m128`, partial sum `k` in
//! lane `k`: element `j` of the row still goes to partial sum `j % 4`, in
//! increasing `j`, with a separate multiply (`mulps`) and add (`addps`),
//! each rounded as the scalar `*` and `+` are (SSE has no fused
//! multiply-add). The partial sums are then added in lane order
//! `((s0 + s1) + s2) + s3` (four rows at once, after a transpose) and the
//! tail one by one, as the portable code does.
//!
//! # Rows per pass
//! The order of one row's sum does not depend on how many rows share a pass,
//! so this path takes [`ROWS`] = 8 (8 accumulators, one input load per 8
//! weight loads, 8 independent add chains to cover `addps` latency; the
//! portable [`ROWS`](super::blocked::ROWS) = 4 suits the MCUs' 32 registers),
//! then one block of 4, then the remainder rows one by one.
//!
//! # Safety
//! The intrinsics are `unsafe` because they need a CPU feature: SSE, which
//! every x86-64 CPU has and every x86-64 Rust target enables, so each call
//! below is sound on any target this module is compiled for. The loads and
//! stores touch only the 16 bytes of an `[f32; 4]` borrowed for the call.
#![allow(unsafe_code)] // SSE intrinsics only, each with a SAFETY note

use core::arch::x86_64::{
    __m128, _mm_add_ps, _mm_loadu_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_mul_ps, _mm_set1_ps, _mm_setr_ps,
    _mm_setzero_ps, _mm_storeu_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
};

/// Rows per pass of the main loop.
const ROWS: usize = 8;

/// The four values of `v` in lanes 0..4.
#[inline(always)]
fn load(v: &[f32; 4]) -> __m128 {
    // SAFETY: `v` is a valid reference to 4 contiguous `f32` (16 bytes);
    // `_mm_loadu_ps` reads exactly those 16 bytes with no alignment
    // requirement; SSE is part of the x86-64 baseline (module docs).
    unsafe { _mm_loadu_ps(v.as_ptr()) }
}

/// Lanes 0..4 of `v`.
#[inline(always)]
fn store(v: __m128) -> [f32; 4] {
    let mut out = [0.0f32; 4];
    // SAFETY: `out` is a valid, writable array of 4 `f32` (16 bytes);
    // `_mm_storeu_ps` writes exactly those 16 bytes with no alignment
    // requirement; SSE is part of the x86-64 baseline (module docs).
    unsafe { _mm_storeu_ps(out.as_mut_ptr(), v) };
    out
}

/// Four zeros.
#[inline(always)]
fn zero() -> __m128 {
    // SAFETY: SSE is part of the x86-64 baseline (module docs).
    unsafe { _mm_setzero_ps() }
}

/// `v` in every lane.
#[inline(always)]
fn splat(v: f32) -> __m128 {
    // SAFETY: SSE is part of the x86-64 baseline (module docs).
    unsafe { _mm_set1_ps(v) }
}

/// `v[k]` in lane `k`.
#[inline(always)]
fn lanes(v: [f32; 4]) -> __m128 {
    // SAFETY: SSE is part of the x86-64 baseline (module docs).
    unsafe { _mm_setr_ps(v[0], v[1], v[2], v[3]) }
}

/// `acc + w·x` lane by lane: multiply, round, add, round (never fused).
#[inline(always)]
fn mul_add(acc: __m128, w: __m128, x: __m128) -> __m128 {
    // SAFETY: SSE is part of the x86-64 baseline (module docs).
    unsafe { _mm_add_ps(acc, _mm_mul_ps(w, x)) }
}

/// Lane `r` = `((a[r][0] + a[r][1]) + a[r][2]) + a[r][3]`: the portable
/// `reduce` of four rows, after a transpose.
#[inline(always)]
fn reduce4(a: [__m128; 4]) -> __m128 {
    // SAFETY: SSE is part of the x86-64 baseline (module docs).
    unsafe {
        let t0 = _mm_unpacklo_ps(a[0], a[1]); // a0.0 a1.0 a0.1 a1.1
        let t1 = _mm_unpacklo_ps(a[2], a[3]); // a2.0 a3.0 a2.1 a3.1
        let t2 = _mm_unpackhi_ps(a[0], a[1]); // a0.2 a1.2 a0.3 a1.3
        let t3 = _mm_unpackhi_ps(a[2], a[3]); // a2.2 a3.2 a2.3 a3.3
        let c0 = _mm_movelh_ps(t0, t1); // lane 0 of every row
        let c1 = _mm_movehl_ps(t1, t0); // lane 1
        let c2 = _mm_movelh_ps(t2, t3); // lane 2
        let c3 = _mm_movehl_ps(t3, t2); // lane 3
        _mm_add_ps(_mm_add_ps(_mm_add_ps(c0, c1), c2), c3)
    }
}

/// The row sums of the `R` rows of `w` (`R` a multiple of 4), each in the
/// portable order; the input is loaded once per lane step for all `R` rows.
///
/// # Shapes
/// `w`: `[R, x.len()]` row-major (exactly).
#[inline(always)]
fn block_dot<const R: usize>(w: &[f32], x: &[f32]) -> [f32; R] {
    let n = x.len();
    assert_eq!(w.len(), R * n, "block_dot: {R} rows of {n}");
    let (xl, xt) = x.as_chunks::<4>();
    let mut acc = [zero(); R];
    for (j, xs) in xl.iter().enumerate() {
        let xv = load(xs);
        for (r, a) in acc.iter_mut().enumerate() {
            // SAFETY: r < R and 4·j + 4 <= n (xs is whole chunk j of x), so
            // the 4 values at r·n + 4·j lie inside w (R·n values, asserted
            // above); `_mm_loadu_ps` needs no alignment, and SSE is part of
            // the x86-64 baseline (module docs).
            let wv = unsafe { _mm_loadu_ps(w.as_ptr().add(r * n + 4 * j)) };
            *a = mul_add(*a, wv, xv);
        }
    }
    let tail = n - xt.len();
    let mut sums = [0.0f32; R];
    for (g, out) in sums.chunks_exact_mut(4).enumerate() {
        let quad = [acc[4 * g], acc[4 * g + 1], acc[4 * g + 2], acc[4 * g + 3]];
        let mut s = reduce4(quad);
        let row = |k: usize| &w[(4 * g + k) * n + tail..(4 * g + k + 1) * n];
        let tails = [row(0), row(1), row(2), row(3)];
        for (i, &xv) in xt.iter().enumerate() {
            let wv = lanes([tails[0][i], tails[1][i], tails[2][i], tails[3][i]]);
            s = mul_add(s, wv, splat(xv));
        }
        out.copy_from_slice(&store(s));
    }
    sums
}

/// [`row_dot`](super::row_dot) with the 4 partial sums in one register.
#[inline]
pub fn row_dot(w: &[f32], x: &[f32]) -> f32 {
    let n = x.len().min(w.len());
    let ((wl, wt), (xl, xt)) = (w[..n].as_chunks::<4>(), x[..n].as_chunks::<4>());
    let mut acc = zero();
    for (a, b) in wl.iter().zip(xl) {
        acc = mul_add(acc, load(a), load(b));
    }
    let [s0, s1, s2, s3] = store(acc);
    let mut sum = ((s0 + s1) + s2) + s3;
    for (a, b) in wt.iter().zip(xt) {
        sum += a * b;
    }
    sum
}

/// [`gemv_acc`](super::gemv_acc): rows in blocks of [`ROWS`], then one
/// block of 4, then one by one, every row summed in the portable order.
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
    let (mut y, mut w) = (&mut y[..rows], &w[..rows * n]);
    while y.len() >= ROWS {
        let (ys, rest_y) = core::mem::take(&mut y).split_at_mut(ROWS);
        let (ws, rest_w) = w.split_at(ROWS * n);
        for (yo, s) in ys.iter_mut().zip(block_dot::<ROWS>(ws, x)) {
            *yo += s;
        }
        (y, w) = (rest_y, rest_w);
    }
    if y.len() >= 4 {
        let (ys, rest_y) = core::mem::take(&mut y).split_at_mut(4);
        let (ws, rest_w) = w.split_at(4 * n);
        for (yo, s) in ys.iter_mut().zip(block_dot::<4>(ws, x)) {
            *yo += s;
        }
        (y, w) = (rest_y, rest_w);
    }
    for (yo, row) in y.iter_mut().zip(w.chunks_exact(n)) {
        *yo += row_dot(row, x);
    }
}
