//! The image layers of the trainer (Conv2D on its im2col + GEMM path and on
//! its two direct thin paths, MaxPool2D, UpSampling2D, BatchNormalization)
//! against independent references written here: a naive `f64` forward of
//! each layer (a convolution over an explicitly zero-padded map, max pooling
//! that skips padded cells, nearest upsampling, batch normalisation in
//! training mode with the batch's statistics), differentiated by central
//! finite differences of the weighted output `Σ g ⊙ y` like
//! `gradients.rs`; the moving statistics and the inference form of batch
//! normalisation; and the independence of every result from the number of
//! rayon threads.

use std::process::Command;

use ember_conformance::{act_f64, assert_grad, assert_nonzero, assert_parity, central_diff, rng, to_f64, uniform};
use ember_nn::layers::batch_norm::{EPSILON, MOMENTUM};
use ember_nn::layers::{BatchNormLayer, Conv2dLayer, MaxPool2dLayer, TrainLayer, Upsample2dLayer};
use ember_nn::optim::{OptimizerConfig, OptimizerState};
use ember_runtime::spec::{Activation, Dims, LayerSpec, Padding};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// The activations a convolution allows (softmax is refused by the spec).
const ACTIVATIONS: [Activation; 4] = [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh];

/// Smallest `|pre-activation|` allowed next to a ReLU, as in `gradients.rs`.
const KINK_MARGIN: f64 = 0.02;

/// The trainer's patch budget (`conv.rs`, `PATCH_BUDGET`, private there):
/// the GEMM path runs `PATCH_BUDGET / (oh·ow·kh·kw·c)` samples per group.
const PATCH_BUDGET: usize = 1 << 18;

/// Samples per task of the conv thin paths (`crates/nn/src/layers/conv2d.rs`, `THIN_GROUP`).
const THIN_GROUP: usize = 8;

/// Samples per task of max pooling (`crates/nn/src/layers/max_pool2d.rs`, `GROUP`).
const POOL_GROUP: usize = 16;

/// Keras's defaults for `BatchNormalization`.
const KERAS_MOMENTUM: f64 = 0.99;
const KERAS_EPSILON: f32 = 1e-3;

/// Keras padding of a window of `k` cells moved by `stride` over `n` cells:
/// `(out, before, after)`. `"valid"` keeps the windows that fit; `"same"`
/// keeps `ceil(n / stride)` outputs and pads `max((out - 1)·stride + k - n, 0)`
/// cells, `total / 2` before and the rest after.
fn keras_pads(padding: Padding, n: usize, k: usize, stride: usize) -> (usize, usize, usize) {
    match padding {
        Padding::Valid => {
            assert!(k <= n, "a valid window must fit");
            ((n - k) / stride + 1, 0, 0)
        }
        Padding::Same => {
            let out = n.div_ceil(stride);
            let total = ((out - 1) * stride + k).saturating_sub(n);
            (out, total / 2, total - total / 2)
        }
    }
}

#[test]
fn keras_padding_reference() {
    // The reference's own rule on known Keras/TensorFlow cases.
    assert_eq!(keras_pads(Padding::Same, 7, 2, 2), (4, 0, 1));
    assert_eq!(keras_pads(Padding::Same, 5, 2, 2), (3, 0, 1));
    assert_eq!(keras_pads(Padding::Same, 7, 3, 3), (3, 1, 1));
    assert_eq!(keras_pads(Padding::Same, 6, 2, 1), (6, 0, 1));
    assert_eq!(keras_pads(Padding::Same, 6, 3, 1), (6, 1, 1));
    assert_eq!(keras_pads(Padding::Same, 3, 4, 1), (3, 1, 2));
    assert_eq!(keras_pads(Padding::Valid, 7, 2, 2), (3, 0, 0));
    assert_eq!(keras_pads(Padding::Valid, 7, 3, 1), (5, 0, 0));
}

/// Parameter gradients of a layer, in spec order.
fn param_grads(layer: &mut dyn TrainLayer) -> Vec<Vec<f32>> {
    layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect()
}

/// `Σ a ⊙ b`.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Central differences of a per-sample objective, sample by sample: for a
/// layer without coupling between samples, `∂/∂x_s Σ_t f_t(x_t) = ∂f_s/∂x_s`.
fn per_sample_diff(x: &[f64], g: &[f64], in_len: usize, out_len: usize, f: impl Fn(&[f64], &[f64]) -> f64) -> Vec<f64> {
    let mut num = Vec::with_capacity(x.len());
    for (xs, gs) in x.chunks(in_len).zip(g.chunks(out_len)) {
        num.extend(central_diff(|x| f(x, gs), xs));
    }
    num
}

// ---------------------------------------------------------------------------
// Conv2D.
// ---------------------------------------------------------------------------

/// A convolution's sizes and activation (stride 1, HWC samples, OHWI weight).
#[derive(Clone, Copy, Debug)]
struct Conv {
    h: usize,
    w: usize,
    c: usize,
    f: usize,
    kh: usize,
    kw: usize,
    padding: Padding,
    act: Activation,
}

/// A linear convolution `[h, w, c]` → `f` filters of `kh x kw`.
const fn conv(h: usize, w: usize, c: usize, f: usize, kh: usize, kw: usize, padding: Padding) -> Conv {
    Conv { h, w, c, f, kh, kw, padding, act: Activation::Linear }
}

impl Conv {
    fn with(self, act: Activation) -> Self {
        Conv { act, ..self }
    }

    fn spec(&self) -> LayerSpec {
        let u = |v: usize| v as u32;
        LayerSpec::Conv2d {
            height: u(self.h),
            width: u(self.w),
            channels: u(self.c),
            filters: u(self.f),
            kernel_h: u(self.kh),
            kernel_w: u(self.kw),
            padding: self.padding,
            activation: self.act,
        }
    }

