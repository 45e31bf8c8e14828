//! The main loop of `blocked`'s block product on a Cortex-M4F, in assembly:
//! LLVM loads every weight with its own `VLDR`, where one `VLDMIA` loads the
//! four weights of a lane step of a row (and one the four input values).
//! Per lane step of a block: 5 loads and 16 `VMLA` for 16 multiply-adds.
//!
//! `VMLA.F32` is not fused (it rounds the product, then the sum, as `*` then
//! `+` do), and every partial sum gets exactly the terms, in exactly the
//! order, of the portable code, so the result is the same bits as on the
//! host.
#![allow(unsafe_code)] // one `asm!` block: reads the slices it is given, writes its sums

use super::blocked::{LANES, ROWS};

/// Columns per iteration of the assembly loop (4 lane steps).
pub(super) const WIDE: usize = 4 * LANES;

/// One lane step of one row: its 4 weights into s20-s23, 4 `VMLA`s into
/// the row's partial sums.
macro_rules! row_step {
    ($w:literal, $a0:literal, $a1:literal, $a2:literal, $a3:literal) => {
        concat!(
            "vldmia {",
            $w,
            "}!, {{s20-s23}}\n",
            "vmla.f32 s",
            $a0,
            ", s20, s16\n",
            "vmla.f32 s",
            $a1,
            ", s21, s17\n",
            "vmla.f32 s",
            $a2,
            ", s22, s18\n",
            "vmla.f32 s",
            $a3,
            ", s23, s19\n"
        )
    };
}

/// One lane step of the block: 4 input values into s16-s19, then each row.
macro_rules! lane_step {
    () => {
        concat!(
            "vldmia {x}!, {{s16-s19}}\n",
            row_step!("w0", "0", "1", "2", "3"),
            row_step!("w1", "4", "5", "6", "7"),
            row_step!("w2", "8", "9", "10", "11"),
            row_step!("w3", "12", "13", "14", "15"),
        )
    };
}

/// `acc[r][j % LANES] += w[r][j] · x[j]` for `j` in `0..m` (in increasing
/// `j`), where `m` is the largest multiple of [`WIDE`] that `x` and every
/// row hold; returns `m`.
#[inline(always)]
pub(super) fn wide_steps(acc: &mut [[f32; LANES]; ROWS], w: [&[f32]; ROWS], x: &[f32]) -> usize {
    let n = w.iter().fold(x.len(), |n, row| n.min(row.len()));
    let iters = n / WIDE;
    if iters == 0 {
        return 0;
    }
    // The partial sums travel through memory: Rust can name the FPU's
    // registers in `asm!` only with the `vfp2` target feature, which (with
    // double precision) a Cortex-M4F lacks; so the loop saves and restores
    // the registers it uses itself.
    let sums = acc.as_flattened_mut();
    // SAFETY: the loop runs `iters` times and each time reads `WIDE` values
    // through each pointer, advancing it by as many; `x` and every row hold
    // at least `iters * WIDE` values (`n` is the shortest length). It reads
    // and writes the 16 values of `sums`, and pushes (then pops) s0-s23 on
    // the stack; it changes the pointers, the counter and the flags, all
    // declared.
    unsafe {
        core::arch::asm!(
            "vpush {{s0-s23}}",
            "vldmia {acc}, {{s0-s15}}",
            "2:",
            lane_step!(),
            lane_step!(),
            lane_step!(),
            lane_step!(),
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstmia {acc}, {{s0-s15}}",
            "vpop {{s0-s23}}",
            acc = in(reg) sums.as_mut_ptr(),
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w[0].as_ptr() => _,
            w1 = inout(reg) w[1].as_ptr() => _,
            w2 = inout(reg) w[2].as_ptr() => _,
            w3 = inout(reg) w[3].as_ptr() => _,
            n = inout(reg) iters => _,
        );
    }
    iters * WIDE
}
