//! The host path of [`gemv_acc`](super::gemv_acc) on x86-64 CPUs with AVX
//! (detected at run time; `std` feature), computing exactly the bits of the
//! portable code.
//!
//! # Same bits
//! A register holds two rows' `LANES` = 4 partial sums: element `j` of row
//! `2q + s` goes to lane `4s + j % 4`, in increasing `j`, with a separate
//! multiply (`vmulps`) and add (`vaddps`), each rounded as the scalar `*`
//! and `+` are (never fused). Eight columns at a time: each row's 8
//! products (one load of 8 weights times the 8 inputs), then the first
//! four of both rows added (`vperm2f128` puts them in one register), then
//! the last four; a last group of four columns loads the two rows' 4
//! weights as the halves of one register, times the 4 inputs in both. Each row's partial sums are then added in lane order
//! `((s0 + s1) + s2) + s3` and the tail one by one, as the portable code
//! does.
//!
//! # Rows per pass
//! [`PAIRS`] registers, 2·[`PAIRS`] rows per pass: one input load per
//! 2·[`PAIRS`] rows, [`PAIRS`] independent add chains. The rows left over
//! go to the SSE path (`blocked_sse`), which sums them in the same order.
//!
//! # Safety
//! The AVX functions are `#[target_feature(enable = "avx")]` and called only
//! after `is_x86_feature_detected!("avx")`; every load is inside the slices
//! (bounds in the SAFETY notes).
#![allow(unsafe_code)] // AVX intrinsics and in-bounds raw loads, each with a SAFETY note

use core::arch::x86_64::{
    _mm256_add_ps, _mm256_loadu_ps, _mm256_loadu2_m128, _mm256_mul_ps, _mm256_permute2f128_ps, _mm256_setzero_ps,
    _mm256_storeu_ps,
};

/// Registers (row pairs) per pass.
const PAIRS: usize = 4;
/// Rows per pass.
const ROWS: usize = 2 * PAIRS;

/// [`gemv_acc`](super::gemv_acc) with AVX if the CPU has it (`false`,
/// nothing written, otherwise): rows in blocks of [`ROWS`], the rest by the
/// SSE path.
///
/// # Shapes
/// `w`: `[y.len(), x.len()]` row-major (as the portable one).
#[inline]
pub fn gemv_acc(w: &[f32], x: &[f32], y: &mut [f32]) -> bool {
    let n = x.len();
    if n < 4 || y.len() < ROWS || !super::host_simd() || !std::is_x86_feature_detected!("avx") {
        return false;
    }
    let rows = y.len().min(w.len() / n);
    let blocks = rows / ROWS;
    let (yb, yr) = y[..rows].split_at_mut(blocks * ROWS);
    let (wb, wr) = w[..rows * n].split_at(blocks * ROWS * n);
    // SAFETY: the CPU has AVX (detected above).
    unsafe { blocks_acc(wb, x, yb) };
    super::blocked_sse::gemv_acc(wr, x, yr);
    true
}

/// `y += W · x` for `y.len() / ROWS` whole blocks.
///
/// # Shapes
/// `w`: `[y.len(), x.len()]` row-major, `y.len()` a multiple of [`ROWS`].
#[target_feature(enable = "avx")]
fn blocks_acc(w: &[f32], x: &[f32], y: &mut [f32]) {
    let n = x.len();
    for (ys, ws) in y.chunks_exact_mut(ROWS).zip(w.chunks_exact(ROWS * n)) {
        for (yo, s) in ys.iter_mut().zip(block(ws, x)) {
            *yo += s;
        }
    }
}

