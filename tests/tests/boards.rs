//! Board runs under QEMU: the firmware of each emulated board runs an encoder
//! blob on a few samples, and every output must match the host runtime.
//!
//! QEMU is required: a missing QEMU fails the test with the install command
//! (`cargo xtask setup`), it never skips. Sizes and instruction counts are
//! printed (`cargo test -p ember-tests --test boards -- --nocapture`). Each
//! run leaves its model in `Board::work_dir()` (`target/boards/<board>/model`),
//! where `cargo xtask boards` and the boards' clippy step find it.

use std::fs;

use anyhow::{Context, Result, ensure};
use ember_export::{AlignedBytes, Model};
use ember_runtime::{Chain, Dense, Forward, Model as _, Relu, SVector};
use ember_trainer::board::{Board, BoardRun, qemu_available, run_board};
use ember_trainer::fit::{FitOptions, TrainData, fit};
use ember_trainer::network::Network;
use ember_trainer::verify::F32_PARITY;
use ember_trainer::{data, presets};

/// Input samples per run.
const SAMPLES: usize = 4;
const INPUTS: usize = 784;
const HIDDEN: usize = 128;
const CODE: usize = 32;

/// The encoder's type on the host: the same type the board's `model.rs` names.
type Encoder = Chain<Dense<INPUTS, HIDDEN, Relu>, Dense<HIDDEN, CODE, Relu>>;

/// The encoder of the `mnist-ae` preset, trained for two epochs on 1000 of
/// the bundled digits (enough for real, non-random weights; quick in the test
/// profile).
fn encoder() -> Result<Model> {
    let mut cfg = presets::preset("mnist-ae").context("preset")?;
    cfg.train.epochs = 2;
    cfg.train.seed = 3;
    let ds = data::load_mnist_csv(&data::bundled_mnist_path())?.take(1000);
    let mut net = Network::init("mnist_ae", cfg.input_spec()?, &cfg.layer_specs()?, cfg.train.seed);
    fit(&mut net, TrainData { x: &ds.x, y: &ds.x }, &cfg.fit_config()?, FitOptions::default())?;
    Ok(net.to_model()?.sub_model("mnist_ae_encoder", 0..2)?)
}

/// Four real digits (classes 0 to 3) from the bundled MNIST data.
fn inputs() -> Result<Vec<f32>> {
    let ds = data::load_mnist_csv(&data::bundled_mnist_path())?;
    Ok((0..SAMPLES).flat_map(|c| ds.sample(c * 500 + 7).to_vec()).collect())
}

fn print_run(board: Board, run: &BoardRun, max_diff: f32) {
    let s = run.sizes;
    println!(
        "{}: .text {} .rodata {} .data {} .bss {} (flash {}, static RAM {}), activation RAM {} B",
        board.name(),
        s.text,
        s.rodata,
        s.data,
        s.bss,
        s.flash(),
        s.static_ram(),
        run.activation_bytes
    );
    println!(
        "{}: instructions per inference {:?} ({}); largest |board - host| {max_diff:e}",
        board.name(),
        run.instructions,
        board.counter()
    );
}

fn check_board(board: Board) -> Result<()> {
    if let Err(msg) = qemu_available(board) {
        panic!("{msg}");
    }
    let model = encoder()?;
    let blob = model.to_blob()?;
    let dir = tempfile::tempdir()?;
    let (blob_path, rs_path) = (dir.path().join("model.emb"), dir.path().join("model.rs"));
    fs::write(&blob_path, &blob)?;
    fs::write(&rs_path, model.to_rust("model.emb")?)?;
    let x = inputs()?;
    let run = run_board(board, &blob_path, &rs_path, &x, &board.work_dir())?;

    let aligned = AlignedBytes::new(&blob);
    let host = Encoder::load(&aligned).context("host runtime rejects the blob")?;
    ensure!(run.outputs.len() == SAMPLES, "{} outputs for {SAMPLES} samples", run.outputs.len());
    let mut max_diff = 0.0f32;
    for (i, (sample, got)) in x.chunks_exact(INPUTS).zip(&run.outputs).enumerate() {
        let want: SVector<f32, CODE> = host.forward(&SVector::from_column_slice(sample));
        ensure!(got.len() == CODE, "sample {i}: {} outputs, expected {CODE}", got.len());
        for (j, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
            let diff = (g - w).abs();
            ensure!(
                f64::from(diff) <= F32_PARITY + F32_PARITY * f64::from(w.abs()),
                "{} sample {i} output {j}: board {g} host {w} (diff {diff:e})",
                board.name()
            );
            max_diff = max_diff.max(diff);
        }
    }
    ensure!(run.instructions.iter().all(|&n| n > 0), "instruction counts {:?}", run.instructions);
    ensure!(
        run.activation_bytes == Encoder::ACTIVATION_BYTES,
        "board reports {} activation bytes, host type {}",
        run.activation_bytes,
        Encoder::ACTIVATION_BYTES
    );
    print_run(board, &run, max_diff);
    Ok(())
}

#[test]
fn cortex_m4_matches_host() -> Result<()> {
    check_board(Board::CortexM4)
}

#[test]
fn riscv32_matches_host() -> Result<()> {
    check_board(Board::Riscv32)
}
