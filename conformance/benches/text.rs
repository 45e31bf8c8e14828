//! Text models: trainer seconds per epoch of the IMDB-shaped `rnn`, `lstm`
//! and `gru` presets on synthetic data of the real shape (5000 sequences of 400 ids
//! below 5000: 3750 for training, 1250 for validation; batch 32, Adam), and
//! runtime latency of one 400-token sequence through the `lstm` and `gru`
//! classifiers:
//! the typed ember runtime, its streaming API, the dynamic interpreter, tract
//! and ONNX Runtime, all in one run.
//!
//! `cargo bench -p ember-conformance --bench text`, with `EMBER_KERAS_PYTHON`
//! set to a Python with tensorflow-cpu for the ratio to Keras
//! (`scripts/keras_imdb.py`, run by the bench).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use ember_conformance::keras;
use ember_export::{AlignedBytes, Model};
use ember_nn::fit::{FitOptions, TrainData, fit};
use ember_nn::network::Network;
use ember_runtime::{
    CellState, Chain, Dense, Embedding, Forward, Gru, Last, Lstm, Recurrent, Sigmoid, TokenIds, TypedModel as _,
};
use ember_train::presets;
use ember_train::tasks::classify::{SYNTHETIC_REVIEWS, load_text_data};
use ember_verify::backends::{OrtModel, TractModel};

type Classifier = Chain<Embedding<5000, 32, 400>, Chain<Recurrent<Lstm<32, 100>, 400, Last>, Dense<100, 1, Sigmoid>>>;
type GruClassifier = Chain<Embedding<5000, 32, 400>, Chain<Recurrent<Gru<32, 100>, 400, Last>, Dense<100, 1, Sigmoid>>>;

/// Seconds of one epoch (training and validation) of `preset`.
fn one_epoch(preset: &str, seed: u64) -> f64 {
    let mut cfg = presets::preset(preset).expect("preset");
    cfg.train.epochs = 1;
    let td = load_text_data(&cfg, None).expect("synthetic data");
    assert_eq!(td.data.len(), SYNTHETIC_REVIEWS);
    let y: Vec<f32> = td.data.labels.as_ref().expect("labels").iter().map(|&l| l as f32).collect();
    let mut net = Network::init(preset, cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), seed);
    let t = Instant::now();
    fit(&mut net, TrainData { x: &td.data.x, y: &y }, &cfg.fit_config().expect("fit"), FitOptions::default())
        .expect("fit");
    t.elapsed().as_secs_f64()
}

fn classifier(preset: &str) -> (Model, Vec<u32>) {
    let cfg = presets::preset(preset).expect("preset");
    let net = Network::init(preset, cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), 1);
    let ids = (0..400u32).map(|t| if t < 100 { 0 } else { (t * 7919) % 5000 }).collect();
    (net.to_model().expect("model"), ids)
}

fn median_ns(rounds: usize, per: usize, mut f: impl FnMut()) -> f64 {
    let mut r: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            (0..per).for_each(|_| f());
            t.elapsed().as_nanos() as f64 / per as f64
        })
        .collect();
    r.sort_by(f64::total_cmp);
    r[r.len() / 2]
}

