//! The type text that `Model::to_rust` generates is the runtime type that
//! loads the model's blob, and that type computes what a naive f64 reference
//! computes. For sequence models (Embedding, Flatten, Dropout, recurrent
//! layers) the generated text is checked as text here. For image models
//! (Conv2d, MaxPool2d, Upsample2d, BatchNorm) the hand-written type equal to
//! the generated text must load the blob and compute exactly what the
//! dynamic interpreter computes (their f64 parity is in
//! `conformance/tests/conformance/runtime_conv.rs`).

use ember_export::{AlignedBytes, Model};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{
    BatchNorm, Blob, Chain, Conv2d, Dense, Error, Forward, MaxPool2d, Relu, SMatrix, SVector, Same, Sigmoid, Softmax,
    Tanh, TypedModel as _, Upsample2d, Valid, dynamic,
};

/// `|a - b| <= F32_PARITY * (1 + |reference|)`.
const F32_PARITY: f64 = 1e-5;

/// The hand-written type; its text must equal what `to_rust` generates.
type Hand = Chain<Dense<6, 5, Tanh>, Dense<5, 4, Softmax>>;
const HAND_TEXT: &str = "pub type Pair = ember_runtime::Chain<ember_runtime::Dense<6, 5, ember_runtime::Tanh>, \
                         ember_runtime::Dense<5, 4, ember_runtime::Softmax>>;\n";

/// Deterministic values in [-1, 1) (xorshift64*).
fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let r = s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
            (r as f64 / (1u64 << 24) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

fn layers() -> Vec<(usize, usize, Activation)> {
    vec![(6, 5, Activation::Tanh), (5, 4, Activation::Softmax)]
}

fn model() -> Model {
    let specs = layers()
        .iter()
        .map(|&(i, u, a)| LayerSpec::Dense { inputs: i as u32, units: u as u32, activation: a })
        .collect();
    let vals = layers()
        .iter()
        .enumerate()
        .flat_map(|(k, &(i, u, _))| [values(10 + k as u64, i * u), values(20 + k as u64, u)])
        .collect();
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(6), range: None };
    Model::new("pair", input, specs, vals).unwrap()
}

/// Naive f64 forward pass over the model's tensors.
fn reference(m: &Model, x: &[f32]) -> Vec<f64> {
    let mut h: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    for (i, &(n_in, n_out, act)) in layers().iter().enumerate() {
        let [w, b] = m.layer_params(i) else { panic!("dense has two tensors") };
        let mut y: Vec<f64> = (0..n_out)
            .map(|o| b.data[o] as f64 + (0..n_in).map(|k| w.data[o * n_in + k] as f64 * h[k]).sum::<f64>())
            .collect();
        match act {
            Activation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Softmax => {
                let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = y.iter().map(|v| (v - max).exp()).sum();
                y.iter_mut().for_each(|v| *v = (*v - max).exp() / sum);
            }
            other => unreachable!("not used here: {other:?}"),
        }
        h = y;
    }
    h
}

#[test]
fn generated_type_text_is_the_hand_written_type() {
    let src = model().to_rust("pair.emb").unwrap();
    assert!(src.contains(HAND_TEXT), "{src}");
    assert!(src.contains("\npub type BoardModel = Pair;\n"), "{src}");
    assert!(src.contains("pub const INPUT_LEN: usize = 6;\n"));
    assert!(src.contains("pub const OUTPUT_LEN: usize = 4;\n"));
}

#[test]
fn typed_runtime_matches_naive_f64_reference() {
    let m = model();
    let blob = AlignedBytes::new(&m.to_blob().unwrap());
    let net = Hand::load(&blob).unwrap();
    for seed in 0..8 {
        let x = values(100 + seed, 6);
        let y = net.forward(&SVector::<f32, 6>::from_column_slice(&x));
        let want = reference(&m, &x);
        for (o, (&a, &r)) in y.iter().zip(&want).enumerate() {
            assert!(((a as f64) - r).abs() <= F32_PARITY * (1.0 + r.abs()), "sample {seed} output {o}: {a} vs {r}");
        }
    }
}

#[test]
fn a_type_with_other_sizes_or_activation_is_rejected() {
    let blob = AlignedBytes::new(&model().to_blob().unwrap());
    assert!(Chain::<Dense<6, 5, Relu>, Dense<5, 4, Softmax>>::load(&blob).is_err());
    assert!(Chain::<Dense<6, 4, Tanh>, Dense<4, 4, Softmax>>::load(&blob).is_err());
    assert!(Dense::<6, 5, Tanh>::load(&blob).is_err());
}

