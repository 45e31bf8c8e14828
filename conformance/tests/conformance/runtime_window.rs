//! The runtime's 1-D and strided window layers (typed `Conv1d`,
//! `MaxPool1d`, `AveragePool1d`, `GlobalAveragePool`, `Conv2dStrided`,
//! `DepthwiseConv2d`, `AveragePool2d` and the `dynamic` interpreter) against
//! the naive `f64` ONNX references in `ember_conformance::reference`, within
//! `F32_PARITY`; typed and dynamic outputs equal bit for bit; binding checks.

use ember_conformance::reference::model_f64;
use ember_conformance::{assert_parity, rng, to_f64, uniform};
use ember_export::{AlignedBytes, Model};
use ember_runtime::model::{Layer, Sample, TypedModel};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{
    AveragePool1d, AveragePool2d, Blob, Chain, Conv1d, Conv2dStrided, Dense, DepthwiseConv2d, Error, Forward,
    GlobalAveragePool, Linear, MaxPool1d, Relu, Same, Sigmoid, Softmax, Tanh, Valid, dynamic,
};

const SAMPLES: usize = 4;
const S: Padding = Padding::Same;
const V: Padding = Padding::Valid;

/// The first layer's input dimensions: `[length, channels]` for the 1-D
/// kinds, `[h, w, c]` for the 2-D ones.
fn input_dims(l: &LayerSpec) -> Dims {
    match *l {
        LayerSpec::Conv1d { length, channels, .. }
        | LayerSpec::MaxPool1d { length, channels, .. }
        | LayerSpec::AveragePool1d { length, channels, .. } => Dims::d2(length, channels),
        LayerSpec::Conv2dStrided { height, width, channels, .. }
        | LayerSpec::DepthwiseConv2d { height, width, channels, .. }
        | LayerSpec::AveragePool2d { height, width, channels, .. } => Dims::new(&[height, width, channels]).unwrap(),
        LayerSpec::GlobalAveragePool { dims } => dims,
        _ => Dims::d1(l.input_len() as u32),
    }
}

/// A model over `layers` with seeded parameters: weights uniform in
/// `±sqrt(3 / fan_in)`, biases in `[-0.2, 0.2)`.
fn model(layers: Vec<LayerSpec>, seed: u64) -> Model {
    let mut r = rng(seed);
    let mut values = Vec::new();
    for l in &layers {
        for i in 0..l.param_count() {
            let p = l.param(i).unwrap();
            let n = p.dims.elements();
            values.push(if p.name == "weight" {
                let fan_in = (n / p.dims.as_slice()[0] as usize).max(1) as f32;
                let limit = (3.0 / fan_in).sqrt();
                uniform(&mut r, n, -limit, limit)
            } else {
                uniform(&mut r, n, -0.2, 0.2)
            });
        }
    }
    let input = IoSpec { kind: ValueKind::F32, dims: input_dims(&layers[0]), range: None };
    Model::new("window", input, layers, values).expect("valid model")
}

/// Samples uniform in `[-1, 1)`, one all-negative (padding must not count
/// as zeros in max pooling) and one of zeros.
fn inputs(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut r = rng(seed);
    let mut out: Vec<Vec<f32>> = (0..SAMPLES - 2).map(|_| uniform(&mut r, n, -1.0, 1.0)).collect();
    out.push(uniform(&mut r, n, -2.0, -1.0));
    out.push(vec![0.0; n]);
    out
}

fn dynamic_out(bytes: &[u8], xs: &[Vec<f32>]) -> Vec<f32> {
    let blob = Blob::parse(bytes).unwrap();
    let n_out = blob.header().output.dims.elements();
    let mut scratch = vec![f32::NAN; dynamic::scratch_len(&blob)];
    let mut out = vec![f32::NAN; xs.len() * n_out];
    for (x, y) in xs.iter().zip(out.chunks_mut(n_out)) {
        assert_eq!(dynamic::forward(&blob, x, &mut scratch, y), Ok(n_out));
    }
    out
}

