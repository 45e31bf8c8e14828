//! The type text that `Model::to_rust` generates is the runtime type that
//! loads the model's blob, and that type computes what a naive f64 reference
//! computes. For sequence models (Embedding, Flatten, Dropout, recurrent
//! layers) the generated text is checked as text here.

use ember_export::{AlignedBytes, Model};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_runtime::{Chain, Dense, Forward, Model as _, Relu, SVector, Softmax, Tanh};

/// `|a - b| <= F32_PARITY * (1 + |reference|)`.
const F32_PARITY: f64 = 1e-5;

/// The hand-written type; its text must equal what `to_rust` generates.
type Hand = Chain<Dense<6, 5, Tanh>, Dense<5, 4, Softmax>>;
const HAND_TEXT: &str = "pub type Model = ember_runtime::Chain<ember_runtime::Dense<6, 5, ember_runtime::Tanh>, \
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
    let want = "pub type Model = ember_runtime::Chain<ember_runtime::Embedding<20, 4, 6>, \
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