/// A token-id model: Embedding, bidirectional LSTM over sequences, Dropout,
/// SimpleRNN (last state), Dense; its parameters are zeros (only sizes matter).
fn sequence_model() -> Model {
    let layers = vec![
        LayerSpec::Embedding { vocab: 20, dim: 4, seq_len: 6 },
        LayerSpec::Lstm { inputs: 4, units: 3, seq_len: 6, return_sequences: true, bidirectional: true },
        LayerSpec::Dropout { len: 36, rate_ppm: 250_000 },
        LayerSpec::SimpleRnn { inputs: 6, units: 5, seq_len: 6, return_sequences: false, bidirectional: false },
        LayerSpec::Dense { inputs: 5, units: 2, activation: Activation::Softmax },
    ];
    let vals = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|p| vec![0.0; l.param(p).unwrap().dims.elements()]).collect::<Vec<_>>())
        .collect();
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(6), range: None };
    Model::new("seq", input, layers, vals).unwrap()
}

#[test]
fn sequence_model_type_text() {
    let src = sequence_model().to_rust("seq.emb").unwrap();
    let want = "pub type Seq = ember_runtime::Chain<ember_runtime::Embedding<20, 4, 6>, \
                ember_runtime::Chain<ember_runtime::Bidirectional<ember_runtime::Lstm<4, 3>, 6, ember_runtime::Sequences, 6>, \
                ember_runtime::Chain<ember_runtime::Dropout<6, 6>, \
                ember_runtime::Chain<ember_runtime::Recurrent<ember_runtime::SimpleRnn<6, 5>, 6, ember_runtime::Last>, \
                ember_runtime::Dense<5, 2, ember_runtime::Softmax>>>>>;\n";
    assert!(src.contains(want), "{src}");
    for line in [
        "pub const INPUT_LEN: usize = 6;\n",
        "pub const OUTPUT_LEN: usize = 2;\n",
        "pub const SEQ_LEN: usize = 6;\n",
        "pub const VOCAB: usize = 20;\n",
        "pub const BLOB_FILE: &str = \"seq.emb\";\n",
    ] {
        assert!(src.contains(line), "missing {line:?} in {src}");
    }
}

#[test]
fn real_valued_models_declare_no_token_constants() {
    let src = model().to_rust("pair.emb").unwrap();
    assert!(!src.contains("SEQ_LEN") && !src.contains("VOCAB"), "{src}");
}

/// The conv-ae encoder on 28x28x1 (three same-padded 3x3 convolutions, each
/// followed by a same-padded 2x2 max pooling: 28 → 14 → 7 → 4), then a batch
/// normalisation, a 2x upsampling and a valid 2x2 convolution.
fn conv_layers() -> Vec<LayerSpec> {
    let conv = |hw: u32, channels, filters, k: u32, padding, activation| LayerSpec::Conv2d {
        height: hw,
        width: hw,
        channels,
        filters,
        kernel_h: k,
        kernel_w: k,
        padding,
        activation,
    };
    let pool =
        |hw: u32, channels| LayerSpec::MaxPool2d { height: hw, width: hw, channels, pool: 2, padding: Padding::Same };
    vec![
        conv(28, 1, 16, 3, Padding::Same, Activation::Relu),
        pool(28, 16),
        conv(14, 16, 8, 3, Padding::Same, Activation::Relu),
        pool(14, 8),
        conv(7, 8, 8, 3, Padding::Same, Activation::Relu),
        pool(7, 8),
        LayerSpec::BatchNorm { dims: Dims::new(&[4, 4, 8]).unwrap(), epsilon_bits: 1e-3f32.to_bits() },
        LayerSpec::Upsample2d { height: 4, width: 4, channels: 8, factor: 2 },
        conv(8, 8, 1, 2, Padding::Valid, Activation::Sigmoid),
    ]
}

type ConvHand = Chain<
    Conv2d<28, 28, 1, 16, 3, 3, Same, Relu, 784, 784>,
    Chain<
        MaxPool2d<28, 28, 16, 2, Same, 784, 196>,
        Chain<
            Conv2d<14, 14, 16, 8, 3, 3, Same, Relu, 196, 196>,
            Chain<
                MaxPool2d<14, 14, 8, 2, Same, 196, 49>,
                Chain<
                    Conv2d<7, 7, 8, 8, 3, 3, Same, Relu, 49, 49>,
                    Chain<
                        MaxPool2d<7, 7, 8, 2, Same, 49, 16>,
                        Chain<
                            BatchNorm<8, 16>,
                            Chain<Upsample2d<4, 4, 8, 2, 16, 64>, Conv2d<8, 8, 8, 1, 2, 2, Valid, Sigmoid, 64, 49>>,
                        >,
                    >,
                >,
            >,
        >,
    >,
