//! The type text that `Model::to_rust` generates for the 1-D and strided
//! window layers (Conv1d, MaxPool1d, AveragePool1d, GlobalAveragePool,
//! Conv2dStrided, DepthwiseConv2d, AveragePool2d) is the hand-written
//! runtime type, and that type loads the blob and computes exactly what the
//! dynamic interpreter computes (their f64 parity is in
//! `conformance/tests/conformance/runtime_window.rs`).

use ember_export::{AlignedBytes, Model};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{
    AveragePool1d, AveragePool2d, Blob, Chain, Conv1d, Conv2dStrided, Dense, DepthwiseConv2d, Forward,
    GlobalAveragePool, Layer, MaxPool1d, Relu, Same, Sample, Softmax, Tanh, TypedModel as _, Valid, dynamic,
};

/// Deterministic values in [-1, 1) (xorshift64*).
fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            ((s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f64 / (1u64 << 24) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

fn model(name: &str, layers: Vec<LayerSpec>, dims: &[u32]) -> Model {
    let vals = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|p| l.param(p).unwrap().dims.elements()).collect::<Vec<_>>())
        .enumerate()
        .map(|(k, n)| values(500 + k as u64, n))
        .collect();
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::new(dims).unwrap(), range: None };
    Model::new(name, input, layers, vals).unwrap()
}

/// A sensor model: Conv1d (stride 2), MaxPool1d, AveragePool1d, Conv1d
/// (dilation 2, valid), GlobalAveragePool, Dense softmax.
fn sensor_layers() -> Vec<LayerSpec> {
    let (s, v) = (Padding::Same, Padding::Valid);
    vec![
        LayerSpec::Conv1d {
            length: 32,
            channels: 3,
            filters: 8,
            kernel: 5,
            stride: 2,
            dilation: 1,
            padding: s,
            activation: Activation::Relu,
        },
        LayerSpec::MaxPool1d { length: 16, channels: 8, pool: 2, stride: 2, padding: v },
        LayerSpec::AveragePool1d { length: 8, channels: 8, pool: 3, stride: 1, padding: s },
        LayerSpec::Conv1d {
            length: 8,
            channels: 8,
            filters: 6,
            kernel: 3,
            stride: 1,
            dilation: 2,
            padding: v,
            activation: Activation::Tanh,
        },
        LayerSpec::GlobalAveragePool { dims: Dims::d2(4, 6) },
        LayerSpec::Dense { inputs: 6, units: 5, activation: Activation::Softmax },
    ]
}

type SensorHand = Chain<
    Conv1d<32, 3, 8, 5, 2, 1, Same, Relu, 16>,
    Chain<
        MaxPool1d<16, 8, 2, 2, Valid, 8>,
        Chain<
            AveragePool1d<8, 8, 3, 1, Same, 8>,
            Chain<Conv1d<8, 8, 6, 3, 1, 2, Valid, Tanh, 4>, Chain<GlobalAveragePool<6, 4>, Dense<6, 5, Softmax>>>,
        >,
    >,
>;
const SENSOR_TEXT: &str = "pub type Sensor = ember_runtime::Chain<\
    ember_runtime::Conv1d<32, 3, 8, 5, 2, 1, ember_runtime::Same, ember_runtime::Relu, 16>, \
    ember_runtime::Chain<ember_runtime::MaxPool1d<16, 8, 2, 2, ember_runtime::Valid, 8>, \
    ember_runtime::Chain<ember_runtime::AveragePool1d<8, 8, 3, 1, ember_runtime::Same, 8>, \
    ember_runtime::Chain<ember_runtime::Conv1d<8, 8, 6, 3, 1, 2, ember_runtime::Valid, ember_runtime::Tanh, 4>, \
    ember_runtime::Chain<ember_runtime::GlobalAveragePool<6, 4>, \
    ember_runtime::Dense<6, 5, ember_runtime::Softmax>>>>>>;\n";

