//! Board runs under QEMU on four emulated cores: Cortex-M4F (`mps2-an386`),
//! RV32IMAFC (`virt`), Cortex-M0 without FPU (`microbit`, `f32` in soft
//! float) and Cortex-M33 (`mps2-an505`), one test module each
//! (`cortex_m4::`, `riscv32::`, `cortex_m0::`, `cortex_m33::`) with the
//! same tests. A model that does not fit a core (the Cortex-M0's 256 KiB of
//! flash) is listed in `board_presets::cores` with its reason, which the
//! test proves (the firmware's link must overflow the flash); nothing is
//! skipped silently. To keep their CI time down, the Cortex-M0 and the
//! Cortex-M33 leave out four int8 presets that repeat a network they run
//! (`board_presets::cores::INT8_LEFT_OUT`).
//!
//! The firmware of each emulated board runs the MNIST
//! encoder and the encoders of both convolutional presets (`conv-ae`,
//! `conv-denoise`: 28x28x1 → 4x4x8) and a small autoencoder with every image
//! layer kind (Conv2d, BatchNorm, MaxPool2d, Upsample2d) on real digits, a
//! keyword-spotting DS-CNN block (strided Conv2d, DepthwiseConv2d,
//! AveragePool2d, GlobalAveragePool, Dense softmax) and a Conv1d gesture
//! classifier (Conv1d, MaxPool1d, dilated Conv1d, GlobalAveragePool, Dense
//! softmax) on generated data, and the IMDB-shaped LSTM and GRU classifiers
//! of the `lstm` and `gru` presets (5000 x 32 embedding table in flash, 400
//! steps) on fixed token sequences and on raw text through the device
//! tokenizer. Every output must match the host runtime (the GRU's, the
//! DS-CNN's and the gesture classifier's bit for bit), and the device's
//! token ids must equal golden ids written here.
//!
//! Similarity search without a host: a word-embedding (next-word) model
//! with 250 and with 5000 named rows, and an entity-embedding model with
//! three categorical columns, answer similarity queries (a word, an analogy
//! `a -b c`, a composite `species=Adelie island=Dream`) on the board from
//! the blob's own table and names; rows and score bits must equal the host's
//! answer from the same `ember_runtime::search` functions, which is itself
//! checked against a naive `f64` cosine ranking written here. Their model
//! outputs must be bit-identical to the host runtime's, and an unknown name
//! must fail the run with its error line.
//!
//! Quantized models (`board_presets::quant`): an int8 dense model, an int8
//! convolution model and a weights-only LSTM classifier, bit-identical to
//! the host interpreter and typed model on every board; and the preset
//! models below quantized to int8 by `ember_export::quant::quantize`,
//! bit-identical to the host interpreter on the same blob.
//!
//! The models of the presets `mnist-cnn`, `kws-dscnn`, `gesture-conv1d`,
//! `sine`, `sensor-ae` and `digits-dense`, trained briefly from their own
//! model files, run bit-identical to the host on every board (`board_presets`).
//! Every other preset runs in int8 too, with seeded weights, bit-identical
//! to the host interpreter (`board_presets::int8`).
//!
//! Peak stack: every firmware paints its stack before the model runs and
//! reports the high-water mark of the whole run (`stack_peak_bytes`); every
//! run checks that it lies above the model's `ACTIVATION_BYTES` (the typed
//! model's activations live on the stack) and below the stack region's size.
//!
//! QEMU is required: a missing QEMU fails the test with the install command
//! (`cargo xtask setup`), it never skips. Sizes, activation bytes, peak
//! stack and instruction counts are printed (`cargo test -p ember-conformance --test boards -- --nocapture`). Each
//! run leaves its model in `target/boards/<board>/<model>/`, where `cargo
//! xtask boards` and the boards' clippy step find it.

use std::fs;

use anyhow::{Context, Result, bail, ensure};
use ember_board_host::{
    self as board, Board, BoardRun, QUERY_NEIGHBOURS, Workload, qemu_available, run_board_with_texts,
    run_board_workload,
};
use ember_data as data;
use ember_export::{AlignedBytes, Asset, Model};
use ember_nn::fit::{FitOptions, TrainData, fit};
use ember_nn::network::Network;
use ember_runtime::search::{COLUMNS_TENSOR, ColumnNorm, Names};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_runtime::text::VOCAB_TENSOR;
use ember_runtime::{
    AveragePool2d, BatchNorm, Blob, Chain, Conv1d, Conv2d, Conv2dStrided, Dense, DepthwiseConv2d, Embedding, EntityDot,
    Flatten, Forward, GlobalAveragePool, Gru, Last, Lstm, MaxPool1d, MaxPool2d, Recurrent, Relu, SVector, Same, Sample,
    Sigmoid, Softmax, TokenIds, Upsample2d, Valid,
};
use ember_train::embed;
use ember_train::presets;
use ember_verify::F32_PARITY;

