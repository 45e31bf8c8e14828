//! Entity and word-embedding models exported to ONNX and run on tract and
//! ONNX Runtime agree with the runtime's interpreter
//! (`ember_runtime::dynamic::forward` on the model's blob) and with a naive
//! f64 implementation of the layer equations written here, within
//! [`F32_PARITY`], on inputs that use every table row; every export passes
//! the `onnx` checker; tract prepares the graph for any fixed batch size;
//! ids outside the shared table are an error, never a crash.
//!
//! The cases: the entity model `EntityDot -> Dense{1, 1, Relu}` (the Dense
//! holding a target scale of 800 and offset of 4000), an EntityDot alone,
//! and the next-word model `Embedding -> Flatten -> Dense{Softmax}`.

use ember_export::Model;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_verify::backends::{OrtModel, TractModel, onnx_check, run_ort, run_tract};
use ember_verify::{F32_PARITY, compare, run_runtime};

use ember_conformance::support;
use support::values;

/// Categories per column of the entity cases (rows `0..3`, `3..7`, `7..12`).
const COUNTS: [u32; 3] = [3, 4, 5];
/// Embedding length of the entity cases.
const DIM: u32 = 4;
/// Batch-norm epsilon of the entity cases.
const EPS: f32 = 1e-3;
/// The entity model's folded target scale: Dense weight and bias.
const SCALE: f32 = 800.0;
const OFFSET: f32 = 4000.0;
/// Samples per comparison.
const SAMPLES: usize = 64;

/// Deterministic whole numbers in `0..n` (xorshift64*).
fn picks(seed: u64, len: usize, n: u32) -> Vec<u32> {
    values(seed, len, 1.0).iter().map(|&v| (((v as f64 + 1.0) / 2.0 * n as f64) as u32).min(n - 1)).collect()
}

fn rows() -> u32 {
    COUNTS.iter().sum()
}

fn entity() -> LayerSpec {
    LayerSpec::EntityDot { columns: COUNTS.len() as u32, rows: rows(), dim: DIM, epsilon_bits: EPS.to_bits() }
}

fn ids(n: u32) -> IoSpec {
    IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(n), range: None }
}

/// A model with seeded parameters: embeddings in ±0.5, category biases in
/// ±0.2, batch norm `gamma` in [0.5, 1.0], `beta` and `mean` in ±0.2, `var`
/// in [0.5, 2.0]; Dense weights uniform with variance `1 / fan_in` and
/// biases in ±0.2, except a `Dense{1, 1}` after an EntityDot, which holds
/// the target scale ([`SCALE`], [`OFFSET`]) as a trained entity model does.
fn model(name: &str, input: IoSpec, layers: Vec<LayerSpec>) -> Model {
    let mut seed = name.len() as u64 * 1000;
    let mut vals = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let after_entity = i > 0 && matches!(layers[i - 1], LayerSpec::EntityDot { .. });
        for p in 0..l.param_count() {
            let spec = l.param(p).unwrap();
            let n = spec.dims.elements();
            seed += 1;
            let v = match (l, spec.name) {
                (LayerSpec::Dense { .. }, "weight") if after_entity => vec![SCALE; n],
                (LayerSpec::Dense { .. }, "bias") if after_entity => vec![OFFSET; n],
                (LayerSpec::EntityDot { .. }, "weight") => values(seed, n, 0.5),
                (LayerSpec::EntityDot { .. }, "gamma") => values(seed, n, 0.25).iter().map(|v| v + 0.75).collect(),
                (LayerSpec::EntityDot { .. }, "var") => values(seed, n, 0.75).iter().map(|v| v + 1.25).collect(),
                (LayerSpec::EntityDot { .. }, _) => values(seed, n, 0.2),
                (_, "bias") => values(seed, n, 0.2),
                _ => {
                    let fan_in = n / spec.dims.as_slice()[0] as usize;
                    values(seed, n, (3.0 / fan_in as f64).sqrt())
                }
            };
            vals.push(v);
        }
    }
    Model::new(name, input, layers, vals).unwrap()
}

/// The entity model: EntityDot, then the Dense that scales to target units.
fn entity_dense() -> Model {
    let dense = LayerSpec::Dense { inputs: 1, units: 1, activation: Activation::Relu };
    model("entity_dense", ids(COUNTS.len() as u32), vec![entity(), dense])
}

fn entity_alone() -> Model {
    model("entity_alone", ids(COUNTS.len() as u32), vec![entity()])
}

/// The next-word model: 3 words of a 50-word vocabulary → a softmax over it.
fn ngram() -> Model {
    let layers = vec![
        LayerSpec::Embedding { vocab: 50, dim: 5, seq_len: 3 },
        LayerSpec::Flatten { dims: Dims::d2(3, 5) },
        LayerSpec::Dense { inputs: 15, units: 50, activation: Activation::Softmax },
    ];
    model("ngram", ids(3), layers)
}

fn cases() -> Vec<Model> {
    vec![entity_dense(), entity_alone(), ngram()]
}