>;
const CONV_TEXT: &str = "pub type Conv = ember_runtime::Chain<\
    ember_runtime::Conv2d<28, 28, 1, 16, 3, 3, ember_runtime::Same, ember_runtime::Relu, 784, 784>, \
    ember_runtime::Chain<ember_runtime::MaxPool2d<28, 28, 16, 2, ember_runtime::Same, 784, 196>, \
    ember_runtime::Chain<ember_runtime::Conv2d<14, 14, 16, 8, 3, 3, ember_runtime::Same, ember_runtime::Relu, 196, 196>, \
    ember_runtime::Chain<ember_runtime::MaxPool2d<14, 14, 8, 2, ember_runtime::Same, 196, 49>, \
    ember_runtime::Chain<ember_runtime::Conv2d<7, 7, 8, 8, 3, 3, ember_runtime::Same, ember_runtime::Relu, 49, 49>, \
    ember_runtime::Chain<ember_runtime::MaxPool2d<7, 7, 8, 2, ember_runtime::Same, 49, 16>, \
    ember_runtime::Chain<ember_runtime::BatchNorm<8, 16>, \
    ember_runtime::Chain<ember_runtime::Upsample2d<4, 4, 8, 2, 16, 64>, \
    ember_runtime::Conv2d<8, 8, 8, 1, 2, 2, ember_runtime::Valid, ember_runtime::Sigmoid, 64, 49>>>>>>>>>;\n";

/// A model over `layers` with seeded parameters (variances positive) and an
/// input of `dims`.
fn image_model(layers: Vec<LayerSpec>, dims: &[u32]) -> Model {
    let mut seed = 300;
    let mut vals = Vec::new();
    for l in &layers {
        for p in 0..l.param_count() {
            let spec = l.param(p).unwrap();
            seed += 1;
            let v = values(seed, spec.dims.elements());
            vals.push(if spec.name == "var" { v.iter().map(|x| x.abs() + 0.5).collect() } else { v });
        }
    }
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::new(dims).unwrap(), range: Some([0.0, 1.0]) };
    Model::new("conv", input, layers, vals).unwrap()
}

#[test]
fn conv_model_type_text_is_the_hand_written_type() {
    let src = image_model(conv_layers(), &[28, 28, 1]).to_rust("conv.emb").unwrap();
    assert!(src.contains(CONV_TEXT), "{src}");
    assert!(src.contains("pub const INPUT_LEN: usize = 784;\n"), "{src}");
    assert!(src.contains("pub const OUTPUT_LEN: usize = 49;\n"), "{src}");
    assert!(!src.contains("SEQ_LEN") && !src.contains("VOCAB"), "{src}");
}

#[test]
fn conv_type_loads_and_equals_the_interpreter_bit_for_bit() {
    let bytes = AlignedBytes::new(&image_model(conv_layers(), &[28, 28, 1]).to_blob().unwrap());
    let net = ConvHand::load(&bytes).expect("the generated type binds");
    let blob = Blob::parse(&bytes).unwrap();
    let mut scratch = vec![f32::NAN; dynamic::scratch_len(&blob)];
    let mut want = [f32::NAN; 49];
    for seed in 0..3 {
        let x: Vec<f32> = values(400 + seed, 784).iter().map(|v| v.abs()).collect();
        assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut want), Ok(49));
        let y = net.forward(&SMatrix::<f32, 1, 784>::from_column_slice(&x));
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(y.as_slice()), bits(&want), "sample {seed}");
    }
    // The same chain with the other padding in the first layer is refused.
    type OtherPad = Chain<Conv2d<28, 28, 1, 16, 3, 3, Valid, Relu, 784, 676>, MaxPool2d<26, 26, 16, 2, Same, 676, 169>>;
    assert_eq!(OtherPad::load(&bytes).err(), Some(Error::LayerShape));
}

