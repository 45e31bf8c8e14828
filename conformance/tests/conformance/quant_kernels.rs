//! The int8 kernels of `ember_runtime::quant` (dense, convolution,
//! depthwise, max and average pooling, the dot products) against the naive
//! `i64` references of `ember_conformance::reference::quant`: exact equality
//! over random shapes, zero points, scales and activation bounds, including
//! saturation corners (all-extreme inputs and weights, multipliers that clamp).

use ember_conformance::reference::quant::{StageRef, WindowRef, conv_ref, dense_ref, depthwise_ref, pool_ref};
use ember_conformance::rng;
use ember_runtime::Error;
use ember_runtime::quant::dot::{dot_i8, dot_i8_dsp, dot_i8_portable, dot4_i8};
use ember_runtime::quant::{
    Conv2dGeometry, OutputStage, QConv2d, QDense, QDepthwise, QuantizedMultiplier, avg_pool_i8, fold_input_offset,
    max_pool_i8,
};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Random int8 values; `corner` draws only the extremes −128 and 127.
fn i8s(r: &mut ChaCha8Rng, n: usize, corner: bool) -> Vec<i8> {
    (0..n).map(|_| if corner { if r.random() { 127 } else { -128 } } else { r.random() }).collect()
}

/// Per-channel multipliers, the stage for the kernel and the same for the reference.
fn stage(r: &mut ChaCha8Rng, channels: usize, taps: usize) -> (Vec<QuantizedMultiplier>, OutputStage, StageRef) {
    // scales around 1 / (taps · 128) keep most outputs in range; some are 30x larger to saturate
    let ms: Vec<QuantizedMultiplier> = (0..channels)
        .map(|_| {
            let big = if r.random_range(0..4) == 0 { 30.0 } else { 1.0 };
            QuantizedMultiplier::from_real(big * r.random_range(0.2..3.0) / (taps as f64 * 64.0))
        })
        .collect();
    let zero_point = r.random_range(-128..=127);
    let st = match r.random_range(0..3) {
        0 => OutputStage::linear(zero_point),
        1 => OutputStage::relu(zero_point),
        _ => OutputStage { zero_point, act_min: r.random_range(-128..0), act_max: r.random_range(0..=127) },
    };
    let sref = StageRef {
        m: ms.iter().map(|m| (m.multiplier, m.shift)).collect(),
        zero_point,
        lo: st.act_min,
        hi: st.act_max,
    };
    (ms, st, sref)
}

fn bias(r: &mut ChaCha8Rng, n: usize) -> Vec<i32> {
    (0..n).map(|_| r.random_range(-20_000..20_000)).collect()
}

#[test]
fn dot_products_equal_the_i64_sum() {
    let mut r = rng(10);
    for case in 0..500 {
        let n = r.random_range(0..70);
        let (a, b) = (i8s(&mut r, n, case % 5 == 0), i8s(&mut r, n, case % 7 == 0));
        let want: i64 = a.iter().zip(&b).map(|(&x, &y)| x as i64 * y as i64).sum();
        assert_eq!(dot_i8_portable(&a, &b) as i64, want, "n {n}");
        assert_eq!(dot_i8_dsp(&a, &b) as i64, want, "n {n}");
        assert_eq!(dot_i8(&a, &b) as i64, want, "n {n}");
        let rows: Vec<Vec<i8>> = (0..4).map(|k| i8s(&mut r, n + k % 2, case % 3 == 0)).collect();
        let got = dot4_i8(&a, [&rows[0], &rows[1], &rows[2], &rows[3]]);
        for (g, row) in got.iter().zip(&rows) {
            let want: i64 = a.iter().zip(row).map(|(&x, &y)| x as i64 * y as i64).sum();
            assert_eq!(*g as i64, want, "dot4, n {n}");
        }
    }
}

#[test]
fn dense_equals_reference() {
    let mut r = rng(11);
    for case in 0..300 {
        let (n, out) = (r.random_range(1..80), r.random_range(1..20));
        let corner = case % 6 == 0;
        let x = i8s(&mut r, n, corner);
        let w = i8s(&mut r, n * out, corner);
        let b = bias(&mut r, out);
        let zp_x = if corner { -128 } else { r.random_range(-128..=127) };
        let (ms, st, sref) = stage(&mut r, out, n);
        let mut folded = vec![0; out];
        fold_input_offset(&w, &b, zp_x, n, &mut folded).unwrap();
        let per_tensor = case % 4 == 0;
        let ms = if per_tensor { vec![ms[0]; 1] } else { ms };
        let layer = QDense::new(&w, &folded, &ms, n, st).unwrap();
        let mut y = vec![0i8; out];
        layer.forward(&x, &mut y).unwrap();
        let sref = if per_tensor { StageRef { m: vec![sref.m[0]; out], ..sref } } else { sref };
        assert_eq!(y, dense_ref(&x, zp_x, &w, &b, &sref), "case {case}: {n} -> {out}");
    }
}

