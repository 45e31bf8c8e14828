//! The host path of the recurrent gates on x86-64 CPUs with AVX2 (detected
//! at run time; `std` feature): the LSTM cell update
//! ([`lstm_step`](super::lstm_step)) and the sigmoid / tanh of a slice (GRU,
//! SimpleRNN), eight values at a time, computing exactly the bits of the
//! scalar code.
//!
//! # Same bits
//! `math_avx`'s `expf8` and `tanhf8` are lane-by-lane ports of `libm::expf`
//! and `libm::tanhf` (FreeBSD/musl, through `expm1f`): the same constants and
//! the same operations in the same order, each rounded as the scalar `*`,
//! `+`, `-` and `/` are (never fused); the branches of the scalar code
//! become selects between values computed for every lane. They cover the
//! ranges an LSTM's pre-activations live in (`|x| < 87.3` for `expf`, finite
//! for `tanhf`); a group of eight with a lane outside them (or NaN) takes the
//! scalar code, so every lane gets the scalar bits.
//!
//! # Safety
//! The AVX2 functions are `#[target_feature(enable = "avx2")]` and called
//! only after `is_x86_feature_detected!("avx2")`; loads and stores are of
//! whole `[f32; 8]` arrays.
#![allow(unsafe_code)] // AVX2 intrinsics on [f32; 8] arrays, each with a SAFETY note

use core::arch::x86_64::{_mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_storeu_ps};

use super::lstm::cell;
use super::math_avx::{sigmoid8, tanhf8};
use crate::activation::sigmoid;

/// `lstm_step`'s cell update for every unit (`c` and `h` overwritten),
/// eight at a time with AVX2 if the CPU has it; returns the units done
/// (a multiple of 8; 0 without AVX2), the rest are the caller's.
///
/// # Shapes
/// `zi`, `zo`, `zf`, `zc`, `h`, `c`: `[H]` each.
pub fn lstm_cells(zi: &[f32], zo: &[f32], zf: &[f32], zc: &[f32], h: &mut [f32], c: &mut [f32]) -> usize {
    if !super::host_simd() || !std::is_x86_feature_detected!("avx2") {
        return 0;
    }
    let n = [zi.len(), zo.len(), zf.len(), zc.len(), h.len(), c.len()].into_iter().min().unwrap_or(0) / 8 * 8;
    for k in (0..n).step_by(8) {
        let at = |s: &[f32]| -> [f32; 8] { core::array::from_fn(|i| s[k + i]) };
        let (i, o, f, g, mut cs) = (at(zi), at(zo), at(zf), at(zc), at(c));
        let mut hs = [0.0f32; 8];
        // SAFETY: the CPU has AVX2 (detected above).
        if !unsafe { cells8(&i, &o, &f, &g, &mut cs, &mut hs) } {
            for u in 0..8 {
                (cs[u], hs[u]) = cell(i[u], o[u], f[u], g[u], cs[u]);
            }
        }
        c[k..k + 8].copy_from_slice(&cs);
        h[k..k + 8].copy_from_slice(&hs);
    }
    n
}

/// `v[k] = σ(v[k])` ([`crate::activation::sigmoid`]) for every `k`, eight
/// at a time with AVX2 if the CPU has it, the same bits.
pub fn sigmoid_in_place(v: &mut [f32]) {
    let (groups, rest) = v.as_chunks_mut::<8>();
    if super::host_simd() && std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (detected just above).
        unsafe { sigmoid_groups(groups) };
    } else {
        groups.as_flattened_mut().iter_mut().for_each(|x| *x = sigmoid(*x));
    }
    rest.iter_mut().for_each(|x| *x = sigmoid(*x));
}

/// `v[k] = tanh(v[k])` (`libm::tanhf`) for every `k`, eight at a time with
/// AVX2 if the CPU has it, the same bits.
pub fn tanh_in_place(v: &mut [f32]) {
    let (groups, rest) = v.as_chunks_mut::<8>();
    if super::host_simd() && std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (detected just above).
        unsafe { tanh_groups(groups) };
    } else {
        groups.as_flattened_mut().iter_mut().for_each(|x| *x = libm::tanhf(*x));
    }
    rest.iter_mut().for_each(|x| *x = libm::tanhf(*x));
}

/// [`sigmoid_in_place`] on whole groups (a group outside the vector range
/// takes the scalar code).
#[target_feature(enable = "avx2")]
fn sigmoid_groups(groups: &mut [[f32; 8]]) {
    for g in groups {
        // SAFETY: one whole [f32; 8] read.
        match sigmoid8(unsafe { _mm256_loadu_ps(g.as_ptr()) }) {
            // SAFETY: one whole [f32; 8] written.
            Some(y) => unsafe { _mm256_storeu_ps(g.as_mut_ptr(), y) },
            None => g.iter_mut().for_each(|x| *x = sigmoid(*x)),
        }
    }
}

