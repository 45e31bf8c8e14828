//! Host latency of the three models the runtime's host speed is held to
//! (issue 12): the MNIST autoencoder's encoder (784 -> 128 relu -> 32 relu),
//! the LSTM classifier (400 tokens, Embedding 32 -> LSTM 100 -> Dense 1) and
//! the convolutional autoencoder's encoder (28x28x1 -> 4x4x8), one sample
//! each: the typed ember runtime, its dynamic interpreter, tract and ONNX
//! Runtime, measured in interleaved rounds (every backend once per round, so
//! that a change in the machine's load hits all of them) and printed as
//! ratios to tract and ONNX Runtime. No trainer epochs (those are in the
//! `encoder`, `text` and `conv` benches), so one run takes well under a
//! minute.
//!
//! `cargo bench -p ember-conformance --bench latency` (ONNX Runtime from
//! ORT_DYLIB_PATH or `.venv`, see `cargo xtask setup`).

use std::hint::black_box;
use std::time::Instant;

use ember_conformance::ConvAeEncoder;
use ember_export::{AlignedBytes, Model};
use ember_nn::network::Network;
use ember_runtime::{
    Chain, Dense, Embedding, Forward, Last, Lstm, Recurrent, Relu, SMatrix, SVector, Sigmoid, TokenIds, TypedModel as _,
};
use ember_train::presets;
use ember_verify::backends::{OrtModel, TractModel};

type Encoder = Chain<Dense<784, 128, Relu>, Dense<128, 32, Relu>>;
type Classifier = Chain<Embedding<5000, 32, 400>, Chain<Recurrent<Lstm<32, 100>, 400, Last>, Dense<100, 1, Sigmoid>>>;

/// Rounds per measurement (the median is reported).
const ROUNDS: usize = 21;

/// The model of `preset` (layers `layers`, all if `None`) at seed 1.
fn model(preset: &str, layers: Option<std::ops::Range<usize>>) -> Model {
    let cfg = presets::preset(preset).expect("preset");
    let net = Network::init(preset, cfg.input_spec().expect("input"), &cfg.layer_specs().expect("specs"), 1);
    let m = net.to_model().expect("model");
    match layers {
        Some(r) => m.sub_model(format!("{preset}_part"), r).expect("sub-model"),
        None => m,
    }
}

