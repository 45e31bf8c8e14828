//! The test models of `quant_runtime.rs`, the interpreter runner, and the
//! typed-layer tests (typed == interpreter bit for bit, bad bindings rejected).

use anyhow::{Result, anyhow};
use ember_conformance::qmodel::quantize;
use ember_conformance::{rng, uniform};
use ember_export::{AlignedBytes, Model};
use ember_runtime::qspec::QuantMode;
use ember_runtime::quant::{Int8Layer, Int8Shape, QuantParams};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{
    Bidirectional, Blob, Chain, Dense, Error, Forward, Gru, Last, Layer, Linear, Lstm, QConv1d, QConv2d, QDense,
    QDepthwise, Recurrent, Relu, Same, Sample, Sequences, Sigmoid, SimpleRnn, Softmax, Tanh, TokenIds, TypedModel,
    WoDense, WoEmbedding, dynamic,
};

/// A strided, dilated, same-padded convolution (7x6x2 → 4x6x3).
pub const STRIDED: LayerSpec = LayerSpec::Conv2dStrided {
    height: 7,
    width: 6,
    channels: 2,
    filters: 3,
    kernel: [3, 2],
    stride: [2, 1],
    dilation: [1, 2],
    padding: Padding::Same,
    activation: Activation::Linear,
};

/// A dilated 1-D convolution (12x3 → 12x4).
pub const CONV1D: LayerSpec = LayerSpec::Conv1d {
    length: 12,
    channels: 3,
    filters: 4,
    kernel: 3,
    stride: 1,
    dilation: 2,
    padding: Padding::Same,
    activation: Activation::Tanh,
};

/// A depthwise convolution (6x5x4, 3x3, same).
pub const DEPTHWISE: LayerSpec = LayerSpec::DepthwiseConv2d {
    height: 6,
    width: 5,
    channels: 4,
    kernel: [3, 3],
    stride: [1, 1],
    dilation: [1, 1],
    padding: Padding::Same,
    activation: Activation::Relu,
};

/// `n` samples of `len` token ids below 20.
pub fn token_ids(len: usize, n: usize, seed: u64) -> Vec<f32> {
    uniform(&mut rng(seed), len * n, 0.0, 20.0).iter().map(|v| v.floor()).collect()
}

/// Recurrent layer spec helper.
fn rec(kind: &str, inputs: u32, units: u32, seq_len: u32, return_sequences: bool, bidirectional: bool) -> LayerSpec {
    match kind {
        "lstm" => LayerSpec::Lstm { inputs, units, seq_len, return_sequences, bidirectional },
        "gru" => LayerSpec::Gru { inputs, units, seq_len, return_sequences, bidirectional },
        _ => LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences, bidirectional },
    }
}

/// The weights-only models: `(layers, input dims, token ids?)`.
pub fn weights_only_models() -> Vec<(Vec<LayerSpec>, Dims, bool)> {
    let dense = |i, o, a| LayerSpec::Dense { inputs: i, units: o, activation: a };
    vec![
        (vec![dense(10, 7, Activation::Relu), dense(7, 4, Activation::Softmax)], Dims::d1(10), false),
        (
            vec![
                LayerSpec::Embedding { vocab: 20, dim: 6, seq_len: 5 },
                rec("lstm", 6, 8, 5, false, false),
                dense(8, 3, Activation::Linear),
            ],
            Dims::d1(5),
            true,
        ),
        (vec![rec("gru", 3, 5, 6, true, true)], Dims::d2(6, 3), false),
        (vec![rec("rnn", 3, 4, 6, false, false)], Dims::d2(6, 3), false),
        (
            vec![LayerSpec::Conv2d {
                height: 5,
                width: 6,
                channels: 3,
                filters: 4,
                kernel_h: 3,
                kernel_w: 3,
                padding: Padding::Same,
                activation: Activation::Relu,
            }],
            d3(5, 6, 3),
            false,
        ),
        (vec![STRIDED], d3(7, 6, 2), false),
        (vec![CONV1D], Dims::d2(12, 3), false),
        (vec![DEPTHWISE], d3(6, 5, 4), false),
    ]
}

/// Runs `m`'s blob through the interpreter on every sample of `xs`.
pub fn run_interpreter(m: &Model, xs: &[f32]) -> Result<Vec<f32>> {
    let bytes = AlignedBytes::new(&m.to_blob()?);
    let blob = Blob::parse(&bytes).map_err(|e| anyhow!("{e:?}"))?;
    let (n, out) = (m.input.dims.elements(), m.output().dims.elements());
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut ys = Vec::new();
    for x in xs.chunks_exact(n) {
        let mut y = vec![0.0; out];
        dynamic::forward(&blob, x, &mut scratch, &mut y).map_err(|e| anyhow!("{e:?}"))?;
        ys.extend(y);
    }
    Ok(ys)
}