/// `samples` inputs (row ids as `f32`) for `m`: for an entity model, column
/// `k` of sample `i` is a row of column `k`'s range, cycling through them in
/// the first samples and seeded after; for an embedding model, every
/// position cycles through the vocabulary (at a different phase) and then
/// takes seeded ids. Every row appears at least once when `samples` is at
/// least the largest range.
fn inputs(m: &Model, samples: usize, seed: u64) -> Vec<f32> {
    let ranges: Vec<(u32, u32)> = match m.layers[0] {
        LayerSpec::EntityDot { .. } => {
            let offsets = COUNTS.iter().scan(0, |o, &c| {
                *o += c;
                Some(*o - c)
            });
            offsets.zip(COUNTS).collect()
        }
        LayerSpec::Embedding { vocab, seq_len, .. } => vec![(0, vocab); seq_len as usize],
        _ => unreachable!("token-id cases only"),
    };
    let random: Vec<Vec<u32>> =
        ranges.iter().enumerate().map(|(k, &(_, count))| picks(seed * 16 + k as u64, samples, count)).collect();
    (0..samples)
        .flat_map(|i| {
            ranges.iter().zip(&random).enumerate().map(move |(k, (&(offset, count), random))| {
                let pick = if (i as u32) < count { (i as u32 + 7 * k as u32) % count } else { random[i] };
                (offset + pick) as f32
            })
        })
        .collect()
}

/// Every row id in `0..rows` appears in `x`.
fn uses_every_row(x: &[f32], rows: u32) -> bool {
    (0..rows).all(|r| x.contains(&(r as f32)))
}

/// The row count that bounds the model's ids.
fn table_rows(m: &Model) -> u32 {
    match m.layers[0] {
        LayerSpec::EntityDot { rows, .. } => rows,
        LayerSpec::Embedding { vocab, .. } => vocab,
        _ => unreachable!("token-id cases only"),
    }
}

/// Naive f64 forward pass of the layers these cases use (EntityDot,
/// Embedding, Flatten, Dense), straight from the layer equations in
/// `ember_runtime::spec`.
fn reference(m: &Model, x: &[f32]) -> Vec<f32> {
    let per = m.input.dims.elements();
    let mut out = Vec::new();
    for sample in x.chunks(per) {
        let ids: Vec<usize> = sample.iter().map(|&v| v as usize).collect();
        let mut v: Vec<f64> = Vec::new();
        for (i, l) in m.layers.iter().enumerate() {
            let p = m.layer_params(i);
            let f = |k: usize, j: usize| p[k].data[j] as f64;
            v = match *l {
                LayerSpec::EntityDot { columns, dim, epsilon_bits, .. } => {
                    let (c, d) = (columns as usize, dim as usize);
                    let eps = f32::from_bits(epsilon_bits) as f64;
                    // weight, bias, gamma, beta, mean, var.
                    let n: Vec<Vec<f64>> = (0..c)
                        .map(|k| {
                            (0..d)
                                .map(|j| {
                                    let s = k * d + j;
                                    (f(0, ids[k] * d + j) - f(4, s)) / (f(5, s) + eps).sqrt() * f(2, s) + f(3, s)
                                })
                                .collect()
                        })
                        .collect();
                    let mut y: f64 = ids.iter().map(|&id| f(1, id)).sum();
                    for a in 0..c {
                        for b in a + 1..c {
                            y += (0..d).map(|j| n[a][j] * n[b][j]).sum::<f64>();
                        }
                    }
                    vec![y]
                }
                LayerSpec::Embedding { dim, .. } => {
                    let d = dim as usize;
                    ids.iter().flat_map(|&id| (0..d).map(move |j| (id, j))).map(|(id, j)| f(0, id * d + j)).collect()
                }
                LayerSpec::Flatten { .. } => v,
                LayerSpec::Dense { inputs, units, activation } => {
                    let (ni, nu) = (inputs as usize, units as usize);
                    let z: Vec<f64> =
                        (0..nu).map(|o| f(1, o) + (0..ni).map(|k| f(0, o * ni + k) * v[k]).sum::<f64>()).collect();
                    match activation {
                        Activation::Linear => z,
                        Activation::Relu => z.iter().map(|&a| a.max(0.0)).collect(),
                        Activation::Softmax => {
                            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                            let e: Vec<f64> = z.iter().map(|a| (a - max).exp()).collect();
                            let sum: f64 = e.iter().sum();
                            e.iter().map(|a| a / sum).collect()
                        }
                        a => panic!("activation {a:?} is not used here"),
                    }
                }
                ref l => panic!("layer {l:?} is not used here"),
            };
        }
        out.extend(v.iter().map(|&y| y as f32));
    }
    out
}

fn dims(m: &Model) -> Vec<usize> {
    m.input.dims.as_slice().iter().map(|&d| d as usize).collect()
}