    fn out_hw(&self) -> (usize, usize) {
        (keras_pads(self.padding, self.h, self.kh, 1).0, keras_pads(self.padding, self.w, self.kw, 1).0)
    }

    fn in_len(&self) -> usize {
        self.h * self.w * self.c
    }

    fn out_len(&self) -> usize {
        let (oh, ow) = self.out_hw();
        oh * ow * self.f
    }

    fn window(&self) -> usize {
        self.kh * self.kw * self.c
    }

    /// Which of the trainer's code paths runs this shape.
    fn path(&self) -> &'static str {
        if self.f == 1 {
            "one-filter path"
        } else if self.c == 1 {
            "one-channel path"
        } else {
            "GEMM path"
        }
    }

    /// Samples per group of the GEMM path.
    fn gemm_group(&self) -> usize {
        let (oh, ow) = self.out_hw();
        (PATCH_BUDGET / (oh * ow * self.window())).max(1)
    }

    /// ONNX `Conv` of one sample without the activation: the input is
    /// zero-padded explicitly, then every window of the padded map is summed:
    /// `z[oy, ox, f] = b[f] + Σ_{ky, kx, k} W[f, ky, kx, k] · xp[oy + ky, ox + kx, k]`.
    fn pre_f64(&self, weight: &[f64], bias: &[f64], x: &[f64]) -> Vec<f64> {
        let (oh, top, bottom) = keras_pads(self.padding, self.h, self.kh, 1);
        let (ow, left, right) = keras_pads(self.padding, self.w, self.kw, 1);
        let (c, ph, pw) = (self.c, self.h + top + bottom, self.w + left + right);
        assert_eq!((ph + 1 - self.kh, pw + 1 - self.kw), (oh, ow), "the padded map fits the outputs exactly");
        let mut xp = vec![0.0; ph * pw * c];
        for iy in 0..self.h {
            for ix in 0..self.w {
                let (src, dst) = ((iy * self.w + ix) * c, ((iy + top) * pw + ix + left) * c);
                xp[dst..dst + c].copy_from_slice(&x[src..src + c]);
            }
        }
        let mut z = Vec::with_capacity(oh * ow * self.f);
        for oy in 0..oh {
            for ox in 0..ow {
                for (fi, &b) in bias.iter().enumerate() {
                    let mut s = b;
                    for ky in 0..self.kh {
                        for kx in 0..self.kw {
                            let wr = &weight[((fi * self.kh + ky) * self.kw + kx) * c..][..c];
                            s += dot(wr, &xp[((oy + ky) * pw + ox + kx) * c..][..c]);
                        }
                    }
                    z.push(s);
                }
            }
        }
        z
    }

    /// The layer's output for a batch, in `f64`.
    fn forward_f64(&self, weight: &[f64], bias: &[f64], x: &[f64]) -> Vec<f64> {
        x.chunks(self.in_len())
            .flat_map(|xs| {
                let mut z = self.pre_f64(weight, bias, xs);
                act_f64(self.act, &mut z);
                z
            })
            .collect()
    }

    /// `Σ g ⊙ act(conv(x))` over the batch (`act` skipped when `pre`): its
    /// gradients are what `backward(g, .., pre, ..)` must return.
    fn weighted(&self, pre: bool, weight: &[f64], bias: &[f64], x: &[f64], g: &[f64]) -> f64 {
        x.chunks(self.in_len())
            .zip(g.chunks(self.out_len()))
            .map(|(xs, gs)| {
                let mut z = self.pre_f64(weight, bias, xs);
                if !pre {
                    act_f64(self.act, &mut z);
                }
                dot(&z, gs)
            })
            .sum()
    }

    /// Weight `[f, kh, kw, c]`, bias `[f]` and a batch of inputs.
    ///
    /// Next to a ReLU the values lie on grids instead (redrawing until every
    /// pre-activation clears the kink, as `gradients.rs` does, never ends
    /// for batches of thousands of outputs): weights and inputs in steps of
    /// 1/4, biases in `1/32 + (1/16)ℤ`, so that every pre-activation is in
    /// `1/32 + (1/16)ℤ`, exact in `f32` and `f64`, at least `1/32` from 0.
    fn draw(&self, batch: usize, r: &mut ChaCha8Rng) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (nw, nx) = (self.f * self.window(), batch * self.in_len());
        if self.act == Activation::Relu {
            let grid = |r: &mut ChaCha8Rng, n: usize, steps: i32, step: f32, shift: f32| -> Vec<f32> {
                (0..n).map(|_| r.random_range(-steps..=steps) as f32 * step + shift).collect()
            };
            let w = grid(r, nw, 2, 0.25, 0.0);
            let b = grid(r, self.f, 4, 0.0625, 0.03125);
            let x = grid(r, nx, 6, 0.25, 0.0);
            (w, b, x)
        } else {
            let limit = 1.2 / (self.window() as f32).sqrt();
            (uniform(r, nw, -limit, limit), uniform(r, self.f, -0.5, 0.5), uniform(r, nx, -1.5, 1.5))
        }
    }
}