/// The typed model `M` on `m`'s blob, bit for bit against the interpreter.
fn typed_matches<M: Layer>(m: &Model, xs: &[f32]) -> Result<()>
where
    M::Input: Sample,
    M::Output: Sample,
{
    let bytes = AlignedBytes::new(&m.to_blob()?);
    let typed = M::load(&bytes).map_err(|e| anyhow!("{}: bind: {e:?}", m.name))?;
    let want = run_interpreter(m, xs)?;
    let mut got = Vec::new();
    for x in xs.chunks_exact(m.input.dims.elements()) {
        let input = M::Input::from_values(x.iter().copied()).map_err(|e| anyhow!("{e:?}"))?;
        typed.forward(&input).for_each_value(|v| got.push(v));
    }
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want), "{}: typed and interpreter differ", m.name);
    Ok(())
}

/// A model of `layers` with random parameters, quantized in `modes`
/// (calibrated on `xs`).
fn quantized(name: &str, layers: Vec<LayerSpec>, input: IoSpec, modes: &[QuantMode], xs: &[f32]) -> Result<Model> {
    let mut r = rng(name.len() as u64);
    let values = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(move |p| (l, p)))
        .map(|(l, p)| uniform(&mut r, l.param(p).map_or(0, |s| s.dims.elements()), -0.5, 0.5))
        .collect();
    let mut f = Model::new(name, input, layers, values)?;
    f.name = name.into();
    quantize(&f, modes, xs)
}

fn f32_input(dims: Dims) -> IoSpec {
    IoSpec { kind: ValueKind::F32, dims, range: None }
}

#[test]
fn typed_int8_layers_equal_the_interpreter() -> Result<()> {
    let xs = uniform(&mut rng(5), 90 * 3, -1.0, 1.0);
    let dense = |i, o, a| LayerSpec::Dense { inputs: i, units: o, activation: a };
    let m = quantized(
        "qdense",
        vec![dense(10, 7, Activation::Relu), dense(7, 4, Activation::Softmax)],
        f32_input(Dims::d1(10)),
        &[QuantMode::Int8; 2],
        &xs[..40],
    )?;
    typed_matches::<Chain<QDense<10, 7, Relu>, QDense<7, 4, Softmax>>>(&m, &xs[..40])?;
    let conv = LayerSpec::Conv2d {
        height: 5,
        width: 6,
        channels: 3,
        filters: 4,
        kernel_h: 3,
        kernel_w: 3,
        padding: Padding::Same,
        activation: Activation::Relu,
    };
    let m = quantized(
        "qconv",
        vec![conv, LayerSpec::Flatten { dims: d3(5, 6, 4) }, dense(120, 3, Activation::Sigmoid)],
        f32_input(d3(5, 6, 3)),
        &[QuantMode::Int8, QuantMode::Float, QuantMode::Int8],
        &xs,
    )?;
    type QConv = QConv2d<5, 6, 3, 4, 3, 3, 1, 1, 1, 1, Same, Relu, 30, 30>;
    typed_matches::<Chain<QConv, Chain<ember_runtime::Flatten<4, 30, 120>, QDense<120, 3, Sigmoid>>>>(&m, &xs)?;
    let m = quantized("qstrided", vec![STRIDED], f32_input(d3(7, 6, 2)), &[QuantMode::Int8], &xs[..84 * 3])?;
    typed_matches::<QConv2d<7, 6, 2, 3, 3, 2, 2, 1, 1, 2, Same, Linear, 42, 24>>(&m, &xs[..84 * 3])?;
    let m = quantized("qconv1d", vec![CONV1D], f32_input(Dims::d2(12, 3)), &[QuantMode::Int8], &xs[..36 * 3])?;
    typed_matches::<QConv1d<12, 3, 4, 3, 1, 2, Same, Tanh, 12>>(&m, &xs[..36 * 3])?;
    let m = quantized("qdepthwise", vec![DEPTHWISE], f32_input(d3(6, 5, 4)), &[QuantMode::Int8], &xs[..120 * 2])?;
    typed_matches::<QDepthwise<6, 5, 4, 3, 3, 1, 1, 1, 1, Same, Relu, 30, 30>>(&m, &xs[..120 * 2])
}

