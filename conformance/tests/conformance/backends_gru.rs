//! GRU models (ONNX `GRU`, `linear_before_reset = 1`: one and two
//! directions, sequences and last state, stacked, after an embedding or on
//! `f32` sequences, and the `gru` preset's IMDB-shaped model) on every
//! backend: tract and ONNX Runtime against the naive `f64` reference of
//! `ember_conformance::reference` (written from the ONNX operator), and the
//! trainer, the host runtime and a blob round trip against each other
//! (`ember_verify::verify`); every export passes the `onnx` checker.

use ember_conformance::reference::model_f64;
use ember_conformance::support::values;
use ember_conformance::to_f64;
use ember_export::Model;
use ember_nn::network::Network;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_verify::backends::{run_ort, run_tract};
use ember_verify::{F32_PARITY, format_report, verify};

const BATCH: usize = 3;

fn gru(inputs: u32, units: u32, seq_len: u32, return_sequences: bool, bidirectional: bool) -> LayerSpec {
    LayerSpec::Gru { inputs, units, seq_len, return_sequences, bidirectional }
}

fn tokens(seq_len: u32) -> IoSpec {
    IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(seq_len), range: None }
}

/// A model with seeded parameters in `[-scale, scale)`.
fn model(name: &str, input: IoSpec, layers: Vec<LayerSpec>, scale: f64) -> Model {
    let mut seed = 0;
    let vals = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|p| l.param(p).unwrap().dims.elements()).collect::<Vec<_>>())
        .map(|n| {
            seed += 1;
            values(seed * 37 + name.len() as u64, n, scale)
        })
        .collect();
    Model::new(name, input, layers, vals).unwrap()
}

/// Every case: Embedding + GRU (last) + Dense; bidirectional GRU sequences
/// into a GRU (last); bidirectional last; an `f32` sequence with a
/// one-direction GRU returning sequences; the `gru` preset's shape
/// (Embedding 5000 x 32 over 400 steps, GRU(100), Dense(1, sigmoid)).
fn cases() -> Vec<Model> {
    let emb = |vocab, dim, seq_len| LayerSpec::Embedding { vocab, dim, seq_len };
    let dense = |inputs, units, activation| LayerSpec::Dense { inputs, units, activation };
    vec![
        model(
            "emb_gru_last",
            tokens(21),
            vec![emb(13, 4, 21), gru(4, 5, 21, false, false), dense(5, 2, Activation::Sigmoid)],
            0.6,
        ),
        model(
            "bi_gru_seq_gru_last",
            tokens(20),
            vec![
                emb(9, 3, 20),
                gru(3, 4, 20, true, true),
                gru(8, 3, 20, false, false),
                dense(3, 2, Activation::Linear),
            ],
            0.6,
        ),
        model(
            "bi_gru_last",
            tokens(7),
            vec![emb(8, 2, 7), gru(2, 3, 7, false, true), dense(6, 1, Activation::Sigmoid)],
            0.6,
        ),
        model(
            "f32_gru_seq",
            IoSpec { kind: ValueKind::F32, dims: Dims::d2(6, 2), range: None },
            vec![gru(2, 4, 6, true, false)],
            0.6,
        ),
        model(
            "gru_preset_shape",
            tokens(400),
            vec![emb(5000, 32, 400), gru(32, 100, 400, false, false), dense(100, 1, Activation::Sigmoid)],
            0.15,
        ),
    ]
}

fn inputs(m: &Model, seed: u64, batch: usize) -> Vec<f32> {
    let n = batch * m.input.dims.elements();
    match m.layers[0] {
        LayerSpec::Embedding { vocab, .. } => values(seed, n, 1.0)
            .iter()
            .map(|&v| ((v as f64 + 1.0) / 2.0 * vocab as f64).floor().min(vocab as f64 - 1.0) as f32)
            .collect(),
        _ => values(seed, n, 1.5),
    }
}

fn reference(m: &Model, x: &[f32]) -> Vec<f64> {
    let params: Vec<Vec<f64>> = m.params.iter().map(|t| to_f64(&t.data)).collect();
    model_f64(&m.layers, &params, &to_f64(x))
}

/// Asserts parity with the reference and returns the largest absolute difference.
fn parity(what: &str, got: &[f32], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: output length");
    let mut max = 0f64;
    for (i, (&a, &r)) in got.iter().zip(want).enumerate() {
        let err = (a as f64 - r).abs();
        assert!(err <= F32_PARITY + F32_PARITY * r.abs(), "{what}: value {i}: {a} vs reference {r} (error {err:e})");
        max = max.max(err);
    }
    max
}

fn dims(m: &Model) -> Vec<usize> {
    m.input.dims.as_slice().iter().map(|&d| d as usize).collect()
}

#[test]
fn tract_and_ort_match_the_f64_reference() {
    for (k, m) in cases().iter().enumerate() {
        let onnx = m.to_onnx().unwrap();
        let x = inputs(m, 100 + k as u64, BATCH);
        let want = reference(m, &x);
        assert_eq!(want.len(), BATCH * m.output().dims.elements(), "{}", m.name);
        assert!(want.iter().any(|v| v.abs() > 0.05), "{}: outputs ~0, a vacuous check", m.name);
        let tract = run_tract(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("tract/{}: {e:#}", m.name));
        let t = parity(&format!("tract/{}", m.name), &tract, &want);
        let ort = run_ort(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("ort/{}: {e:#}", m.name));
        let o = parity(&format!("ort/{}", m.name), &ort, &want);
        println!("{}: max |tract - f64| {t:.3e}, max |ORT - f64| {o:.3e}", m.name);
    }
}

#[test]
fn trainer_runtime_round_trip_tract_and_ort_agree() {
    for (k, m) in cases().iter().enumerate() {
        let (blob, onnx) = (m.to_blob().unwrap(), m.to_onnx().unwrap());
        let x = inputs(m, 200 + k as u64, BATCH);
        let runtime = ember_verify::run_runtime(&blob, &x).unwrap();
        let r = parity(&format!("runtime/{}", m.name), &runtime, &reference(m, &x));
        let trainer = Network::from_model(m).predict(&x);
        assert_eq!(trainer.len(), runtime.len());
        let report = verify(&blob, &onnx, &x).unwrap_or_else(|e| panic!("{}: {e:#}", m.name));
        println!("{}: max |runtime - f64| {r:.3e}\n{}", m.name, format_report(&report));
        assert!(report.ok(), "{}:\n{}", m.name, format_report(&report));
        assert_eq!(report.comparisons.len(), 4, "{}: trainer, round trip, tract, ORT", m.name);
    }
}

#[test]
fn onnx_checker_accepts_every_case_and_the_cell_resets_after() {
    for m in cases() {
        let onnx = m.to_onnx().unwrap();
        if let Err(e) = ember_verify::backends::onnx_check(&onnx) {
            panic!("{}: {e:#}", m.name);
        }
        let proto = m.to_onnx_proto().unwrap();
        let graph = proto.graph.as_ref().expect("a graph");
        let cells: Vec<_> = graph.node.iter().filter(|n| n.op_type == "GRU").collect();
        let grus = m.layers.iter().filter(|l| matches!(l, LayerSpec::Gru { .. })).count();
        assert_eq!(cells.len(), grus, "{}", m.name);
        for cell in cells {
            let lbr = cell.attribute.iter().find(|a| a.name == "linear_before_reset").map(|a| a.i);
            assert_eq!(lbr, Some(1), "{}: {}", m.name, cell.name);
        }
    }
}