/// Checks a convolution's forward pass and every gradient on one batch:
/// after a pass over other data of another batch size, `backward(g)`
/// against central differences of [`Conv::weighted`] over the weight, the
/// bias and the input; then the same parameter gradients with `need_dx = false`.
fn check_conv(cv: Conv, batch: usize, pre: bool, seed: u64) {
    let mut r = rng(seed);
    let (w, b, x) = cv.draw(batch, &mut r);
    let g = uniform(&mut r, batch * cv.out_len(), -1.0, 1.0);
    let (wf, bf, xf, gf) = (to_f64(&w), to_f64(&b), to_f64(&x), to_f64(&g));
    let what = format!("{cv:?} ({}){} batch {batch}", cv.path(), if pre { " at the pre-activation" } else { "" });
    let want = cv.forward_f64(&wf, &bf, &xf);
    if cv.act == Activation::Relu {
        let z: Vec<f64> = xf.chunks(cv.in_len()).flat_map(|xs| cv.pre_f64(&wf, &bf, xs)).collect();
        assert!(z.iter().all(|z| z.abs() > KINK_MARGIN), "{what}: a pre-activation is at the ReLU kink");
    }

    let mut layer = Conv2dLayer::from_params(&cv.spec(), w.clone(), b.clone());
    assert_eq!(layer.spec(), cv.spec());
    // A first pass over other data and a larger batch: buffers are reused
    // and must not leak into the second.
    let other = batch + 3;
    let (_, _, x_other) = cv.draw(other, &mut r);
    layer.forward(&x_other, other, true);
    layer.backward(&uniform(&mut r, other * cv.out_len(), -1.0, 1.0), other, pre, true);

    let y = layer.forward(&x, batch, true).to_vec();
    assert_parity(&format!("{what}: forward"), &y, &want);
    assert_eq!(layer.forward(&x, batch, false), &y[..], "{what}: inference and training forward differ");
    layer.forward(&x, batch, true);
    let dx = layer.backward(&g, batch, pre, true).to_vec();
    let grads = param_grads(&mut layer);

    let num_w = central_diff(|w| cv.weighted(pre, w, &bf, &xf, &gf), &wf);
    let num_b = central_diff(|b| cv.weighted(pre, &wf, b, &xf, &gf), &bf);
    let num_x = per_sample_diff(&xf, &gf, cv.in_len(), cv.out_len(), |xs, gs| cv.weighted(pre, &wf, &bf, xs, gs));
    assert_nonzero(&format!("{what}: weight"), &num_w);
    assert_nonzero(&format!("{what}: input"), &num_x);
    assert_grad(&format!("{what}: weight"), &grads[0], &num_w);
    assert_grad(&format!("{what}: bias"), &grads[1], &num_b);
    assert_grad(&format!("{what}: input"), &dx, &num_x);

    // Without the input gradient: an empty slice and the same parameter gradients.
    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, pre, false).is_empty(), "{what}: need_dx = false returns an input gradient");
    let again = param_grads(&mut layer);
    assert_grad(&format!("{what}: weight without dx"), &again[0], &num_w);
    assert_eq!(again, grads, "{what}: need_dx = false changes the parameter gradients");
}

/// Small shapes on the GEMM path (`c > 1`, `f > 1`), one group.
const GEMM_SHAPES: [Conv; 6] = [
    conv(5, 6, 3, 4, 3, 3, Padding::Same),
    // Even kernel: no padding before, one after.
    conv(6, 5, 2, 3, 2, 2, Padding::Same),
    // Rectangular kernel: rows padded 1/1, columns 0/1.
    conv(7, 6, 2, 3, 3, 2, Padding::Same),
    conv(6, 7, 3, 2, 3, 2, Padding::Valid),
    // A kernel larger than the input: rows padded 1/2, columns 1/1.
    conv(3, 2, 2, 3, 4, 3, Padding::Same),
    // Pointwise.
    conv(4, 5, 3, 2, 1, 1, Padding::Valid),
];

/// The one-filter path (`f = 1`; with `c = 1` too in the last one). Window
/// rows of 1 to 40 values inside the input (vectorised kernels work in
/// blocks of 8 with a tail).
const ONE_FILTER_SHAPES: [Conv; 7] = [
    conv(7, 6, 3, 1, 3, 3, Padding::Same),
    conv(6, 5, 2, 1, 2, 2, Padding::Same),
    conv(7, 6, 3, 1, 3, 2, Padding::Valid),
    conv(4, 3, 2, 1, 4, 3, Padding::Same),
    conv(6, 7, 8, 1, 3, 3, Padding::Same),
    conv(5, 6, 8, 1, 3, 5, Padding::Same),
    conv(6, 6, 1, 1, 3, 3, Padding::Same),
];

/// The one-channel path (`c = 1`, `f > 1`), with filter counts that may
/// have kernels of their own (8, 16, 32) and others.
const ONE_CHANNEL_SHAPES: [Conv; 7] = [
    conv(7, 6, 1, 4, 3, 3, Padding::Same),
    conv(6, 5, 1, 3, 2, 2, Padding::Same),
    conv(7, 6, 1, 3, 3, 2, Padding::Valid),
    conv(3, 4, 1, 2, 4, 5, Padding::Same),
    conv(6, 5, 1, 8, 3, 3, Padding::Same),
    conv(5, 6, 1, 16, 2, 2, Padding::Same),
    conv(5, 5, 1, 32, 3, 2, Padding::Valid),
];

/// Batch of the thin-path checks: three tasks of [`THIN_GROUP`], the last one partial.
const THIN_BATCH: usize = 2 * THIN_GROUP + 3;

fn check_shapes(shapes: &[Conv], batch: usize, seed: u64) {
    for (i, &shape) in shapes.iter().enumerate() {
        for (j, act) in ACTIVATIONS.into_iter().enumerate() {
            check_conv(shape.with(act), batch, false, seed + 10 * i as u64 + j as u64);
        }
        for (j, act) in [Activation::Sigmoid, Activation::Relu].into_iter().enumerate() {
            check_conv(shape.with(act), batch, true, seed + 5000 + 10 * i as u64 + j as u64);
        }
    }
}

