//! Sequence models (Embedding, Flatten, Dropout, SimpleRNN, LSTM, both
//! directions, both return modes) exported to ONNX and run on tract and ONNX
//! Runtime agree with a naive f64 implementation of the ONNX equations
//! written here (independent of the trainer and the runtime); every export
//! passes the `onnx` checker; token ids outside the vocabulary are an error,
//! never a crash.

use ember_export::Model;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_verify::F32_PARITY;
use ember_verify::backends::{OrtModel, TractModel, run_ort, run_tract};

use ember_conformance::support;
use support::values;

const BATCH: usize = 3;

/// Deterministic token ids in `0..vocab`, as `f32`.
fn ids(seed: u64, n: usize, vocab: u32) -> Vec<f32> {
    values(seed, n, 1.0)
        .iter()
        .map(|&v| ((v as f64 + 1.0) / 2.0 * vocab as f64).floor().min(vocab as f64 - 1.0) as f32)
        .collect()
}

fn rnn(inputs: u32, units: u32, seq_len: u32, return_sequences: bool, bidirectional: bool) -> LayerSpec {
    LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences, bidirectional }
}

fn lstm(inputs: u32, units: u32, seq_len: u32, return_sequences: bool, bidirectional: bool) -> LayerSpec {
    LayerSpec::Lstm { inputs, units, seq_len, return_sequences, bidirectional }
}

fn dense(inputs: u32, units: u32, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { inputs, units, activation }
}

/// A model with seeded parameters in [-0.6, 0.6).
fn model(name: &str, input: IoSpec, layers: Vec<LayerSpec>) -> Model {
    let mut seed = 0;
    let vals = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|p| l.param(p).unwrap().dims.elements()).collect::<Vec<_>>())
        .map(|n| {
            seed += 1;
            values(seed * 31 + name.len() as u64, n, 0.6)
        })
        .collect();
    Model::new(name, input, layers, vals).unwrap()
}

fn tokens(seq_len: u32) -> IoSpec {
    IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(seq_len), range: None }
}

/// Every case: Embedding + Flatten + Dense; Embedding + RNN (last); RNN
/// (sequences) + LSTM (last) stacked; bidirectional RNN and LSTM in both
/// return modes; an `f32` sequence input.
fn cases() -> Vec<Model> {
    let emb = |vocab, dim, seq_len| LayerSpec::Embedding { vocab, dim, seq_len };
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
        model(
            "bi_rnn_seq",
            tokens(6),
            vec![
                emb(10, 3, 6),
                rnn(3, 4, 6, true, true),
                LayerSpec::Flatten { dims: Dims::d2(6, 8) },
                dense(48, 3, Activation::Tanh),
            ],
        ),
        model(
            "bi_rnn_last",
            tokens(5),
            vec![emb(8, 2, 5), rnn(2, 3, 5, false, true), dense(6, 1, Activation::Sigmoid)],
        ),
        model("bi_lstm_seq", tokens(6), vec![emb(12, 4, 6), lstm(4, 3, 6, true, true)]),
        model(
            "bi_lstm_last",
            tokens(7),
            vec![emb(7, 3, 7), lstm(3, 5, 7, false, true), dense(10, 2, Activation::Relu)],
        ),
        model(
            "f32_bi_lstm_seq_rnn_last",
            IoSpec { kind: ValueKind::F32, dims: Dims::d2(5, 2), range: None },
            vec![lstm(2, 3, 5, true, true), rnn(6, 4, 5, false, false)],
        ),
    ]
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// `y = x · Mᵀ` for `M` `[rows, cols]` row-major, accumulated onto `y`.
fn gemv_t(m: &[f32], x: &[f64], y: &mut [f64]) {
    let cols = x.len();
    for (o, yo) in y.iter_mut().enumerate() {
        *yo += (0..cols).map(|k| m[o * cols + k] as f64 * x[k]).sum::<f64>();
    }
}

