//! `ember_export::import` on ember's own ONNX exports: for models of every
//! importable layer kind, `Model::to_onnx` then `import_onnx` gives a model
//! whose host-runtime outputs equal the original's (the original blob is the
//! reference, independent of the importer), within `F32_PARITY`. The graph
//! input of ember's ONNX is channels-last, so the imported input layout is
//! the original's.

use ember_conformance::{rng, uniform};
use ember_export::import::{ImportOptions, import_onnx};
use ember_export::{AlignedBytes, Model};
use ember_runtime::Activation::{Linear, Relu, Sigmoid, Softmax, Tanh};
use ember_runtime::spec::{Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{Blob, dynamic};
use ember_verify::{F32_PARITY, compare};

/// Seeded parameters for every layer (variances positive).
fn model(name: &str, input: &[u32], kind: ValueKind, layers: Vec<LayerSpec>) -> Model {
    let mut r = rng(11);
    let mut values = Vec::new();
    for l in &layers {
        for p in 0..l.param_count() {
            let ps = l.param(p).expect("param");
            let n = ps.dims.elements();
            values.push(if ps.name == "var" { uniform(&mut r, n, 0.5, 1.5) } else { uniform(&mut r, n, -0.5, 0.5) });
        }
    }
    let input = IoSpec { kind, dims: Dims::new(input).expect("dims"), range: None };
    Model::new(name, input, layers, values).expect("valid model")
}

fn run(m: &Model, x: &[f32]) -> Vec<f32> {
    let bytes = m.to_blob().expect("blob");
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).expect("parse");
    let (i, o) = (m.input.dims.elements(), m.output().dims.elements());
    let mut scratch = vec![0f32; dynamic::scratch_len(&blob)];
    let mut out = vec![0f32; x.len() / i * o];
    for (xs, ys) in x.chunks(i).zip(out.chunks_mut(o)) {
        dynamic::forward(&blob, xs, &mut scratch, ys).expect("forward");
    }
    out
}

fn round_trip(m: &Model) {
    let onnx = m.to_onnx().expect("onnx");
    let imp = import_onnx(&onnx, &ImportOptions { name: m.name.clone(), input_shape: None })
        .unwrap_or_else(|e| panic!("{}: {e}", m.name));
    assert_eq!(imp.input_layout, "same", "{}", m.name);
    assert_eq!(imp.model.input.dims.elements(), m.input.dims.elements());
    let n = 5;
    let per = m.input.dims.elements();
    let x: Vec<f32> = if m.input.kind == ValueKind::TokenIds {
        let vocab = m.layers[0].id_table().expect("table").rows as usize;
        (0..n * per).map(|k| ((k * 7 + 3) % vocab) as f32).collect()
    } else {
        uniform(&mut rng(5), n * per, -2.0, 2.0)
    };
    let want = run(m, &x);
    let got_ember = run(&imp.model, &x);
    let o = m.output().dims.elements();
    // The imported output is in ember's order of the ONNX output, which is the original's.
    let got: Vec<f32> = got_ember
        .chunks(o)
        .flat_map(|s| {
            let mut v = vec![0f32; o];
            for (i, &k) in imp.output_order.iter().enumerate() {
                v[k as usize] = s[i];
            }
            v
        })
        .collect();
    let c = compare("import", &got, &want);
    assert!(c.ok, "{}: max abs {} (tolerance {F32_PARITY}); steps:\n{}", m.name, c.max_abs, imp.steps.join("\n"));
}

#[test]
fn dense_chain() {
    let d = |i, o, a| LayerSpec::Dense { inputs: i, units: o, activation: a };
    round_trip(&model("mlp", &[20], ValueKind::F32, vec![d(20, 16, Relu), d(16, 8, Tanh), d(8, 4, Softmax)]));
}

