//! Lane-by-lane AVX2 ports of `libm::expf`, `libm::expm1f` and
//! `libm::tanhf` (FreeBSD/musl) and of [`crate::activation::sigmoid`], for
//! `activation_avx`: the same constants and the same operations in the same
//! order, each rounded as the scalar `*`, `+`, `-` and `/` are (never
//! fused); the branches of the scalar code become selects between values
//! computed for every lane. They cover the ranges an LSTM's pre-activations
//! live in (`|x| < 87.3` for `expf`, finite for `tanhf`) and return `None`
//! for a group of eight with a lane outside them (or NaN), which then takes
//! the scalar code.
//!
//! # Safety
//! Every function is `#[target_feature(enable = "avx2")]`: callers check
//! `is_x86_feature_detected!("avx2")`. No memory is touched.

use core::arch::x86_64::{
    __m256, __m256i, _CMP_LT_OQ, _mm256_add_epi32, _mm256_add_ps, _mm256_and_ps, _mm256_and_si256, _mm256_blendv_ps,
    _mm256_castps_si256, _mm256_castsi256_ps, _mm256_cmp_ps, _mm256_cmpeq_epi32, _mm256_cmpgt_epi32,
    _mm256_cvtepi32_ps, _mm256_cvttps_epi32, _mm256_div_ps, _mm256_movemask_ps, _mm256_mul_ps, _mm256_or_ps,
    _mm256_set1_epi32, _mm256_set1_ps, _mm256_slli_epi32, _mm256_srli_epi32, _mm256_sub_epi32, _mm256_sub_ps,
    _mm256_xor_ps,
};

/// Lanes as `i32` bits.
#[inline]
#[target_feature(enable = "avx2")]
fn bits(v: __m256) -> __m256i {
    _mm256_castps_si256(v)
}

/// `a` where `m` is set, `b` elsewhere (`m` lanes all ones or all zeros).
#[inline]
#[target_feature(enable = "avx2")]
fn select(m: __m256i, a: __m256, b: __m256) -> __m256 {
    _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m))
}

/// Lanes `v > k` (signed compare; used on sign-cleared bits).
#[inline]
#[target_feature(enable = "avx2")]
fn gt(v: __m256i, k: i32) -> __m256i {
    _mm256_cmpgt_epi32(v, _mm256_set1_epi32(k))
}

/// Whether any lane of `m` is set.
#[inline]
#[target_feature(enable = "avx2")]
fn any(m: __m256i) -> bool {
    _mm256_movemask_ps(_mm256_castsi256_ps(m)) != 0
}

/// `v` in every lane.
#[inline]
#[target_feature(enable = "avx2")]
fn splat(v: f32) -> __m256 {
    _mm256_set1_ps(v)
}

/// `1 / (1 + expf(-x))` lane by lane ([`crate::activation::sigmoid`]).
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn sigmoid8(x: __m256) -> Option<__m256> {
    let e = expf8(_mm256_xor_ps(x, splat(-0.0)))?;
    Some(_mm256_div_ps(splat(1.0), _mm256_add_ps(splat(1.0), e)))
}

/// The argument reduction shared by `expf` and `expm1f`: `k` (as `i32` and
/// `f32`) from `x` and the bits `hx` of `|x|`, `sign` 0 or 1 per lane;
/// `hx > big` takes the rounded `k` (`expf`: `0x3f851592`, `expm1f`: one
/// less).
#[inline]
#[target_feature(enable = "avx2")]
fn reduce_k(x: __m256, hx: __m256i, sign: __m256i, big: i32) -> (__m256i, __m256) {
    // |x| > 1.5 ln2: k = (INV_LN2 * x ± 0.5) as i32 (truncation).
    let half = _mm256_or_ps(splat(0.5), _mm256_and_ps(x, splat(-0.0)));
    let k_big = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(splat(f32::from_bits(0x3fb8_aa3b)), x), half));
    // 0.5 ln2 < |x| <= 1.5 ln2: k = 1 - 2·sign; else 0.
    let k_mid = _mm256_sub_epi32(_mm256_set1_epi32(1), _mm256_add_epi32(sign, sign));
    let k = _mm256_castps_si256(select(
        gt(hx, big),
        _mm256_castsi256_ps(k_big),
        select(gt(hx, 0x3eb1_7218), _mm256_castsi256_ps(k_mid), splat(0.0)),
    ));
    (k, _mm256_cvtepi32_ps(k))
}