#[test]
fn typed_weights_only_layers_equal_the_interpreter() -> Result<()> {
    let models = weights_only_models();
    let wo = |k: usize| vec![QuantMode::WeightsOnly; models[k].0.len()];
    let input = |k: usize| IoSpec {
        kind: if models[k].2 { ValueKind::TokenIds } else { ValueKind::F32 },
        dims: models[k].1,
        range: None,
    };
    let xs = uniform(&mut rng(6), 36 * 3, -1.0, 1.0);
    let m = quantized("wodense", models[0].0.clone(), input(0), &wo(0), &xs[..30])?;
    typed_matches::<Chain<WoDense<10, 7, Relu>, WoDense<7, 4, Softmax>>>(&m, &xs[..30])?;
    let ids = token_ids(5, 3, 8);
    let m = quantized("wolstm", models[1].0.clone(), input(1), &wo(1), &ids)?;
    typed_matches::<Chain<WoEmbedding<20, 6, 5>, Chain<Recurrent<Lstm<6, 8>, 5, Last>, WoDense<8, 3, Linear>>>>(
        &m, &ids,
    )?;
    let m = quantized("wogru", models[2].0.clone(), input(2), &wo(2), &xs[..54])?;
    typed_matches::<Bidirectional<Gru<3, 5>, 6, Sequences, 10>>(&m, &xs[..54])?;
    let m = quantized("wornn", models[3].0.clone(), input(3), &wo(3), &xs[..54])?;
    typed_matches::<Recurrent<SimpleRnn<3, 4>, 6, Last>>(&m, &xs[..54])?;
    let _ = TokenIds::<20, 5>::from_values([0.0; 5]);
    Ok(())
}

#[test]
fn wrong_modes_and_shapes_are_errors() -> Result<()> {
    let xs = uniform(&mut rng(9), 40, -1.0, 1.0);
    let dense = LayerSpec::Dense { inputs: 10, units: 7, activation: Activation::Relu };
    let int8 = quantized("e1", vec![dense], f32_input(Dims::d1(10)), &[QuantMode::Int8], &xs)?;
    let wo = quantized("e2", vec![dense], f32_input(Dims::d1(10)), &[QuantMode::WeightsOnly], &xs)?;
    let float = quantized("e3", vec![dense], f32_input(Dims::d1(10)), &[QuantMode::Float], &xs)?;
    let (b8, bwo, bf) =
        (AlignedBytes::new(&int8.to_blob()?), AlignedBytes::new(&wo.to_blob()?), AlignedBytes::new(&float.to_blob()?));
    assert!(QDense::<10, 7, Relu>::load(&b8).is_ok());
    assert_eq!(QDense::<10, 7, Relu>::load(&bwo).err(), Some(Error::LayerKind));
    assert_eq!(QDense::<10, 7, Relu>::load(&bf).err(), Some(Error::LayerKind));
    assert_eq!(QDense::<10, 8, Relu>::load(&b8).err(), Some(Error::LayerShape));
    assert_eq!(QDense::<10, 7, Linear>::load(&b8).err(), Some(Error::LayerKind));
    assert_eq!(WoDense::<10, 7, Relu>::load(&b8).err(), Some(Error::LayerKind));
    assert!(WoDense::<10, 7, Relu>::load(&bwo).is_ok());
    assert!(Dense::<10, 7, Relu>::load(&b8).is_err(), "an f32 layer must not bind int8 tensors");
    assert!(Dense::<10, 7, Relu>::load(&bwo).is_err());
    assert!(Recurrent::<Lstm<6, 8>, 5, Last>::load(&b8).is_err());
    // The kernel entry checks every length.
    let p = QuantParams { scale: 0.1, zero_point: 3 };
    let (w, s, kb, rq) = ([1i8; 12], [0.1f32; 3], [0i32; 3], [1 << 30, -3, 1 << 30, -3, 1 << 30, -3]);
    let shape = Int8Shape::Dense { inputs: 4 };
    let make = |w: &'static [i8], rq: &'static [i32]| {
        Int8Layer::new(shape, w, &[0.1; 3], &[0; 3], rq, p, p, Activation::Linear)
    };
    assert!(make(&[1; 12], &[1 << 30, -3, 1 << 30, -3, 1 << 30, -3]).is_ok());
    assert_eq!(make(&[1; 11], &[1 << 30, -3, 1 << 30, -3, 1 << 30, -3]).err(), Some(Error::TensorShape));
    assert_eq!(make(&[1; 12], &[1 << 30, -3, 1 << 30, -3, 1 << 30]).err(), Some(Error::TensorShape));
    let layer = Int8Layer::new(shape, &w, &s, &kb, &rq, p, p, Activation::Linear).map_err(|e| anyhow!("{e:?}"))?;
    let (mut xq, mut y) = ([0i8; 4], [0.0f32; 3]);
    assert_eq!(layer.run(&[0.0; 5], &mut xq, &mut y), Err(Error::InputShape));
    assert_eq!(layer.run(&[0.0; 4], &mut xq, &mut y[..2]), Err(Error::InputShape));
    assert_eq!(layer.run(&[0.0; 4], &mut xq, &mut y), Ok(()));
    Ok(())
}

/// Dims `[a, b, c]`.
pub fn d3(a: u32, b: u32, c: u32) -> Dims {
    Dims::new(&[a, b, c]).expect("rank 3")
}
