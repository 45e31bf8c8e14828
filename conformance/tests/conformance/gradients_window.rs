//! The trainer's 1-D and strided window layers (Conv1d with stride and
//! dilation, Conv2d with stride and dilation, DepthwiseConv2d, MaxPool1d,
//! AveragePool1d/2d, GlobalAveragePool on sequences and maps) against the
//! naive `f64` ONNX references of `ember_conformance::reference`: the
//! forward pass within `F32_PARITY`, and every gradient (weight, bias,
//! input) against central finite differences of the weighted output
//! `Σ g ⊙ y` computed with that reference, as in `gradients_conv.rs`.

use ember_conformance::reference::layer_f64;
use ember_conformance::{assert_grad, assert_nonzero, assert_parity, central_diff, rng, to_f64, uniform};
use ember_nn::layers::from_spec;
use ember_runtime::spec::{Activation, Dims, LayerSpec, Padding};
use rand::seq::SliceRandom;

/// The activations checked (ReLU's kinks make finite differences unreliable
/// on random data; its backward pass is shared with Conv2d and checked there).
const ACTIVATIONS: [Activation; 3] = [Activation::Linear, Activation::Tanh, Activation::Sigmoid];

/// `Σ_s g_s · layer_f64(x_s)` over the batch.
fn weighted(spec: &LayerSpec, params: &[Vec<f64>], x: &[f64], g: &[f64]) -> f64 {
    let (n_in, n_out) = (spec.input_len(), spec.output_len());
    x.chunks(n_in).zip(g.chunks(n_out)).map(|(xs, gs)| dot(&layer_f64(spec, params, xs), gs)).sum()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Inputs with pairwise distinct values at least 0.01 apart (no ties for
/// max pooling), shuffled.
fn distinct(n: usize, seed: u64) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n).map(|i| (i as f32 - n as f32 / 2.0) * 0.01).collect();
    v.shuffle(&mut rng(seed));
    v
}

/// Checks forward and backward of `spec` on a batch against the reference.
fn check(spec: LayerSpec, batch: usize, seed: u64) {
    let what = format!("{spec:?} batch {batch}");
    let mut r = rng(seed);
    let params: Vec<Vec<f32>> = (0..spec.param_count())
        .map(|i| {
            let p = spec.param(i).expect("a parameter");
            let (lo, hi) = if p.name == "bias" { (-0.2, 0.2) } else { (-0.5, 0.5) };
            uniform(&mut r, p.dims.elements(), lo, hi)
        })
        .collect();
    let x = distinct(batch * spec.input_len(), seed + 1);
    let g = uniform(&mut r, batch * spec.output_len(), -1.0, 1.0);
    let pf: Vec<Vec<f64>> = params.iter().map(|p| to_f64(p)).collect();
    let (xf, gf) = (to_f64(&x), to_f64(&g));

    let mut layer = from_spec(&spec, params.clone());
    assert_eq!(layer.spec(), spec, "{what}: spec round trip");
    // A pass over another batch first: buffers are reused.
    let other = batch + 2;
    layer.forward(&distinct(other * spec.input_len(), seed + 2), other, true);
    layer.backward(&uniform(&mut r, other * spec.output_len(), -1.0, 1.0), other, false, true);

    let y = layer.forward(&x, batch, true).to_vec();
    let want: Vec<f64> = xf.chunks(spec.input_len()).flat_map(|xs| layer_f64(&spec, &pf, xs)).collect();
    assert_parity(&format!("{what}: forward"), &y, &want);
    let dx = layer.backward(&g, batch, false, true).to_vec();
    let grads: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    for (i, grad) in grads.iter().enumerate() {
        let num = central_diff(
            |p| {
                let mut ps = pf.clone();
                ps[i] = p.to_vec();
                weighted(&spec, &ps, &xf, &gf)
            },
            &pf[i],
        );
        assert_nonzero(&format!("{what}: param {i}"), &num);
        assert_grad(&format!("{what}: param {i}"), grad, &num);
    }
    let (n_in, n_out) = (spec.input_len(), spec.output_len());
    let mut num_x = Vec::with_capacity(xf.len());
    for (xs, gs) in xf.chunks(n_in).zip(gf.chunks(n_out)) {
        num_x.extend(central_diff(|x| dot(&layer_f64(&spec, &pf, x), gs), xs));
    }
    assert_nonzero(&format!("{what}: input"), &num_x);
    assert_grad(&format!("{what}: input"), &dx, &num_x);
    // Parameter gradients do not depend on need_dx.
    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, false, false).is_empty(), "{what}: need_dx = false gives dx");
    let again: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    assert_eq!(again, grads, "{what}: need_dx changes the parameter gradients");
}

fn conv1d(lc: [u32; 2], filters: u32, ksd: [u32; 3], padding: Padding, activation: Activation) -> LayerSpec {
    let ([length, channels], [kernel, stride, dilation]) = (lc, ksd);
    LayerSpec::Conv1d { length, channels, filters, kernel, stride, dilation, padding, activation }
}