/// A DS-CNN block: Conv2dStrided (stride 2x1), DepthwiseConv2d (dilated),
/// AveragePool2d, GlobalAveragePool, Dense softmax.
fn dscnn_layers() -> Vec<LayerSpec> {
    let s = Padding::Same;
    vec![
        LayerSpec::Conv2dStrided {
            height: 12,
            width: 6,
            channels: 1,
            filters: 4,
            kernel: [4, 3],
            stride: [2, 1],
            dilation: [1, 1],
            padding: s,
            activation: Activation::Relu,
        },
        LayerSpec::DepthwiseConv2d {
            height: 6,
            width: 6,
            channels: 4,
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [2, 1],
            padding: s,
            activation: Activation::Relu,
        },
        LayerSpec::AveragePool2d { height: 6, width: 6, channels: 4, pool: [2, 3], stride: [2, 3], padding: s },
        LayerSpec::GlobalAveragePool { dims: Dims::new(&[3, 2, 4]).unwrap() },
        LayerSpec::Dense { inputs: 4, units: 3, activation: Activation::Softmax },
    ]
}

type DsCnnHand = Chain<
    Conv2dStrided<12, 6, 1, 4, 4, 3, 2, 1, 1, 1, Same, Relu, 72, 36>,
    Chain<
        DepthwiseConv2d<6, 6, 4, 3, 3, 1, 1, 2, 1, Same, Relu, 36, 36>,
        Chain<AveragePool2d<6, 6, 4, 2, 3, 2, 3, Same, 36, 6>, Chain<GlobalAveragePool<4, 6>, Dense<4, 3, Softmax>>>,
    >,
>;
const DSCNN_TEXT: &str = "pub type DsCnn = ember_runtime::Chain<\
    ember_runtime::Conv2dStrided<12, 6, 1, 4, 4, 3, 2, 1, 1, 1, ember_runtime::Same, ember_runtime::Relu, 72, 36>, \
    ember_runtime::Chain<ember_runtime::DepthwiseConv2d<6, 6, 4, 3, 3, 1, 1, 2, 1, ember_runtime::Same, \
    ember_runtime::Relu, 36, 36>, \
    ember_runtime::Chain<ember_runtime::AveragePool2d<6, 6, 4, 2, 3, 2, 3, ember_runtime::Same, 36, 6>, \
    ember_runtime::Chain<ember_runtime::GlobalAveragePool<4, 6>, \
    ember_runtime::Dense<4, 3, ember_runtime::Softmax>>>>>;\n";

/// The generated text is `text`, and the hand-written type `M` loads the
/// blob and equals the interpreter bit for bit.
fn check<M: Layer>(m: &Model, text: &str)
where
    M::Input: Sample,
    M::Output: Sample,
{
    let src = m.to_rust("m.emb").unwrap();
    assert!(src.contains(text), "{src}");
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let net = M::load(&bytes).expect("the generated type binds");
    let blob = Blob::parse(&bytes).unwrap();
    let (n_in, n_out) = (m.input.dims.elements(), m.output().dims.elements());
    let mut scratch = vec![f32::NAN; dynamic::scratch_len(&blob)];
    let mut want = vec![f32::NAN; n_out];
    for seed in 0..3 {
        let x = values(600 + seed, n_in);
        assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut want), Ok(n_out));
        let mut got = Vec::new();
        net.forward(&M::Input::from_values(x.iter().copied()).unwrap()).for_each_value(|v| got.push(v.to_bits()));
        assert_eq!(got, want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "sample {seed}");
    }
}

#[test]
fn sensor_model_type_is_generated_and_runs() {
    check::<SensorHand>(&model("sensor", sensor_layers(), &[32, 3]), SENSOR_TEXT);
}

#[test]
fn ds_cnn_type_is_generated_and_runs() {
    check::<DsCnnHand>(&model("ds-cnn", dscnn_layers(), &[12, 6, 1]), DSCNN_TEXT);
}