fn typed_out<M: Layer>(bytes: &[u8], xs: &[Vec<f32>]) -> Vec<f32>
where
    M::Input: Sample,
    M::Output: Sample,
{
    let typed = <M as TypedModel>::load(bytes).expect("binds to its type");
    let mut out = Vec::new();
    for x in xs {
        typed.forward(&M::Input::from_values(x.iter().copied()).unwrap()).for_each_value(|v| out.push(v));
    }
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Checks typed model `M` and the interpreter against the reference, and
/// against each other bit for bit.
fn check<M: Layer>(what: &str, layers: Vec<LayerSpec>, seed: u64)
where
    M::Input: Sample,
    M::Output: Sample,
{
    let m = model(layers, seed);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let xs = inputs(m.input.dims.elements(), seed + 1000);
    let params: Vec<Vec<f64>> = m.params.iter().map(|t| to_f64(&t.data)).collect();
    let x: Vec<f64> = xs.iter().flat_map(|s| to_f64(s)).collect();
    let want = model_f64(&m.layers, &params, &x);
    let typed = typed_out::<M>(&bytes, &xs);
    let dynamic = dynamic_out(&bytes, &xs);
    assert_parity(&format!("typed {what}"), &typed, &want);
    assert_parity(&format!("dynamic {what}"), &dynamic, &want);
    assert_eq!(bits(&typed), bits(&dynamic), "{what}: typed and dynamic differ");
    assert!(want.iter().any(|v| v.abs() > 0.1), "{what}: the reference is ~0, the check would be vacuous");
}

fn conv1d(lc: [u32; 2], filters: u32, ksd: [u32; 3], padding: Padding, activation: Activation) -> LayerSpec {
    let ([length, channels], [kernel, stride, dilation]) = (lc, ksd);
    LayerSpec::Conv1d { length, channels, filters, kernel, stride, dilation, padding, activation }
}

#[test]
fn conv1d_same_valid_strided_dilated() {
    check::<Conv1d<20, 3, 4, 3, 1, 1, Same, Relu, 20>>(
        "k3 same",
        vec![conv1d([20, 3], 4, [3, 1, 1], S, Activation::Relu)],
        1,
    );
    check::<Conv1d<20, 3, 4, 4, 2, 1, Same, Tanh, 10>>(
        "k4 s2 same",
        vec![conv1d([20, 3], 4, [4, 2, 1], S, Activation::Tanh)],
        2,
    );
    check::<Conv1d<21, 2, 3, 3, 3, 1, Valid, Linear, 7>>(
        "k3 s3 valid",
        vec![conv1d([21, 2], 3, [3, 3, 1], V, Activation::Linear)],
        3,
    );
    check::<Conv1d<17, 9, 2, 3, 1, 2, Same, Sigmoid, 17>>(
        "k3 d2 same",
        vec![conv1d([17, 9], 2, [3, 1, 2], S, Activation::Sigmoid)],
        4,
    );
    check::<Conv1d<17, 2, 5, 3, 2, 3, Valid, Linear, 6>>(
        "k3 s2 d3 valid",
        vec![conv1d([17, 2], 5, [3, 2, 3], V, Activation::Linear)],
        5,
    );
}

#[test]
fn pooling_1d() {
    let max =
        |length, channels, pool, stride, padding| LayerSpec::MaxPool1d { length, channels, pool, stride, padding };
    let avg =
        |length, channels, pool, stride, padding| LayerSpec::AveragePool1d { length, channels, pool, stride, padding };
    check::<MaxPool1d<11, 3, 2, 2, Same, 6>>("max 2/2 same", vec![max(11, 3, 2, 2, S)], 10);
    check::<MaxPool1d<11, 3, 3, 2, Valid, 5>>("max 3/2 valid", vec![max(11, 3, 3, 2, V)], 11);
    check::<AveragePool1d<11, 3, 2, 2, Same, 6>>("avg 2/2 same", vec![avg(11, 3, 2, 2, S)], 12);
    check::<AveragePool1d<10, 2, 4, 3, Same, 4>>("avg 4/3 same", vec![avg(10, 2, 4, 3, S)], 13);
}

#[test]
fn global_average_pool_of_sequences_and_maps() {
    check::<GlobalAveragePool<3, 7>>("sequence", vec![LayerSpec::GlobalAveragePool { dims: Dims::d2(7, 3) }], 20);
    let map = Dims::new(&[4, 5, 2]).unwrap();
    check::<GlobalAveragePool<2, 20>>("map", vec![LayerSpec::GlobalAveragePool { dims: map }], 21);
}

fn strided(hwc: [u32; 3], filters: u32, k: [u32; 2], s: [u32; 2], d: [u32; 2], padding: Padding) -> LayerSpec {
    let [height, width, channels] = hwc;
    let activation = Activation::Relu;
    LayerSpec::Conv2dStrided {
        height,
        width,
        channels,
        filters,
        kernel: k,
        stride: s,
        dilation: d,
        padding,
        activation,
    }
}

#[test]
fn conv2d_strided_and_dilated() {
    check::<Conv2dStrided<9, 8, 2, 3, 3, 3, 2, 2, 1, 1, Same, Relu, 72, 20>>(
        "3x3 s2 same",
        vec![strided([9, 8, 2], 3, [3, 3], [2, 2], [1, 1], S)],
        30,
    );
    check::<Conv2dStrided<9, 8, 1, 4, 4, 3, 2, 1, 1, 1, Valid, Relu, 72, 18>>(
        "4x3 s(2,1) valid, one channel",
        vec![strided([9, 8, 1], 4, [4, 3], [2, 1], [1, 1], V)],
        31,
    );
    check::<Conv2dStrided<8, 8, 3, 2, 3, 3, 1, 1, 2, 2, Same, Relu, 64, 64>>(
        "3x3 d2 same",
        vec![strided([8, 8, 3], 2, [3, 3], [1, 1], [2, 2], S)],
        32,
    );
}

fn depthwise(hwc: [u32; 3], k: [u32; 2], s: [u32; 2], d: [u32; 2], padding: Padding, act: Activation) -> LayerSpec {
    let [height, width, channels] = hwc;
    LayerSpec::DepthwiseConv2d { height, width, channels, kernel: k, stride: s, dilation: d, padding, activation: act }
}

#[test]
fn depthwise_conv2d() {
    check::<DepthwiseConv2d<6, 5, 4, 3, 3, 1, 1, 1, 1, Same, Relu, 30, 30>>(
        "3x3 same",
        vec![depthwise([6, 5, 4], [3, 3], [1, 1], [1, 1], S, Activation::Relu)],
        40,
    );
    check::<DepthwiseConv2d<7, 6, 3, 3, 2, 2, 2, 1, 1, Valid, Tanh, 42, 9>>(
        "3x2 s2 valid",
        vec![depthwise([7, 6, 3], [3, 2], [2, 2], [1, 1], V, Activation::Tanh)],
        41,
    );
    check::<DepthwiseConv2d<7, 7, 2, 3, 3, 1, 1, 2, 2, Same, Linear, 49, 49>>(
        "3x3 d2 same",
        vec![depthwise([7, 7, 2], [3, 3], [1, 1], [2, 2], S, Activation::Linear)],
        42,
    );
}

#[test]
fn average_pool2d_does_not_count_padding() {
    let avg = |h, w, c, pool, stride, padding| LayerSpec::AveragePool2d {
        height: h,
        width: w,
        channels: c,
        pool,
        stride,
        padding,
    };
    check::<AveragePool2d<7, 5, 3, 2, 2, 2, 2, Same, 35, 12>>("2x2 same", vec![avg(7, 5, 3, [2, 2], [2, 2], S)], 50);
    check::<AveragePool2d<7, 8, 2, 3, 2, 1, 3, Valid, 56, 15>>(
        "3x2 s(1,3) valid",
        vec![avg(7, 8, 2, [3, 2], [1, 3], V)],
        51,
    );
}

/// A Conv1d–MaxPool1d–Conv1d–GlobalAveragePool–Dense softmax classifier.
type Gesture = Chain<
    Conv1d<24, 3, 6, 5, 1, 1, Same, Relu, 24>,
    Chain<
        MaxPool1d<24, 6, 2, 2, Valid, 12>,
        Chain<Conv1d<12, 6, 8, 3, 1, 2, Same, Relu, 12>, Chain<GlobalAveragePool<8, 12>, Dense<8, 12, Softmax>>>,
    >,
>;

#[test]
fn a_conv1d_classifier_with_many_classes() {
    let layers = vec![
        conv1d([24, 3], 6, [5, 1, 1], S, Activation::Relu),
        LayerSpec::MaxPool1d { length: 24, channels: 6, pool: 2, stride: 2, padding: V },
        conv1d([12, 6], 8, [3, 1, 2], S, Activation::Relu),
        LayerSpec::GlobalAveragePool { dims: Dims::d2(12, 8) },
        LayerSpec::Dense { inputs: 8, units: 12, activation: Activation::Softmax },
    ];
    check::<Gesture>("gesture", layers, 60);
}

/// A DS-CNN block: strided Conv2d, depthwise, pointwise-free average pool,
/// global pooling, Dense softmax.
type DsCnn = Chain<
    Conv2dStrided<10, 8, 1, 4, 3, 3, 2, 2, 1, 1, Same, Relu, 80, 20>,
    Chain<
        DepthwiseConv2d<5, 4, 4, 3, 3, 1, 1, 1, 1, Same, Relu, 20, 20>,
        Chain<AveragePool2d<5, 4, 4, 2, 2, 2, 2, Same, 20, 6>, Chain<GlobalAveragePool<4, 6>, Dense<4, 10, Softmax>>>,
    >,
>;

#[test]
fn a_ds_cnn_block() {
    let layers = vec![
        strided([10, 8, 1], 4, [3, 3], [2, 2], [1, 1], S),
        depthwise([5, 4, 4], [3, 3], [1, 1], [1, 1], S, Activation::Relu),
        LayerSpec::AveragePool2d { height: 5, width: 4, channels: 4, pool: [2, 2], stride: [2, 2], padding: S },
        LayerSpec::GlobalAveragePool { dims: Dims::new(&[3, 2, 4]).unwrap() },
        LayerSpec::Dense { inputs: 4, units: 10, activation: Activation::Softmax },
    ];
    check::<DsCnn>("ds-cnn", layers, 70);
}

#[test]
fn binding_checks_kind_sizes_stride_and_padding() {
    let m = model(vec![conv1d([20, 3], 4, [3, 2, 1], S, Activation::Relu)], 80);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    assert!(<Conv1d<20, 3, 4, 3, 2, 1, Same, Relu, 10> as TypedModel>::load(&bytes).is_ok());
    let err = |r: Result<_, Error>| r.err();
    assert_eq!(
        err(<Conv1d<20, 3, 4, 3, 1, 2, Same, Relu, 20> as TypedModel>::load(&bytes).map(|_| ())),
        Some(Error::LayerShape)
    );
    assert_eq!(
        err(<Conv1d<20, 3, 4, 3, 2, 1, Same, Tanh, 10> as TypedModel>::load(&bytes).map(|_| ())),
        Some(Error::LayerKind)
    );
    assert_eq!(err(<MaxPool1d<20, 3, 3, 2, Same, 10> as TypedModel>::load(&bytes).map(|_| ())), Some(Error::LayerKind));
    let m = model(vec![depthwise([6, 5, 4], [3, 3], [2, 2], [1, 1], S, Activation::Relu)], 81);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    assert!(<DepthwiseConv2d<6, 5, 4, 3, 3, 2, 2, 1, 1, Same, Relu, 30, 9> as TypedModel>::load(&bytes).is_ok());
    type Stride1 = DepthwiseConv2d<6, 5, 4, 3, 3, 1, 1, 1, 1, Same, Relu, 30, 30>;
    assert_eq!(err(<Stride1 as TypedModel>::load(&bytes).map(|_| ())), Some(Error::LayerShape));
}
