//! The int8 dot product every integer kernel is built on.
//!
//! [`dot_i8`] returns `Σ a[i] · b[i]` in wrapping `i32`. On every target a
//! portable loop computes it; on Arm with the DSP extension (Cortex-M4/M7/M33:
//! `thumbv7em-*`, `target_feature = "dsp"`) [`dot_i8`] goes through
//! [`dot_i8_dsp`], which processes four bytes per step in the shape of
//! CMSIS-NN's `read_and_pad` + `SMLAD`: each 32-bit word of four `i8` is split
//! into two words of two sign-extended `i16` lanes (`SXTB16` and
//! `SXTB16` of the word rotated by 8), and each pair of lanes is multiplied and
//! added in one dual multiply-accumulate. It is written in plain Rust (the
//! crate forbids `unsafe`, which `asm!` needs), so the code generator decides
//! which instructions it becomes; the result is the same integer either way.

/// `Σ a[i] · b[i]` over the common length, wrapping `i32`.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(ember_dsp)]
    {
        dot_i8_dsp(a, b)
    }
    #[cfg(not(ember_dsp))]
    {
        dot_i8_portable(a, b)
    }
}

/// The portable dot product: one multiply-accumulate per element, four
/// independent partial sums so that the compiler can keep them in registers.
#[inline]
pub fn dot_i8_portable(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, w) in (&mut ca).zip(&mut cb) {
        for k in 0..4 {
            acc[k] = acc[k].wrapping_add(x[k] as i32 * w[k] as i32);
        }
    }
    let mut s = acc[0].wrapping_add(acc[1]).wrapping_add(acc[2]).wrapping_add(acc[3]);
    for (&x, &w) in ca.remainder().iter().zip(cb.remainder()) {
        s = s.wrapping_add(x as i32 * w as i32);
    }
    s
}

/// `SXTB16`: bytes 0 and 2 of `w`, each sign-extended to a 16-bit lane.
#[cfg(not(ember_dsp))]
#[inline(always)]
pub fn sxtb16(w: u32) -> u32 {
    let lo = (w as u8 as i8 as i16) as u16 as u32;
    let hi = ((w >> 16) as u8 as i8 as i16) as u16 as u32;
    lo | (hi << 16)
}

/// `SXTB16 ..., ROR #8`: bytes 1 and 3 of `w`, each sign-extended to a 16-bit lane.
#[cfg(not(ember_dsp))]
#[inline(always)]
pub fn sxtb16_ror8(w: u32) -> u32 {
    sxtb16(w.rotate_right(8))
}

/// `SMLAD`: `acc + lo(a)·lo(b) + hi(a)·hi(b)` over signed 16-bit lanes (wrapping).
#[cfg(not(ember_dsp))]
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let p0 = (a as u16 as i16 as i32) * (b as u16 as i16 as i32);
    let p1 = ((a >> 16) as u16 as i16 as i32) * ((b >> 16) as u16 as i16 as i32);
    acc.wrapping_add(p0).wrapping_add(p1)
}

/// `SMLABB`: `acc + lo(a)·lo(b)` over signed 16-bit lanes (wrapping).
#[cfg(not(ember_dsp))]
#[inline(always)]
pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    acc.wrapping_add((a as u16 as i16 as i32) * (b as u16 as i16 as i32))
}

/// `SMLATT`: `acc + hi(a)·hi(b)` over signed 16-bit lanes (wrapping).
#[cfg(not(ember_dsp))]
#[inline(always)]
pub fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
    acc.wrapping_add(((a >> 16) as u16 as i16 as i32) * ((b >> 16) as u16 as i16 as i32))
}

#[cfg(ember_dsp)]
pub use arm_dsp::{smlabb, smlad, smlatt, sxtb16, sxtb16_ror8};

/// The Armv7E-M DSP instructions, register to register.
#[cfg(ember_dsp)]
#[allow(unsafe_code)]
mod arm_dsp {
    use core::arch::asm;