/// `2^k` for `k` in `-126..=127`.
#[inline]
#[target_feature(enable = "avx2")]
fn pow2(k: __m256i) -> __m256 {
    _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(k, _mm256_set1_epi32(0x7f))))
}

/// `libm::expf` lane by lane, `None` if a lane has `|x| >= 87.3` or is NaN.
#[target_feature(enable = "avx2")]
fn expf8(x: __m256) -> Option<__m256> {
    let (ln2_hi, ln2_lo) = (f32::from_bits(0x3f31_7200), f32::from_bits(0x35bf_be8e));
    let (p1, p2) = (f32::from_bits(0x3e2a_aa8f), f32::from_bits(0xbb35_5215));
    let hx = _mm256_and_si256(bits(x), _mm256_set1_epi32(0x7fff_ffff));
    if any(gt(hx, 0x42ae_ac4f)) {
        return None;
    }
    let sign = _mm256_srli_epi32::<31>(bits(x));
    let (k, kf) = reduce_k(x, hx, sign, 0x3f85_1592);
    // k = 0 (|x| <= 0.5 ln2) gives hi = x, lo = 0 and x unchanged, as the
    // scalar code's k = 0 branch.
    let hi = _mm256_sub_ps(x, _mm256_mul_ps(kf, splat(ln2_hi)));
    let lo = _mm256_mul_ps(kf, splat(ln2_lo));
    let r = _mm256_sub_ps(hi, lo);
    let xx = _mm256_mul_ps(r, r);
    let c = _mm256_sub_ps(r, _mm256_mul_ps(xx, _mm256_add_ps(splat(p1), _mm256_mul_ps(xx, splat(p2)))));
    let q = _mm256_div_ps(_mm256_mul_ps(r, c), _mm256_sub_ps(splat(2.0), c));
    let y = _mm256_add_ps(splat(1.0), _mm256_add_ps(_mm256_sub_ps(q, lo), hi));
    // scalbnf(y, k): one multiply by 2^k (k in -126..=126 here; 2^0 = 1).
    let y = _mm256_mul_ps(y, pow2(k));
    // |x| <= 2^-14: 1 + x.
    let tiny = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3900_0001), hx);
    Some(select(tiny, _mm256_add_ps(splat(1.0), x), y))
}