#[test]
fn conv1d_gradients_strided_and_dilated() {
    let shapes = [
        ([12, 3], 4, [3, 1, 1], Padding::Same),
        ([12, 3], 4, [3, 2, 1], Padding::Same),
        ([13, 2], 3, [4, 3, 1], Padding::Valid),
        ([15, 2], 3, [3, 1, 2], Padding::Same),
        ([15, 3], 2, [3, 2, 3], Padding::Valid),
        // One filter and one channel (the trainer's thin paths).
        ([10, 1], 1, [3, 1, 1], Padding::Same),
        ([10, 1], 4, [2, 2, 1], Padding::Same),
        ([11, 3], 1, [3, 1, 2], Padding::Same),
    ];
    for (i, (lc, f, ksd, pad)) in shapes.into_iter().enumerate() {
        for (j, act) in ACTIVATIONS.into_iter().enumerate() {
            check(conv1d(lc, f, ksd, pad, act), 3, 100 + 10 * i as u64 + j as u64);
        }
    }
}

fn conv2d_strided(hwc: [u32; 3], filters: u32, k: [u32; 2], s: [u32; 2], d: [u32; 2], padding: Padding) -> LayerSpec {
    let [height, width, channels] = hwc;
    LayerSpec::Conv2dStrided {
        height,
        width,
        channels,
        filters,
        kernel: k,
        stride: s,
        dilation: d,
        padding,
        activation: Activation::Tanh,
    }
}

#[test]
fn conv2d_strided_and_dilated_gradients() {
    let shapes = [
        conv2d_strided([7, 6, 2], 3, [3, 3], [2, 2], [1, 1], Padding::Same),
        conv2d_strided([8, 7, 2], 3, [3, 2], [2, 1], [1, 1], Padding::Valid),
        conv2d_strided([7, 7, 2], 3, [3, 3], [1, 1], [2, 2], Padding::Same),
        conv2d_strided([9, 8, 2], 2, [2, 3], [2, 3], [2, 1], Padding::Valid),
        // One channel, one filter: the thin paths with a stride.
        conv2d_strided([7, 6, 1], 4, [3, 3], [2, 2], [1, 1], Padding::Same),
        conv2d_strided([7, 6, 3], 1, [3, 3], [2, 2], [1, 1], Padding::Same),
    ];
    for (i, spec) in shapes.into_iter().enumerate() {
        check(spec, 3, 300 + i as u64);
    }
}

fn depthwise(hwc: [u32; 3], k: [u32; 2], s: [u32; 2], d: [u32; 2], padding: Padding, act: Activation) -> LayerSpec {
    let [height, width, channels] = hwc;
    LayerSpec::DepthwiseConv2d { height, width, channels, kernel: k, stride: s, dilation: d, padding, activation: act }
}

#[test]
fn depthwise_conv2d_gradients() {
    let shapes = [
        ([6, 5, 3], [3, 3], [1, 1], [1, 1], Padding::Same),
        ([7, 6, 4], [3, 3], [2, 2], [1, 1], Padding::Same),
        ([7, 8, 2], [2, 3], [2, 1], [1, 1], Padding::Valid),
        ([8, 7, 2], [3, 2], [1, 1], [2, 3], Padding::Same),
    ];
    for (i, (hwc, k, s, d, pad)) in shapes.into_iter().enumerate() {
        for (j, act) in ACTIVATIONS.into_iter().enumerate() {
            check(depthwise(hwc, k, s, d, pad, act), 3, 500 + 10 * i as u64 + j as u64);
        }
    }
}

#[test]
fn max_pool1d_gradients() {
    let cases = [(12, 3, 2, 2, Padding::Valid), (11, 2, 3, 2, Padding::Same), (10, 2, 3, 1, Padding::Valid)];
    for (i, (length, channels, pool, stride, padding)) in cases.into_iter().enumerate() {
        check(LayerSpec::MaxPool1d { length, channels, pool, stride, padding }, 3, 700 + i as u64);
    }
}

#[test]
fn average_pool_gradients_do_not_count_padding() {
    let cases = [
        LayerSpec::AveragePool1d { length: 11, channels: 2, pool: 2, stride: 2, padding: Padding::Same },
        LayerSpec::AveragePool1d { length: 10, channels: 3, pool: 3, stride: 1, padding: Padding::Valid },
        LayerSpec::AveragePool2d {
            height: 7,
            width: 5,
            channels: 2,
            pool: [2, 2],
            stride: [2, 2],
            padding: Padding::Same,
        },
        LayerSpec::AveragePool2d {
            height: 7,
            width: 8,
            channels: 2,
            pool: [3, 2],
            stride: [2, 3],
            padding: Padding::Same,
        },
        LayerSpec::AveragePool2d {
            height: 6,
            width: 6,
            channels: 3,
            pool: [3, 3],
            stride: [1, 1],
            padding: Padding::Valid,
        },
    ];
    for (i, spec) in cases.into_iter().enumerate() {
        check(spec, 3, 800 + i as u64);
    }
}

#[test]
fn global_average_pool_gradients() {
    check(LayerSpec::GlobalAveragePool { dims: Dims::d2(9, 4) }, 3, 900);
    check(LayerSpec::GlobalAveragePool { dims: Dims::new(&[5, 3, 2]).unwrap() }, 3, 901);
}