/// The row sums of the [`ROWS`] rows of `w`, each in the portable order.
///
/// # Shapes
/// `w`: `[ROWS, x.len()]` row-major (exactly).
#[inline]
#[target_feature(enable = "avx")]
fn block(w: &[f32], x: &[f32]) -> [f32; ROWS] {
    let n = x.len();
    if w.len() != ROWS * n {
        return [0.0; ROWS];
    }
    let (x8, _) = x.as_chunks::<8>();
    let (xl, xt) = x.as_chunks::<4>();
    let mut acc = [_mm256_setzero_ps(); PAIRS];
    let p = w.as_ptr();
    for (j, xs) in x8.iter().enumerate() {
        // SAFETY: `xs` is 8 floats.
        let xv = unsafe { _mm256_loadu_ps(xs.as_ptr()) };
        for (q, a) in acc.iter_mut().enumerate() {
            // SAFETY: 8·j + 8 <= n, so the 8 floats at rows 2q and 2q + 1
            // (< ROWS), column 8·j lie inside `w` (ROWS·n floats, checked
            // above).
            let (w0, w1) =
                unsafe { (_mm256_loadu_ps(p.add(2 * q * n + 8 * j)), _mm256_loadu_ps(p.add((2 * q + 1) * n + 8 * j))) };
            // Columns 8j..8j+4 of both rows, then 8j+4..8j+8.
            let (p0, p1) = (_mm256_mul_ps(w0, xv), _mm256_mul_ps(w1, xv));
            *a = _mm256_add_ps(*a, _mm256_permute2f128_ps::<0x20>(p0, p1));
            *a = _mm256_add_ps(*a, _mm256_permute2f128_ps::<0x31>(p0, p1));
        }
    }
    // At most one group of four columns is left (n % 8 >= 4).
    for (j, xs) in xl.iter().enumerate().skip(2 * x8.len()) {
        // SAFETY: `xs` is 4 floats (16 bytes), read unaligned (no reference
        // to an `__m128` is made: `xs` need not be 16-byte aligned).
        let xv = unsafe { _mm256_loadu2_m128(xs.as_ptr(), xs.as_ptr()) };
        for (q, a) in acc.iter_mut().enumerate() {
            // SAFETY: 4·j + 4 <= n, so the 4 floats at row r (< ROWS),
            // column 4·j lie inside `w` (ROWS·n floats, checked above).
            let wv = unsafe { _mm256_loadu2_m128(p.add((2 * q + 1) * n + 4 * j), p.add(2 * q * n + 4 * j)) };
            *a = _mm256_add_ps(*a, _mm256_mul_ps(wv, xv));
        }
    }
    let tail = n - xt.len();
    let mut sums = [0.0f32; ROWS];
    for (q, a) in acc.iter().enumerate() {
        let mut l = [0.0f32; 8];
        // SAFETY: `l` holds 8 writable floats.
        unsafe { _mm256_storeu_ps(l.as_mut_ptr(), *a) };
        sums[2 * q] = ((l[0] + l[1]) + l[2]) + l[3];
        sums[2 * q + 1] = ((l[4] + l[5]) + l[6]) + l[7];
    }
    for (r, s) in sums.iter_mut().enumerate() {
        for (wv, xv) in w[r * n + tail..(r + 1) * n].iter().zip(xt) {
            *s += wv * xv;
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::super::{gemv_acc_portable, row_dot_portable};

    /// Fills `out` with a deterministic, sign-mixed stream of magnitudes
    /// from 2^-12 to 2^12 (so that the order of the sums shows in the bits).
    fn fill(out: &mut [f32], seed: u32) {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        for v in out {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            *v = ((s % 2001) as f32 / 1000.0 - 1.0) * f32::from_bits((127 - 12 + (s >> 27) % 25) << 23);
        }
    }

    #[test]
    fn avx_gemv_equals_the_portable_code_bit_for_bit() {
        let (mut w, mut x, mut b) = ([0.0f32; 37 * 45], [0.0f32; 45], [0.0f32; 37]);
        for rows in 0..=37 {
            for cols in 0..=45 {
                let (w, x, b) = (&mut w[..rows * cols], &mut x[..cols], &mut b[..rows]);
                fill(w, 3 + rows as u32);
                fill(x, 5 + cols as u32);
                fill(b, 7);
                let (mut avx, mut portable) = (b.to_vec(), b.to_vec());
                if !super::gemv_acc(w, x, &mut avx) {
                    super::super::blocked_sse::gemv_acc(w, x, &mut avx);
                }
                gemv_acc_portable(w, x, &mut portable);
                for r in 0..rows {
                    assert_eq!(avx[r].to_bits(), portable[r].to_bits(), "{rows}x{cols} row {r}");
                    let row = &w[r * cols..(r + 1) * cols];
                    let want = b[r] + row_dot_portable(row, x);
                    assert_eq!(portable[r].to_bits(), want.to_bits(), "{rows}x{cols} row {r}: portable");
                }
            }
        }
    }
}
