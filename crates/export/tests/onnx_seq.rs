//! The ONNX graphs of sequence models: token-id input, `Gather`, `Flatten`,
//! no node for Dropout, `RNN` / `LSTM` / `GRU` between layout transposes, and every
//! export accepted by `onnx.checker.check_model(full_check = True)`.

use std::path::PathBuf;
use std::process::Command;

use ember_export::Model;
use ember_export::onnx::proto::tensor_proto::DataType;
use ember_export::onnx::proto::tensor_shape_proto::dimension;
use ember_export::onnx::proto::type_proto;
use ember_export::onnx::proto::{GraphProto, ModelProto, NodeProto, ValueInfoProto};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use prost::Message;

fn rnn(inputs: u32, units: u32, seq_len: u32, return_sequences: bool, bidirectional: bool) -> LayerSpec {
    LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences, bidirectional }
}

fn lstm(inputs: u32, units: u32, seq_len: u32, return_sequences: bool, bidirectional: bool) -> LayerSpec {
    LayerSpec::Lstm { inputs, units, seq_len, return_sequences, bidirectional }
}

fn emb(vocab: u32, dim: u32, seq_len: u32) -> LayerSpec {
    LayerSpec::Embedding { vocab, dim, seq_len }
}

fn dense(inputs: u32, units: u32, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { inputs, units, activation }
}

fn tokens(seq_len: u32) -> IoSpec {
    IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(seq_len), range: None }
}

/// A model whose parameters are small distinct values.
fn model(name: &str, input: IoSpec, layers: Vec<LayerSpec>) -> Model {
    let vals = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|p| l.param(p).unwrap().dims.elements()).collect::<Vec<_>>())
        .map(|n| (0..n).map(|k| ((k % 17) as f32 - 8.0) * 0.05).collect())
        .collect();
    Model::new(name, input, layers, vals).unwrap()
}

fn cases() -> Vec<Model> {
    vec![
        model(
            "emb_flatten_dense",
            tokens(6),
            vec![
                emb(11, 3, 6),
                LayerSpec::Flatten { dims: Dims::d2(6, 3) },
                LayerSpec::Dropout { len: 18, rate_ppm: 200_000 },
                dense(18, 4, Activation::Softmax),
            ],
        ),
        model(
            "emb_rnn_last",
            tokens(7),
            vec![emb(13, 4, 7), rnn(4, 5, 7, false, false), dense(5, 2, Activation::Sigmoid)],
        ),
        model(
            "rnn_seq_lstm_last",
            tokens(5),
            vec![
                emb(9, 3, 5),
                rnn(3, 4, 5, true, false),
                LayerSpec::Dropout { len: 20, rate_ppm: 100_000 },
                lstm(4, 3, 5, false, false),
                dense(3, 2, Activation::Linear),
            ],
        ),
        model("bi_rnn_seq", tokens(6), vec![emb(10, 3, 6), rnn(3, 4, 6, true, true)]),
        model("bi_rnn_last", tokens(5), vec![emb(8, 2, 5), rnn(2, 3, 5, false, true)]),
        model("bi_lstm_seq", tokens(6), vec![emb(12, 4, 6), lstm(4, 3, 6, true, true)]),
        model(
            "bi_lstm_last",
            tokens(7),
            vec![emb(7, 3, 7), lstm(3, 5, 7, false, true), dense(10, 2, Activation::Relu)],
        ),
        model(
            "f32_lstm_after_dense",
            IoSpec { kind: ValueKind::F32, dims: Dims::d1(4), range: None },
            vec![dense(4, 10, Activation::Tanh), lstm(2, 3, 5, false, false)],
        ),
        model("embedding_only", tokens(5), vec![emb(6, 2, 5)]),
        model(
            "dropout_only",
            IoSpec { kind: ValueKind::F32, dims: Dims::d2(2, 3), range: None },
            vec![LayerSpec::Dropout { len: 6, rate_ppm: 0 }],
        ),
        model(
            "bi_gru_seq_gru_last",
            tokens(6),
            vec![
                emb(10, 3, 6),
                LayerSpec::Gru { inputs: 3, units: 4, seq_len: 6, return_sequences: true, bidirectional: true },
                LayerSpec::Gru { inputs: 8, units: 2, seq_len: 6, return_sequences: false, bidirectional: false },
            ],
        ),
    ]
}

/// The graph of `m`'s ONNX bytes, decoded.
fn decode(m: &Model) -> GraphProto {
    ModelProto::decode(&m.to_onnx().unwrap()[..]).unwrap().graph.unwrap()
}

fn node<'a>(p: &'a GraphProto, name: &str) -> &'a NodeProto {
    p.node.iter().find(|n| n.name == name).unwrap_or_else(|| panic!("no node {name}"))
}

fn ops(p: &GraphProto) -> Vec<&str> {
    p.node.iter().map(|n| n.op_type.as_str()).collect()
}

fn int_attr(n: &NodeProto, name: &str) -> i64 {
    n.attribute.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{}: no {name}", n.name)).i
}

fn ints_attr<'a>(n: &'a NodeProto, name: &str) -> &'a [i64] {
    &n.attribute.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{}: no {name}", n.name)).ints
}