mod board_presets;

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
use ember_conformance::ConvAeEncoder as ConvEncoder;

/// The IMDB-shaped classifier of the `lstm` preset.
const VOCAB: usize = 5000;
const STEPS: usize = 400;
type Classifier =
    Chain<Embedding<VOCAB, 32, STEPS>, Chain<Recurrent<Lstm<32, 100>, STEPS, Last>, Dense<100, 1, Sigmoid>>>;
/// The IMDB-shaped classifier of the `gru` preset.
type GruClassifier =
    Chain<Embedding<VOCAB, 32, STEPS>, Chain<Recurrent<Gru<32, 100>, STEPS, Last>, Dense<100, 1, Sigmoid>>>;

/// The encoder of the `mnist-ae` preset, trained for two epochs on 1000 of
/// the bundled digits (enough for real, non-random weights; quick in the test
/// profile).
fn encoder() -> Result<Model> {
    let mut cfg = presets::preset("mnist-ae").context("preset")?;
    cfg.train.epochs = 2;
    cfg.train.seed = 3;
    let ds = data::bundled_mnist()?.take(1000);
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
    let ds = data::bundled_mnist()?.take(600);
    let mut net = Network::init(&cfg.name, cfg.input_spec()?, &cfg.layer_specs()?, cfg.train.seed);
    let noise = |x: &mut [f32], seed: u64| {
        let noisy = data::noise::gaussian(x, 0.5, seed);
        x.copy_from_slice(&noisy);
    };
    let opts = FitOptions {
        input_transform: (preset == "conv-denoise").then_some(&noise as ember_nn::fit::InputTransform<'_>),
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
    let cfg = ember_train::config::ModelConfig::from_toml(toml)?;
    let ds = data::bundled_mnist()?.take(600);
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
    let ds = data::bundled_mnist()?;
    Ok((0..SAMPLES).flat_map(|c| ds.sample(c * 500 + 7).to_vec()).collect())
}

/// Prints the run's sizes, activation RAM, peak stack and instruction
/// counts, after checking its peak stack: above the activation bytes (the
/// typed model's activations live on the stack) and below the stack region.
fn print_run(board: Board, dir_name: &str, run: &BoardRun, max_diff: f32) -> Result<()> {
    let (peak, size) = (run.stack.peak, run.stack.size);
    ensure!(
        peak > run.activation_bytes && peak < size,
        "{} {dir_name}: peak stack {peak} bytes should lie between the activation bytes {} and the stack region's \
         {size} bytes",
        board.name(),
        run.activation_bytes
    );
    let s = run.sizes;
    println!(
        "{} {dir_name}: .text {} .rodata {} .data {} .bss {} (flash {}, static RAM {}), ACTIVATION_BYTES {} B, peak \
         stack {peak} of {size} B",
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
        "{} {dir_name}: instructions per inference {:?} ({}); largest |board - host| {max_diff:e}",
        board.name(),
        run.instructions,
        board.counter()
    );
    Ok(())
}

/// Builds `model` for `board` (its blob and Rust type in a temporary
/// folder; the firmware's work folder `target/boards/<board>/<dir_name>`)
/// and runs `work` on it, one board run at a time; returns the blob and the
/// run, or `None` for a model the board does not run
/// ([`board_presets::cores::excluded`], which checks the reason).
fn run_on(board: Board, model: &Model, dir_name: &str, work: &Workload<'_>) -> Result<Option<(Vec<u8>, BoardRun)>> {
    if let Err(msg) = qemu_available(board) {
        panic!("{msg}");
    }
    let blob = model.to_blob()?;
    let dir = tempfile::tempdir()?;
    let (blob_path, rs_path) = (dir.path().join("model.emb"), dir.path().join("model.rs"));
    fs::write(&blob_path, &blob)?;
    fs::write(&rs_path, model.to_rust("model.emb")?)?;
    if board_presets::cores::excluded(board, dir_name, &blob_path, &rs_path, work.inputs)? {
        return Ok(None);
    }
    let _one_at_a_time = BOARD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let run = run_board_workload(board, &blob_path, &rs_path, work, &board.model_dir(dir_name))?;
    Ok(Some((blob, run)))
}

/// Runs `model` (whose typed form is `M`) on the four digits on `board` and
/// checks every output against the host runtime's `M`.
fn check_image_model<M>(board: Board, model: Model, dir_name: &str) -> Result<()>
where
    M: ember_runtime::TypedModel,
    M::Input: Sample,
    M::Output: Sample,
    for<'a> M::Bound<'a>: Forward<Input = M::Input, Output = M::Output>,
{
    let x = inputs()?;
    let Some((blob, run)) = run_on(board, &model, dir_name, &Workload { inputs: &x, texts: &[], queries: &[] })? else {
        return Ok(());
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
    print_run(board, dir_name, &run, max_diff)?;
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

/// The `lstm` or `gru` preset trained for one epoch on 600 synthetic
/// IMDB-shaped reviews (real, non-random weights), with its word-list tokenizer.
fn classifier(preset: &str, out: &std::path::Path) -> Result<Model> {
    let mut cfg = presets::preset(preset).context("preset")?;
    cfg.train.epochs = 1;
    cfg.train.max_samples = Some(600);
    let opts = ember_train::train::TrainOptions { out: out.to_path_buf(), ..Default::default() };
    Ok(ember_train::train::train(&cfg, &opts)?.model)
}

/// Raw texts and their golden ids, written from the tokenizer's rules
/// (`crates/runtime/src/text.rs`): the synthetic word list names word `k` `w{k+3}`,
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

/// Runs the classifier of `preset` (typed `M` on the host) on fixed
/// sequences and raw texts on `board`; with `exact`, every output must have
/// the host's bits.
fn check_classifier<M>(board: Board, preset: &str, exact: bool) -> Result<()>
where
    M: ember_runtime::TypedModel,
    for<'a> M::Bound<'a>: Forward<Input = TokenIds<VOCAB, STEPS>, Output = SVector<f32, 1>>,
{
    if let Err(msg) = qemu_available(board) {
        panic!("{msg}");
    }
    let dir = tempfile::tempdir()?;
    let model = classifier(preset, dir.path())?;
    let (blob_path, rs_path) = (dir.path().join(format!("{preset}.emb")), dir.path().join("model.rs"));
    fs::write(&rs_path, model.to_rust("model.emb")?)?;
    let blob = fs::read(&blob_path)?;
    // Two fixed sequences: a synthetic review's ids, and every id once from the top of the table.
    let fixed: Vec<u32> =
        (0..STEPS as u32).map(|t| (t * 7919) % VOCAB as u32).chain((0..STEPS as u32).map(|t| 4999 - t)).collect();
    let x: Vec<f32> = fixed.iter().map(|&i| i as f32).collect();
    if board_presets::cores::excluded(board, preset, &blob_path, &rs_path, &x)? {
        return Ok(());
    }
    let (texts, golden) = texts();
    let run = {
        let _one_at_a_time = BOARD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        run_board_with_texts(board, &blob_path, &rs_path, &x, &texts, &board.model_dir(preset))?
    };

    let aligned = AlignedBytes::new(&blob);
    let host = M::load(&aligned).context("host runtime rejects the blob")?;
    let same_bits = |what: &str, got: &[f32], want: &[f32]| {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        ensure!(!exact || bits(got) == bits(want), "{what}: board {got:?} is not bit-identical to host {want:?}");
        Ok(())
    };
    let mut max_diff = 0.0f32;
    for (i, (ids, got)) in fixed.chunks_exact(STEPS).zip(&run.outputs).enumerate() {
        let want = host.forward(&TokenIds::from_slice(ids)?);
        let what = format!("{} {preset} sequence {i}", board.name());
        max_diff = max_diff.max(close(&what, got, want.as_slice())?);
        same_bits(&what, got, want.as_slice())?;
    }
    ensure!(run.outputs.len() == 2 && run.texts.len() == texts.len(), "missing results");
    for (k, (t, want_ids)) in run.texts.iter().zip(&golden).enumerate() {
        ensure!(&t.ids == want_ids, "{} text {k}: device ids differ from the golden ids", board.name());
        let want = host.forward(&TokenIds::from_slice(want_ids)?);
        let what = format!("{} {preset} text {k}", board.name());
        max_diff = max_diff.max(close(&what, &t.output, want.as_slice())?);
        same_bits(&what, &t.output, want.as_slice())?;
    }
    ensure!(run.activation_bytes == M::ACTIVATION_BYTES, "activation bytes {}", run.activation_bytes);
    print_run(board, preset, &run, max_diff)?;
    let per_seq = run.instructions.iter().sum::<u64>() / run.instructions.len() as u64;
    println!(
        "{}: {preset} classifier {per_seq} instructions per sequence, {} per token",
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

// ---------------------------------------------------------------------------
// Similarity search on the board
// ---------------------------------------------------------------------------

/// The next-word model over `V` words: the embeddings (`[V, 5]`) of 3
/// context words, flattened, then a softmax over the next word.
type NextWord<const V: usize> = Chain<Embedding<V, 5, 3>, Chain<Flatten<5, 3, 15>, Dense<15, V, Softmax>>>;

/// The entity model: species, island and sex of a penguin (3 categories
/// each, 9 rows of 10 values), then the Dense that scales the prediction.
type Penguins = Chain<EntityDot<3, 9, 10>, Dense<1, 1, Relu>>;

/// The columns of [`entity_model`] and their categories, in row order
/// (categories sorted by their text, so `(missing)` first, as the trainer sorts them).
const PENGUIN_COLUMNS: [(&str, [&str; 3]); 3] = [
    ("species", ["Adelie", "Chinstrap", "Gentoo"]),
    ("island", ["Biscoe", "Dream", "Torgersen"]),
    ("sex", ["(missing)", "female", "male"]),
];

/// `n` distinct made-up words of two or three syllables; word `i` is the
/// same for every `n`, so the 250- and 5000-word models share their first words.
fn words(n: usize) -> Vec<String> {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da", "zu", "fe", "go", "hi", "ja", "bo", "cu", "we",
        "xi", "yo",
    ];
    (0..n)
        .map(|i| {
            let (a, b, c) = (i % 20, (i / 20) % 20, i / 400);
            let third = if c > 0 { SYLLABLES[c % 20] } else { "" };
            format!("{}{}{third}", SYLLABLES[a], SYLLABLES[b])
        })
        .collect()
}

/// `Embedding{vocab, 5, 3} -> Flatten -> Dense{15, vocab, Softmax}` with
/// seeded random parameters and a `vocab` asset naming every row.
fn word_model(vocab: usize, seed: u64) -> Result<Model> {
    let v = vocab as u32;
    let layers = vec![
        LayerSpec::Embedding { vocab: v, dim: 5, seq_len: 3 },
        LayerSpec::Flatten { dims: Dims::d2(3, 5) },
        LayerSpec::Dense { inputs: 15, units: v, activation: Activation::Softmax },
    ];
    let mut r = ember_conformance::rng(seed);
    let values = vec![
        ember_conformance::uniform(&mut r, vocab * 5, -1.0, 1.0),
        ember_conformance::uniform(&mut r, 15 * vocab, -0.5, 0.5),
        ember_conformance::uniform(&mut r, vocab, -0.1, 0.1),
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(3), range: None };
    let mut model = Model::new(format!("next_word_{vocab}"), input, layers, values)?;
    model.assets.push(Asset { name: VOCAB_TENSOR.into(), bytes: words(vocab).join("\n").into_bytes() });
    model.set_meta("task", "ngram");
    Ok(model)
}

/// Four contexts of 3 word ids, first and last rows included.
fn word_inputs(vocab: usize) -> Vec<f32> {
    [[0, 1, 2], [17, 3, vocab - 1], [vocab / 2, 42, 5], [42, 42, 42]].iter().flatten().map(|&i| i as f32).collect()
}

/// The word queries: a single word, an analogy `a -b c`, and the first word.
fn word_queries() -> Vec<String> {
    let w = words(100);
    vec![w[17].clone(), format!("{} -{} {}", w[3], w[40], w[99]), w[0].clone()]
}

/// `EntityDot{3 columns, 9 rows, dim 10, eps 1e-3} -> Dense{1, 1, Relu}`
/// with seeded random embeddings and batch-norm statistics, a Dense of
/// weight ~800 and bias ~4200 (a body mass in grams), and the `vocab` and
/// `columns` assets.
fn entity_model(seed: u64) -> Result<Model> {
    let layers = vec![
        LayerSpec::EntityDot { columns: 3, rows: 9, dim: 10, epsilon_bits: 1e-3f32.to_bits() },
        LayerSpec::Dense { inputs: 1, units: 1, activation: Activation::Relu },
    ];
    let mut r = ember_conformance::rng(seed);
    let mut u = |n, lo, hi| ember_conformance::uniform(&mut r, n, lo, hi);
    let values = vec![
        u(90, -1.0, 1.0), // weight [9, 10]
        u(9, -0.5, 0.5),  // bias [9]
        u(30, 0.8, 1.2),  // gamma [3, 10]
        u(30, -0.2, 0.2), // beta
        u(30, -0.3, 0.3), // moving mean
        u(30, 0.5, 1.5),  // moving variance
        vec![812.5],      // dense weight
        vec![4201.25],    // dense bias
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(3), range: None };
    let mut model = Model::new("penguins", input, layers, values)?;
    let names: Vec<&str> = PENGUIN_COLUMNS.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    let columns: Vec<String> = PENGUIN_COLUMNS.iter().map(|(n, c)| format!("{n}\t{}", c.len())).collect();
    model.assets.push(Asset { name: VOCAB_TENSOR.into(), bytes: names.join("\n").into_bytes() });
    model.assets.push(Asset { name: COLUMNS_TENSOR.into(), bytes: columns.join("\n").into_bytes() });
    model.set_meta("task", "entity");
    model.set_meta("target", "body_mass_g");
    Ok(model)
}

/// Every combination of species, island and sex, as global row ids.
fn entity_inputs() -> Vec<f32> {
    let mut x = Vec::new();
    for s in 0..3 {
        for i in 3..6 {
            for g in 6..9 {
                x.extend([s as f32, i as f32, g as f32]);
            }
        }
    }
    x
}

/// Checks an answer against a naive `f64` cosine ranking: every reported
/// row is searched and not the query's, its score is its cosine (to 1e-5),
/// scores do not increase, and no row left out scores above the last one;
/// all searched rows are reported when there are at most
/// [`QUERY_NEIGHBOURS`].
fn check_f64(blob: &Blob<'_>, line: &str, answer: &[(u32, f32)]) -> Result<()> {
    let (terms, range) = embed::resolve_query(blob, line)?;
    let (table, dim) = embed::first_table(blob)?;
    // Entity rows are compared after their column's normalisation, in f64.
    let norm = ColumnNorm::from_blob(blob).ok();
    let value = |r: usize, j: usize| -> f64 {
        let v = f64::from(table[r * dim + j]);
        match &norm {
            None => v,
            Some(n) => {
                let k = n.columns.column_of(r).expect("a row of a column").index * dim + j;
                let p = &n.params;
                let s = f64::from(p.gamma[k]) / (f64::from(p.var[k]) + f64::from(p.epsilon)).sqrt();
                (v - f64::from(p.mean[k])) * s + f64::from(p.beta[k])
            }
        }
    };
    let row = |r: usize| (0..dim).map(move |j| value(r, j));
    let q: Vec<f64> = (0..dim).map(|j| terms.iter().map(|&(r, w)| f64::from(w) * value(r, j)).sum()).collect();
    let qn = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    let cos =
        |r: usize| row(r).zip(&q).map(|(a, b)| a * b).sum::<f64>() / (qn * row(r).map(|v| v * v).sum::<f64>().sqrt());
    let searched: Vec<usize> = range.filter(|r| !terms.iter().any(|t| t.0 == *r)).collect();
    ensure!(answer.len() == searched.len().min(QUERY_NEIGHBOURS), "`{line}`: {} answers", answer.len());
    for (i, &(r, score)) in answer.iter().enumerate() {
        let r = r as usize;
        ensure!(searched.contains(&r), "`{line}`: row {r} is not searched");
        ensure!((f64::from(score) - cos(r)).abs() <= 1e-5, "`{line}`: row {r} score {score}, f64 {}", cos(r));
        ensure!(i == 0 || score <= answer[i - 1].1, "`{line}`: scores not best first");
    }
    let last = answer.last().map_or(f64::INFINITY, |a| f64::from(a.1));
    for r in searched.into_iter().filter(|r| !answer.iter().any(|a| a.0 as usize == *r)) {
        ensure!(cos(r) <= last + 1e-5, "`{line}`: row {r} (cosine {}) beats the last answer {last}", cos(r));
    }
    Ok(())
}

/// Runs `model` (typed `M`) on `board` with `inputs` and `queries`: every
/// output bit-identical to the host runtime's, every query answer equal
/// (rows and score bits) to the host's search, itself checked in `f64`.
/// Prints the sizes and the instructions per inference and per query.
fn check_search_model<M>(board: Board, model: &Model, dir_name: &str, inputs: &[f32], queries: &[String]) -> Result<()>
where
    M: ember_runtime::TypedModel,
    M::Input: Sample,
    M::Output: Sample,
    for<'a> M::Bound<'a>: Forward<Input = M::Input, Output = M::Output>,
{
    let Some((blob, run)) = run_on(board, model, dir_name, &Workload { inputs, texts: &[], queries })? else {
        return Ok(());
    };

    let aligned = AlignedBytes::new(&blob);
    let host = M::load(&aligned).context("host runtime rejects the blob")?;
    let samples = inputs.len() / M::Input::LEN;
    ensure!(run.outputs.len() == samples, "{} outputs for {samples} samples", run.outputs.len());
    for (i, (sample, got)) in inputs.chunks_exact(M::Input::LEN).zip(&run.outputs).enumerate() {
        let mut want = Vec::new();
        host.forward(&M::Input::from_values(sample.iter().copied())?).for_each_value(|v| want.push(v.to_bits()));
        let got: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
        ensure!(got == want, "{} {dir_name} sample {i}: board output differs from the host in its bits", board.name());
    }
    let parsed = Blob::parse(&aligned)?;
    board::check_queries(&run, queries, |q| embed::answer_query(&parsed, q))?;
    for (q, answer) in queries.iter().zip(&run.queries) {
        check_f64(&parsed, q, &answer.neighbours)?;
    }
    ensure!(run.activation_bytes == M::ACTIVATION_BYTES, "activation bytes {}", run.activation_bytes);
    let names = Names::from_blob(&parsed, VOCAB_TENSOR)?;
    let rows = names.len();
    println!("{dir_name} ({rows} rows, outputs bit-identical to the host):");
    print_run(board, dir_name, &run, 0.0)?;
    for (q, answer) in queries.iter().zip(&run.queries) {
        let best: Vec<&str> = answer.neighbours.iter().take(3).filter_map(|n| names.get(n.0 as usize)).collect();
        println!(
            "{}: {dir_name} query `{q}` over {rows} rows: {} instructions; best {best:?}",
            board.name(),
            answer.instructions
        );
    }
    Ok(())
}

/// The 250-word model: outputs and queries match the host.
fn check_words_250(board: Board) -> Result<()> {
    check_search_model::<NextWord<250>>(
        board,
        &word_model(250, 11)?,
        "next_word_250",
        &word_inputs(250),
        &word_queries(),
    )
}

/// `Embedding{4, 65, 1} -> Flatten -> Dense{65, 2, Softmax}` with named
/// rows: one value per row more than a board query can hold.
fn wide_model() -> Result<Model> {
    let layers = vec![
        LayerSpec::Embedding { vocab: 4, dim: 65, seq_len: 1 },
        LayerSpec::Flatten { dims: Dims::d2(1, 65) },
        LayerSpec::Dense { inputs: 65, units: 2, activation: Activation::Softmax },
    ];
    let mut r = ember_conformance::rng(14);
    let values = vec![
        ember_conformance::uniform(&mut r, 4 * 65, -1.0, 1.0),
        ember_conformance::uniform(&mut r, 65 * 2, -0.5, 0.5),
        vec![0.0; 2],
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(1), range: None };
    let mut model = Model::new("wide", input, layers, values)?;
    model.assets.push(Asset { name: VOCAB_TENSOR.into(), bytes: words(4).join("\n").into_bytes() });
    Ok(model)
}

/// Queries the firmware cannot answer stop the run with an `error:` line
/// naming the query and the problem: an unknown word (after a good query),
/// a zero query vector, an unknown column, a term that is not
/// `column=value`, an unknown category, and rows too wide for the query buffer.
fn check_query_errors(board: Board) -> Result<()> {
    if let Err(msg) = qemu_available(board) {
        panic!("{msg}");
    }
    let w = words(2);
    let (word, entity, wide) = (word_model(250, 11)?, entity_model(13)?, wide_model()?);
    let cases: [(&Model, Vec<String>, &str); 6] = [
        (&word, vec![w[1].clone(), "nosuchword".into()], "error: query 1: unknown name `nosuchword`"),
        (&word, vec![format!("{} -{}", w[0], w[0])], "error: query 0: query vector is zero or not finite"),
        (&entity, vec!["colour=red".into()], "error: query 0: unknown column `colour`"),
        (&entity, vec!["species".into()], "error: query 0: `species` is not column=value"),
        (&entity, vec!["species=Emperor".into()], "error: query 0: unknown name `species=Emperor`"),
        (
            &wide,
            vec![w[0].clone()],
            "error: embedding rows of 65 values are too wide for a similarity query (at most 64)",
        ),
    ];
    for (model, queries, want) in cases {
        let dir = tempfile::tempdir()?;
        let (blob_path, rs_path) = (dir.path().join("model.emb"), dir.path().join("model.rs"));
        fs::write(&blob_path, model.to_blob()?)?;
        fs::write(&rs_path, model.to_rust("model.emb")?)?;
        let work = Workload { inputs: &[], texts: &[], queries: &queries };
        let result = {
            let _one_at_a_time = BOARD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            run_board_workload(board, &blob_path, &rs_path, &work, &dir.path().join("work"))
        };
        let Err(err) = result else { bail!("{} {queries:?}: the run should fail with `{want}`", board.name()) };
        let msg = format!("{err:#}");
        ensure!(msg.contains(&format!("the firmware reported `{want}`")), "{queries:?}: unexpected failure: {msg}");
    }
    Ok(())
}

/// The 5000-word model (a 100 kB table and a 300 kB Dense in flash), the
/// same contexts and queries.
fn check_words_5000(board: Board) -> Result<()> {
    let model = word_model(5000, 12)?;
    check_search_model::<NextWord<5000>>(board, &model, "next_word_5000", &word_inputs(5000), &word_queries())
}

/// The entity model on every combination of its categories, and composite queries.
fn check_entity(board: Board) -> Result<()> {
    let queries: Vec<String> =
        ["species=Adelie island=Dream", "island=Biscoe", "sex=female -sex=male"].map(String::from).to_vec();
    check_search_model::<Penguins>(board, &entity_model(13)?, "penguins", &entity_inputs(), &queries)
}

/// Trains the classifier of the model file `toml` (task `classify`) for one
/// epoch on `n` generated samples of `classes` classes: class `k`'s inputs
/// are `sin((k + 1) · 0.3 · j + k)` plus noise at value `j`.
fn window_classifier(toml: &str, n: usize, classes: usize) -> Result<(Model, Vec<f32>)> {
    let cfg = ember_train::config::ModelConfig::from_toml(toml)?;
    let specs = cfg.layer_specs()?;
    let input = cfg.input_spec()?;
    let len = input.dims.elements();
    let noise = ember_conformance::support::values(77, n * len, 0.3);
    let mut x = Vec::with_capacity(n * len);
    let mut y = vec![0.0f32; n * classes];
    for i in 0..n {
        let k = i % classes;
        y[i * classes + k] = 1.0;
        x.extend((0..len).map(|j| ((k + 1) as f32 * 0.3 * j as f32 + k as f32).sin() + noise[i * len + j]));
    }
    let mut net = Network::init(&cfg.name, input, &specs, cfg.train.seed);
    fit(&mut net, TrainData { x: &x, y: &y }, &cfg.fit_config()?, FitOptions::default())?;
    let samples = x[..SAMPLES * len].to_vec();
    Ok((net.to_model()?, samples))
}

/// A keyword-spotting-shaped DS-CNN block on `[20, 10, 1]` feature maps,
/// declared as a model file.
fn ds_cnn_model() -> Result<(Model, Vec<f32>)> {
    let toml = r#"
        name = "ds_cnn"
        task = "classify"
        input = [20, 10, 1]
        [[layers]]
        type = "conv2d"
        filters = 8
        kernel = [4, 3]
        stride = 2
        activation = "relu"
        [[layers]]
        type = "depthwiseconv2d"
        activation = "relu"
        [[layers]]
        type = "avgpool2d"
        padding = "same"
        [[layers]]
        type = "globalavgpool"
        [[layers]]
        type = "dense"
        units = 12
        activation = "softmax"
        [train]
        epochs = 1
        batch_size = 32
        loss = "cce"
        seed = 5
    "#;
    window_classifier(toml, 240, 12)
}

/// The typed form of [`ds_cnn_model`].
type DsCnn = Chain<
    Conv2dStrided<20, 10, 1, 8, 4, 3, 2, 2, 1, 1, Same, Relu, 200, 50>,
    Chain<
        DepthwiseConv2d<10, 5, 8, 3, 3, 1, 1, 1, 1, Same, Relu, 50, 50>,
        Chain<
            AveragePool2d<10, 5, 8, 2, 2, 2, 2, Same, 50, 15>,
            Chain<GlobalAveragePool<8, 15>, Dense<8, 12, Softmax>>,
        >,
    >,
>;

/// A gesture-shaped Conv1d classifier on 3-axis windows of 32 steps.
fn gesture_model() -> Result<(Model, Vec<f32>)> {
    let toml = r#"
        name = "gesture_conv1d"
        task = "classify"
        input = [32, 3]
        [[layers]]
        type = "conv1d"
        filters = 8
        kernel = 5
        activation = "relu"
        [[layers]]
        type = "maxpool1d"
        [[layers]]
        type = "conv1d"
        filters = 8
        dilation = 2
        activation = "relu"
        [[layers]]
        type = "globalavgpool"
        [[layers]]
        type = "dense"
        units = 4
        activation = "softmax"
        [train]
        epochs = 1
        batch_size = 32
        loss = "cce"
        seed = 6
    "#;
    window_classifier(toml, 160, 4)
}

/// The typed form of [`gesture_model`].
type Gesture = Chain<
    Conv1d<32, 3, 8, 5, 1, 1, Same, Relu, 32>,
    Chain<
        MaxPool1d<32, 8, 2, 2, Valid, 16>,
        Chain<Conv1d<16, 8, 8, 3, 1, 2, Same, Relu, 16>, Chain<GlobalAveragePool<8, 16>, Dense<8, 4, Softmax>>>,
    >,
>;

/// Runs `model` (typed form `M`) on `x` on `board`; every output must have
/// the host runtime's exact bits.
fn check_bits<M>(board: Board, (model, x): (Model, Vec<f32>), dir_name: &str) -> Result<()>
where
    M: ember_runtime::TypedModel,
    M::Input: Sample,
    M::Output: Sample,
    for<'a> M::Bound<'a>: Forward<Input = M::Input, Output = M::Output>,
{
    let Some((blob, run)) = run_on(board, &model, dir_name, &Workload { inputs: &x, texts: &[], queries: &[] })? else {
        return Ok(());
    };
    let aligned = AlignedBytes::new(&blob);
    let host = M::load(&aligned).context("host runtime rejects the blob")?;
    ensure!(run.outputs.len() == SAMPLES, "{} outputs for {SAMPLES} samples", run.outputs.len());
    for (i, (sample, got)) in x.chunks_exact(model.input.dims.elements()).zip(&run.outputs).enumerate() {
        let mut want = Vec::new();
        host.forward(&M::Input::from_values(sample.iter().copied())?).for_each_value(|v| want.push(v.to_bits()));
        let got: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
        ensure!(got == want, "{} {dir_name} sample {i}: board {got:x?}, host {want:x?}", board.name());
    }
    ensure!(run.activation_bytes == M::ACTIVATION_BYTES, "activation bytes {}", run.activation_bytes);
    print_run(board, dir_name, &run, 0.0)?;
    Ok(())
}

/// `Dense{1, units, Linear}` with seeded weights: its output vector, `4 ·
/// units` bytes, lives on the stack while the firmware prints it.
fn wide_dense(units: u32) -> Result<Model> {
    let layers = vec![LayerSpec::Dense { inputs: 1, units, activation: Activation::Linear }];
    let n = units as usize;
    let values = vec![ember_conformance::uniform(&mut ember_conformance::rng(21), n, -1.0, 1.0), vec![0.5; n]];
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(1), range: None };
    Ok(Model::new(format!("dense_{units}"), input, layers, values)?)
}

/// The peak stack measures the stack: a model whose output is 16 kB larger
/// (4096 instead of 16 values) must raise the firmware's peak by at least
/// those 16 kB, and stay below the stack region.
fn check_stack_grows(board: Board) -> Result<()> {
    let x = [0.25f32, -1.0, 2.0, 0.0];
    let mut peaks = Vec::new();
    for units in [16u32, 4096] {
        let work = Workload { inputs: &x, texts: &[], queries: &[] };
        let Some((_, run)) = run_on(board, &wide_dense(units)?, &format!("stack_dense_{units}"), &work)? else {
            bail!("{}: the stack check's models must run", board.name());
        };
        ensure!(run.outputs.iter().all(|o| o.len() == units as usize), "{} outputs", board.name());
        print_run(board, &format!("stack_dense_{units}"), &run, 0.0)?;
        peaks.push(run.stack.peak);
    }
    let grown = peaks[1].saturating_sub(peaks[0]);
    ensure!(
        grown >= 4 * (4096 - 16),
        "{}: the peak stack grew by {grown} bytes ({peaks:?}) for 16320 more bytes of output",
        board.name()
    );
    Ok(())
}

/// The tests of one emulated board, the same model set on each (a model a
/// core does not run is listed, with its proven reason, in
/// `board_presets::cores`).
macro_rules! board_tests {
    ($core:ident, $board:expr) => {
        mod $core {
            use super::*;

            #[test]
            fn word_embeddings_250_match_host() -> Result<()> {
                check_words_250($board)
            }

            #[test]
            fn bad_queries_fail_with_their_error() -> Result<()> {
                check_query_errors($board)
            }

            #[test]
            fn word_embeddings_5000_match_host() -> Result<()> {
                check_words_5000($board)
            }

            #[test]
            fn entity_embeddings_match_host() -> Result<()> {
                check_entity($board)
            }

            #[test]
            fn mnist_encoder_matches_host() -> Result<()> {
                check_board($board)
            }

            #[test]
            fn conv_encoder_matches_host() -> Result<()> {
                check_conv_encoder($board, "conv-ae")
            }

            #[test]
            fn every_image_layer_matches_host() -> Result<()> {
                check_image_model::<ImageLayers>($board, image_layers_model()?, "image_layers")
            }

            #[test]
            fn conv_denoise_encoder_matches_host() -> Result<()> {
                check_conv_encoder($board, "conv-denoise")
            }

            #[test]
            fn lstm_classifier_matches_host() -> Result<()> {
                check_classifier::<Classifier>($board, "lstm", false)
            }

            #[test]
            fn gru_classifier_is_bit_identical_to_host() -> Result<()> {
                check_classifier::<GruClassifier>($board, "gru", true)
            }

            #[test]
            fn ds_cnn_matches_host_bit_for_bit() -> Result<()> {
                check_bits::<DsCnn>($board, ds_cnn_model()?, "ds_cnn")
            }

            #[test]
            fn gesture_conv1d_matches_host_bit_for_bit() -> Result<()> {
                check_bits::<Gesture>($board, gesture_model()?, "gesture_conv1d")
            }

            #[test]
            fn preset_models_match_host_bit_for_bit() -> Result<()> {
                board_presets::check_all($board)
            }

            #[test]
            fn quantized_models_match_host_interpreter_bit_for_bit() -> Result<()> {
                board_presets::quant::check_all($board)
            }

            #[test]
            fn peak_stack_grows_with_the_activations() -> Result<()> {
                check_stack_grows($board)
            }

            #[test]
            fn every_other_preset_in_int8_matches_host_interpreter() -> Result<()> {
                board_presets::int8::check_all($board)
            }
        }
    };
}

board_tests!(cortex_m4, Board::CortexM4);
board_tests!(riscv32, Board::Riscv32);
board_tests!(cortex_m0, Board::CortexM0);
board_tests!(cortex_m33, Board::CortexM33);