#[test]
fn conv_pool_batch_norm_flatten_dense() {
    let layers = vec![
        LayerSpec::Conv2d {
            height: 8,
            width: 8,
            channels: 3,
            filters: 4,
            kernel_h: 3,
            kernel_w: 3,
            padding: Padding::Same,
            activation: Relu,
        },
        LayerSpec::MaxPool2d { height: 8, width: 8, channels: 4, pool: 2, padding: Padding::Valid },
        LayerSpec::BatchNorm { dims: Dims::new(&[4, 4, 4]).unwrap(), epsilon_bits: 1e-3f32.to_bits() },
        LayerSpec::Flatten { dims: Dims::new(&[4, 4, 4]).unwrap() },
        LayerSpec::Dense { inputs: 64, units: 5, activation: Sigmoid },
    ];
    round_trip(&model("cnn", &[8, 8, 3], ValueKind::F32, layers));
}

#[test]
fn strided_depthwise_average_global_pool_upsample() {
    let layers = vec![
        LayerSpec::Conv2dStrided {
            height: 9,
            width: 9,
            channels: 2,
            filters: 4,
            kernel: [3, 3],
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::Same,
            activation: Linear,
        },
        LayerSpec::DepthwiseConv2d {
            height: 5,
            width: 5,
            channels: 4,
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Same,
            activation: Relu,
        },
        LayerSpec::Upsample2d { height: 5, width: 5, channels: 4, factor: 2 },
        LayerSpec::AveragePool2d {
            height: 10,
            width: 10,
            channels: 4,
            pool: [2, 2],
            stride: [2, 2],
            padding: Padding::Valid,
        },
        LayerSpec::GlobalAveragePool { dims: Dims::new(&[5, 5, 4]).unwrap() },
        LayerSpec::Dense { inputs: 4, units: 3, activation: Linear },
    ];
    round_trip(&model("mobile", &[9, 9, 2], ValueKind::F32, layers));
}

#[test]
fn conv1d_and_1d_pools() {
    let layers = vec![
        LayerSpec::Conv1d {
            length: 16,
            channels: 3,
            filters: 5,
            kernel: 3,
            stride: 1,
            dilation: 2,
            padding: Padding::Same,
            activation: Relu,
        },
        LayerSpec::MaxPool1d { length: 16, channels: 5, pool: 2, stride: 2, padding: Padding::Valid },
        LayerSpec::AveragePool1d { length: 8, channels: 5, pool: 3, stride: 1, padding: Padding::Same },
        LayerSpec::GlobalAveragePool { dims: Dims::new(&[8, 5]).unwrap() },
        LayerSpec::Dense { inputs: 5, units: 2, activation: Softmax },
    ];
    round_trip(&model("seq_cnn", &[16, 3], ValueKind::F32, layers));
}

#[test]
fn embedding_and_recurrent_layers() {
    let emb = LayerSpec::Embedding { vocab: 30, dim: 6, seq_len: 7 };
    let lstm = LayerSpec::Lstm { inputs: 6, units: 5, seq_len: 7, return_sequences: false, bidirectional: true };
    round_trip(&model(
        "lstm",
        &[7],
        ValueKind::TokenIds,
        vec![emb, lstm, LayerSpec::Dense { inputs: 10, units: 1, activation: Sigmoid }],
    ));
    let gru = LayerSpec::Gru { inputs: 6, units: 4, seq_len: 7, return_sequences: true, bidirectional: false };
    let flat = LayerSpec::Flatten { dims: Dims::new(&[7, 4]).unwrap() };
    round_trip(&model(
        "gru",
        &[7],
        ValueKind::TokenIds,
        vec![emb, gru, flat, LayerSpec::Dense { inputs: 28, units: 3, activation: Linear }],
    ));
    let rnn = LayerSpec::SimpleRnn { inputs: 3, units: 4, seq_len: 6, return_sequences: false, bidirectional: false };
    round_trip(&model("rnn", &[6, 3], ValueKind::F32, vec![rnn]));
}