/// [`tanh_in_place`] on whole groups (a group outside the vector range
/// takes the scalar code).
#[target_feature(enable = "avx2")]
fn tanh_groups(groups: &mut [[f32; 8]]) {
    for g in groups {
        // SAFETY: one whole [f32; 8] read.
        match tanhf8(unsafe { _mm256_loadu_ps(g.as_ptr()) }) {
            // SAFETY: one whole [f32; 8] written.
            Some(y) => unsafe { _mm256_storeu_ps(g.as_mut_ptr(), y) },
            None => g.iter_mut().for_each(|x| *x = libm::tanhf(*x)),
        }
    }
}

/// Eight units of the cell update: `c = σ(f)·c + σ(i)·tanh(g)`,
/// `h = σ(o)·tanh(c)`; `false` (nothing written) if a lane is outside the
/// vector code's range.
#[target_feature(enable = "avx2")]
fn cells8(i: &[f32; 8], o: &[f32; 8], f: &[f32; 8], g: &[f32; 8], c: &mut [f32; 8], h: &mut [f32; 8]) -> bool {
    // SAFETY: every load reads one whole [f32; 8].
    let [i, o, f, g, c0] = [i, o, f, g, &*c].map(|a| unsafe { _mm256_loadu_ps(a.as_ptr()) });
    let (Some(si), Some(so), Some(sf), Some(tg)) = (sigmoid8(i), sigmoid8(o), sigmoid8(f), tanhf8(g)) else {
        return false;
    };
    let cell = _mm256_add_ps(_mm256_mul_ps(sf, c0), _mm256_mul_ps(si, tg));
    let Some(tc) = tanhf8(cell) else { return false };
    // SAFETY: every store writes one whole [f32; 8].
    unsafe {
        _mm256_storeu_ps(c.as_mut_ptr(), cell);
        _mm256_storeu_ps(h.as_mut_ptr(), _mm256_mul_ps(so, tc));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn avx2_lstm_cells_equal_the_scalar_update_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        // Pre-activations and cell states over every branch of expf, expm1f
        // and tanhf: tiny, small, around 0.5·ln2 and 1.5·ln2, large, beyond
        // the vector range (|x| > 87, infinities, NaN: the scalar fallback).
        let mut vals = std::vec::Vec::new();
        for e in -40..=7 {
            for m in [1.0f32, 1.0397, 1.1, 1.37, 1.5, 1.732, 1.99] {
                let v = m * 2f32.powi(e);
                vals.extend([v, -v]);
            }
        }
        vals.extend([0.0, -0.0, 0.2554, 0.3466, 0.5493, 10.0, 10.001, 88.0, -88.0, 104.0]);
        vals.extend([f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::MIN_POSITIVE / 4.0]);
        let n = vals.len() / 8 * 8;
        let at = |k: usize| vals[k % vals.len()];
        for shift in [0, 1, 3, 5, 11] {
            let z: std::vec::Vec<[f32; 4]> =
                (0..n).map(|k| [at(k + shift), at(k * 3 + 1), at(k * 7 + shift), at(k * 5 + 2)]).collect();
            let col = |g: usize| z.iter().map(|q| q[g]).collect::<std::vec::Vec<f32>>();
            let (zi, zo, zf, zc) = (col(0), col(1), col(2), col(3));
            let (mut c, mut h) =
                ((0..n).map(|k| at(k * 11 + shift)).collect::<std::vec::Vec<f32>>(), std::vec![0.0f32; n]);
            let want: std::vec::Vec<(f32, f32)> = (0..n).map(|k| cell(zi[k], zo[k], zf[k], zc[k], c[k])).collect();
            assert_eq!(super::lstm_cells(&zi, &zo, &zf, &zc, &mut h, &mut c), n);
            for k in 0..n {
                assert_eq!(c[k].to_bits(), want[k].0.to_bits(), "c[{k}]: {:?}", z[k]);
                assert_eq!(h[k].to_bits(), want[k].1.to_bits(), "h[{k}]: {:?}", z[k]);
            }
        }
    }

    #[test]
    fn avx2_sigmoid_and_tanh_slices_equal_the_scalar_functions_bit_for_bit() {
        let mut vals = std::vec::Vec::new();
        for e in -30..=8 {
            for m in [1.0f32, 1.0397, 1.37, 1.732, 1.99] {
                let v = m * 2f32.powi(e);
                vals.extend([v, -v]);
            }
        }
        vals.extend([0.0, -0.0, 90.0, f32::NAN, f32::INFINITY, 1e-40]);
        let (mut s, mut t) = (vals.clone(), vals.clone());
        super::sigmoid_in_place(&mut s);
        super::tanh_in_place(&mut t);
        for (k, &v) in vals.iter().enumerate() {
            assert_eq!(s[k].to_bits(), crate::activation::sigmoid(v).to_bits(), "sigmoid({v:e})");
            assert_eq!(t[k].to_bits(), libm::tanhf(v).to_bits(), "tanh({v:e})");
        }
    }
}
