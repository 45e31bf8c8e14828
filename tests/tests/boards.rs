//! Board runs under QEMU: the firmware of each emulated board runs the MNIST
//! encoder and the encoders of both convolutional presets (`conv-ae`,
//! `conv-denoise`: 28x28x1 → 4x4x8) and a small autoencoder with every image
//! layer kind (Conv2d, BatchNorm, MaxPool2d, Upsample2d) on real digits, and the IMDB-shaped LSTM classifier (5000 x 32
//! embedding table in flash, 400 steps) on fixed token sequences and on raw
//! text through the device tokenizer. Every output must match the host
//! runtime, and the device's token ids must equal golden ids written here.
//!
//! QEMU is required: a missing QEMU fails the test with the install command
//! (`cargo xtask setup`), it never skips. Sizes and instruction counts are
//! printed (`cargo test -p ember-tests --test boards -- --nocapture`). Each
//! run leaves its model in `target/boards/<board>/<model>/`, where `cargo
//! xtask boards` and the boards' clippy step find it.

use std::fs;

use anyhow::{Context, Result, ensure};
use ember_export::{AlignedBytes, Model};
use ember_runtime::{
    BatchNorm, Chain, Conv2d, Dense, Embedding, Forward, Last, Lstm, MaxPool2d, Model as _, Recurrent, Relu, Same,
    Sample, Sigmoid, TokenIds, Upsample2d, Valid,
};
use ember_trainer::board::{Board, BoardRun, qemu_available, run_board, run_board_with_texts};
use ember_trainer::fit::{FitOptions, TrainData, fit};
use ember_trainer::network::Network;
use ember_trainer::verify::F32_PARITY;
use ember_trainer::{data, presets};

/// Board runs share each board's build folder and ELF: one at a time.
static BOARD_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Input samples per run.
const SAMPLES: usize = 4;
const INPUTS: usize = 784;
const HIDDEN: usize = 128;
const CODE: usize = 32;

/// The encoder's type on the host: the same type the board's `model.rs` names.
type Encoder = Chain<Dense<INPUTS, HIDDEN, Relu>, Dense<HIDDEN, CODE, Relu>>;

// The encoder of the `conv-ae` preset: 28x28x1 → 4x4x8 (128 values).
use ember_tests::ConvAeEncoder as ConvEncoder;

/// The IMDB-shaped classifier of the `lstm` preset.
const VOCAB: usize = 5000;
const STEPS: usize = 400;
type Classifier =
    Chain<Embedding<VOCAB, 32, STEPS>, Chain<Recurrent<Lstm<32, 100>, STEPS, Last>, Dense<100, 1, Sigmoid>>>;

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