#[test]
fn conv_gemm_path_gradients() {
    assert!(GEMM_SHAPES.iter().all(|s| s.f > 1 && s.c > 1));
    check_shapes(&GEMM_SHAPES, 5, 100);
    check_shapes(&GEMM_SHAPES[..2], 1, 200);
}

#[test]
fn conv_one_filter_path_gradients() {
    assert!(ONE_FILTER_SHAPES.iter().all(|s| s.f == 1));
    check_shapes(&ONE_FILTER_SHAPES, THIN_BATCH, 300);
    check_shapes(&ONE_FILTER_SHAPES[..1], 1, 400);
}

#[test]
fn conv_one_channel_path_gradients() {
    assert!(ONE_CHANNEL_SHAPES.iter().all(|s| s.f > 1 && s.c == 1));
    check_shapes(&ONE_CHANNEL_SHAPES, THIN_BATCH, 500);
    check_shapes(&ONE_CHANNEL_SHAPES[..1], 1, 600);
}

/// A GEMM-path shape with small groups: 36 outputs of 18-value windows,
/// 404 samples per group.
const MULTI_GROUP: Conv = conv(6, 6, 2, 2, 3, 3, Padding::Same);
/// The same on a valid rectangular window: 6x6 outputs of 3x2x3 windows, 404 samples per group.
const MULTI_GROUP_VALID: Conv = conv(8, 7, 3, 2, 3, 2, Padding::Valid);

#[test]
fn conv_gemm_path_gradients_over_several_groups() {
    for (i, shape) in [MULTI_GROUP, MULTI_GROUP_VALID].into_iter().enumerate() {
        let group = shape.gemm_group();
        // Two full groups and a partial third.
        let batch = 2 * group + 13;
        assert!(batch.div_ceil(group) == 3 && group > 1, "{shape:?}: group {group}");
        let s = 700 + 10 * i as u64;
        check_conv(shape.with(Activation::Tanh), batch, false, s);
        check_conv(shape.with(Activation::Relu), batch, false, s + 1);
        check_conv(shape.with(Activation::Sigmoid), batch, true, s + 2);
    }
}

#[test]
fn conv_thin_paths_over_many_tasks() {
    // Five tasks of THIN_GROUP samples and a partial sixth, on a map large
    // enough that a misplaced task would show.
    let batch = 5 * THIN_GROUP + 5;
    check_conv(conv(9, 8, 2, 1, 3, 3, Padding::Same).with(Activation::Tanh), batch, false, 800);
    check_conv(conv(9, 8, 1, 3, 2, 3, Padding::Same).with(Activation::Relu), batch, false, 801);
}

// ---------------------------------------------------------------------------
// MaxPool2D and UpSampling2D.
// ---------------------------------------------------------------------------

/// `n` distinct values (steps of 0.01, far above the finite-difference step)
/// in random order: no ties, so the maximum of every window is unique and
/// stays the maximum under the perturbations. All negative when `negative`
/// (then zero padding, if it took part, would win every padded window).
fn distinct(n: usize, negative: bool, r: &mut ChaCha8Rng) -> Vec<f32> {
    let offset = if negative { n as f32 * 0.01 + 0.5 } else { n as f32 * 0.005 };
    let mut v: Vec<f32> = (0..n).map(|i| i as f32 * 0.01 - offset).collect();
    for i in (1..n).rev() {
        v.swap(i, r.random_range(0..=i));
    }
    v
}

/// ONNX `MaxPool` (`kernel = strides = pool`) of one HWC sample with Keras
/// padding: the largest input value under each window, padded cells skipped.
fn max_pool_f64(x: &[f64], [h, w, c]: [usize; 3], pool: usize, padding: Padding) -> Vec<f64> {
    let (oh, top, _) = keras_pads(padding, h, pool, pool);
    let (ow, left, _) = keras_pads(padding, w, pool, pool);
    let mut y = Vec::with_capacity(oh * ow * c);
    for oy in 0..oh {
        for ox in 0..ow {
            for k in 0..c {
                let mut m = f64::NEG_INFINITY;
                for py in oy * pool..(oy + 1) * pool {
                    for px in ox * pool..(ox + 1) * pool {
                        // (py, px) in the padded map; padded cells take no part.
                        let (Some(iy), Some(ix)) = (py.checked_sub(top), px.checked_sub(left)) else { continue };
                        if iy < h && ix < w {
                            m = m.max(x[(iy * w + ix) * c + k]);
                        }
                    }
                }
                assert!(m.is_finite(), "window ({oy}, {ox}) holds no input cell");
                y.push(m);
            }
        }
    }
    y
}

