//! Learned embeddings: trainer seconds per epoch of the `ngram-embedding`
//! preset on 372 550 windows over a 250-word vocabulary (the size of the
//! classic course data set), batch 100, Adam, categorical cross-entropy, no
//! validation split — what `scripts/keras_ngram.py` trains in Keras — and on
//! the host: the runtime's cosine nearest-neighbour search over 250 and 5000
//! rows, and one entity-model prediction on the ember interpreter, tract
//! and ONNX Runtime. After criterion's report, a summary with ratios is
//! printed. Instructions per query on the boards are in the boards report.
//!
//! `cargo bench -p ember-conformance --bench embed`; then run the Keras script on
//! the same machine for the trainer ratio.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use ember_conformance::keras;
use ember_export::{AlignedBytes, Model};
use ember_nn::fit::{FitOptions, TrainData, fit};
use ember_nn::network::Network;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_train::presets;
use ember_verify::backends::{OrtModel, TractModel};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WINDOWS: usize = 372_550;
const VOCAB: usize = 250;

/// Windows of 4 ids drawn from a Zipf-like distribution (weights `1 / rank`).
fn windows() -> (Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let weights: Vec<f64> = (1..=VOCAB).map(|r| 1.0 / r as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(VOCAB);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut draw = || cdf.partition_point(|&c| c < rng.random::<f64>()).min(VOCAB - 1);
    let mut x = Vec::with_capacity(WINDOWS * 3);
    let mut y = vec![0f32; WINDOWS * VOCAB];
    for row in y.chunks_exact_mut(VOCAB) {
        for _ in 0..3 {
            x.push(draw() as f32);
        }
        row[draw()] = 1.0;
    }
    (x, y)
}

fn one_epoch(x: &[f32], y: &[f32], seed: u64) -> f64 {
    let mut cfg = presets::preset("ngram-embedding").expect("preset");
    cfg.train.epochs = 1;
    cfg.train.seed = seed;
    cfg.train.validation_split = 0.0;
    let cfg = cfg.with_vocab(VOCAB as u32);
    let mut net = Network::init("ngram", cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), seed);
    let t = Instant::now();
    fit(&mut net, TrainData { x, y }, &cfg.fit_config().expect("fit"), FitOptions::default()).expect("fit");
    t.elapsed().as_secs_f64()
}

/// A seeded random table of `rows` x 5.
fn table(rows: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(rows as u64);
    (0..rows * 5).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn search(t: &[f32], query_row: usize) -> usize {
    let rows = t.len() / 5;
    let q = &t[query_row * 5..query_row * 5 + 5];
    ember_runtime::search::nearest::<10>(t, 5, 0..rows, q, &[query_row]).expect("search").len()
}

/// An entity model (3 columns of 3 categories, dim 10) with seeded parameters.
fn entity_model() -> Model {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (c, r, d) = (3u32, 9u32, 10u32);
    let layers = vec![
        LayerSpec::EntityDot { columns: c, rows: r, dim: d, epsilon_bits: 1e-3f32.to_bits() },
        LayerSpec::Dense { inputs: 1, units: 1, activation: Activation::Relu },
    ];
    let mut v = |n: u32, lo: f32, hi: f32| -> Vec<f32> { (0..n).map(|_| rng.random_range(lo..hi)).collect() };
    let values = vec![
        v(r * d, -0.5, 0.5),
        v(r, -0.1, 0.1),
        v(c * d, 0.5, 1.5),
        v(c * d, -0.1, 0.1),
        v(c * d, -0.1, 0.1),
        v(c * d, 0.5, 2.0),
        vec![800.0],
        vec![4200.0],
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(c), range: None };
    Model::new("entity", input, layers, values).expect("model")
}

/// A record of the entity model: one row per column.
const ENTITY_INPUT: [f32; 3] = [0.0, 4.0, 8.0];

/// The entity model's blob and its tract and ONNX Runtime sessions.
struct EntitySetup {
    blob: AlignedBytes,
    tract: TractModel,
    ort: OrtModel,
}

impl EntitySetup {
    fn new() -> Self {
        let m = entity_model();
        let onnx = m.to_onnx().expect("onnx");
        EntitySetup {
            blob: AlignedBytes::new(&m.to_blob().expect("blob")),
            tract: TractModel::load(&onnx, &[3], 1).expect("tract"),
            ort: OrtModel::load(&onnx, &[3], 1).expect("ONNX Runtime (run `cargo xtask setup`)"),
        }
    }
}

fn bench(c: &mut Criterion) {
    let (x, y) = windows();
    let mut g = c.benchmark_group("ngram_epoch");
    g.sample_size(10);
    g.bench_function("ngram-embedding (372550 windows, batch 100)", |b| b.iter(|| one_epoch(&x, &y, 1)));
    g.finish();

    let mut g = c.benchmark_group("nearest_neighbour");
    for rows in [250, 5000] {
        let t = table(rows);
        g.bench_function(format!("cosine top-10 over {rows} rows"), |b| b.iter(|| search(black_box(&t), 7)));
    }
    g.finish();

    let s = EntitySetup::new();
    let parsed = ember_runtime::format::Blob::parse(&s.blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let (mut out, input, tract, mut ort) = ([0f32; 1], ENTITY_INPUT, s.tract, s.ort);
    let mut g = c.benchmark_group("entity_prediction");
    g.bench_function("ember dynamic", |b| {
        b.iter(|| ember_runtime::dynamic::forward(&parsed, black_box(&input), &mut scratch, &mut out).expect("run"))
    });
    g.bench_function("tract", |b| b.iter(|| tract.run(black_box(&input)).expect("tract")));
    g.bench_function("onnxruntime", |b| b.iter(|| ort.run(black_box(&input)).expect("ort")));
    g.finish();
}

fn median_us(mut f: impl FnMut()) -> f64 {
    let mut rounds = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..200 {
            f();
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e6 / 200.0);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn summary() {
    let (x, y) = windows();
    let mut t: Vec<f64> = (0..3).map(|s| one_epoch(&x, &y, s)).collect();
    t.sort_by(f64::total_cmp);
    println!("\nngram-embedding trainer, {WINDOWS} windows, vocabulary {VOCAB}, batch 100 (ember: median of 3):");
    keras::print_ratio("ngram-embedding", t[1], "keras_ngram.py", &[]);
    for rows in [250, 5000] {
        let tab = table(rows);
        let us = median_us(|| {
            black_box(search(black_box(&tab), 7));
        });
        println!("cosine top-10 over {rows} rows x 5: {us:.2} us per query");
    }
    let s = EntitySetup::new();
    let parsed = ember_runtime::format::Blob::parse(&s.blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let (mut out, input, tract, mut ort) = ([0f32; 1], ENTITY_INPUT, s.tract, s.ort);
    let e = median_us(|| {
        ember_runtime::dynamic::forward(&parsed, black_box(&input), &mut scratch, &mut out).expect("run");
    });
    let tr = median_us(|| {
        black_box(tract.run(black_box(&input)).expect("tract"));
    });
    let o = median_us(|| {
        black_box(ort.run(black_box(&input)).expect("ort"));
    });
    println!("entity prediction, one record (median of 15 rounds x 200):");
    println!("  ember dynamic {e:>8.2} us  1.00x");
    println!("  tract         {tr:>8.2} us  {:.2}x ember", tr / e);
    println!("  onnxruntime   {o:>8.2} us  {:.2}x ember", o / e);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    summary();
}