fn str_attr(n: &NodeProto, name: &str) -> String {
    String::from_utf8(n.attribute.iter().find(|a| a.name == name).unwrap().s.clone()).unwrap()
}

/// The `INT64` initializer `name`'s values.
fn i64_init(p: &GraphProto, name: &str) -> Vec<i64> {
    let t = p.initializer.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no initializer {name}"));
    assert_eq!(t.data_type, DataType::Int64 as i32);
    t.raw_data.chunks(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect()
}

/// Element type and shape (`-1` for the symbolic batch) of a graph value.
fn io(v: &ValueInfoProto) -> (i32, Vec<i64>) {
    let Some(type_proto::Value::TensorType(t)) = &v.r#type.as_ref().unwrap().value else { panic!("not a tensor") };
    let dims = (t.shape.as_ref().unwrap().dim)
        .iter()
        .map(|d| match &d.value {
            Some(dimension::Value::DimValue(v)) => *v,
            Some(dimension::Value::DimParam(p)) if p == "batch" => -1,
            other => panic!("unexpected dim {other:?}"),
        })
        .collect();
    (t.elem_type, dims)
}

#[test]
fn token_input_feeds_gather_and_dropout_emits_nothing() {
    let p = decode(&cases()[0]);
    assert_eq!(io(&p.input[0]), (DataType::Int64 as i32, vec![-1, 6]));
    assert_eq!(io(&p.output[0]), (DataType::Float as i32, vec![-1, 4]));
    assert_eq!(ops(&p), ["Gather", "Flatten", "Gemm", "Softmax"]);
    let gather = node(&p, "embedding_0");
    assert_eq!(gather.input, ["embedding_0.weight", "input"]);
    assert_eq!(int_attr(gather, "axis"), 0);
    let flatten = node(&p, "flatten_1");
    assert_eq!((flatten.input[0].as_str(), int_attr(flatten, "axis")), ("embedding_0", 1));
    assert_eq!(node(&p, "dense_3").input[0], "flatten_1");
    let weight = &p.initializer[0];
    assert_eq!((weight.name.as_str(), weight.dims.as_slice()), ("embedding_0.weight", &[11i64, 3][..]));
    let m = &cases()[0];
    let want: Vec<u8> = m.params[0].data.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(weight.raw_data, want, "the table is written unchanged");
}

#[test]
fn last_state_rnn_reads_y_h_batch_first() {
    let p = decode(&cases()[1]);
    assert_eq!(ops(&p), ["Gather", "Transpose", "RNN", "Transpose", "Reshape", "Gemm", "Sigmoid"]);
    let x = node(&p, "rnn_1.x");
    assert_eq!((x.input[0].as_str(), ints_attr(x, "perm")), ("embedding_0", &[1i64, 0, 2][..]));
    let cell = node(&p, "rnn_1.cell");
    assert_eq!(cell.input, ["rnn_1.x", "rnn_1.w", "rnn_1.r", "rnn_1.b"]);
    assert_eq!(cell.output, ["", "rnn_1.y_h"]);
    assert_eq!((int_attr(cell, "hidden_size"), str_attr(cell, "direction").as_str()), (5, "forward"));
    let acts = &cell.attribute.iter().find(|a| a.name == "activations").unwrap().strings;
    assert_eq!(acts, &[b"Tanh".to_vec()]);
    assert_eq!(ints_attr(node(&p, "rnn_1.t"), "perm"), [1, 0, 2]);
    assert_eq!(node(&p, "rnn_1").input, ["rnn_1.t", "rnn_1.shape"]);
    assert_eq!(i64_init(&p, "rnn_1.shape"), [0, 5]);
    let inits: Vec<_> = p.initializer.iter().map(|t| (t.name.as_str(), t.dims.clone())).collect();
    assert!(inits.contains(&("rnn_1.w", vec![1, 5, 4])) && inits.contains(&("rnn_1.r", vec![1, 5, 5])));
    assert!(inits.contains(&("rnn_1.b", vec![1, 10])));
}

#[test]
fn sequences_are_transposed_back_and_stack() {
    let p = decode(&cases()[2]);
    let cell = node(&p, "rnn_1.cell");
    assert_eq!(cell.output, ["rnn_1.y"]);
    assert_eq!(ints_attr(node(&p, "rnn_1.t"), "perm"), [2, 0, 1, 3]);
    assert_eq!(i64_init(&p, "rnn_1.shape"), [0, 5, 4]);
    // Dropout (layer 2) adds nothing: the LSTM reads the RNN's sequence directly.
    assert_eq!(node(&p, "lstm_3.x").input, ["rnn_1"]);
    let lstm = node(&p, "lstm_3.cell");
    assert_eq!(lstm.op_type, "LSTM");
    assert_eq!(lstm.output, ["", "lstm_3.y_h"]);
    assert!(lstm.attribute.iter().all(|a| a.name != "activations"), "default LSTM activations");
    assert!(p.node.iter().all(|n| !n.name.starts_with("dropout")));
    assert_eq!(io(&p.output[0]), (DataType::Float as i32, vec![-1, 2]));
}

#[test]
fn bidirectional_layers_concatenate_directions() {
    let p = decode(&cases()[3]);
    let cell = node(&p, "rnn_1.cell");
    assert_eq!(str_attr(cell, "direction"), "bidirectional");
    let acts = &cell.attribute.iter().find(|a| a.name == "activations").unwrap().strings;
    assert_eq!(acts.len(), 2);
    assert_eq!(i64_init(&p, "rnn_1.shape"), [0, 6, 8]);
    // A sequence at the end of the graph is the declared output, `[batch, seq_len, 2 * units]`.
    assert_eq!(node(&p, "rnn_1").output, ["output"]);
    assert_eq!(io(&p.output[0]).1, [-1, 6, 8]);

    let p = decode(&cases()[6]);
    let cell = node(&p, "lstm_1.cell");
    assert_eq!((str_attr(cell, "direction").as_str(), int_attr(cell, "hidden_size")), ("bidirectional", 5));
    assert_eq!(i64_init(&p, "lstm_1.shape"), [0, 10]);
    let w = p.initializer.iter().find(|t| t.name == "lstm_1.w").unwrap();
    assert_eq!(w.dims, [2, 20, 3]);
}

#[test]
fn a_flat_value_is_reshaped_into_steps() {
    let p = decode(&cases()[7]);
    assert_eq!(io(&p.input[0]), (DataType::Float as i32, vec![-1, 4]));
    assert_eq!(node(&p, "lstm_1.reshape").input[0], "dense_0.act");
    assert_eq!(i64_init(&p, "lstm_1.reshape.shape"), [0, 5, 2]);
    assert_eq!(node(&p, "lstm_1.x").input, ["lstm_1.reshape"]);
}

#[test]
fn a_last_value_of_another_shape_is_reshaped_to_the_declared_output() {
    let p = decode(&cases()[9]);
    assert_eq!(io(&p.input[0]).1, [-1, 2, 3]);
    assert_eq!(ops(&p), ["Flatten"]);
    assert_eq!(node(&p, "output.flatten").output, ["output"]);
    assert_eq!(io(&p.output[0]).1, [-1, 6]);
    let p = decode(&cases()[8]);
    assert_eq!(ops(&p), ["Gather"]);
    assert_eq!(io(&p.output[0]).1, [-1, 5, 2]);
}

#[test]
fn an_embedding_after_another_layer_is_an_error() {
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(2), range: None };
    let m = model("late", input, vec![dense(2, 4, Activation::Relu), emb(5, 2, 4)]);
    let err = m.to_onnx().unwrap_err().to_string();
    assert!(err.contains("first layer"), "{err}");
}