fn check_max_pool(hwc: [usize; 3], pool: usize, padding: Padding, batch: usize, negative: bool, seed: u64) {
    let [h, w, c] = hwc;
    let spec =
        LayerSpec::MaxPool2d { height: h as u32, width: w as u32, channels: c as u32, pool: pool as u32, padding };
    let (oh, ow) = (keras_pads(padding, h, pool, pool).0, keras_pads(padding, w, pool, pool).0);
    let (in_len, out_len) = (h * w * c, oh * ow * c);
    assert_eq!((spec.input_len(), spec.output_len()), (in_len, out_len), "{spec:?}: sizes");
    let what = format!("{spec:?} batch {batch}{}", if negative { " (all negative)" } else { "" });
    let mut r = rng(seed);
    let x = distinct(batch * in_len, negative, &mut r);
    let g = uniform(&mut r, batch * out_len, -1.0, 1.0);
    let (xf, gf) = (to_f64(&x), to_f64(&g));

    let mut layer = MaxPool2dLayer::new(&spec);
    assert_eq!(layer.spec(), spec);
    assert!(layer.params().is_empty() && layer.params_mut().is_empty());
    let other = batch + 5;
    layer.forward(&distinct(other * in_len, !negative, &mut r), other, true);
    layer.backward(&uniform(&mut r, other * out_len, -1.0, 1.0), other, false, true);

    let y = layer.forward(&x, batch, true).to_vec();
    let want: Vec<f64> = xf.chunks(in_len).flat_map(|xs| max_pool_f64(xs, hwc, pool, padding)).collect();
    // A maximum is one of the inputs: exact.
    assert_eq!(to_f64(&y), want, "{what}: forward");
    let dx = layer.backward(&g, batch, false, true).to_vec();
    let num = per_sample_diff(&xf, &gf, in_len, out_len, |xs, gs| dot(&max_pool_f64(xs, hwc, pool, padding), gs));
    assert_nonzero(&what, &num);
    assert_grad(&format!("{what}: input"), &dx, &num);
    // Every output gradient lands on exactly one input: the sums agree.
    let (sum_dx, sum_g) = (dx.iter().map(|&v| v as f64).sum::<f64>(), gf.iter().sum::<f64>());
    assert!((sum_dx - sum_g).abs() < 1e-4 * (1.0 + sum_g.abs()), "{what}: Σ dx {sum_dx} vs Σ dy {sum_g}");

    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, false, false).is_empty(), "{what}: need_dx = false");
}

#[test]
fn max_pool_same_gradients() {
    let batch = POOL_GROUP + 4;
    for (i, negative) in [false, true].into_iter().enumerate() {
        let s = 100 * i as u64;
        // 7 → 4 and 5 → 3 with pool 2: one padded row/column after.
        check_max_pool([7, 7, 3], 2, Padding::Same, batch, negative, s + 1);
        check_max_pool([5, 5, 2], 2, Padding::Same, batch, negative, s + 2);
        check_max_pool([7, 5, 2], 2, Padding::Same, 3, negative, s + 3);
        // Pool 3: 7 → 3 padded 1/1 (a padded row and column before), 8 → 3 padded 0/1.
        check_max_pool([7, 8, 3], 3, Padding::Same, batch, negative, s + 4);
        check_max_pool([5, 7, 1], 3, Padding::Same, 3, negative, s + 5);
        // Exact fit: no padding.
        check_max_pool([6, 4, 2], 2, Padding::Same, 2, negative, s + 6);
    }
    assert_eq!(keras_pads(Padding::Same, 7, 2, 2).0, 4);
    assert_eq!(keras_pads(Padding::Same, 5, 2, 2).0, 3);
}

#[test]
fn max_pool_valid_gradients() {
    let batch = POOL_GROUP + 4;
    check_max_pool([7, 7, 3], 2, Padding::Valid, batch, false, 201);
    check_max_pool([7, 6, 2], 2, Padding::Valid, 3, true, 202);
    check_max_pool([7, 8, 3], 3, Padding::Valid, batch, false, 203);
    check_max_pool([6, 5, 1], 3, Padding::Valid, 2, true, 204);
}

/// Nearest upsampling of one HWC sample: output `(oy, ox)` copies input
/// `(oy / factor, ox / factor)`.
fn upsample_f64(x: &[f64], [h, w, c]: [usize; 3], factor: usize) -> Vec<f64> {
    let mut y = Vec::with_capacity(h * w * c * factor * factor);
    for oy in 0..h * factor {
        for ox in 0..w * factor {
            let at = ((oy / factor) * w + ox / factor) * c;
            y.extend_from_slice(&x[at..at + c]);
        }
    }
    y
}

fn check_upsample(hwc: [usize; 3], factor: usize, batch: usize, seed: u64) {
    let [h, w, c] = hwc;
    let spec = LayerSpec::Upsample2d { height: h as u32, width: w as u32, channels: c as u32, factor: factor as u32 };
    let (in_len, out_len) = (h * w * c, h * w * c * factor * factor);
    assert_eq!((spec.input_len(), spec.output_len()), (in_len, out_len), "{spec:?}: sizes");
    let what = format!("{spec:?} batch {batch}");
    let mut r = rng(seed);
    let x = uniform(&mut r, batch * in_len, -1.5, 1.5);
    let g = uniform(&mut r, batch * out_len, -1.0, 1.0);
    let (xf, gf) = (to_f64(&x), to_f64(&g));

    let mut layer = Upsample2dLayer::new(h, w, c, factor);
    assert_eq!(layer.spec(), spec);
    let other = batch + 2;
    layer.forward(&uniform(&mut r, other * in_len, -1.0, 1.0), other, true);
    layer.backward(&uniform(&mut r, other * out_len, -1.0, 1.0), other, false, true);

    let y = layer.forward(&x, batch, true).to_vec();
    let want: Vec<f64> = xf.chunks(in_len).flat_map(|xs| upsample_f64(xs, hwc, factor)).collect();
    assert_eq!(to_f64(&y), want, "{what}: forward (copies)");
    let dx = layer.backward(&g, batch, false, true).to_vec();
    let num = per_sample_diff(&xf, &gf, in_len, out_len, |xs, gs| dot(&upsample_f64(xs, hwc, factor), gs));
    assert_nonzero(&what, &num);
    assert_grad(&format!("{what}: input"), &dx, &num);

    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, false, false).is_empty(), "{what}: need_dx = false");
}

#[test]
fn upsample_gradients() {
    check_upsample([3, 4, 2], 2, 5, 1);
    check_upsample([3, 4, 2], 3, 5, 2);
    check_upsample([2, 5, 1], 2, 1, 3);
    check_upsample([4, 3, 3], 3, 19, 4);
}

// ---------------------------------------------------------------------------
// BatchNormalization.
// ---------------------------------------------------------------------------

