//! The register-blocked matrix-vector product that Dense and the recurrent
//! gates (`W·x`, `R·h`) sum with: [`ROWS`] output rows per pass over the
//! input, so every input value loaded feeds [`ROWS`] multiply-adds.
//!
//! # Summation order
//! Every row is summed exactly as [`row_dot`] sums it, whether it is part of
//! a block of [`ROWS`] or one of the remainder rows: element `j` of the row
//! goes to partial sum `j % LANES` (in increasing `j`), the partial sums are
//! added in order, then the tail (`len % LANES` elements) one by one. The
//! order is fixed and no fused multiply-add is used (plain `*` and `+`, which
//! the Cortex-M4F lowers to its non-fused `VMLA`), so the host and both
//! boards compute the same bits.
//!
//! # Registers
//! A pass keeps `ROWS * LANES` = 16 partial sums in registers (of the 32
//! single-precision registers of a Cortex-M4F or an RV32F core). Per lane
//! step it loads 4 input values and 16 weights for 16 multiply-adds. On the
//! Cortex-M4F the main loop is assembly (`blocked_arm`): one `VLDMIA` loads
//! the 4 inputs or a row's 4 weights of a lane step, so a lane step is 5
//! loads and 16 `VMLA`s (LLVM's code, one `VLDR` per value and 4 lane steps
//! per iteration, measured 2.44 instructions per multiply-add on the MNIST
//! encoder's Dense layers). RV32F, which has no non-fused multiply-add, does
//! one lane step per iteration (3.68, from 4.45): more spill its products.

/// Output rows computed per pass.
pub const ROWS: usize = 4;
/// Partial sums per row.
pub const LANES: usize = 4;

/// The `LANES` partial sums of a row, added in order.
#[inline(always)]
fn reduce(acc: [f32; LANES]) -> f32 {
    ((acc[0] + acc[1]) + acc[2]) + acc[3]
}

/// `Σ w[j]·x[j]` over `x.len()` elements (`w` holds at least as many) in
/// the order of the module docs: the sum every row of [`gemv_acc`] gets.
/// On x86-64 the SSE path (`blocked_sse`), on aarch64 the NEON path
/// (`blocked_neon`), the same bits as [`row_dot_portable`]; elsewhere the
/// portable code.
#[inline]
pub fn row_dot(w: &[f32], x: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    return super::blocked_sse::row_dot(w, x);
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    return super::blocked_neon::row_dot(w, x);
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon"))))]
    row_dot_portable(w, x)
}