    /// `SXTB16`: bytes 0 and 2 of `w`, each sign-extended to a 16-bit lane.
    #[inline(always)]
    pub fn sxtb16(w: u32) -> u32 {
        let r: u32;
        // SAFETY: one register-to-register instruction of the DSP extension
        // (present: `target_feature = "dsp"`); no memory, stack or flags.
        unsafe {
            asm!("sxtb16 {r}, {w}", r = lateout(reg) r, w = in(reg) w, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// `SXTB16 ..., ROR #8`: bytes 1 and 3 of `w`, each sign-extended to a 16-bit lane.
    #[inline(always)]
    pub fn sxtb16_ror8(w: u32) -> u32 {
        let r: u32;
        // SAFETY: as `sxtb16`.
        unsafe {
            asm!("sxtb16 {r}, {w}, ror #8", r = lateout(reg) r, w = in(reg) w, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// `SMLAD`: `acc + lo(a)·lo(b) + hi(a)·hi(b)` over signed 16-bit lanes.
    /// (It sets the Q flag on overflow, which nothing here reads.)
    #[inline(always)]
    pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: as `sxtb16`; the Q flag is not part of Rust's view of the flags.
        unsafe {
            asm!("smlad {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc,
                 options(pure, nomem, nostack))
        };
        r
    }

    /// [`super::dot2x2_ext`]'s loop: `quads` steps over the extended pair
    /// `ext` and the two rows at `w` and `w + k`.
    #[inline(always)]
    pub fn dot2x2_ext_steps(ext: &[u32], w: &[i8], k: usize, quads: usize, acc: [i32; 4]) -> [i32; 4] {
        let [mut aa, mut ab, mut ba, mut bb] = acc;
        if quads == 0 || ext.len() < 4 * quads || w.len() < k + 4 * quads {
            return acc;
        }
        // SAFETY: the loop runs `quads` (≥ 1) times; each time it reads 16
        // bytes of `ext` (4 words, `ext` holds `4 · quads`) and 4 bytes at
        // `w` and at `w + k` (`w` holds `k + 4 · quads`), advancing the
        // pointers by as much. It writes only the declared registers and the
        // flags; it reads no other memory and touches no stack.
        unsafe {
            asm!(
                "2:",
                "ldr {v}, [{w}, {k}]",
                "ldrd {x1}, {x2}, [{p}]",
                "sxtb16 {t}, {v}",
                "smlad {ab}, {x1}, {t}, {ab}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {ab}, {x2}, {v}, {ab}",
                "ldrd {x1}, {x2}, [{p}, #8]",
                "smlad {bb}, {x1}, {t}, {bb}",
                "smlad {bb}, {x2}, {v}, {bb}",
                "ldr {v}, [{w}], #4",
                "sxtb16 {t}, {v}",
                "smlad {ba}, {x1}, {t}, {ba}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {ba}, {x2}, {v}, {ba}",
                "ldrd {x1}, {x2}, [{p}], #16",
                "smlad {aa}, {x1}, {t}, {aa}",
                "smlad {aa}, {x2}, {v}, {aa}",
                "subs {n}, {n}, #1",
                "bne 2b",
                p = inout(reg) ext.as_ptr() => _,
                w = inout(reg) w.as_ptr() => _,
                k = in(reg) k,
                n = inout(reg) quads => _,
                aa = inout(reg) aa,
                ab = inout(reg) ab,
                ba = inout(reg) ba,
                bb = inout(reg) bb,
                x1 = out(reg) _,
                x2 = out(reg) _,
                v = out(reg) _,
                t = out(reg) _,
                options(nostack, readonly),
            );
        }
        [aa, ab, ba, bb]
    }

    /// `SMLABB`: `acc + lo(a)·lo(b)` over signed 16-bit lanes.
    #[inline(always)]
    pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: as `smlad`.
        unsafe {
            asm!("smlabb {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc,
                 options(pure, nomem, nostack))
        };
        r
    }

    /// `SMLATT`: `acc + hi(a)·hi(b)` over signed 16-bit lanes.
    #[inline(always)]
    pub fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: as `smlad`.
        unsafe {
            asm!("smlatt {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc,
                 options(pure, nomem, nostack))
        };
        r
    }
}

/// The DSP-shaped dot product (see the module docs); available on every
/// target so that it is tested on the host against the portable one.
#[inline]
pub fn dot_i8_dsp(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = 0i32;
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, w) in (&mut ca).zip(&mut cb) {
        let xw = u32::from_le_bytes([x[0] as u8, x[1] as u8, x[2] as u8, x[3] as u8]);
        let ww = u32::from_le_bytes([w[0] as u8, w[1] as u8, w[2] as u8, w[3] as u8]);
        // Lanes (0, 2) and (1, 3): the pairing is the same on both operands.
        acc = smlad(sxtb16(xw), sxtb16(ww), acc);
        acc = smlad(sxtb16_ror8(xw), sxtb16_ror8(ww), acc);
    }
    for (&x, &w) in ca.remainder().iter().zip(cb.remainder()) {
        acc = acc.wrapping_add(x as i32 * w as i32);
    }
    acc
}

/// Four dot products of one input `x` with four rows, sharing each load and
/// sign extension of `x` (the dense kernel's inner loop): `[Σ x·r0, …, Σ x·r3]`
/// over the common length, wrapping `i32`.
#[inline]
pub fn dot4_i8(x: &[i8], rows: [&[i8]; 4]) -> [i32; 4] {
    let n = rows.iter().fold(x.len(), |n, r| n.min(r.len()));
    let body = n - n % 4;
    let [r0, r1, r2, r3] = rows.map(|r| &r[..body]);
    let mut acc = [0i32; 4];
    let quads = x[..body].chunks_exact(4).zip(r0.chunks_exact(4)).zip(r1.chunks_exact(4));
    for (((xs, w0), w1), (w2, w3)) in quads.zip(r2.chunks_exact(4).zip(r3.chunks_exact(4))) {
        let xw = word(xs);
        let (x02, x13) = (sxtb16(xw), sxtb16_ror8(xw));
        for (a, w) in acc.iter_mut().zip([w0, w1, w2, w3]) {
            let ww = word(w);
            *a = smlad(x13, sxtb16_ror8(ww), smlad(x02, sxtb16(ww), *a));
        }
    }
    for (a, r) in acc.iter_mut().zip(rows) {
        *a = a.wrapping_add(dot_i8_portable(&x[body..n], &r[body..n]));
    }
    acc
}

/// Four bytes as a little-endian word (one `LDR` where unaligned loads are allowed).
#[inline(always)]
fn word(s: &[i8]) -> u32 {
    u32::from_le_bytes([s[0] as u8, s[1] as u8, s[2] as u8, s[3] as u8])
}

/// The four dot products of two inputs `xa`, `xb` with two rows `wa`, `wb`,
/// sharing every load and sign extension (the convolution's inner loop over
/// two output pixels and two filters): `[xa·wa, xa·wb, xb·wa, xb·wb]` over
/// the common length, wrapping `i32`.
#[inline]
pub fn dot2x2_i8(xa: &[i8], xb: &[i8], wa: &[i8], wb: &[i8]) -> [i32; 4] {
    let n = xa.len().min(xb.len()).min(wa.len()).min(wb.len());
    let body = n - n % 4;
    let (mut aa, mut ab, mut ba, mut bb) = (0i32, 0i32, 0i32, 0i32);
    let pixels = xa[..body].chunks_exact(4).zip(xb[..body].chunks_exact(4));
    for ((a, b), (u, v)) in pixels.zip(wa[..body].chunks_exact(4).zip(wb[..body].chunks_exact(4))) {
        let (a, b, u, v) = (word(a), word(b), word(u), word(v));
        let (u02, u13) = (sxtb16(u), sxtb16_ror8(u));
        let (a02, a13) = (sxtb16(a), sxtb16_ror8(a));
        aa = smlad(a13, u13, smlad(a02, u02, aa));
        let (b02, b13) = (sxtb16(b), sxtb16_ror8(b));
        ba = smlad(b13, u13, smlad(b02, u02, ba));
        let (v02, v13) = (sxtb16(v), sxtb16_ror8(v));
        ab = smlad(a13, v13, smlad(a02, v02, ab));
        bb = smlad(b13, v13, smlad(b02, v02, bb));
    }
    let tail = |x: &[i8], w: &[i8]| dot_i8_portable(&x[body..n], &w[body..n]);
    [
        aa.wrapping_add(tail(xa, wa)),
        ab.wrapping_add(tail(xa, wb)),
        ba.wrapping_add(tail(xb, wa)),
        bb.wrapping_add(tail(xb, wb)),
    ]
}

/// Four lanes at once: `acc[k] + x[k] · w[k]` for the four bytes of the
/// words `x` and `w` (the depthwise kernel's step over four channels).
#[inline(always)]
pub fn mac4_i8(acc: [i32; 4], x: u32, w: u32) -> [i32; 4] {
    let (x02, w02) = (sxtb16(x), sxtb16(w));
    let (x13, w13) = (sxtb16_ror8(x), sxtb16_ror8(w));
    [smlabb(x02, w02, acc[0]), smlabb(x13, w13, acc[1]), smlatt(x02, w02, acc[2]), smlatt(x13, w13, acc[3])]
}

/// [`mac4_i8`] on four-byte slices (the first four bytes of each).
#[inline(always)]
pub fn mac4_i8_slices(acc: [i32; 4], x: &[i8], w: &[i8]) -> [i32; 4] {
    mac4_i8(acc, word(x), word(w))
}

/// Two input rows `xa`, `xb` (each `quads · 4` bytes) pre-extended for
/// [`dot2x2_ext`]: per four bytes, `[sxtb16(a), sxtb16_ror8(a), sxtb16(b),
/// sxtb16_ror8(b)]` into `ext`. Returns the number of quads written.
#[inline]
pub fn extend_pair(xa: &[i8], xb: &[i8], ext: &mut [u32]) -> usize {
    let quads = xa.len().min(xb.len()) / 4;
    let pairs = xa.chunks_exact(4).zip(xb.chunks_exact(4));
    for ((a, b), e) in pairs.zip(ext.chunks_exact_mut(4)).take(quads) {
        let (a, b) = (word(a), word(b));
        e[0] = sxtb16(a);
        e[1] = sxtb16_ror8(a);
        e[2] = sxtb16(b);
        e[3] = sxtb16_ror8(b);
    }
    quads.min(ext.len() / 4)
}

/// [`dot2x2_i8`] over the first `4 · quads` bytes of two inputs extended by
/// [`extend_pair`] into `ext`, and the two rows `w[..]` and `w[k..]`:
/// `[a·w0, a·w1, b·w0, b·w1]`, wrapping `i32`. On Armv7E-M the loop is
/// assembly (per four bytes: 5 loads, 4 `SXTB16`, 8 `SMLAD`).
#[inline]
pub fn dot2x2_ext(ext: &[u32], w: &[i8], k: usize, quads: usize) -> [i32; 4] {
    #[cfg(ember_dsp)]
    {
        arm_dsp::dot2x2_ext_steps(ext, w, k, quads, [0; 4])
    }
    #[cfg(not(ember_dsp))]
    {
        dot2x2_ext_portable(ext, w, k, quads)
    }
}

/// [`dot2x2_ext`] in portable code (public so that tests can run it on the host).
pub fn dot2x2_ext_portable(ext: &[u32], w: &[i8], k: usize, quads: usize) -> [i32; 4] {
    let mut acc = [0i32; 4];
    if quads == 0 || ext.len() < 4 * quads || w.len() < k + 4 * quads {
        return acc;
    }
    let rows = w[..4 * quads].chunks_exact(4).zip(w[k..k + 4 * quads].chunks_exact(4));
    for (e, (u, v)) in ext.chunks_exact(4).zip(rows) {
        let (u, v) = (word(u), word(v));
        let (u02, u13, v02, v13) = (sxtb16(u), sxtb16_ror8(u), sxtb16(v), sxtb16_ror8(v));
        acc[0] = smlad(e[1], u13, smlad(e[0], u02, acc[0]));
        acc[1] = smlad(e[1], v13, smlad(e[0], v02, acc[1]));
        acc[2] = smlad(e[3], u13, smlad(e[2], u02, acc[2]));
        acc[3] = smlad(e[3], v13, smlad(e[2], v02, acc[3]));
    }
    acc
}