fn assert_close(name: &str, backend: &'static str, got: &[f32], want: &[f32]) {
    let c = compare(backend, got, want);
    assert!(
        c.ok,
        "{}/{name}: max abs error {:e}, max rel {:e} (F32_PARITY {F32_PARITY:e})",
        c.backend, c.max_abs, c.max_rel
    );
}

#[test]
fn tract_and_ort_match_the_runtime_and_a_naive_reference() {
    for (k, m) in cases().iter().enumerate() {
        let onnx = m.to_onnx().unwrap();
        let x = inputs(m, SAMPLES, 100 + k as u64);
        assert!(uses_every_row(&x, table_rows(m)), "{}: the inputs miss a row", m.name);
        let want = run_runtime(&m.to_blob().unwrap(), &x).unwrap_or_else(|e| panic!("runtime/{}: {e:#}", m.name));
        assert_eq!(want.len(), SAMPLES * m.output().dims.elements(), "{}", m.name);
        // Guard against a degenerate case (all equal, saturated) passing
        // trivially; an entity case has only 60 distinct inputs.
        let distinct = want.iter().map(|v| v.to_bits()).collect::<std::collections::HashSet<_>>().len();
        assert!(distinct * 3 > want.len(), "{}: only {distinct} distinct outputs", m.name);
        let tract = run_tract(&onnx, &dims(m), SAMPLES, &x).unwrap_or_else(|e| panic!("tract/{}: {e:#}", m.name));
        let ort = run_ort(&onnx, &dims(m), SAMPLES, &x).unwrap_or_else(|e| panic!("ort/{}: {e:#}", m.name));
        assert_close(&m.name, "tract", &tract, &want);
        assert_close(&m.name, "onnxruntime", &ort, &want);
        let naive = reference(m, &x);
        for (backend, got) in [("runtime", &want), ("tract", &tract), ("onnxruntime", &ort)] {
            assert_close(&m.name, backend, got, &naive);
        }
    }
}

/// The entity model's output is `relu(SCALE · s + OFFSET)`, `s` the
/// EntityDot's output: non-negative and in target units.
#[test]
fn entity_outputs_are_in_target_units() {
    let m = entity_dense();
    let x = inputs(&m, SAMPLES, 7);
    let y = run_ort(&m.to_onnx().unwrap(), &dims(&m), SAMPLES, &x).unwrap();
    let s = reference(&m.sub_model("entity_part", 0..1).unwrap(), &x);
    for (i, (&got, &s)) in y.iter().zip(&s).enumerate() {
        assert!(got >= 0.0, "sample {i}: {got} < 0 after the Relu");
        let want = (SCALE as f64 * s as f64 + OFFSET as f64).max(0.0);
        assert!((got as f64 - want).abs() <= 1e-5 * want + 1e-2, "sample {i}: {got} vs {want}");
    }
    let mean = y.iter().map(|&v| v as f64).sum::<f64>() / y.len() as f64;
    assert!((OFFSET as f64 / 2.0..OFFSET as f64 * 1.5).contains(&mean), "mean prediction {mean}");
}

#[test]
fn onnx_checker_accepts_every_case() {
    for m in cases() {
        if let Err(e) = onnx_check(&m.to_onnx().unwrap()) {
            panic!("{}: {e:#}", m.name);
        }
    }
}

/// The graph has static shapes except the batch: tract optimises it for any
/// fixed batch size, and one ONNX Runtime session runs several batch sizes.
#[test]
fn tract_and_ort_take_any_batch_size() {
    for m in cases() {
        let onnx = m.to_onnx().unwrap();
        let x = inputs(&m, 16, 3);
        let want = reference(&m, &x);
        let per = m.input.dims.elements();
        let out = m.output().dims.elements();
        for batch in [1, 2, 5, 16] {
            let tract = TractModel::load(&onnx, &dims(&m), batch).unwrap_or_else(|e| panic!("{}: {e:#}", m.name));
            let y = tract.run(&x[..batch * per]).unwrap();
            assert_close(&m.name, "tract", &y, &want[..batch * out]);
        }
        let mut ort = OrtModel::load(&onnx, &dims(&m), 4).unwrap();
        for chunk in x.chunks(4 * per).zip(want.chunks(4 * out)) {
            assert_close(&m.name, "onnxruntime", &ort.run(chunk.0).unwrap(), chunk.1);
        }
    }
}

#[test]
fn ids_outside_the_table_are_errors() {
    for m in cases() {
        let onnx = m.to_onnx().unwrap();
        let rows = table_rows(&m) as f32;
        let mut x = inputs(&m, 1, 5);
        for bad in [rows, rows + 10.0, -1.0, 0.5] {
            x[1] = bad;
            let t = run_tract(&onnx, &dims(&m), 1, &x).unwrap_err().to_string();
            let o = run_ort(&onnx, &dims(&m), 1, &x).unwrap_err().to_string();
            for err in [t, o] {
                assert!(err.contains("input value 1"), "{}: id {bad}: {err}", m.name);
            }
        }
        x[1] = rows - 1.0;
        run_tract(&onnx, &dims(&m), 1, &x).unwrap();
    }
}