#[test]
fn flatten_and_batch_norm_take_the_shape_before_them() {
    let layers = vec![
        LayerSpec::MaxPool2d { height: 6, width: 5, channels: 3, pool: 2, padding: Padding::Valid },
        LayerSpec::BatchNorm { dims: Dims::new(&[3, 2, 3]).unwrap(), epsilon_bits: 1e-5f32.to_bits() },
        LayerSpec::Flatten { dims: Dims::new(&[3, 2, 3]).unwrap() },
        LayerSpec::BatchNorm { dims: Dims::d1(18), epsilon_bits: 1e-5f32.to_bits() },
        LayerSpec::Dense { inputs: 18, units: 12, activation: Activation::Linear },
        LayerSpec::BatchNorm { dims: Dims::d2(3, 4), epsilon_bits: 1e-5f32.to_bits() },
        LayerSpec::Upsample2d { height: 1, width: 3, channels: 4, factor: 3 },
    ];
    let src = image_model(layers, &[6, 5, 3]).to_rust("m.emb").unwrap();
    let want = "pub type Conv = ember_runtime::Chain<\
                ember_runtime::MaxPool2d<6, 5, 3, 2, ember_runtime::Valid, 30, 6>, \
                ember_runtime::Chain<ember_runtime::BatchNorm<3, 6>, \
                ember_runtime::Chain<ember_runtime::Flatten<3, 6, 18>, \
                ember_runtime::Chain<ember_runtime::BatchNorm<18, 1>, \
                ember_runtime::Chain<ember_runtime::Dense<18, 12, ember_runtime::Linear>, \
                ember_runtime::Chain<ember_runtime::BatchNorm<4, 3>, \
                ember_runtime::Upsample2d<1, 3, 4, 3, 3, 27>>>>>>>;\n";
    assert!(src.contains(want), "{src}");
    assert!(src.contains("pub const INPUT_LEN: usize = 90;\n") && src.contains("pub const OUTPUT_LEN: usize = 108;\n"));
}

/// A token-id GRU model: Embedding, bidirectional GRU over sequences, GRU
/// (last state), Dense, with seeded parameters.
fn gru_model() -> Model {
    let layers = vec![
        LayerSpec::Embedding { vocab: 20, dim: 4, seq_len: 6 },
        LayerSpec::Gru { inputs: 4, units: 3, seq_len: 6, return_sequences: true, bidirectional: true },
        LayerSpec::Gru { inputs: 6, units: 5, seq_len: 6, return_sequences: false, bidirectional: false },
        LayerSpec::Dense { inputs: 5, units: 2, activation: Activation::Softmax },
    ];
    let mut seed = 40;
    let vals = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|p| l.param(p).unwrap().dims.elements()).collect::<Vec<_>>())
        .map(|n| {
            seed += 1;
            values(seed, n)
        })
        .collect();
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(6), range: None };
    Model::new("gru_seq", input, layers, vals).unwrap()
}

/// The hand-written type; its text must equal what `to_rust` generates.
type GruHand = Chain<
    ember_runtime::Embedding<20, 4, 6>,
    Chain<
        ember_runtime::Bidirectional<ember_runtime::Gru<4, 3>, 6, ember_runtime::Sequences, 6>,
        Chain<ember_runtime::Recurrent<ember_runtime::Gru<6, 5>, 6, ember_runtime::Last>, Dense<5, 2, Softmax>>,
    >,
>;

#[test]
fn gru_model_type_text_loads_the_blob_and_runs_as_the_interpreter() {
    let m = gru_model();
    let src = m.to_rust("gru_seq.emb").unwrap();
    let want = "pub type GruSeq = ember_runtime::Chain<ember_runtime::Embedding<20, 4, 6>, \
                ember_runtime::Chain<ember_runtime::Bidirectional<ember_runtime::Gru<4, 3>, 6, ember_runtime::Sequences, 6>, \
                ember_runtime::Chain<ember_runtime::Recurrent<ember_runtime::Gru<6, 5>, 6, ember_runtime::Last>, \
                ember_runtime::Dense<5, 2, ember_runtime::Softmax>>>>;\n";
    assert!(src.contains(want), "{src}");
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let typed = GruHand::load(&bytes).expect("the generated type loads the blob");
    let blob = Blob::parse(&bytes).unwrap();
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    for ids in [[1u32, 5, 19, 0, 7, 7], [0, 0, 0, 3, 2, 1]] {
        let y = typed.forward(&ember_runtime::TokenIds::new(ids).unwrap());
        let x: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
        let mut out = [0.0f32; 2];
        assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut out), Ok(2));
        assert_eq!(y.as_slice(), &out[..], "typed and dynamic agree on {ids:?}");
    }
    // The LSTM of the same sizes is another type.
    type AsLstm = Chain<
        ember_runtime::Embedding<20, 4, 6>,
        Chain<
            ember_runtime::Bidirectional<ember_runtime::Lstm<4, 3>, 6, ember_runtime::Sequences, 6>,
            Chain<ember_runtime::Recurrent<ember_runtime::Gru<6, 5>, 6, ember_runtime::Last>, Dense<5, 2, Softmax>>,
        >,
    >;
    assert_eq!(AsLstm::load(&bytes).err(), Some(Error::LayerKind));
}