/// The batch's statistics per channel (the last dimension): mean and biased
/// variance (divided by the count), over every sample and position.
fn batch_stats(x: &[f64], c: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (x.len() / c) as f64;
    let mut mean = vec![0.0; c];
    for (i, v) in x.iter().enumerate() {
        mean[i % c] += v / n;
    }
    let mut var = vec![0.0; c];
    for (i, v) in x.iter().enumerate() {
        var[i % c] += (v - mean[i % c]).powi(2) / n;
    }
    (mean, var)
}

/// Batch normalisation in training mode: `y = (x - μ_B) / sqrt(σ²_B + ε) · γ + β`
/// with the batch's statistics.
fn bn_train_f64(x: &[f64], gamma: &[f64], beta: &[f64], eps: f64) -> Vec<f64> {
    let c = gamma.len();
    let (mean, var) = batch_stats(x, c);
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            let k = i % c;
            (v - mean[k]) / (var[k] + eps).sqrt() * gamma[k] + beta[k]
        })
        .collect()
}

/// Batch normalisation in inference form, on given statistics.
fn bn_infer_f64(x: &[f64], gamma: &[f64], beta: &[f64], mean: &[f64], var: &[f64], eps: f64) -> Vec<f64> {
    let c = gamma.len();
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            let k = i % c;
            (v - mean[k]) / (var[k] + eps).sqrt() * gamma[k] + beta[k]
        })
        .collect()
}

/// Random `gamma`, `beta`, moving mean and moving variance.
fn bn_params(c: usize, r: &mut ChaCha8Rng) -> [Vec<f32>; 4] {
    [uniform(r, c, 0.5, 1.5), uniform(r, c, -0.5, 0.5), uniform(r, c, -0.5, 0.5), uniform(r, c, 0.5, 1.5)]
}

fn bn_layer(dims: &[u32], params: &[Vec<f32>; 4]) -> BatchNormLayer {
    let dims = Dims::new(dims).expect("valid dims");
    let layer = BatchNormLayer::from_params(dims, KERAS_EPSILON, params.clone());
    assert_eq!(layer.spec(), LayerSpec::BatchNorm { dims, epsilon_bits: KERAS_EPSILON.to_bits() });
    layer
}

#[test]
fn batch_norm_uses_the_keras_defaults() {
    assert_eq!(MOMENTUM as f64, KERAS_MOMENTUM as f32 as f64);
    assert_eq!(EPSILON, KERAS_EPSILON);
    let layer = BatchNormLayer::new(Dims::d1(3), EPSILON);
    let p: Vec<Vec<f32>> = layer.params().into_iter().map(|p| p.to_vec()).collect();
    assert_eq!(p, [vec![1.0; 3], vec![0.0; 3], vec![0.0; 3], vec![1.0; 3]], "gamma 1, beta 0, mean 0, var 1");
}

/// Training-mode gradients of a batch normalisation over `x`, `gamma` and
/// `beta` against central differences of [`bn_train_f64`] (the batch's
/// statistics couple the samples: differences over the whole batch); the
/// moving statistics get zero gradients.
fn check_batch_norm(dims: &[u32], batch: usize, lo: f32, hi: f32, seed: u64) {
    let c = *dims.last().unwrap() as usize;
    let len: usize = dims.iter().map(|&d| d as usize).product();
    let what = format!("batchnorm {dims:?} batch {batch} x in [{lo}, {hi})");
    let mut r = rng(seed);
    let params = bn_params(c, &mut r);
    let x = uniform(&mut r, batch * len, lo, hi);
    let g = uniform(&mut r, batch * len, -1.0, 1.0);
    let (xf, gf, gamma, beta) = (to_f64(&x), to_f64(&g), to_f64(&params[0]), to_f64(&params[1]));
    let eps = KERAS_EPSILON as f64;

    let mut layer = bn_layer(dims, &params);
    let other = batch + 2;
    layer.forward(&uniform(&mut r, other * len, -2.0, 2.0), other, true);
    layer.backward(&uniform(&mut r, other * len, -1.0, 1.0), other, false, true);

    let y = layer.forward(&x, batch, true).to_vec();
    assert_parity(&format!("{what}: training forward"), &y, &bn_train_f64(&xf, &gamma, &beta, eps));
    let dx = layer.backward(&g, batch, false, true).to_vec();
    let grads = param_grads(&mut layer);
    let num_x = central_diff(|x| dot(&bn_train_f64(x, &gamma, &beta, eps), &gf), &xf);
    let num_gamma = central_diff(|gm| dot(&bn_train_f64(&xf, gm, &beta, eps), &gf), &gamma);
    let num_beta = central_diff(|bt| dot(&bn_train_f64(&xf, &gamma, bt, eps), &gf), &beta);
    for (name, num) in [("x", &num_x), ("gamma", &num_gamma), ("beta", &num_beta)] {
        assert_nonzero(&format!("{what}: {name}"), num);
    }
    assert_grad(&format!("{what}: input"), &dx, &num_x);
    assert_grad(&format!("{what}: gamma"), &grads[0], &num_gamma);
    assert_grad(&format!("{what}: beta"), &grads[1], &num_beta);
    assert_eq!(grads.len(), 4, "{what}: gamma, beta, mean, var");
    assert!(grads[2..].iter().all(|g| g.iter().all(|&v| v == 0.0)), "{what}: moving statistics get gradients");

    // The pre-activation flag means nothing here; need_dx = false keeps the parameter gradients.
    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, true, false).is_empty(), "{what}: need_dx = false");
    assert_eq!(param_grads(&mut layer), grads, "{what}: need_dx = false changes the parameter gradients");
}

