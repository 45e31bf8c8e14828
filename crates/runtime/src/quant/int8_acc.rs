//! The accumulators of the int8 layers ([`super::int8`]): `kernel_bias[c] +
//! Σ x · w` in wrapping `i32` for dense, convolution and depthwise layers.
//! Integer sums do not depend on their order, so each kernel is free to
//! block its loops: the result is the same integer on every target.
//!
//! * [`dense_acc`]: four rows at a time share each input word ([`dot4_i8`]);
//! * [`conv_acc`]: two output pixels' windows are gathered (im2row, padded
//!   taps holding the input zero point) into a stack buffer, then two
//!   filters at a time run over both ([`dot2x2_i8`]): each word of input and
//!   weights is loaded and sign-extended once for four dot products. With
//!   the DSP extension the two windows are sign-extended once into 16-bit
//!   lanes ([`extend_pair`]) and the loop is assembly ([`dot2x2_ext`]);
//! * [`depthwise_acc`]: per output pixel, the in-bounds taps are listed once,
//!   then four channels at a time accumulate over them ([`mac4_i8`]).

use super::dot::{dot_i8, dot2x2_ext, dot2x2_i8, dot4_i8, extend_pair, mac4_i8_slices};
use crate::spec::Window2d;

/// Bytes of the stack buffer holding two output pixels' windows (im2row):
/// windows up to 3 × 3 × 64 go through the blocked path.
const PATCH: usize = 1152;

/// Taps of the largest depthwise window the tap-list path takes (11 × 11).
const MAX_TAPS: usize = 121;

/// Dense accumulators: `emit(o, kernel_bias[o] + Σᵢ x[i] · w[o, i])`.
///
/// # Shapes
/// `w`: `[kernel_bias.len(), inputs]`, `x`: `[inputs]` (checked by the caller).
pub fn dense_acc(w: &[i8], kernel_bias: &[i32], inputs: usize, x: &[i8], mut emit: impl FnMut(usize, i32)) {
    let n = inputs;
    let rows = kernel_bias.len().min(w.len() / n.max(1));
    let blocked = rows - rows % 4;
    for o in (0..blocked).step_by(4) {
        let r = |k: usize| &w[(o + k) * n..(o + k + 1) * n];
        let acc = dot4_i8(x, [r(0), r(1), r(2), r(3)]);
        for (k, a) in acc.into_iter().enumerate() {
            emit(o + k, kernel_bias[o + k].wrapping_add(a));
        }
    }
    for o in blocked..rows {
        emit(o, kernel_bias[o].wrapping_add(dot_i8(x, &w[o * n..(o + 1) * n])));
    }
}

/// `Σ w` in wrapping `i32`.
#[inline]
fn sum_i8(w: &[i8]) -> i32 {
    w.iter().fold(0i32, |s, &v| s.wrapping_add(v as i32))
}

/// Copies a short run of bytes (a loop, not a `memcpy` call, below 16).
#[inline(always)]
fn copy(dst: &mut [i8], src: &[i8]) {
    if dst.len() < 16 {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s;
        }
    } else {
        dst.copy_from_slice(&src[..dst.len()]);
    }
}

/// Fills a short run of bytes with `v`.
#[inline(always)]
fn fill(dst: &mut [i8], v: i8) {
    for d in dst {
        *d = v;
    }
}

/// Gathers the window of output pixel `p` into `patch` (`[kh, kw, c]`,
/// padded taps holding `zp`).
fn gather(g: &Window2d, x: &[i8], zp: i8, p: usize, patch: &mut [i8]) {
    let (oy, ox) = (p / g.ow, p % g.ow);
    let cell = g.c;
    for (ky, dst) in patch.chunks_exact_mut(g.kw * cell).enumerate() {
        let Some(iy) = g.row(oy, ky) else {
            fill(dst, zp);
            continue;
        };
        if g.dw == 1 {
            let (kx0, kx1, ix0) = g.columns(ox);
            let (left, rest) = dst.split_at_mut(kx0 * cell);
            let (mid, right) = rest.split_at_mut((kx1 - kx0) * cell);
            fill(left, zp);
            copy(mid, &x[(iy * g.w + ix0) * cell..]);
            fill(right, zp);
            continue;
        }
        for (kx, dc) in dst.chunks_exact_mut(cell).enumerate() {
            match g.col(ox, kx) {
                Some(ix) => copy(dc, &x[(iy * g.w + ix) * cell..]),
                None => fill(dc, zp),
            }
        }
    }
}