#[test]
fn dense_rejects_mismatched_parts() {
    let (w, b, ms) = ([1i8; 6], [0i32; 2], [QuantizedMultiplier::from_real(0.1); 2]);
    assert_eq!(QDense::new(&w, &b, &ms, 4, OutputStage::linear(0)).unwrap_err(), Error::LayerShape);
    assert_eq!(QDense::new(&w, &b, &ms[..0], 3, OutputStage::linear(0)).unwrap_err(), Error::LayerShape);
    let layer = QDense::new(&w, &b, &ms, 3, OutputStage::linear(0)).unwrap();
    assert_eq!(layer.forward(&[0; 4], &mut [0; 2]).unwrap_err(), Error::InputShape);
    assert_eq!(fold_input_offset(&w, &b, 1, 4, &mut [0; 2]).unwrap_err(), Error::LayerShape);
    let huge = [i32::MIN; 2];
    assert_eq!(fold_input_offset(&w, &huge, 127, 3, &mut [0; 2]).unwrap_err(), Error::LayerShape, "bias overflow");
}

fn window(r: &mut ChaCha8Rng, max_c: usize) -> (WindowRef, Conv2dGeometry) {
    loop {
        let hwc = [r.random_range(1..9), r.random_range(1..9), r.random_range(1..max_c)];
        let k = [r.random_range(1..4), r.random_range(1..4)];
        let s = [r.random_range(1..3), r.random_range(1..3)];
        let pads = [0; 4].map(|_| r.random_range(0..2));
        let g = Conv2dGeometry {
            in_h: hwc[0],
            in_w: hwc[1],
            in_c: hwc[2],
            k_h: k[0],
            k_w: k[1],
            stride_h: s[0],
            stride_w: s[1],
            pads,
        };
        if g.output().is_some() {
            return (WindowRef { hwc, k, s, pads }, g);
        }
    }
}

#[test]
fn conv2d_equals_reference() {
    let mut r = rng(12);
    for case in 0..200 {
        let (wr, g) = window(&mut r, 6);
        let oc = r.random_range(1..6);
        let corner = case % 6 == 0;
        let taps = g.k_h * g.k_w * g.in_c;
        let x = i8s(&mut r, g.in_h * g.in_w * g.in_c, corner);
        let w = i8s(&mut r, oc * taps, corner);
        let b = bias(&mut r, oc);
        let zp_x = if corner { 127 } else { r.random_range(-128..=127) };
        let (ms, st, sref) = stage(&mut r, oc, taps);
        let layer = QConv2d { geometry: g, weights: &w, bias: &b, multipliers: &ms, input_zero_point: zp_x, stage: st };
        let (oh, ow) = g.output().unwrap();
        let mut y = vec![0i8; oh * ow * oc];
        layer.forward(&x, &mut y).unwrap();
        assert_eq!(y, conv_ref(&x, zp_x, wr, &w, &b, &sref), "case {case}: {g:?} -> {oc}");
        assert_eq!(layer.forward(&x[1..], &mut y).unwrap_err(), Error::InputShape);
    }
}

#[test]
fn depthwise_equals_reference() {
    let mut r = rng(13);
    for case in 0..200 {
        let (wr, g) = window(&mut r, 6);
        let mult = r.random_range(1..3);
        let oc = g.in_c * mult;
        let corner = case % 6 == 0;
        let x = i8s(&mut r, g.in_h * g.in_w * g.in_c, corner);
        let w = i8s(&mut r, g.k_h * g.k_w * oc, corner);
        let b = bias(&mut r, oc);
        let zp_x = r.random_range(-128..=127);
        let (ms, st, sref) = stage(&mut r, oc, g.k_h * g.k_w);
        let layer = QDepthwise {
            geometry: g,
            multiplier: mult,
            weights: &w,
            bias: &b,
            multipliers: &ms,
            input_zero_point: zp_x,
            stage: st,
        };
        let (oh, ow) = g.output().unwrap();
        let mut y = vec![0i8; oh * ow * oc];
        layer.forward(&x, &mut y).unwrap();
        assert_eq!(y, depthwise_ref(&x, zp_x, wr, mult, &w, &b, &sref), "case {case}: {g:?} x{mult}");
        let bad = QDepthwise { multiplier: 0, ..layer };
        assert_eq!(bad.forward(&x, &mut y).unwrap_err(), Error::LayerShape);
    }
}