fn bench(c: &mut Criterion) {
    let (model, ids) = classifier("lstm");
    let blob = AlignedBytes::new(&model.to_blob().expect("blob"));
    let onnx = model.to_onnx().expect("onnx");
    let typed = Classifier::load(&blob).expect("typed load");
    let x = TokenIds::<5000, 400>::from_slice(&ids).expect("ids");
    let xf: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
    let parsed = ember_runtime::Blob::parse(&blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let mut out = [0f32; 1];
    let tract = TractModel::load(&onnx, &[400], 1).expect("tract");
    let mut ort = OrtModel::load(&onnx, &[400], 1).expect("ONNX Runtime (run `cargo xtask setup`)");
    let mut g = c.benchmark_group("lstm_classifier_latency");
    g.sample_size(20);
    g.bench_function("ember typed", |b| b.iter(|| typed.forward(black_box(&x))));
    g.bench_function("ember dynamic", |b| {
        b.iter(|| ember_runtime::dynamic::forward(&parsed, black_box(&xf), &mut scratch, &mut out).expect("run"))
    });
    g.bench_function("tract", |b| b.iter(|| tract.run(black_box(&xf)).expect("tract")));
    g.bench_function("onnxruntime", |b| b.iter(|| ort.run(black_box(&xf)).expect("ort")));
    g.finish();
}

fn ratios() {
    let (model, ids) = classifier("lstm");
    let blob = AlignedBytes::new(&model.to_blob().expect("blob"));
    let onnx = model.to_onnx().expect("onnx");
    let typed = Classifier::load(&blob).expect("typed load");
    let x = TokenIds::<5000, 400>::from_slice(&ids).expect("ids");
    let xf: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
    let tract = TractModel::load(&onnx, &[400], 1).expect("tract");
    let mut ort = OrtModel::load(&onnx, &[400], 1).expect("ort");
    let e = median_ns(11, 20, || {
        black_box(typed.forward(black_box(&x)));
    });
    let s = median_ns(11, 20, || {
        let mut st = CellState::<100>::default();
        for &id in black_box(&ids) {
            typed.second.first.step(&mut st, &typed.first.vector(id).expect("id"));
        }
        black_box(typed.second.second.forward(&st.h));
    });
    let t = median_ns(11, 20, || {
        black_box(tract.run(black_box(&xf)).expect("tract"));
    });
    let o = median_ns(11, 20, || {
        black_box(ort.run(black_box(&xf)).expect("ort"));
    });
    println!("\nlstm classifier, one sequence of 400 tokens (median of 11 rounds x 20):");
    println!("  ember typed      {:>10.0} ns  1.00x", e);
    println!("  ember streaming  {:>10.0} ns  {:.2}x ember typed", s, s / e);
    println!("  tract            {:>10.0} ns  {:.2}x ember typed", t, t / e);
    println!("  onnxruntime      {:>10.0} ns  {:.2}x ember typed", o, o / e);
    gru_ratios();
    println!("\ntrainer epochs (median of 3; 3750 train + 1250 validation sequences of 400, batch 32):");
    for preset in ["rnn", "lstm", "gru"] {
        let mut t: Vec<f64> = (0..3).map(|s| one_epoch(preset, s)).collect();
        t.sort_by(f64::total_cmp);
        keras::print_ratio(preset, t[1], "keras_imdb.py", &["--model", preset, "--epochs", "3"]);
    }
}

/// The `gru` classifier's latency beside tract's and ONNX Runtime's.
fn gru_ratios() {
    let (model, ids) = classifier("gru");
    let blob = AlignedBytes::new(&model.to_blob().expect("blob"));
    let onnx = model.to_onnx().expect("onnx");
    let typed = GruClassifier::load(&blob).expect("typed load");
    let x = TokenIds::<5000, 400>::from_slice(&ids).expect("ids");
    let xf: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
    let tract = TractModel::load(&onnx, &[400], 1).expect("tract");
    let mut ort = OrtModel::load(&onnx, &[400], 1).expect("ort");
    let e = median_ns(11, 20, || {
        black_box(typed.forward(black_box(&x)));
    });
    let t = median_ns(11, 20, || {
        black_box(tract.run(black_box(&xf)).expect("tract"));
    });
    let o = median_ns(11, 20, || {
        black_box(ort.run(black_box(&xf)).expect("ort"));
    });
    println!("\ngru classifier, one sequence of 400 tokens (median of 11 rounds x 20):");
    println!("  ember typed      {e:>10.0} ns  1.00x");
    println!("  tract            {t:>10.0} ns  {:.2}x ember typed", t / e);
    println!("  onnxruntime      {o:>10.0} ns  {:.2}x ember typed", o / e);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    ratios();
}
