//! The cells' element-wise passes over one step's rows (one row per sample
//! of a chunk), with an AVX2 build of the same code picked at run time.

use super::{Cell, blocks};

/// The states before a step, `[n, units]` each: `h_{t-1}`, and `C_{t-1}`
/// for cells with a cell state (empty otherwise).
pub(super) struct Prev<'a> {
    pub(super) h: &'a [f32],
    pub(super) c: &'a [f32],
}

/// Adds the bias to the `n` gate rows of one step and runs [`Cell::forward`] on them.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_rows<C: Cell>(
    bias: &[f32],
    ghp: usize,
    z: &mut [f32],
    prev: &Prev<'_>,
    c: &mut [f32],
    tc: &mut [f32],
    hs: &mut [f32],
) {
    let zw = bias.len();
    let h = zw / blocks::<C>();
    for (b, (z, hs)) in z.chunks_exact_mut(ghp).zip(hs.chunks_exact_mut(h)).enumerate() {
        let z = &mut z[..zw];
        z.iter_mut().zip(bias).for_each(|(z, b)| *z += b);
        let r = b * h..(b + 1) * h;
        let hp = &prev.h[r.clone()];
        if C::HAS_CELL {
            C::forward(z, hp, &prev.c[r.clone()], &mut c[r.clone()], &mut tc[r], hs);
        } else {
            C::forward(z, hp, &[], &mut [], &mut [], hs);
        }
    }
}

/// [`Cell::backward`] over the `n` gate rows of one step.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_rows<C: Cell>(
    h: usize,
    ghp: usize,
    hp: usize,
    dh: &mut [f32],
    z: &mut [f32],
    prev: &Prev<'_>,
    tc: &[f32],
    hs: &[f32],
    dc: &mut [f32],
) {
    let zw = blocks::<C>() * h;
    for (b, (z, hs)) in z.chunks_exact_mut(ghp).zip(hs.chunks_exact(h)).enumerate() {
        let (z, dh) = (&mut z[..zw], &mut dh[b * hp..][..h]);
        let r = b * h..(b + 1) * h;
        let h_prev = &prev.h[r.clone()];
        if C::HAS_CELL {
            C::backward(dh, z, h_prev, &prev.c[r.clone()], &tc[r.clone()], hs, &mut dc[r]);
        } else {
            C::backward(dh, z, h_prev, &[], &[], hs, &mut []);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn forward_rows_avx2<C: Cell>(
    bias: &[f32],
    ghp: usize,
    z: &mut [f32],
    prev: &Prev<'_>,
    c: &mut [f32],
    tc: &mut [f32],
    hs: &mut [f32],
) {
    forward_rows::<C>(bias, ghp, z, prev, c, tc, hs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_rows_avx2<C: Cell>(
    h: usize,
    ghp: usize,
    hp: usize,
    dh: &mut [f32],
    z: &mut [f32],
    prev: &Prev<'_>,
    tc: &[f32],
    hs: &[f32],
    dc: &mut [f32],
) {
    backward_rows::<C>(h, ghp, hp, dh, z, prev, tc, hs, dc)
}

/// The forward pass of one step's rows: `z` (`[n, ghp]`) plus `bias`
/// (`[blocks·units]`) through [`Cell::forward`], writing `c`, `tc` and `hs`
/// (`[n, units]` each).
#[allow(clippy::too_many_arguments)]
pub(super) fn cell_forward<C: Cell>(
    simd: bool,
    bias: &[f32],
    ghp: usize,
    z: &mut [f32],
    prev: &Prev<'_>,
    c: &mut [f32],
    tc: &mut [f32],
    hs: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` comes from `crate::simd::available`: the CPU has AVX2 and FMA.
        return unsafe { forward_rows_avx2::<C>(bias, ghp, z, prev, c, tc, hs) };
    }
    let _ = simd;
    forward_rows::<C>(bias, ghp, z, prev, c, tc, hs)
}

/// The backward pass of one step's rows: `dh` (`[n, hp]`) through
/// [`Cell::backward`], turning the activated gates `z` into their gradients.
#[allow(clippy::too_many_arguments)]
pub(super) fn cell_backward<C: Cell>(
    simd: bool,
    h: usize,
    ghp: usize,
    hp: usize,
    dh: &mut [f32],
    z: &mut [f32],
    prev: &Prev<'_>,
    tc: &[f32],
    hs: &[f32],
    dc: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` comes from `crate::simd::available`: the CPU has AVX2 and FMA.
        return unsafe { backward_rows_avx2::<C>(h, ghp, hp, dh, z, prev, tc, hs, dc) };
    }
    let _ = simd;
    backward_rows::<C>(h, ghp, hp, dh, z, prev, tc, hs, dc)
}