/// `libm::expm1f` lane by lane for `-1.5 ln2 < x <= 20` (what `tanhf` asks
/// for; the caller checks the range): `k` in `-1..=29`.
#[target_feature(enable = "avx2")]
fn expm1f8(x: __m256) -> __m256 {
    let (ln2_hi, ln2_lo) = (f32::from_bits(0x3f31_7180), f32::from_bits(0x3717_f7d1));
    let (q1, q2) = (f32::from_bits(0xbd08_8868), f32::from_bits(0x3acf_3010));
    let hx = _mm256_and_si256(bits(x), _mm256_set1_epi32(0x7fff_ffff));
    let sign = _mm256_srli_epi32::<31>(bits(x));
    let (k, kf) = reduce_k(x, hx, sign, 0x3f85_1591);
    // k = ±1: hi = x ∓ LN2_HI, lo = ±LN2_LO (k·LN2_HI exact); k = 0: hi = x,
    // lo = 0, so r = x and c = 0, as the scalar k = 0 branch.
    let hi = _mm256_sub_ps(x, _mm256_mul_ps(kf, splat(ln2_hi)));
    let lo = _mm256_mul_ps(kf, splat(ln2_lo));
    let r = _mm256_sub_ps(hi, lo);
    let c = _mm256_sub_ps(_mm256_sub_ps(hi, r), lo);
    let hfx = _mm256_mul_ps(splat(0.5), r);
    let hxs = _mm256_mul_ps(r, hfx);
    let r1 = _mm256_add_ps(splat(1.0), _mm256_mul_ps(hxs, _mm256_add_ps(splat(q1), _mm256_mul_ps(hxs, splat(q2)))));
    let t = _mm256_sub_ps(splat(3.0), _mm256_mul_ps(r1, hfx));
    let e = _mm256_mul_ps(hxs, _mm256_div_ps(_mm256_sub_ps(r1, t), _mm256_sub_ps(splat(6.0), _mm256_mul_ps(r, t))));
    // k == 0
    let y0 = _mm256_sub_ps(r, _mm256_sub_ps(_mm256_mul_ps(r, e), hxs));
    let e = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(r, _mm256_sub_ps(e, c)), c), hxs);
    // k == -1
    let ym1 = _mm256_sub_ps(_mm256_mul_ps(splat(0.5), _mm256_sub_ps(r, e)), splat(0.5));
    // k == 1
    let y1_low = _mm256_mul_ps(splat(-2.0), _mm256_sub_ps(e, _mm256_add_ps(r, splat(0.5))));
    let y1_high = _mm256_add_ps(splat(1.0), _mm256_mul_ps(splat(2.0), _mm256_sub_ps(r, e)));
    let below = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LT_OQ>(r, splat(-0.25)));
    let y1 = select(below, y1_low, y1_high);
    // 2 <= k <= 56: 2^k and 2^-k
    let twopk = pow2(k);
    let uf = pow2(_mm256_sub_epi32(_mm256_set1_epi32(0), k));
    let y_small_k = _mm256_mul_ps(_mm256_add_ps(_mm256_sub_ps(r, e), _mm256_sub_ps(splat(1.0), uf)), twopk);
    let y_large_k = _mm256_mul_ps(_mm256_add_ps(_mm256_sub_ps(r, _mm256_add_ps(e, uf)), splat(1.0)), twopk);
    let yk = select(gt(k, 22), y_large_k, y_small_k);
    let is = |v: i32| _mm256_cmpeq_epi32(k, _mm256_set1_epi32(v));
    let y = select(is(0), y0, select(is(-1), ym1, select(is(1), y1, yk)));
    // |x| < 2^-25: x.
    select(_mm256_cmpgt_epi32(_mm256_set1_epi32(0x3300_0000), hx), x, y)
}

/// `libm::tanhf` lane by lane, `None` if a lane is NaN or infinite.
#[target_feature(enable = "avx2")]
pub(super) fn tanhf8(x: __m256) -> Option<__m256> {
    let w = _mm256_and_si256(bits(x), _mm256_set1_epi32(0x7fff_ffff));
    if any(gt(w, 0x7f7f_ffff)) {
        return None;
    }
    let ax = _mm256_castsi256_ps(w);
    let big = gt(w, 0x4120_0000); // |x| > 10: 1 + 0/|x| = 1
    let upper = gt(w, 0x3f0c_9f54); // |x| > log(3)/2
    let middle = gt(w, 0x3e82_c578); // |x| > log(5/3)/2
    let normal = gt(w, 0x007f_ffff); // |x| >= 2^-126
    let two = _mm256_mul_ps(splat(2.0), ax);
    let arg = select(big, splat(0.0), select(middle, two, _mm256_mul_ps(splat(-2.0), ax)));
    let t = expm1f8(arg);
    let t2 = _mm256_add_ps(t, splat(2.0));
    let y_upper = _mm256_sub_ps(splat(1.0), _mm256_div_ps(splat(2.0), t2));
    let y_middle = _mm256_div_ps(t, t2);
    let y_lower = _mm256_div_ps(_mm256_xor_ps(t, splat(-0.0)), t2);
    let tt = select(big, splat(1.0), select(upper, y_upper, select(middle, y_middle, select(normal, y_lower, ax))));
    Some(_mm256_xor_ps(tt, _mm256_and_ps(x, splat(-0.0))))
}