/// ONNX `RNN` (tanh) or `LSTM` (gates i, o, f, c) over one sample
/// `xs` `[seq_len][inputs]`, zero initial states; returns every step's
/// concatenated `[forward, backward]` state, or the last states (the
/// backward one after reading step 0).
fn recurrent(l: &LayerSpec, w: &[f32], r: &[f32], b: &[f32], xs: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = l.recurrent().unwrap();
    let (h, g) = (d.units, d.gates * d.units);
    let mut per_step = vec![Vec::new(); d.seq_len];
    let mut last = Vec::new();
    for dir in 0..d.dirs {
        let wd = &w[dir * g * d.inputs..(dir + 1) * g * d.inputs];
        let rd = &r[dir * g * h..(dir + 1) * g * h];
        let (wb, rb) = (&b[dir * 2 * g..dir * 2 * g + g], &b[dir * 2 * g + g..(dir + 1) * 2 * g]);
        let (mut ht, mut ct) = (vec![0.0; h], vec![0.0; h]);
        let order: Vec<usize> = if dir == 0 { (0..d.seq_len).collect() } else { (0..d.seq_len).rev().collect() };
        for t in order {
            let mut z: Vec<f64> = (0..g).map(|k| wb[k] as f64 + rb[k] as f64).collect();
            gemv_t(wd, &xs[t], &mut z);
            gemv_t(rd, &ht, &mut z);
            if d.gates == 1 {
                ht = z.iter().map(|v| v.tanh()).collect();
            } else {
                for k in 0..h {
                    let (i, o, f, c) = (sigmoid(z[k]), sigmoid(z[h + k]), sigmoid(z[2 * h + k]), z[3 * h + k].tanh());
                    ct[k] = f * ct[k] + i * c;
                    ht[k] = o * ct[k].tanh();
                }
            }
            per_step[t].extend_from_slice(&ht);
        }
        last.extend_from_slice(&ht);
    }
    if d.return_sequences { per_step } else { vec![last] }
}

/// Naive f64 forward pass of one sample; the value is kept as a list of
/// steps (`[seq_len][features]`, or one step for a vector).
fn reference_sample(m: &Model, x: &[f32]) -> Vec<f64> {
    let mut steps: Vec<Vec<f64>> = vec![x.iter().map(|&v| v as f64).collect()];
    for (i, l) in m.layers.iter().enumerate() {
        let p: Vec<&[f32]> = m.layer_params(i).iter().map(|t| &t.data[..]).collect();
        steps = match *l {
            LayerSpec::Embedding { dim, .. } => {
                let dim = dim as usize;
                x.iter().map(|&id| p[0][id as usize * dim..][..dim].iter().map(|&v| v as f64).collect()).collect()
            }
            LayerSpec::Flatten { .. } | LayerSpec::Dropout { .. } => vec![steps.concat()],
            LayerSpec::Dense { units, activation, .. } => {
                let x = steps.concat();
                let mut y: Vec<f64> = p[1].iter().map(|&v| v as f64).collect();
                gemv_t(p[0], &x, &mut y);
                match activation {
                    Activation::Linear => {}
                    Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
                    Activation::Sigmoid => y.iter_mut().for_each(|v| *v = sigmoid(*v)),
                    Activation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
                    Activation::Softmax => {
                        let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let sum: f64 = y.iter().map(|v| (v - max).exp()).sum();
                        y.iter_mut().for_each(|v| *v = (*v - max).exp() / sum);
                    }
                }
                assert_eq!(y.len(), units as usize);
                vec![y]
            }
            LayerSpec::SimpleRnn { inputs, .. } | LayerSpec::Lstm { inputs, .. } => {
                let flat = steps.concat();
                let xs: Vec<Vec<f64>> = flat.chunks(inputs as usize).map(<[f64]>::to_vec).collect();
                recurrent(l, p[0], p[1], p[2], &xs)
            }
            other => unreachable!("not used here: {other:?}"),
        };
    }
    steps.concat()
}

