//! Encoder latency, one sample: the typed ember runtime, its dynamic
//! interpreter, tract and ONNX Runtime, on the MNIST autoencoder's encoder
//! (784 -> 128 relu -> 32 relu), all in one run. After criterion's report, a
//! ratio table (median of interleaved rounds) is printed.
//!
//! `cargo bench -p ember-conformance --bench encoder` (ONNX Runtime from
//! ORT_DYLIB_PATH or `.venv`, see `cargo xtask setup`).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use ember_export::AlignedBytes;
use ember_nn::network::Network;
use ember_runtime::{Chain, Dense, Forward, Relu, SVector, TypedModel as _};
use ember_train::presets;
use ember_verify::backends::{OrtModel, TractModel};

type Encoder = Chain<Dense<784, 128, Relu>, Dense<128, 32, Relu>>;

struct Setup {
    blob: AlignedBytes,
    onnx: Vec<u8>,
    input: Vec<f32>,
}

fn setup() -> Setup {
    let cfg = presets::preset("mnist-ae").expect("preset");
    let net = Network::init("mnist_ae", cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), 1);
    let enc = net.to_model().expect("model").sub_model("mnist_ae_encoder", 0..2).expect("encoder");
    let input = (0..784).map(|i| ((i * 37) % 256) as f32 / 255.0).collect();
    Setup { blob: AlignedBytes::new(&enc.to_blob().expect("blob")), onnx: enc.to_onnx().expect("onnx"), input }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let enc = Encoder::load(&s.blob).expect("typed load");
    let x = SVector::<f32, 784>::from_column_slice(&s.input);
    let parsed = ember_runtime::format::Blob::parse(&s.blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let mut out = vec![0f32; 32];
    let tract = TractModel::load(&s.onnx, &[784], 1).expect("tract");
    let mut ort = OrtModel::load(&s.onnx, &[784], 1).expect("ONNX Runtime (run `cargo xtask setup`)");
    let mut g = c.benchmark_group("mnist_encoder_latency");
    g.bench_function("ember typed", |b| b.iter(|| enc.forward(black_box(&x))));
    g.bench_function("ember dynamic", |b| {
        b.iter(|| ember_runtime::dynamic::forward(&parsed, black_box(&s.input), &mut scratch, &mut out).expect("run"))
    });
    g.bench_function("tract", |b| b.iter(|| tract.run(black_box(&s.input)).expect("tract")));
    g.bench_function("onnxruntime", |b| b.iter(|| ort.run(black_box(&s.input)).expect("ort")));
    g.finish();
}

fn median_ns(mut f: impl FnMut()) -> f64 {
    let mut rounds = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..200 {
            f();
        }
        rounds.push(t.elapsed().as_nanos() as f64 / 200.0);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn ratios() {
    let s = setup();
    let enc = Encoder::load(&s.blob).expect("typed load");
    let x = SVector::<f32, 784>::from_column_slice(&s.input);
    let tract = TractModel::load(&s.onnx, &[784], 1).expect("tract");
    let mut ort = OrtModel::load(&s.onnx, &[784], 1).expect("ort");
    let e = median_ns(|| {
        black_box(enc.forward(black_box(&x)));
    });
    let t = median_ns(|| {
        black_box(tract.run(black_box(&s.input)).expect("tract"));
    });
    let o = median_ns(|| {
        black_box(ort.run(black_box(&s.input)).expect("ort"));
    });
    println!("\nmnist encoder, one sample (median of 15 rounds x 200):");
    println!("  ember typed  {:>9.0} ns  1.00x", e);
    println!("  tract        {:>9.0} ns  {:.2}x ember", t, t / e);
    println!("  onnxruntime  {:>9.0} ns  {:.2}x ember", o, o / e);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    ratios();
}
