//! Trainer seconds per epoch: the `mnist-ae` preset (784-128-32-128-784, BCE,
//! Adam, batch 256) on the bundled 5000 MNIST digits (4500 for training, 500
//! for validation), exactly what `scripts/keras_mnist_ae.py` trains in Keras.
//!
//! `cargo bench -p ember-conformance --bench trainer`; then run the Keras script on
//! the same machine for the ratio.

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
}