#[test]
fn batch_norm_gradients_on_a_map() {
    check_batch_norm(&[3, 4, 3], 5, -1.5, 1.5, 1);
    check_batch_norm(&[2, 3, 4], 2, -1.0, 2.0, 2);
    // Far from zero mean: the variance must not cancel badly.
    check_batch_norm(&[3, 3, 2], 4, 3.0, 6.0, 3);
    // One sample: the statistics are over the positions only.
    check_batch_norm(&[4, 4, 2], 1, -1.0, 1.0, 4);
}

#[test]
fn batch_norm_gradients_on_a_vector() {
    check_batch_norm(&[6], 7, -1.5, 1.5, 11);
    check_batch_norm(&[1], 5, -1.0, 1.0, 12);
    check_batch_norm(&[5], 3, 2.0, 4.0, 13);
}

/// `|got - want| <= 1e-6 · (|old| + |stat|) + 1e-9`: the moving average is
/// computed in `f32` (`1 - 0.99f32` is 1e-6 off 0.01, relative).
fn assert_moving(what: &str, got: &[f32], old: &[f64], stat: &[f64]) {
    for k in 0..got.len() {
        let want = KERAS_MOMENTUM * old[k] + (1.0 - KERAS_MOMENTUM) * stat[k];
        let tol = 1e-6 * (old[k].abs() + stat[k].abs()) + 1e-9;
        let got = got[k] as f64;
        assert!((got - want).abs() <= tol, "{what}[{k}]: {got:e}, want {want:e} (diff {:e})", (got - want).abs());
    }
}

fn check_moving_statistics(dims: &[u32], batch: usize, seed: u64) {
    let c = *dims.last().unwrap() as usize;
    let len: usize = dims.iter().map(|&d| d as usize).product();
    let what = format!("batchnorm {dims:?} batch {batch}");
    let mut r = rng(seed);
    let params = bn_params(c, &mut r);
    let mut layer = bn_layer(dims, &params);
    let (mut mean, mut var) = (to_f64(&params[2]), to_f64(&params[3]));
    for step in 0..3 {
        let x = uniform(&mut r, batch * len, -1.0 + step as f32, 2.0 + 0.5 * step as f32);
        let (bm, bv) = batch_stats(&to_f64(&x), c);
        layer.forward(&x, batch, true);
        let p = layer.params();
        assert_moving(&format!("{what}: moving mean after step {step}"), p[2], &mean, &bm);
        assert_moving(&format!("{what}: moving variance (biased) after step {step}"), p[3], &var, &bv);
        assert_eq!((p[0], p[1]), (&params[0][..], &params[1][..]), "{what}: the forward pass changes gamma or beta");
        (mean, var) = (to_f64(p[2]), to_f64(p[3]));
    }

    // Inference: the moving statistics, left as they are.
    let stats: Vec<Vec<f32>> = layer.params()[2..].iter().map(|p| p.to_vec()).collect();
    let x = uniform(&mut r, (batch + 1) * len, -2.0, 3.0);
    let y = layer.forward(&x, batch + 1, false).to_vec();
    let (gamma, beta) = (to_f64(&params[0]), to_f64(&params[1]));
    let want = bn_infer_f64(&to_f64(&x), &gamma, &beta, &mean, &var, KERAS_EPSILON as f64);
    assert_parity(&format!("{what}: inference forward"), &y, &want);
    let after: Vec<Vec<f32>> = layer.params()[2..].iter().map(|p| p.to_vec()).collect();
    assert_eq!(after, stats, "{what}: an inference pass moves the statistics");
}

#[test]
fn batch_norm_moving_statistics_and_inference() {
    check_moving_statistics(&[3, 4, 3], 5, 21);
    check_moving_statistics(&[6], 9, 22);
    check_moving_statistics(&[2, 2, 1], 3, 23);
}

#[test]
fn optimizer_steps_leave_the_moving_statistics() {
    let configs = [
        OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: true },
        OptimizerConfig::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 },
        OptimizerConfig::Rmsprop { lr: 0.01, rho: 0.9, eps: 1e-7 },
        OptimizerConfig::Adadelta { lr: 1.0, rho: 0.95, eps: 1e-7 },
    ];
    for (i, cfg) in configs.into_iter().enumerate() {
        let mut r = rng(30 + i as u64);
        let dims = [3, 2, 4];
        let params = bn_params(4, &mut r);
        let mut layer = bn_layer(&dims, &params);
        let mut state = OptimizerState::default();
        for step in 0..2 {
            let x = uniform(&mut r, 6 * 24, -1.0, 2.0);
            layer.forward(&x, 6, true);
            layer.backward(&uniform(&mut r, 6 * 24, -1.0, 1.0), 6, false, true);
            let before: Vec<Vec<f32>> = layer.params().into_iter().map(|p| p.to_vec()).collect();
            state.update(&cfg, &mut layer.params_mut(), 0.05);
            let after: Vec<Vec<f32>> = layer.params().into_iter().map(|p| p.to_vec()).collect();
            let bits = |v: &[Vec<f32>]| -> Vec<Vec<u32>> {
                v.iter().map(|p| p.iter().map(|x| x.to_bits()).collect()).collect()
            };
            assert_eq!(bits(&after[2..]), bits(&before[2..]), "{cfg:?} step {step}: the moving statistics moved");
            assert_ne!(after[0], before[0], "{cfg:?} step {step}: gamma did not move");
            assert_ne!(after[1], before[1], "{cfg:?} step {step}: beta did not move");
        }
    }
}

// ---------------------------------------------------------------------------
// Independence of the number of threads.
// ---------------------------------------------------------------------------

/// Names the child process run of [`thread_count_child`] and where it
/// writes its results.
const CHILD_ENV: &str = "EMBER_GRADIENTS_CONV_DUMP";
const CHILD_TEST: &str = "gradients_conv::thread_count_child";