#[test]
fn pooling_equals_reference() {
    let mut r = rng(14);
    for case in 0..300 {
        let (wr, g) = window(&mut r, 5);
        let x = i8s(&mut r, g.in_h * g.in_w * g.in_c, case % 5 == 0);
        let (oh, ow) = g.output().unwrap();
        let mut y = vec![0i8; oh * ow * g.in_c];
        max_pool_i8(&g, &x, &mut y).unwrap();
        assert_eq!(y, pool_ref(&x, wr, false, -128, 127), "max case {case}: {g:?}");
        let (lo, hi) = if case % 3 == 0 { (r.random_range(-128..0), r.random_range(0..=127)) } else { (-128, 127) };
        avg_pool_i8(&g, &x, &mut y, lo, hi).unwrap();
        assert_eq!(y, pool_ref(&x, wr, true, lo, hi), "avg case {case}: {g:?}");
    }
    let g = Conv2dGeometry { in_h: 2, in_w: 2, in_c: 1, k_h: 3, k_w: 3, stride_h: 1, stride_w: 1, pads: [0; 4] };
    assert_eq!(max_pool_i8(&g, &[0; 4], &mut [0; 1]).unwrap_err(), Error::LayerShape, "window larger than input");
}

/// The accumulators of the int8 layers (`quant::int8_acc`) against naive
/// `i64` sums, padded taps reading the zero point: every padding, stride and
/// dilation, pixel and filter counts odd and even, windows beyond the im2row
/// buffer and zero points outside `i8` (the tap-by-tap paths).
#[test]
fn int8_layer_accumulators_equal_the_i64_sums() {
    use ember_runtime::quant::int8_acc::{conv_acc, conv_acc_with, depthwise_acc};
    use ember_runtime::spec::{Padding, Window2d};
    let mut r = rng(15);
    for case in 0..300 {
        let big = case % 25 == 0;
        let (h, w, c) = (r.random_range(1..8), r.random_range(1..8), if big { 70 } else { r.random_range(1..10) });
        let k = [r.random_range(1..4), r.random_range(1..4)];
        let s = [r.random_range(1..3), r.random_range(1..3)];
        let d = [r.random_range(1..3), r.random_range(1..3)];
        let pad = if r.random() { Padding::Same } else { Padding::Valid };
        let Some(g) = Window2d::general(h, w, c, k, s, d, pad) else { continue };
        let oc = r.random_range(1..8);
        let x = i8s(&mut r, h * w * c, case % 6 == 0);
        let zp = if case % 17 == 0 { 300 } else { r.random_range(-128..=127) };
        let kb = bias(&mut r, oc);
        let naive = |pix: usize, tap: &dyn Fn(usize, usize, usize) -> i64| -> i64 {
            let (oy, ox) = (pix / g.ow, pix % g.ow);
            let mut acc = 0;
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    let at = g.row(oy, ky).zip(g.col(ox, kx)).map(|(iy, ix)| (iy * g.w + ix) * g.c);
                    acc += tap(ky, kx, at.map_or(usize::MAX, |a| a));
                }
            }
            acc
        };
        let xv = |at: usize, ch: usize| if at == usize::MAX { zp as i64 } else { x[at + ch] as i64 };
        // convolution: weights [oc, kh, kw, c]
        let wc = i8s(&mut r, oc * g.kh * g.kw * c, case % 6 == 0);
        let mut got = vec![None; g.oh * g.ow * oc];
        conv_acc(&g, &wc, &kb, zp, &x, |i, ch, a| got[i] = Some((ch, a)));
        let mut ext = vec![None; g.oh * g.ow * oc];
        conv_acc_with(true, &g, &wc, &kb, zp, &x, |i, ch, a| ext[i] = Some((ch, a)));
        assert_eq!(ext, got, "conv case {case}: the extended path");
        for (i, v) in got.iter().enumerate() {
            let (pix, ch) = (i / oc, i % oc);
            let want = kb[ch] as i64
                + naive(pix, &|ky, kx, at| {
                    (0..c).map(|j| xv(at, j) * wc[((ch * g.kh + ky) * g.kw + kx) * c + j] as i64).sum()
                });
            assert_eq!(*v, Some((ch, want as i32)), "conv case {case}: {g:?} -> {oc}, output {i}");
        }
        // depthwise: weights [kh, kw, c], one output channel per input channel
        let wd = i8s(&mut r, g.kh * g.kw * c, case % 6 == 0);
        let kb = bias(&mut r, c);
        let mut got = vec![None; g.oh * g.ow * c];
        depthwise_acc(&g, &wd, &kb, zp, &x, |i, ch, a| got[i] = Some((ch, a)));
        for (i, v) in got.iter().enumerate() {
            let (pix, ch) = (i / c, i % c);
            let want = kb[ch] as i64 + naive(pix, &|ky, kx, at| xv(at, ch) * wd[(ky * g.kw + kx) * c + ch] as i64);
            assert_eq!(*v, Some((ch, want as i32)), "depthwise case {case}: {g:?}, output {i}");
        }
    }
}
