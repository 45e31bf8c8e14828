//! The ONNX export run on tract and ONNX Runtime agrees with a naive f64
//! reference for every activation; the export passes the `onnx` checker; bad
//! input is an error, never a panic.

use ember_export::Model;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_verify::backends::{OrtModel, TractModel, run_ort, run_tract};

use ember_conformance::support;
use support::values;

/// `|a - b| <= F32_PARITY + F32_PARITY * |reference|`.
const F32_PARITY: f64 = 1e-5;
const BATCH: usize = 5;
const ALL: [Activation; 5] =
    [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax];

/// A 2-layer Dense model `input → 6 (act) → 4 (act)` with seeded weights.
fn model(input: &[u32], act: Activation, seed: u64) -> Model {
    let n_in: u32 = input.iter().product();
    let sizes = [(n_in, 6), (6, 4)];
    let layers = sizes.iter().map(|&(inputs, units)| LayerSpec::Dense { inputs, units, activation: act }).collect();
    let vals = sizes
        .iter()
        .enumerate()
        .flat_map(|(k, &(i, u))| {
            let s = seed * 10 + k as u64;
            [values(s, (i * u) as usize, 0.8), values(s + 5, u as usize, 0.3)]
        })
        .collect();
    let io = IoSpec { kind: ValueKind::F32, dims: Dims::new(input).unwrap(), range: None };
    Model::new(format!("pair_{}", act.name()), io, layers, vals).unwrap()
}

/// Naive f64 forward pass of a Dense chain, one sample at a time.
fn reference(m: &Model, x: &[f32], batch: usize) -> Vec<f64> {
    let n_in = x.len() / batch;
    let mut out = Vec::new();
    for sample in x.chunks(n_in) {
        let mut h: Vec<f64> = sample.iter().map(|&v| v as f64).collect();
        for (i, l) in m.layers.iter().enumerate() {
            let LayerSpec::Dense { inputs, units, activation } = *l else { unreachable!("only Dense here") };
            let (w, b) = (&m.layer_params(i)[0].data, &m.layer_params(i)[1].data);
            let (ni, nu) = (inputs as usize, units as usize);
            let mut y: Vec<f64> =
                (0..nu).map(|o| b[o] as f64 + (0..ni).map(|k| w[o * ni + k] as f64 * h[k]).sum::<f64>()).collect();
            match activation {
                Activation::Linear => {}
                Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
                Activation::Sigmoid => y.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
                Activation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
                Activation::Softmax => {
                    let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = y.iter().map(|v| (v - max).exp()).sum();
                    y.iter_mut().for_each(|v| *v = (*v - max).exp() / sum);
                }
            }
            h = y;
        }
        out.extend(h);
    }
    out
}

fn assert_parity(backend: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{backend}: output length");
    for (i, (&a, &r)) in got.iter().zip(want).enumerate() {
        let err = (a as f64 - r).abs();
        assert!(err <= F32_PARITY + F32_PARITY * r.abs(), "{backend}: value {i}: {a} vs reference {r} (error {err:e})");
    }
}

fn dims(m: &Model) -> Vec<usize> {
    m.input.dims.as_slice().iter().map(|&d| d as usize).collect()
}

#[test]
fn tract_and_ort_match_reference_for_every_activation() {
    for (k, act) in ALL.into_iter().enumerate() {
        let m = model(&[7], act, k as u64 + 1);
        let onnx = m.to_onnx().unwrap();
        let x = values(100 + k as u64, BATCH * 7, 2.0);
        let want = reference(&m, &x, BATCH);
        assert_parity(&format!("tract/{}", act.name()), &run_tract(&onnx, &[7], BATCH, &x).unwrap(), &want);
        assert_parity(&format!("ort/{}", act.name()), &run_ort(&onnx, &[7], BATCH, &x).unwrap(), &want);
    }
}

#[test]
fn multi_dimensional_input_is_flattened_row_major() {
    let m = model(&[2, 4], Activation::Tanh, 9);
    let onnx = m.to_onnx().unwrap();
    let x = values(7, BATCH * 8, 1.5);
    let want = reference(&m, &x, BATCH);
    assert_parity("tract", &run_tract(&onnx, &[2, 4], BATCH, &x).unwrap(), &want);
    assert_parity("ort", &run_ort(&onnx, &[2, 4], BATCH, &x).unwrap(), &want);
}

#[test]
fn prepared_models_run_repeatedly() {
    let m = model(&[7], Activation::Sigmoid, 3);
    let onnx = m.to_onnx().unwrap();
    let tract = TractModel::load(&onnx, &dims(&m), 2).unwrap();
    let mut ort = OrtModel::load(&onnx, &dims(&m), 2).unwrap();
    assert_eq!(tract.input_shape(), &[2, 7]);
    for seed in 0..3 {
        let x = values(seed, 14, 1.0);
        let want = reference(&m, &x, 2);
        assert_parity("tract", &tract.run(&x).unwrap(), &want);
        assert_parity("ort", &ort.run(&x).unwrap(), &want);
    }
}

#[test]
fn bad_input_is_an_error() {
    let m = model(&[7], Activation::Relu, 4);
    let onnx = m.to_onnx().unwrap();
    let short = values(1, BATCH * 7 - 1, 1.0);
    let err = run_tract(&onnx, &[7], BATCH, &short).unwrap_err().to_string();
    assert!(err.contains("needs 35"), "{err}");
    let err = run_ort(&onnx, &[7], BATCH, &short).unwrap_err().to_string();
    assert!(err.contains("needs 35"), "{err}");
    // Input dims that the model does not take.
    let x = values(1, BATCH * 6, 1.0);
    assert!(run_tract(&onnx, &[6], BATCH, &x).is_err());
    let err = run_ort(&onnx, &[6], BATCH, &x).unwrap_err().to_string();
    assert!(err.contains("cannot feed"), "{err}");
    // Not an ONNX model at all.
    assert!(run_tract(b"not onnx", &[7], 1, &x[..7]).is_err());
    assert!(run_ort(b"not onnx", &[7], 1, &x[..7]).is_err());
    assert!(run_tract(&onnx, &[7], 0, &[]).is_err());
    let mut prepared = OrtModel::load(&onnx, &[7], 2).unwrap();
    assert!(prepared.run(&x[..7]).is_err());
}

#[test]
fn onnx_checker_accepts_the_export() {
    let err = ember_verify::backends::onnx_check(b"not an onnx model").unwrap_err();
    assert!(format!("{err:#}").contains("rejects"), "{err:#}");
    for (k, act) in ALL.into_iter().enumerate() {
        for input in [&[7][..], &[2, 4]] {
            let m = model(input, act, k as u64);
            if let Err(e) = ember_verify::backends::onnx_check(&m.to_onnx().unwrap()) {
                panic!("{} with input {input:?}: {e:#}", m.name);
            }
        }
    }
}