/// Forward outputs and every gradient (with and without the input
/// gradient) of each image layer on batches of several tasks and groups.
fn thread_cases() -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    let mut push = |name: String, v: &[f32]| out.push((name, v.to_vec()));
    let thin_batch = 3 * THIN_GROUP + 3;
    let convs = [
        (MULTI_GROUP.with(Activation::Tanh), 2 * MULTI_GROUP.gemm_group() + 13),
        (MULTI_GROUP_VALID.with(Activation::Relu), 2 * MULTI_GROUP_VALID.gemm_group() + 7),
        (ONE_FILTER_SHAPES[0].with(Activation::Sigmoid), thin_batch),
        (ONE_CHANNEL_SHAPES[0].with(Activation::Tanh), thin_batch),
        (ONE_CHANNEL_SHAPES[4].with(Activation::Relu), thin_batch),
        (ONE_CHANNEL_SHAPES[6].with(Activation::Linear), thin_batch),
        (ONE_FILTER_SHAPES[5].with(Activation::Tanh), thin_batch),
    ];
    for (i, (cv, batch)) in convs.into_iter().enumerate() {
        let mut r = rng(900 + i as u64);
        let (w, b, x) = cv.draw(batch, &mut r);
        let g = uniform(&mut r, batch * cv.out_len(), -1.0, 1.0);
        let mut layer = Conv2dLayer::from_params(&cv.spec(), w, b);
        push(format!("conv {i} forward"), layer.forward(&x, batch, true));
        push(format!("conv {i} dx"), layer.backward(&g, batch, false, true));
        for (p, grad) in param_grads(&mut layer).iter().enumerate() {
            push(format!("conv {i} grad {p}"), grad);
        }
        layer.backward(&g, batch, true, false);
        for (p, grad) in param_grads(&mut layer).iter().enumerate() {
            push(format!("conv {i} grad {p} (pre-activation, no dx)"), grad);
        }
    }

    let mut r = rng(950);
    let spec = LayerSpec::MaxPool2d { height: 7, width: 7, channels: 3, pool: 2, padding: Padding::Same };
    let batch = 2 * POOL_GROUP + 5;
    let mut pool = MaxPool2dLayer::new(&spec);
    let x = distinct(batch * spec.input_len(), false, &mut r);
    push("maxpool forward".into(), pool.forward(&x, batch, true));
    let g = uniform(&mut r, batch * spec.output_len(), -1.0, 1.0);
    push("maxpool dx".into(), pool.backward(&g, batch, false, true));

    let mut up = Upsample2dLayer::new(3, 4, 2, 3);
    let x = uniform(&mut r, batch * 24, -1.0, 1.0);
    push("upsample forward".into(), up.forward(&x, batch, true));
    let g = uniform(&mut r, batch * 24 * 9, -1.0, 1.0);
    push("upsample dx".into(), up.backward(&g, batch, false, true));

    let params = bn_params(3, &mut r);
    let mut bn = bn_layer(&[4, 4, 3], &params);
    let x = uniform(&mut r, batch * 48, -1.0, 2.0);
    push("batchnorm forward".into(), bn.forward(&x, batch, true));
    let g = uniform(&mut r, batch * 48, -1.0, 1.0);
    push("batchnorm dx".into(), bn.backward(&g, batch, false, true));
    for (p, grad) in param_grads(&mut bn).iter().enumerate() {
        push(format!("batchnorm grad {p}"), grad);
    }
    push("batchnorm inference".into(), bn.forward(&x, batch, false));
    out
}

/// Run in a child process by [`results_do_not_depend_on_the_thread_count`]
/// (with `RAYON_NUM_THREADS` set): writes [`thread_cases`] as bit patterns
/// to the file named by [`CHILD_ENV`]. Does nothing in an ordinary run.
#[test]
fn thread_count_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let text: String = thread_cases()
        .iter()
        .map(|(name, v)| {
            let hex: Vec<String> = v.iter().map(|x| format!("{:08x}", x.to_bits())).collect();
            format!("{name}\t{}\n", hex.join(" "))
        })
        .collect();
    std::fs::write(path, text).expect("write the dump");
}

/// The crate has no `rayon` dependency to build pools of its own: the
/// test binary runs [`thread_count_child`] again in child processes whose
/// global pool has 1 and 3 threads (`RAYON_NUM_THREADS`), and every bit of
/// their results must equal this process's (default pool).
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let here = thread_cases();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exe = std::env::current_exe().expect("the test binary");
    for threads in [1, 3] {
        let path = dir.path().join(format!("threads-{threads}.txt"));
        let run = Command::new(&exe)
            .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .env("RAYON_NUM_THREADS", threads.to_string())
            .output()
            .expect("run the test binary");
        assert!(
            run.status.success(),
            "child with {threads} threads failed:\n{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        let text = std::fs::read_to_string(&path).expect("the child wrote its results");
        let theirs: Vec<(&str, Vec<u32>)> = text
            .lines()
            .map(|line| {
                let (name, hex) = line.split_once('\t').expect("name, tab, values");
                let bits = hex.split_whitespace().map(|h| u32::from_str_radix(h, 16).expect("hex bits")).collect();
                (name, bits)
            })
            .collect();
        assert_eq!(theirs.len(), here.len(), "{threads} threads: tensor count");
        for ((name, mine), (their_name, bits)) in here.iter().zip(&theirs) {
            assert_eq!(name, their_name);
            assert_eq!(mine.len(), bits.len(), "{name}: length with {threads} threads");
            if let Some(i) = mine.iter().zip(bits).position(|(a, &b)| a.to_bits() != b) {
                panic!("{name}[{i}]: {:e} here, {:e} with {threads} threads", mine[i], f32::from_bits(bits[i]));
            }
        }
    }
}
