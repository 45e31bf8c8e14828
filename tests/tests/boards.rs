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
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_runtime::{Chain, Dense, Forward, Linear, Model as _, Relu, SVector};
use ember_trainer::board::{Board, BoardRun, qemu_available, run_board};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Board vs host: `|board - host| <= F32_PARITY + F32_PARITY * |host|`.
const F32_PARITY: f32 = 1e-5;
/// Input samples per run.
const SAMPLES: usize = 4;
const INPUTS: usize = 784;
const HIDDEN: usize = 128;
const CODE: usize = 32;

/// The encoder's type on the host: the same type the board's `model.rs` names.
type Encoder = Chain<Dense<INPUTS, HIDDEN, Relu>, Dense<HIDDEN, CODE, Linear>>;

/// A 784 → 128 (relu) → 32 (linear) encoder with seeded Glorot-uniform
/// weights and small biases.
// TODO(lead): switch to a trained MNIST encoder once the trainer can produce one.
fn encoder(seed: u64) -> Result<Model> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut dense = |inputs: usize, units: usize| -> [Vec<f32>; 2] {
        let limit = (6.0 / (inputs + units) as f32).sqrt();
        let weight = (0..inputs * units).map(|_| rng.random_range(-limit..limit)).collect();
        let bias = (0..units).map(|_| rng.random_range(-0.1..0.1)).collect();
        [weight, bias]
    };
    let [w0, b0] = dense(INPUTS, HIDDEN);
    let [w1, b1] = dense(HIDDEN, CODE);
    let layers = vec![
        LayerSpec::Dense { inputs: INPUTS as u32, units: HIDDEN as u32, activation: Activation::Relu },
        LayerSpec::Dense { inputs: HIDDEN as u32, units: CODE as u32, activation: Activation::Linear },
    ];
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(INPUTS as u32), range: Some([0.0, 1.0]) };
    Ok(Model::new("board_encoder", input, layers, vec![w0, b0, w1, b1])?)
}

/// Seeded uniform `[0, 1)` samples.
fn inputs(seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..SAMPLES * INPUTS).map(|_| rng.random_range(0.0..1.0)).collect()
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
    let model = encoder(7)?;
    let blob = model.to_blob()?;
    let dir = tempfile::tempdir()?;
    let (blob_path, rs_path) = (dir.path().join("model.emb"), dir.path().join("model.rs"));
    fs::write(&blob_path, &blob)?;
    fs::write(&rs_path, model.to_rust("model.emb")?)?;
    let x = inputs(11);
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
                diff <= F32_PARITY + F32_PARITY * w.abs(),
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
