//! The convolutional autoencoder: trainer seconds per epoch of the `conv-ae`
//! preset on 10 000 28x28 images (the bundled 5000 digits twice), batch 256,
//! BCE, Adam, no validation split — exactly what `scripts/keras_conv_ae.py`
//! trains in Keras — and the latency of its encoder (28x28x1 → 4x4x8) on one
//! image: the typed ember runtime, its interpreter, tract and ONNX Runtime.
//! After criterion's report, a summary with ratios is printed.
//!
//! `cargo bench -p ember-conformance --bench conv`; then run the Keras script on
//! the same machine for the trainer ratio.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use ember_data as data;
use ember_export::AlignedBytes;
use ember_nn::fit::{FitOptions, TrainData, fit};
use ember_nn::network::Network;
use ember_runtime::{Forward, SMatrix, TypedModel as _};
use ember_train::presets;
use ember_verify::backends::{OrtModel, TractModel};

use ember_conformance::ConvAeEncoder as Encoder;
use ember_conformance::keras;

const IMAGES: usize = 10_000;

/// The bundled digits repeated to [`IMAGES`] images.
fn images() -> Vec<f32> {
    let ds = data::bundled_mnist().expect("bundled MNIST");
    ds.x.iter().copied().cycle().take(IMAGES * 784).collect()
}

fn one_epoch(x: &[f32], seed: u64) -> f64 {
    let mut cfg = presets::preset("conv-ae").expect("preset");
    cfg.train.epochs = 1;
    cfg.train.seed = seed;
    cfg.train.validation_split = 0.0;
    let mut net = Network::init("conv_ae", cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), seed);
    let t = Instant::now();
    fit(&mut net, TrainData { x, y: x }, &cfg.fit_config().expect("fit"), FitOptions::default()).expect("fit");
    t.elapsed().as_secs_f64()
}

struct Setup {
    blob: AlignedBytes,
    onnx: Vec<u8>,
    input: Vec<f32>,
}

fn setup() -> Setup {
    let cfg = presets::preset("conv-ae").expect("preset");
    let net = Network::init("conv_ae", cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), 1);
    let enc = net.to_model().expect("model").sub_model("conv_ae_encoder", 0..6).expect("encoder");
    let ds = data::bundled_mnist().expect("bundled MNIST");
    let input = ds.sample(7).to_vec();
    Setup { blob: AlignedBytes::new(&enc.to_blob().expect("blob")), onnx: enc.to_onnx().expect("onnx"), input }
}

fn bench(c: &mut Criterion) {
    let x = images();
    let mut g = c.benchmark_group("conv_ae_epoch");
    g.sample_size(10);
    g.bench_function("conv-ae (10000 images, batch 256)", |b| b.iter(|| one_epoch(&x, 1)));
    g.finish();

    let s = setup();
    let enc = Encoder::load(&s.blob).expect("typed load");
    let img = SMatrix::<f32, 1, 784>::from_column_slice(&s.input);
    let parsed = ember_runtime::format::Blob::parse(&s.blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let mut out = vec![0f32; 128];
    let tract = TractModel::load(&s.onnx, &[28, 28, 1], 1).expect("tract");
    let mut ort = OrtModel::load(&s.onnx, &[28, 28, 1], 1).expect("ONNX Runtime (run `cargo xtask setup`)");
    let mut g = c.benchmark_group("conv_encoder_latency");
    g.bench_function("ember typed", |b| b.iter(|| enc.forward(black_box(&img))));
    g.bench_function("ember dynamic", |b| {
        b.iter(|| ember_runtime::dynamic::forward(&parsed, black_box(&s.input), &mut scratch, &mut out).expect("run"))
    });
    g.bench_function("tract", |b| b.iter(|| tract.run(black_box(&s.input)).expect("tract")));
    g.bench_function("onnxruntime", |b| b.iter(|| ort.run(black_box(&s.input)).expect("ort")));
    g.finish();
}

fn median_us(mut f: impl FnMut()) -> f64 {
    let mut rounds = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..50 {
            f();
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e6 / 50.0);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn summary() {
    let x = images();
    let mut t: Vec<f64> = (0..5).map(|s| one_epoch(&x, s)).collect();
    t.sort_by(f64::total_cmp);
    println!("\nconv-ae trainer, {IMAGES} images, batch 256 (ember: median of 5):");
    keras::print_ratio("conv-ae", t[2], "keras_conv_ae.py", &["--images", &IMAGES.to_string()]);
    let s = setup();
    let enc = Encoder::load(&s.blob).expect("typed load");
    let img = SMatrix::<f32, 1, 784>::from_column_slice(&s.input);
    let tract = TractModel::load(&s.onnx, &[28, 28, 1], 1).expect("tract");
    let mut ort = OrtModel::load(&s.onnx, &[28, 28, 1], 1).expect("ort");
    let e = median_us(|| {
        black_box(enc.forward(black_box(&img)));
    });
    let tr = median_us(|| {
        black_box(tract.run(black_box(&s.input)).expect("tract"));
    });
    let o = median_us(|| {
        black_box(ort.run(black_box(&s.input)).expect("ort"));
    });
    println!("conv encoder, one image (median of 15 rounds x 50):");
    println!("  ember typed  {e:>8.1} us  1.00x");
    println!("  tract        {tr:>8.1} us  {:.2}x ember", tr / e);
    println!("  onnxruntime  {o:>8.1} us  {:.2}x ember", o / e);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    summary();
}
