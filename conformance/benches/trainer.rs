//! Trainer seconds per epoch on the bundled 5000 MNIST digits (4500 for
//! training, 500 for validation): the `mnist-ae` preset (784-128-32-128-784,
//! BCE, Adam, batch 256), exactly what `scripts/keras_mnist_ae.py` trains in
//! Keras, and the `mnist-cnn` classifier (Conv-Pool-Conv-Pool-Dense softmax,
//! sparse categorical cross-entropy, Adam, batch 32), what
//! `scripts/keras_mnist_cnn.py` trains.
//!
//! `cargo bench -p ember-conformance --bench trainer`, with
//! `EMBER_KERAS_PYTHON` set to a Python with tensorflow-cpu for the ratios
//! to Keras (the bench runs the scripts in the same run).

use std::time::Instant;

use criterion::{Criterion, criterion_group};
use ember_conformance::keras;
use ember_data as data;
use ember_nn::fit::{FitOptions, TrainData, fit};
use ember_nn::network::Network;
use ember_train::presets;

fn one_epoch(x: &[f32], seed: u64) -> f64 {
    let mut cfg = presets::preset("mnist-ae").expect("preset");
    cfg.train.epochs = 1;
    cfg.train.seed = seed;
    let mut net = Network::init("mnist_ae", cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), seed);
    let t = Instant::now();
    fit(&mut net, TrainData { x, y: x }, &cfg.fit_config().expect("fit"), FitOptions::default()).expect("fit");
    t.elapsed().as_secs_f64()
}

/// Seconds of one epoch of the `mnist-cnn` preset: the digits as 28x28x1
/// images in [0, 1], their labels as class indices (sparse cross-entropy).
fn cnn_epoch(ds: &data::Dataset, seed: u64) -> f64 {
    let mut cfg = presets::preset("mnist-cnn").expect("preset");
    cfg.train.epochs = 1;
    cfg.train.seed = seed;
    let y: Vec<f32> = ds.labels.as_ref().expect("labels").iter().map(|&l| l as f32).collect();
    let mut net =
        Network::init("mnist_cnn", cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), seed);
    let t = Instant::now();
    fit(&mut net, TrainData { x: &ds.x, y: &y }, &cfg.fit_config().expect("fit"), FitOptions::default()).expect("fit");
    t.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let ds = data::bundled_mnist().expect("bundled MNIST");
    let mut g = c.benchmark_group("trainer_epoch");
    g.sample_size(10);
    g.bench_function("mnist-ae (4500 train + 500 val, batch 256)", |b| b.iter(|| one_epoch(&ds.x, 1)));
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    let ds = data::bundled_mnist().expect("bundled MNIST");
    let mut t: Vec<f64> = (0..5).map(|s| one_epoch(&ds.x, s)).collect();
    t.sort_by(f64::total_cmp);
    println!("\nmnist-ae trainer, 4500 train + 500 validation digits, batch 256 (ember: median of 5):");
    keras::print_ratio("mnist-ae", t[2], "keras_mnist_ae.py", &[]);
    let mut t: Vec<f64> = (0..3).map(|s| cnn_epoch(&ds, s)).collect();
    t.sort_by(f64::total_cmp);
    println!("\nmnist-cnn trainer, 4500 train + 500 validation digits, batch 32 (ember: median of 3):");
    keras::print_ratio("mnist-cnn", t[1], "keras_mnist_cnn.py", &["--epochs", "4"]);
}