/// Per-call nanoseconds of every backend in `runs`: `ROUNDS` rounds of
/// `per` calls of each, interleaved; the median of each.
fn interleaved(per: usize, runs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut times = vec![Vec::with_capacity(ROUNDS); runs.len()];
    for run in runs.iter_mut() {
        run(); // warm up
    }
    for _ in 0..ROUNDS {
        for (run, t) in runs.iter_mut().zip(&mut times) {
            let start = Instant::now();
            for _ in 0..per {
                run();
            }
            t.push(start.elapsed().as_nanos() as f64 / per as f64);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

/// Prints one table: ember typed and dynamic against tract and ONNX Runtime.
fn table(what: &str, ns: &[f64]) {
    let [typed, dynamic, tract, ort] = [ns[0], ns[1], ns[2], ns[3]];
    println!("\n{what} (median of {ROUNDS} interleaved rounds):");
    println!("                  latency     / tract   / onnxruntime");
    for (name, t) in [("ember typed", typed), ("ember dynamic", dynamic), ("tract", tract), ("onnxruntime", ort)] {
        println!("  {name:<14} {:>9.1} us   {:>6.2}x   {:>6.2}x", t / 1e3, t / tract, t / ort);
    }
}

fn encoder() {
    let m = model("mnist-ae", Some(0..2));
    let blob = AlignedBytes::new(&m.to_blob().expect("blob"));
    let onnx = m.to_onnx().expect("onnx");
    let input: Vec<f32> = (0..784).map(|i| ((i * 37) % 256) as f32 / 255.0).collect();
    let typed = Encoder::load(&blob).expect("typed load");
    let x = SVector::<f32, 784>::from_column_slice(&input);
    let parsed = ember_runtime::format::Blob::parse(&blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let mut out = vec![0f32; 32];
    let tract = TractModel::load(&onnx, &[784], 1).expect("tract");
    let mut ort = OrtModel::load(&onnx, &[784], 1).expect("ONNX Runtime (run `cargo xtask setup`)");
    let ns = interleaved(
        200,
        &mut [
            &mut || {
                black_box(typed.forward(black_box(&x)));
            },
            &mut || {
                black_box(
                    ember_runtime::dynamic::forward(&parsed, black_box(&input), &mut scratch, &mut out).expect("run"),
                );
            },
            &mut || {
                black_box(tract.run(black_box(&input)).expect("tract"));
            },
            &mut || {
                black_box(ort.run(black_box(&input)).expect("ort"));
            },
        ],
    );
    table("mnist encoder, one sample", &ns);
}

fn lstm() {
    let m = model("lstm", None);
    let blob = AlignedBytes::new(&m.to_blob().expect("blob"));
    let onnx = m.to_onnx().expect("onnx");
    let ids: Vec<u32> = (0..400u32).map(|t| if t < 100 { 0 } else { (t * 7919) % 5000 }).collect();
    let typed = Classifier::load(&blob).expect("typed load");
    let x = TokenIds::<5000, 400>::from_slice(&ids).expect("ids");
    let xf: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
    let parsed = ember_runtime::Blob::parse(&blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let mut out = [0f32; 1];
    let tract = TractModel::load(&onnx, &[400], 1).expect("tract");
    let mut ort = OrtModel::load(&onnx, &[400], 1).expect("ONNX Runtime (run `cargo xtask setup`)");
    let ns = interleaved(
        10,
        &mut [
            &mut || {
                black_box(typed.forward(black_box(&x)));
            },
            &mut || {
                black_box(
                    ember_runtime::dynamic::forward(&parsed, black_box(&xf), &mut scratch, &mut out).expect("run"),
                );
            },
            &mut || {
                black_box(tract.run(black_box(&xf)).expect("tract"));
            },
            &mut || {
                black_box(ort.run(black_box(&xf)).expect("ort"));
            },
        ],
    );
    table("lstm classifier, one sequence of 400 tokens", &ns);
}

fn conv() {
    let m = model("conv-ae", Some(0..6));
    let blob = AlignedBytes::new(&m.to_blob().expect("blob"));
    let onnx = m.to_onnx().expect("onnx");
    let input = ember_data::bundled_mnist().expect("bundled MNIST").sample(7).to_vec();
    let typed = ConvAeEncoder::load(&blob).expect("typed load");
    let img = SMatrix::<f32, 1, 784>::from_column_slice(&input);
    let parsed = ember_runtime::format::Blob::parse(&blob).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let mut out = vec![0f32; 128];
    let tract = TractModel::load(&onnx, &[28, 28, 1], 1).expect("tract");
    let mut ort = OrtModel::load(&onnx, &[28, 28, 1], 1).expect("ONNX Runtime (run `cargo xtask setup`)");
    let ns = interleaved(
        50,
        &mut [
            &mut || {
                black_box(typed.forward(black_box(&img)));
            },
            &mut || {
                black_box(
                    ember_runtime::dynamic::forward(&parsed, black_box(&input), &mut scratch, &mut out).expect("run"),
                );
            },
            &mut || {
                black_box(tract.run(black_box(&input)).expect("tract"));
            },
            &mut || {
                black_box(ort.run(black_box(&input)).expect("ort"));
            },
        ],
    );
    table("conv encoder, one image", &ns);
}

fn main() {
    // `cargo bench` passes `--bench`; a filter picks one model.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("host latency; load average at start: {}", load.trim());
    if "encoder".contains(filter.as_str()) {
        encoder();
    }
    if "lstm".contains(filter.as_str()) {
        lstm();
    }
    if "conv".contains(filter.as_str()) {
        conv();
    }
}