fn reference(m: &Model, x: &[f32]) -> Vec<f64> {
    x.chunks(m.input.dims.elements()).flat_map(|s| reference_sample(m, s)).collect()
}

fn inputs(m: &Model, seed: u64, batch: usize) -> Vec<f32> {
    let n = batch * m.input.dims.elements();
    match m.layers[0] {
        LayerSpec::Embedding { vocab, .. } => ids(seed, n, vocab),
        _ => values(seed, n, 1.5),
    }
}

fn assert_parity(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: output length");
    for (i, (&a, &r)) in got.iter().zip(want).enumerate() {
        let err = (a as f64 - r).abs();
        assert!(err <= F32_PARITY + F32_PARITY * r.abs(), "{what}: value {i}: {a} vs reference {r} (error {err:e})");
    }
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
        let tract = run_tract(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("tract/{}: {e:#}", m.name));
        assert_parity(&format!("tract/{}", m.name), &tract, &want);
        let ort = run_ort(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("ort/{}: {e:#}", m.name));
        assert_parity(&format!("ort/{}", m.name), &ort, &want);
    }
}

#[test]
fn prepared_token_models_report_their_input_and_run_repeatedly() {
    let m = &cases()[6];
    let onnx = m.to_onnx().unwrap();
    let tract = TractModel::load(&onnx, &dims(m), 2).unwrap();
    let mut ort = OrtModel::load(&onnx, &dims(m), 2).unwrap();
    assert_eq!((tract.input_kind(), ort.input_kind()), (ValueKind::TokenIds, ValueKind::TokenIds));
    for seed in 0..3 {
        let x = inputs(m, seed, 2);
        let want = reference(m, &x);
        assert_parity("tract", &tract.run(&x).unwrap(), &want);
        assert_parity("ort", &ort.run(&x).unwrap(), &want);
    }
    let f = cases().pop().unwrap();
    let tract = TractModel::load(&f.to_onnx().unwrap(), &dims(&f), 1).unwrap();
    assert_eq!(tract.input_kind(), ValueKind::F32);
}

#[test]
fn out_of_vocabulary_and_non_integer_ids_are_errors() {
    for m in cases().iter().filter(|m| m.input.kind == ValueKind::TokenIds) {
        let LayerSpec::Embedding { vocab, .. } = m.layers[0] else {
            unreachable!("token models start with an embedding")
        };
        let onnx = m.to_onnx().unwrap();
        let good = inputs(m, 7, BATCH);
        for (bad, what) in [
            (vocab as f32, "outside the vocabulary"),
            (-1.0, "not a token id"),
            (1.5, "not a token id"),
            (f32::NAN, "not a token id"),
        ] {
            let mut x = good.clone();
            x[4] = bad;
            for (backend, r) in
                [("tract", run_tract(&onnx, &dims(m), BATCH, &x)), ("ort", run_ort(&onnx, &dims(m), BATCH, &x))]
            {
                let err = format!("{:#}", r.expect_err(&format!("{backend}/{}: id {bad} accepted", m.name)));
                assert!(err.contains(what) && err.contains("value 4"), "{backend}/{}: {err}", m.name);
            }
        }
        // The largest valid id runs.
        let mut x = good.clone();
        x[0] = (vocab - 1) as f32;
        run_tract(&onnx, &dims(m), BATCH, &x).unwrap();
        run_ort(&onnx, &dims(m), BATCH, &x).unwrap();
    }
    let m = &cases()[1];
    let onnx = m.to_onnx().unwrap();
    let mut prepared = OrtModel::load(&onnx, &dims(m), 1).unwrap();
    assert!(prepared.run(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 13.0]).is_err());
    assert!(TractModel::load(&onnx, &dims(m), 1).unwrap().run(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 99.0]).is_err());
}

#[test]
fn onnx_checker_accepts_every_case() {
    for m in cases() {
        if let Err(e) = ember_verify::backends::onnx_check(&m.to_onnx().unwrap()) {
            panic!("{}: {e:#}", m.name);
        }
    }
}