/// [`row_dot`] in portable scalar code (what every target but x86-64
/// runs; public so that tests can hold the SIMD path against it).
#[inline]
pub fn row_dot_portable(w: &[f32], x: &[f32]) -> f32 {
    let n = x.len().min(w.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [0.0f32; LANES];
    let (cw, cx) = (w.chunks_exact(LANES), x.chunks_exact(LANES));
    let (tw, tx) = (cw.remainder(), cx.remainder());
    for (a, b) in cw.zip(cx) {
        for k in 0..LANES {
            acc[k] += a[k] * b[k];
        }
    }
    let mut sum = reduce(acc);
    for (a, b) in tw.iter().zip(tx) {
        sum += a * b;
    }
    sum
}

/// One lane step of a block: `acc[r][k] += w_r[k]·x[k]` for every row `r`.
#[inline(always)]
fn step(acc: &mut [[f32; LANES]; ROWS], w: [&[f32; LANES]; ROWS], x: &[f32; LANES]) {
    for r in 0..ROWS {
        for k in 0..LANES {
            acc[r][k] += w[r][k] * x[k];
        }
    }
}

/// Lane steps per iteration of [`block_dot`]'s main loop. The Cortex-M4F
/// (whose `VMLA` needs no register for the product) takes 4: 16 columns per
/// iteration amortise the 5 pointer updates and the branch (its assembly
/// loop, when it has one, leaves this loop nothing); a target without a
/// multiply-accumulate keeps one product per multiply-add live and spills
/// with more than 1. Unrolling never changes the summation order.
const UNROLL: usize = if cfg!(target_arch = "arm") { 4 } else { 1 };
/// Columns per iteration of [`block_dot`]'s main loop.
const WIDE: usize = LANES * UNROLL;

/// The lane steps of `WIDE` columns of a block.
#[inline(always)]
fn wide_step(acc: &mut [[f32; LANES]; ROWS], w: [&[f32; WIDE]; ROWS], x: &[f32; WIDE]) {
    let (xs, _) = x.as_chunks::<LANES>();
    let [a, b, c, d] = w.map(|row| row.as_chunks::<LANES>().0);
    for u in 0..UNROLL {
        step(acc, [&a[u], &b[u], &c[u], &d[u]], &xs[u]);
    }
}

/// [`row_dot`] of [`ROWS`] rows at once: each input value is loaded once.
///
/// # Shapes
/// `w[r]`: at least `x.len()` values each.
#[inline(always)]
fn block_dot(w: [&[f32]; ROWS], x: &[f32]) -> [f32; ROWS] {
    let n = x.len();
    let w = w.map(|row| &row[..n]);
    let mut acc = [[0.0f32; LANES]; ROWS];
    // On a Cortex-M4F the assembly loop takes the first multiple of 16
    // columns (the same sums in the same order).
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    let (w, x) = {
        let m = super::blocked_arm::wide_steps(&mut acc, w, x);
        (w.map(|row| &row[m..]), &x[m..])
    };
    // WIDE columns per iteration, then LANES, then one by one: element j
    // still goes to partial sum j % LANES, in increasing j.
    let (xw, xr) = x.as_chunks::<WIDE>();
    let [(aw, ar), (bw, br), (cw, cr), (dw, dr)] = w.map(|row| row.as_chunks::<WIDE>());
    for ((((a, b), c), d), xs) in aw.iter().zip(bw).zip(cw).zip(dw).zip(xw) {
        wide_step(&mut acc, [a, b, c, d], xs);
    }
    let (xl, xt) = xr.as_chunks::<LANES>();
    let [(al, at), (bl, bt), (cl, ct), (dl, dt)] = [ar, br, cr, dr].map(|row| row.as_chunks::<LANES>());
    for ((((a, b), c), d), xs) in al.iter().zip(bl).zip(cl).zip(dl).zip(xl) {
        step(&mut acc, [a, b, c, d], xs);
    }
    let mut sums = acc.map(reduce);
    for (r, tail) in [at, bt, ct, dt].into_iter().enumerate() {
        for (wv, xv) in tail.iter().zip(xt) {
            sums[r] += wv * xv;
        }
    }
    sums
}

/// `y += W · x` for one sample, every row summed as [`row_dot`] sums it.
/// On x86-64 the AVX path (`blocked_avx`, `std` feature, if the CPU has
/// AVX) or the SSE path (`blocked_sse`), on aarch64 the NEON path
/// (`blocked_neon`), each the same bits as [`gemv_acc_portable`];
/// elsewhere the portable code.
///
/// # Shapes
/// `w`: `[y.len(), x.len()]` row-major; lengths guaranteed by the callers
/// (rows beyond the shorter of `y` and `w` are left alone).
#[inline]
pub fn gemv_acc(w: &[f32], x: &[f32], y: &mut [f32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::blocked_avx::gemv_acc(w, x, y) {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    super::blocked_sse::gemv_acc(w, x, y);
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    super::blocked_neon::gemv_acc(w, x, y);
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon"))))]
    gemv_acc_portable(w, x, y);
}

/// [`gemv_acc`] in portable scalar code: rows in blocks of four, then the
/// remainder rows one by one (what every target but x86-64 runs; public so
/// that tests can hold the SIMD path against it).
///
/// # Shapes
/// `w`: `[y.len(), x.len()]` row-major (as [`gemv_acc`]).
#[inline]
pub fn gemv_acc_portable(w: &[f32], x: &[f32], y: &mut [f32]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let rows = y.len().min(w.len() / n);
    let (y, w) = (&mut y[..rows], &w[..rows * n]);
    let blocks = rows / ROWS;
    let (yb, yr) = y.split_at_mut(blocks * ROWS);
    let (wb, wr) = w.split_at(blocks * ROWS * n);
    for (ys, ws) in yb.chunks_exact_mut(ROWS).zip(wb.chunks_exact(ROWS * n)) {
        let (w0, rest) = ws.split_at(n);
        let (w1, rest) = rest.split_at(n);
        let (w2, w3) = rest.split_at(n);
        let sums = block_dot([w0, w1, w2, w3], x);
        for (yo, s) in ys.iter_mut().zip(sums) {
            *yo += s;
        }
    }
    for (yo, row) in yr.iter_mut().zip(wr.chunks_exact(n)) {
        *yo += row_dot_portable(row, x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills `out` with a deterministic, sign-mixed value stream.
    fn fill(out: &mut [f32], seed: u32) {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        for v in out {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            *v = (s % 2001) as f32 / 1000.0 - 1.0;
        }
    }

    #[test]
    fn blocked_rows_equal_row_dot_bit_for_bit() {
        let (mut w, mut x, mut y, mut want) = ([0.0f32; 9 * 33], [0.0f32; 33], [0.0f32; 9], [0.0f32; 9]);
        for rows in 0..=9 {
            for cols in [1, 3, 4, 5, 7, 8, 9, 13, 17, 33] {
                let (w, x, y, want) = (&mut w[..rows * cols], &mut x[..cols], &mut y[..rows], &mut want[..rows]);
                fill(w, 3);
                fill(x, 5);
                fill(y, 7);
                for ((o, b), row) in want.iter_mut().zip(y.iter()).zip(w.chunks_exact(cols)) {
                    *o = b + row_dot(row, x);
                }
                gemv_acc(w, x, y);
                for (r, (g, e)) in y.iter().zip(want.iter()).enumerate() {
                    assert_eq!(g.to_bits(), e.to_bits(), "{rows}x{cols} row {r}");
                }
            }
        }
    }

    #[test]
    fn row_dot_sums_lanes_then_tail() {
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        let x = [1e8, 1.0, -1e8, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5];
        // Lanes: 1e8 + 5, 2 + 6, -3e8 + 7, 4 + 8 (each rounded), then the tail 4.5.
        let lanes = [1e8f32 + 5.0, 8.0, -3e8f32 + 7.0, 12.0];
        let want = (((lanes[0] + lanes[1]) + lanes[2]) + lanes[3]) + 4.5;
        assert_eq!(row_dot(&w, &x).to_bits(), want.to_bits());
    }
}