/// The Python with the `onnx` package: `EMBER_PYTHON`, else the workspace's `.venv`.
fn python() -> PathBuf {
    let p = std::env::var_os("EMBER_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    assert!(p.exists(), "{} not found: run `cargo xtask setup` (creates .venv with onnx and onnxruntime)", p.display());
    p
}

#[test]
fn onnx_checker_accepts_every_sequence_export() {
    let python = python();
    let dir = std::env::temp_dir().join(format!("ember-onnx-seq-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for m in cases() {
        let file = dir.join(format!("{}.onnx", m.name));
        std::fs::write(&file, m.to_onnx().unwrap()).unwrap();
        let out = Command::new(&python)
            .arg("-c")
            .arg("import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)")
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "onnx checker rejected {}: {}", m.name, String::from_utf8_lossy(&out.stderr));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gru_cells_reset_after_between_the_recurrent_transposes() {
    let p = decode(&cases()[10]);
    assert_eq!(
        ops(&p),
        ["Gather", "Transpose", "GRU", "Transpose", "Reshape", "Transpose", "GRU", "Transpose", "Reshape"]
    );
    let bi = node(&p, "gru_1.cell");
    assert_eq!(bi.input, ["gru_1.x", "gru_1.w", "gru_1.r", "gru_1.b"]);
    assert_eq!(bi.output, ["gru_1.y"]);
    assert_eq!((int_attr(bi, "hidden_size"), str_attr(bi, "direction").as_str()), (4, "bidirectional"));
    assert_eq!(int_attr(bi, "linear_before_reset"), 1);
    assert!(bi.attribute.iter().all(|a| a.name != "activations"), "default GRU activations");
    assert_eq!(i64_init(&p, "gru_1.shape"), [0, 6, 8]);
    let last = node(&p, "gru_2.cell");
    assert_eq!(last.output, ["", "gru_2.y_h"]);
    assert_eq!(int_attr(last, "linear_before_reset"), 1);
    assert_eq!(node(&p, "gru_2.x").input, ["gru_1"]);
    let inits: Vec<_> = p.initializer.iter().map(|t| (t.name.as_str(), t.dims.clone())).collect();
    for (name, dims) in [("gru_1.w", vec![2, 12, 3]), ("gru_1.r", vec![2, 12, 4]), ("gru_1.b", vec![2, 24])] {
        assert!(inits.contains(&(name, dims.clone())), "{name} {dims:?} in {inits:?}");
    }
    assert!(inits.contains(&("gru_2.b", vec![1, 12])));
}