/// Convolution accumulators over HWC (any stride, dilation, padding):
/// `emit(index, channel, kernel_bias[c] + Σ_taps x · w)` with padded taps
/// reading the input zero point `zp`.
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`, `w`: `[C, g.kh, g.kw, g.c]` (checked by the caller).
pub fn conv_acc(g: &Window2d, w: &[i8], kernel_bias: &[i32], zp: i32, x: &[i8], emit: impl FnMut(usize, usize, i32)) {
    conv_acc_with(cfg!(ember_dsp), g, w, kernel_bias, zp, x, emit)
}

/// [`conv_acc`], choosing the path: `extended` sign-extends each pair of
/// windows once ([`extend_pair`], [`dot2x2_ext`]: what Armv7E-M runs),
/// otherwise the bytes go straight to [`dot2x2_i8`]. Both give the same
/// integers (public so that tests can run either on the host).
pub fn conv_acc_with(
    extended: bool,
    g: &Window2d,
    w: &[i8],
    kernel_bias: &[i32],
    zp: i32,
    x: &[i8],
    mut emit: impl FnMut(usize, usize, i32),
) {
    let oc = kernel_bias.len();
    let k = g.kh * g.kw * g.c;
    let zp8 = match i8::try_from(zp) {
        Ok(z) if k > 0 && 2 * k <= PATCH => z,
        _ => return conv_acc_taps(g, w, kernel_bias, zp, x, emit),
    };
    let mut buf = [0i8; PATCH];
    let mut ext = [0u32; PATCH / 2];
    let (pa, rest) = buf.split_at_mut(k);
    let pb = &mut rest[..k];
    let filter = |ch: usize| &w[ch * k..(ch + 1) * k];
    let pixels = g.oh * g.ow;
    let mut p = 0;
    while p + 2 <= pixels {
        gather(g, x, zp8, p, pa);
        gather(g, x, zp8, p + 1, pb);
        let (ya, yb) = (p * oc, (p + 1) * oc);
        let quads = if extended { extend_pair(pa, pb, &mut ext) } else { 0 };
        let t = 4 * quads;
        let mut ch = 0;
        while ch + 2 <= oc {
            let [aa, ab, ba, bb] = if extended {
                let head = dot2x2_ext(&ext, &w[ch * k..(ch + 2) * k], k, quads);
                let (f0, f1) = (filter(ch), filter(ch + 1));
                let tail = dot2x2_i8(&pa[t..], &pb[t..], &f0[t..], &f1[t..]);
                [0, 1, 2, 3].map(|i| head[i].wrapping_add(tail[i]))
            } else {
                dot2x2_i8(pa, pb, filter(ch), filter(ch + 1))
            };
            let (b0, b1) = (kernel_bias[ch], kernel_bias[ch + 1]);
            emit(ya + ch, ch, b0.wrapping_add(aa));
            emit(ya + ch + 1, ch + 1, b1.wrapping_add(ab));
            emit(yb + ch, ch, b0.wrapping_add(ba));
            emit(yb + ch + 1, ch + 1, b1.wrapping_add(bb));
            ch += 2;
        }
        if ch < oc {
            emit(ya + ch, ch, kernel_bias[ch].wrapping_add(dot_i8(pa, filter(ch))));
            emit(yb + ch, ch, kernel_bias[ch].wrapping_add(dot_i8(pb, filter(ch))));
        }
        p += 2;
    }
    if p < pixels {
        gather(g, x, zp8, p, pa);
        dense_acc(w, kernel_bias, k, pa, |ch, a| emit(p * oc + ch, ch, a));
    }
}

/// [`conv_acc`] tap by tap (windows larger than the stack buffer, or a zero
/// point outside `i8`).
fn conv_acc_taps(
    g: &Window2d,
    w: &[i8],
    kernel_bias: &[i32],
    zp: i32,
    x: &[i8],
    mut emit: impl FnMut(usize, usize, i32),
) {
    let oc = kernel_bias.len();
    let (cell, row) = (g.c, g.kw * g.c);
    let window = g.kh * row;
    for p in 0..g.oh * g.ow {
        let (oy, ox) = (p / g.ow, p % g.ow);
        for (ch, &b) in kernel_bias.iter().enumerate() {
            let wf = &w[ch * window..(ch + 1) * window];
            let mut acc = b;
            for ky in 0..g.kh {
                let wr = &wf[ky * row..(ky + 1) * row];
                let Some(iy) = g.row(oy, ky) else {
                    acc = acc.wrapping_add(zp.wrapping_mul(sum_i8(wr)));
                    continue;
                };
                for kx in 0..g.kw {
                    let wc = &wr[kx * cell..(kx + 1) * cell];
                    acc = acc.wrapping_add(match g.col(ox, kx) {
                        Some(ix) => dot_i8(&x[(iy * g.w + ix) * cell..][..cell], wc),
                        None => zp.wrapping_mul(sum_i8(wc)),
                    });
                }
            }
            emit(p * oc + ch, ch, acc);
        }
    }
}

/// Depthwise accumulators (multiplier 1): `emit(index, channel,
/// kernel_bias[c] + Σ_taps x[·, c] · w[ky, kx, c])`, padded taps reading `zp`.
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`, `w`: `[g.kh, g.kw, g.c]` (checked by the caller).
pub fn depthwise_acc(
    g: &Window2d,
    w: &[i8],
    kernel_bias: &[i32],
    zp: i32,
    x: &[i8],
    mut emit: impl FnMut(usize, usize, i32),
) {
    let c = g.c.min(kernel_bias.len());
    let taps = g.kh * g.kw;
    if taps > MAX_TAPS {
        return depthwise_acc_taps(g, w, kernel_bias, zp, x, emit);
    }
    // (input offset, weight offset) of the taps inside the input; weight offsets of the padded ones
    let mut inside = [(0usize, 0usize); MAX_TAPS];
    let mut padded = [0usize; MAX_TAPS];
    for p in 0..g.oh * g.ow {
        let (oy, ox) = (p / g.ow, p % g.ow);
        let (mut n_in, mut n_pad) = (0, 0);
        for ky in 0..g.kh {
            let iy = g.row(oy, ky);
            for kx in 0..g.kw {
                let wo = (ky * g.kw + kx) * g.c;
                match (iy, g.col(ox, kx)) {
                    (Some(iy), Some(ix)) => {
                        inside[n_in] = ((iy * g.w + ix) * g.c, wo);
                        n_in += 1;
                    }
                    _ => {
                        padded[n_pad] = wo;
                        n_pad += 1;
                    }
                }
            }
        }
        let (inside, padded) = (&inside[..n_in], &padded[..n_pad]);
        let mut ch = 0;
        while ch + 4 <= c {
            let mut acc = [kernel_bias[ch], kernel_bias[ch + 1], kernel_bias[ch + 2], kernel_bias[ch + 3]];
            for &(xo, wo) in inside {
                acc = mac4_i8_slices(acc, &x[xo + ch..xo + ch + 4], &w[wo + ch..wo + ch + 4]);
            }
            for &wo in padded {
                for (k, a) in acc.iter_mut().enumerate() {
                    *a = a.wrapping_add(zp.wrapping_mul(w[wo + ch + k] as i32));
                }
            }
            for (k, a) in acc.into_iter().enumerate() {
                emit(p * g.c + ch + k, ch + k, a);
            }
            ch += 4;
        }
        for ch in ch..c {
            let mut acc = kernel_bias[ch];
            for &(xo, wo) in inside {
                acc = acc.wrapping_add((x[xo + ch] as i32).wrapping_mul(w[wo + ch] as i32));
            }
            for &wo in padded {
                acc = acc.wrapping_add(zp.wrapping_mul(w[wo + ch] as i32));
            }
            emit(p * g.c + ch, ch, acc);
        }
    }
}

/// [`depthwise_acc`] tap by tap, for windows of more than [`MAX_TAPS`] taps.
fn depthwise_acc_taps(
    g: &Window2d,
    w: &[i8],
    kernel_bias: &[i32],
    zp: i32,
    x: &[i8],
    mut emit: impl FnMut(usize, usize, i32),
) {
    let c = g.c;
    for p in 0..g.oh * g.ow {
        let (oy, ox) = (p / g.ow, p % g.ow);
        for (ch, &b) in kernel_bias.iter().enumerate().take(c) {
            let mut acc = b;
            for ky in 0..g.kh {
                let iy = g.row(oy, ky);
                for kx in 0..g.kw {
                    let wv = w[(ky * g.kw + kx) * c + ch] as i32;
                    let xv = match (iy, g.col(ox, kx)) {
                        (Some(iy), Some(ix)) => x[(iy * g.w + ix) * c + ch] as i32,
                        _ => zp,
                    };
                    acc = acc.wrapping_add(xv.wrapping_mul(wv));
                }
            }
            emit(p * c + ch, ch, acc);
        }
    }
}