/// The encoder of the `conv-ae` or `conv-denoise` preset, trained for one
/// epoch on 600 of the bundled digits (real, non-random weights); the
/// denoising one sees inputs with Gaussian noise 0.5 and clean targets.
fn conv_encoder(preset: &str) -> Result<Model> {
    let mut cfg = presets::preset(preset).context("preset")?;
    cfg.train.epochs = 1;
    cfg.train.seed = 5;
    let ds = data::load_mnist_csv(&data::bundled_mnist_path())?.take(600);
    let mut net = Network::init(&cfg.name, cfg.input_spec()?, &cfg.layer_specs()?, cfg.train.seed);
    let noise = |x: &mut [f32], seed: u64| {
        let noisy = data::noise::gaussian(x, 0.5, seed);
        x.copy_from_slice(&noisy);
    };
    let opts = FitOptions {
        input_transform: (preset == "conv-denoise").then_some(&noise as ember_trainer::fit::InputTransform<'_>),
        ..FitOptions::default()
    };
    fit(&mut net, TrainData { x: &ds.x, y: &ds.x }, &cfg.fit_config()?, opts)?;
    Ok(net.to_model()?.sub_model(format!("{}_encoder", cfg.name), 0..6)?)
}

/// A small image autoencoder with every image layer kind — Conv2d,
/// BatchNorm (moving statistics from training), MaxPool2d, Upsample2d — as
/// a model file would declare it, trained for one epoch on 600 digits.
fn image_layers_model() -> Result<Model> {
    let toml = r#"
        name = "image_layers"
        task = "autoencoder"
        input = [28, 28, 1]
        input_range = [0.0, 1.0]
        [[layers]]
        type = "conv2d"
        filters = 8
        activation = "relu"
        [[layers]]
        type = "batchnorm"
        [[layers]]
        type = "maxpool2d"
        [[layers]]
        type = "upsample2d"
        [[layers]]
        type = "conv2d"
        filters = 1
        activation = "sigmoid"
        [train]
        epochs = 1
        batch_size = 64
        loss = "bce"
        seed = 9
    "#;
    let cfg = ember_trainer::config::ModelConfig::from_toml(toml)?;
    let ds = data::load_mnist_csv(&data::bundled_mnist_path())?.take(600);
    let mut net = Network::init(&cfg.name, cfg.input_spec()?, &cfg.layer_specs()?, cfg.train.seed);
    fit(&mut net, TrainData { x: &ds.x, y: &ds.x }, &cfg.fit_config()?, FitOptions::default())?;
    Ok(net.to_model()?)
}

/// The typed form of [`image_layers_model`].
type ImageLayers = Chain<
    Conv2d<28, 28, 1, 8, 3, 3, Same, Relu, 784, 784>,
    Chain<
        BatchNorm<8, 784>,
        Chain<
            MaxPool2d<28, 28, 8, 2, Valid, 784, 196>,
            Chain<Upsample2d<14, 14, 8, 2, 196, 784>, Conv2d<28, 28, 8, 1, 3, 3, Same, Sigmoid, 784, 784>>,
        >,
    >,
>;

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

/// Runs `model` (whose typed form is `M`) on the four digits on `board` and
/// checks every output against the host runtime's `M`.
fn check_image_model<M>(board: Board, model: Model, dir_name: &str) -> Result<()>
where
    M: ember_runtime::Model,
    M::Input: Sample,
    M::Output: Sample,
    for<'a> M::Bound<'a>: Forward<Input = M::Input, Output = M::Output>,
{
    if let Err(msg) = qemu_available(board) {
        panic!("{msg}");
    }
    let blob = model.to_blob()?;
    let dir = tempfile::tempdir()?;
    let (blob_path, rs_path) = (dir.path().join("model.emb"), dir.path().join("model.rs"));
    fs::write(&blob_path, &blob)?;
    fs::write(&rs_path, model.to_rust("model.emb")?)?;
    let x = inputs()?;
    let run = {
        let _one_at_a_time = BOARD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        run_board(board, &blob_path, &rs_path, &x, &board.model_dir(dir_name))?
    };

    let aligned = AlignedBytes::new(&blob);
    let host = M::load(&aligned).context("host runtime rejects the blob")?;
    ensure!(run.outputs.len() == SAMPLES, "{} outputs for {SAMPLES} samples", run.outputs.len());
    let mut max_diff = 0.0f32;
    for (i, (sample, got)) in x.chunks_exact(INPUTS).zip(&run.outputs).enumerate() {
        let mut want = Vec::new();
        host.forward(&M::Input::from_values(sample.iter().copied())?).for_each_value(|v| want.push(v));
        ensure!(got.len() == want.len(), "sample {i}: {} outputs, expected {}", got.len(), want.len());
        max_diff = max_diff.max(close(&format!("{} {dir_name} sample {i}", board.name()), got, &want)?);
    }
    ensure!(run.instructions.iter().all(|&n| n > 0), "instruction counts {:?}", run.instructions);
    ensure!(
        run.activation_bytes == M::ACTIVATION_BYTES,
        "board reports {} activation bytes, host type {}",
        run.activation_bytes,
        M::ACTIVATION_BYTES
    );
    println!("{dir_name}:");
    print_run(board, &run, max_diff);
    Ok(())
}

fn check_board(board: Board) -> Result<()> {
    check_image_model::<Encoder>(board, encoder()?, "mnist_encoder")
}

fn check_conv_encoder(board: Board, preset: &str) -> Result<()> {
    check_image_model::<ConvEncoder>(board, conv_encoder(preset)?, &format!("{}_encoder", preset.replace('-', "_")))
}

/// `|board - host| <= F32_PARITY (1 + |host|)` for every value.
fn close(what: &str, got: &[f32], want: &[f32]) -> Result<f32> {
    ensure!(got.len() == want.len(), "{what}: {} values, expected {}", got.len(), want.len());
    let mut max_diff = 0.0f32;
    for (j, (&g, &w)) in got.iter().zip(want).enumerate() {
        let diff = (g - w).abs();
        ensure!(f64::from(diff) <= F32_PARITY * (1.0 + f64::from(w.abs())), "{what} value {j}: board {g} host {w}");
        max_diff = max_diff.max(diff);
    }
    Ok(max_diff)
}

/// The `lstm` preset trained for one epoch on 600 synthetic IMDB-shaped
/// reviews (real, non-random weights), with its word-list tokenizer.
fn classifier(out: &std::path::Path) -> Result<Model> {
    let mut cfg = presets::preset("lstm").context("preset")?;
    cfg.train.epochs = 1;
    cfg.train.max_samples = Some(600);
    let opts = ember_trainer::train::TrainOptions { out: out.to_path_buf(), verbose: false, ..Default::default() };
    Ok(ember_trainer::train::train(&cfg, &opts)?.model)
}

/// Raw texts and their golden ids, written from the tokenizer's rules
/// (`runtime/src/text.rs`): the synthetic word list names word `k` `w{k+3}`,
/// so `w{n}` has id `n`; unknown words get 2; the start id 1 comes first;
/// padding (0) and truncation are at the front, to 400 ids.
fn texts() -> (Vec<String>, Vec<Vec<u32>>) {
    let long: Vec<String> = (0..450).map(|i| format!("w{}", 3 + (i * 37) % 4990)).collect();
    let cases: Vec<(String, Vec<u32>)> = vec![
        ("W25, w7! unknown-word w4999".into(), vec![1, 25, 7, 2, 2, 4999]),
        ("w300 w301 w302".into(), vec![1, 300, 301, 302]),
        (long.join(" "), (0..450).skip(50).map(|i| 3 + (i * 37) % 4990).collect()),
    ];
    let golden = cases
        .iter()
        .map(|(_, ids)| {
            let mut g = vec![0u32; STEPS.saturating_sub(ids.len())];
            g.extend(ids);
            g
        })
        .collect();
    (cases.into_iter().map(|(t, _)| t).collect(), golden)
}

fn check_classifier(board: Board) -> Result<()> {
    if let Err(msg) = qemu_available(board) {
        panic!("{msg}");
    }
    let dir = tempfile::tempdir()?;
    let model = classifier(dir.path())?;
    let (blob_path, rs_path) = (dir.path().join("lstm.emb"), dir.path().join("model.rs"));
    fs::write(&rs_path, model.to_rust("model.emb")?)?;
    let blob = fs::read(&blob_path)?;
    // Two fixed sequences: a synthetic review's ids, and every id once from the top of the table.
    let fixed: Vec<u32> =
        (0..STEPS as u32).map(|t| (t * 7919) % VOCAB as u32).chain((0..STEPS as u32).map(|t| 4999 - t)).collect();
    let x: Vec<f32> = fixed.iter().map(|&i| i as f32).collect();
    let (texts, golden) = texts();
    let run = {
        let _one_at_a_time = BOARD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        run_board_with_texts(board, &blob_path, &rs_path, &x, &texts, &board.model_dir("lstm"))?
    };

    let aligned = AlignedBytes::new(&blob);
    let host = Classifier::load(&aligned).context("host runtime rejects the blob")?;
    let mut max_diff = 0.0f32;
    for (i, (ids, got)) in fixed.chunks_exact(STEPS).zip(&run.outputs).enumerate() {
        let want = host.forward(&TokenIds::from_slice(ids)?);
        max_diff = max_diff.max(close(&format!("{} sequence {i}", board.name()), got, want.as_slice())?);
    }
    ensure!(run.outputs.len() == 2 && run.texts.len() == texts.len(), "missing results");
    for (k, (t, want_ids)) in run.texts.iter().zip(&golden).enumerate() {
        ensure!(&t.ids == want_ids, "{} text {k}: device ids differ from the golden ids", board.name());
        let want = host.forward(&TokenIds::from_slice(want_ids)?);
        max_diff = max_diff.max(close(&format!("{} text {k}", board.name()), &t.output, want.as_slice())?);
    }
    ensure!(run.activation_bytes == Classifier::ACTIVATION_BYTES, "activation bytes {}", run.activation_bytes);
    print_run(board, &run, max_diff);
    let per_seq = run.instructions.iter().sum::<u64>() / run.instructions.len() as u64;
    println!(
        "{}: LSTM classifier {per_seq} instructions per sequence, {} per token",
        board.name(),
        per_seq / STEPS as u64
    );
    for (k, t) in run.texts.iter().enumerate() {
        println!(
            "{}: text {k}: tokenize {} + infer {} instructions",
            board.name(),
            t.tokenize_instructions,
            t.instructions
        );
    }
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

#[test]
fn cortex_m4_conv_encoder_matches_host() -> Result<()> {
    check_conv_encoder(Board::CortexM4, "conv-ae")
}

#[test]
fn riscv32_conv_encoder_matches_host() -> Result<()> {
    check_conv_encoder(Board::Riscv32, "conv-ae")
}

#[test]
fn cortex_m4_every_image_layer_matches_host() -> Result<()> {
    check_image_model::<ImageLayers>(Board::CortexM4, image_layers_model()?, "image_layers")
}

#[test]
fn riscv32_every_image_layer_matches_host() -> Result<()> {
    check_image_model::<ImageLayers>(Board::Riscv32, image_layers_model()?, "image_layers")
}

#[test]
fn cortex_m4_conv_denoise_encoder_matches_host() -> Result<()> {
    check_conv_encoder(Board::CortexM4, "conv-denoise")
}

#[test]
fn riscv32_conv_denoise_encoder_matches_host() -> Result<()> {
    check_conv_encoder(Board::Riscv32, "conv-denoise")
}

#[test]
fn cortex_m4_lstm_classifier_matches_host() -> Result<()> {
    check_classifier(Board::CortexM4)
}

#[test]
fn riscv32_lstm_classifier_matches_host() -> Result<()> {
    check_classifier(Board::Riscv32)
}
