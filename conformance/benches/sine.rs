//! The TFLM hello-world regressor (`sine` preset: 1 -> 16 -> 16 -> 1, ReLU,
//! 321 parameters) beside TensorFlow Lite: ember trains the preset, then
//! times one inference through the typed runtime, the blob interpreter,
//! tract and ONNX Runtime, and prints the blob's bytes; with
//! `EMBER_KERAS_PYTHON` set to a Python with tensorflow-cpu it runs
//! `scripts/keras_sine.py` in the same run (the same model trained in Keras,
//! its `.tflite` float32 and int8 sizes and the TFLite interpreter's time)
//! and prints the ratios. The board figures (flash, RAM, instructions per
//! inference on the Cortex-M4 and RISC-V QEMU boards) come from
//! `cargo test -p ember-conformance --test boards -- --nocapture` and
//! `cargo xtask boards`.
//!
//! `cargo bench -p ember-conformance --bench sine`

use std::hint::black_box;
use std::time::Instant;

use ember_conformance::keras;
use ember_export::AlignedBytes;
use ember_runtime::{Chain, Dense, Forward, Linear, Relu, SMatrix, TypedModel as _};
use ember_train::presets;
use ember_train::train::{TrainOptions, train};
use ember_verify::backends::{OrtModel, TractModel};

type Sine = Chain<Dense<1, 16, Relu>, Chain<Dense<16, 16, Relu>, Dense<16, 1, Linear>>>;

/// Median nanoseconds of one call of `f` (15 rounds of 2000 calls).
fn median_ns(mut f: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            (0..2000).for_each(|_| f());
            t.elapsed().as_nanos() as f64 / 2000.0
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn main() {
    let cfg = presets::preset("sine").expect("preset");
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let run = train(&cfg, &TrainOptions { out: dir.path().to_path_buf(), ..Default::default() }).expect("train");
    let train_s = t.elapsed().as_secs_f64();
    let blob = run.model.to_blob().expect("blob");
    let onnx = run.model.to_onnx().expect("onnx");
    let aligned = AlignedBytes::new(&blob);
    let typed = Sine::load(&aligned).expect("typed load");
    let parsed = ember_runtime::Blob::parse(&aligned).expect("blob");
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&parsed)];
    let mut out = [0f32; 1];
    let tract = TractModel::load(&onnx, &[1], 1).expect("tract");
    let mut ort = OrtModel::load(&onnx, &[1], 1).expect("ONNX Runtime (run `cargo xtask setup`)");
    let x = [1.0f32];
    let xm = SMatrix::<f32, 1, 1>::from_column_slice(&x);
    let e = median_ns(|| {
        black_box(typed.forward(black_box(&xm)));
    });
    let d = median_ns(|| {
        ember_runtime::dynamic::forward(&parsed, black_box(&x), &mut scratch, &mut out).expect("run");
    });
    let tr = median_ns(|| {
        black_box(tract.run(black_box(&x)).expect("tract"));
    });
    let o = median_ns(|| {
        black_box(ort.run(black_box(&x)).expect("ort"));
    });
    println!(
        "sine: trained in {train_s:.1} s ({} epochs), validation MSE {:.4}; blob {} bytes (f32 weights {} bytes)",
        run.history.epochs.len(),
        run.val_mse,
        blob.len(),
        4 * 321
    );
    println!("one inference on this host (median of 15 rounds x 2000):");
    println!("  ember typed    {e:>9.1} ns  1.00x");
    println!("  ember dynamic  {d:>9.1} ns  {:.2}x ember typed", d / e);
    println!("  tract          {tr:>9.1} ns  {:.2}x ember typed", tr / e);
    println!("  onnxruntime    {o:>9.1} ns  {:.2}x ember typed", o / e);
    match keras::figures("keras_sine.py", &[]) {
        Ok(Some(f)) => {
            let get = |k| keras::figure(&f, k).expect("keras_sine.py figure");
            let (fb, ib, us) = (get("tflite_float_bytes"), get("tflite_int8_bytes"), get("tflite_int8_us"));
            println!("  TFLite int8    {:>9.1} ns  {:.2}x ember typed", us * 1e3, us * 1e3 / e);
            println!(
                "model in flash: ember blob {} B; .tflite float32 {fb} B ({:.2}x), int8 {ib} B ({:.2}x); \
                 Keras validation MSE {:.4} vs ember {:.4}",
                blob.len(),
                fb / blob.len() as f64,
                ib / blob.len() as f64,
                get("val_mse"),
                run.val_mse
            );
        }
        Ok(None) => {
            println!("for TensorFlow Lite in this run set {} to a Python with tensorflow-cpu", keras::KERAS_PYTHON)
        }
        Err(e) => println!("keras_sine.py failed: {e:#}"),
    }
    println!(
        "TFLM's hello_world reserves a 2,056-byte tensor arena for this model \
         (tflite-micro examples/hello_world/main_functions.cc); ember's activation RAM is {} bytes",
        <Sine as ember_runtime::TypedModel>::ACTIVATION_BYTES
    );
}
