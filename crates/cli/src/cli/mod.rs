//! Command-line interface of `ember` (spellings are stable: scripts rely on them).

mod classify;
mod embed;
mod evaluate;
mod import;
mod inspect;
mod progress;
mod quantize;
mod quickstart;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use ember_export::Model;
use ember_export::fsutil::write_bytes;
use ember_train::config::{ModelConfig, NoiseConfig};
use ember_train::presets;
use ember_train::train::{ObserverFactory, TrainOptions, train};
use ember_verify as verify;

#[derive(Parser)]
#[command(
    name = "ember",
    version,
    about = "Train tiny neural networks, export them to ONNX and .emb blobs, run them on microcontrollers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a preset or a TOML model file; writes NAME.emb, NAME.onnx, the encoder, plots and a report into --out.
    Train(TrainArgs),
    /// Export a blob (or a layer range of it) to ONNX, another blob, or Rust source for a board.
    Export(ExportArgs),
    /// Run the same inputs through the ember runtime, the trainer, tract and ONNX Runtime and compare.
    Verify(VerifyArgs),
    /// Run a blob on inputs from a .npy file (batch dimension first) and write the outputs as .npy.
    Run(run::RunArgs),
    /// Classify raw text with a text model's own tokenizer and the host runtime.
    Classify(classify::ClassifyArgs),
    /// Print a blob's header, tensor table, sizes and CRC; non-zero exit on any defect.
    Inspect(inspect::InspectArgs),
    /// Words most similar (cosine) to a word of a word-embedding model.
    Similar(embed::SimilarArgs),
    /// Words nearest to A - B + C ("man is to king as woman is to ?": king man woman).
    Analogy(embed::AnalogyArgs),
    /// The most probable next words after a word-embedding model's context words.
    Next(embed::NextArgs),
    /// For each embedding dimension of an entity column, the categories with the lowest and highest values.
    Dims(embed::DimsArgs),
    /// Categories of a column nearest to one category, or to the sum of several (composite queries).
    Nearest(embed::NearestArgs),
    /// A labelled PNG of an embedding table projected to 2-D (PCA).
    Project(embed::ProjectArgs),
    /// The main job: train the 3-D, MNIST and convolutional autoencoders, a text classifier, word and entity embeddings; export, verify and run on the QEMU boards.
    Quickstart(quickstart::QuickstartArgs),
    /// Score a trained model on held-out data through the host runtime (classifiers of text, features, images and time series: accuracy and per-class report; regressors and autoencoders: MSE/MAE, an anomaly detector's flags; word models: perplexity; entity models: MAE).
    Evaluate(evaluate::EvaluateArgs),
    /// Predict with a trained model (texts, table rows, feature rows, images, time series, a folder per class) into a .csv table or a .npy array.
    Predict(evaluate::PredictArgs),
    /// Quantize a trained blob to int8 (or int8 weights only) with calibration data; writes the quantized blob and its QDQ ONNX.
    Quantize(quantize::QuantizeArgs),
    /// Import an ONNX model from another framework: writes DIR/NAME.emb, DIR/NAME.rs and DIR/NAME.report.md after verifying it against ONNX Runtime.
    Import(import::ImportArgs),
    /// List the presets, or print one's TOML model file (with its comments).
    Presets {
        /// Preset to print.
        name: Option<String>,
    },
}

#[derive(clap::Args)]
struct TrainArgs {
    /// A preset name (see `ember presets`) or a TOML model file.
    model: String,
    /// Data: a generated or bundled set by name (mnist, blobs, kws, gestures, sine, sensor-windows, synthetic-imdb), a folder per class (.npy or .csv samples; a time series [steps, channels], one step per line), a CSV with a label column ([columns] label) or target columns ([columns] targets), MNIST IDX (raw or .gz) with its labels file, an MNIST CSV or a CSV of floats; for text models an aclImdb folder, a Keras IMDB .npz or a CSV with text and label columns. Default: the model's own data.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Held-out data to score the trained model on (as `ember evaluate`); the scores go into report.md.
    #[arg(long)]
    test_data: Option<PathBuf>,
    /// Epochs (in total, counting those before --resume).
    #[arg(long)]
    epochs: Option<usize>,
    /// Seed for initialisation, shuffling and noise.
    #[arg(long)]
    seed: Option<u64>,
    /// Continue from OUT/checkpoint.bin.
    #[arg(long)]
    resume: bool,
    /// Mini-batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    lr: Option<f32>,
    /// Optimizer: sgd, adam, rmsprop, adadelta.
    #[arg(long)]
    optimizer: Option<String>,
    /// Loss: mse, mae, huber (regressors), bce, cce, sparse_cce (integer labels).
    #[arg(long)]
    loss: Option<String>,
    /// L2 penalty on kernels.
    #[arg(long)]
    l2: Option<f32>,
    /// Early-stopping patience (epochs).
    #[arg(long)]
    patience: Option<usize>,
    /// Validation split (fraction at the end of the data).
    #[arg(long)]
    validation_split: Option<f32>,
    /// Use at most this many samples.
    #[arg(long)]
    max_samples: Option<usize>,
    /// Input noise for denoising: gaussian:LEVEL or salt-pepper:FRACTION.
    #[arg(long)]
    noise: Option<String>,
    /// Entity models: the categorical columns, comma-separated.
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// Entity models: the numeric target column.
    #[arg(long)]
    target: Option<String>,
    /// Word-embedding models: most words in the vocabulary.
    #[arg(long)]
    vocab: Option<u32>,
    /// No progress bars or per-epoch lines.
    #[arg(long, short)]
    quiet: bool,
    /// After training, also write NAME.int8.emb and NAME.int8.onnx: int8 (int8 arithmetic for dense and convolution layers, int8 weights elsewhere) or weights-only, calibrated on up to 1000 training samples; the report compares f32 and quantized on the validation data.
    #[arg(long, value_parser = ["int8", "weights-only"])]
    quantize: Option<String>,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// The trained model's blob.
    model: PathBuf,
    /// Write ONNX here.
    #[arg(long)]
    onnx: Option<PathBuf>,
    /// Write a blob here (useful with --encoder or --layers).
    #[arg(long)]
    blob: Option<PathBuf>,
    /// Write Rust source naming the typed runtime model here.
    #[arg(long)]
    rust: Option<PathBuf>,
    /// Export only the encoder (the layers named by the blob's `encoder_layers`).
    #[arg(long, conflicts_with = "layers")]
    encoder: bool,
    /// Export only layers START..END.
    #[arg(long, value_parser = parse_range)]
    layers: Option<std::ops::Range<usize>>,
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// A folder (every NAME.onnx with a NAME.emb beside it, in the folder or
    /// one level down, as `ember quickstart --out` writes them) or an ONNX file.
    target: PathBuf,
    /// The blob, when TARGET is an ONNX file.
    blob: Option<PathBuf>,
    /// Random input samples to compare.
    #[arg(long, default_value_t = 16)]
    samples: usize,
    /// Seed of the random inputs.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn parse_range(s: &str) -> Result<std::ops::Range<usize>, String> {
    let (a, b) = s.split_once("..").ok_or("expected START..END")?;
    let (a, b) = (a.parse().map_err(|_| "bad START")?, b.parse().map_err(|_| "bad END")?);
    if a >= b {
        return Err("START must be below END".into());
    }
    Ok(a..b)
}

/// Parses the command line and runs the command.
pub fn run() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Train(a) => cmd_train(a),
        Command::Export(a) => cmd_export(a),
        Command::Verify(a) => cmd_verify(a),
        Command::Run(a) => run::cmd_run(a),
        Command::Import(a) => import::cmd_import(a),
        Command::Classify(a) => classify::cmd_classify(a),
        Command::Inspect(a) => inspect::cmd_inspect(a),
        Command::Similar(a) => embed::cmd_similar(a),
        Command::Analogy(a) => embed::cmd_analogy(a),
        Command::Next(a) => embed::cmd_next(a),
        Command::Dims(a) => embed::cmd_dims(a),
        Command::Nearest(a) => embed::cmd_nearest(a),
        Command::Project(a) => embed::cmd_project(a),
        Command::Quickstart(a) => quickstart::cmd_quickstart(a),
        Command::Presets { name } => cmd_presets(name.as_deref()),
        Command::Evaluate(a) => evaluate::cmd_evaluate(a),
        Command::Predict(a) => evaluate::cmd_predict(a),
        Command::Quantize(a) => quantize::cmd_quantize(a),
    }
}

/// `ember presets`: one line per preset (name and description), or the file
/// of the preset `name` as it is written.
fn cmd_presets(name: Option<&str>) -> anyhow::Result<ExitCode> {
    match name {
        None => {
            let width = presets::names().map(str::len).max().unwrap_or(0);
            for p in presets::PRESETS {
                println!("{:width$}  {}", p.name, p.description);
            }
        }
        Some(n) => match presets::text(n) {
            Some(text) => print!("{text}"),
            None => bail!("no preset named {n:?}; the presets are {}", preset_names()),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn preset_names() -> String {
    presets::names().collect::<Vec<_>>().join(", ")
}

/// A preset by name, or a TOML model file by path.
pub fn load_config(model: &str) -> anyhow::Result<ModelConfig> {
    if let Some(p) = presets::preset(model) {
        return Ok(p);
    }
    let path = Path::new(model);
    if !path.exists() {
        bail!("{model:?} is neither a preset ({}) nor an existing model file", preset_names());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    ModelConfig::from_toml(&text).with_context(|| format!("invalid model file {}", path.display()))
}

/// The generated or bundled data sets `ember train --data` takes by name.
const DATA_NAMES: [&str; 7] = ["mnist", "blobs", "kws", "gestures", "sine", "sensor-windows", "synthetic-imdb"];

fn cmd_train(a: TrainArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = load_config(&a.model)?;
    let t = &mut cfg.train;
    t.epochs = a.epochs.unwrap_or(t.epochs);
    t.seed = a.seed.unwrap_or(t.seed);
    t.batch_size = a.batch_size.unwrap_or(t.batch_size);
    t.learning_rate = a.lr.or(t.learning_rate);
    t.optimizer = a.optimizer.unwrap_or(t.optimizer.clone());
    t.loss = a.loss.unwrap_or(t.loss.clone());
    t.l2 = a.l2.unwrap_or(t.l2);
    t.patience = a.patience.or(t.patience);
    t.validation_split = a.validation_split.unwrap_or(t.validation_split);
    t.max_samples = a.max_samples.or(t.max_samples);
    if let Some(n) = a.noise {
        cfg.noise = Some(NoiseConfig::parse(&n).map_err(anyhow::Error::msg)?);
    }
    if a.columns.is_some() || a.target.is_some() {
        let e = cfg.entity.as_mut().context("--columns and --target are for entity models (task = \"entity\")")?;
        if let Some(c) = a.columns {
            cfg.input = vec![c.len() as u32];
            e.columns = c;
        }
        e.target = a.target.unwrap_or(e.target.clone());
    }
    if let Some(v) = a.vocab {
        cfg.words.as_ref().context("--vocab is for word-embedding models (task = \"ngram\")")?;
        if v == 0 {
            bail!("--vocab must be at least 1");
        }
        cfg = cfg.with_vocab(v);
    }
    cfg.fit_config()?;
    if let Some(t) = &a.test_data
        && !t.exists()
    {
        bail!("--test-data {}: no such file or folder", t.display());
    }
    let observer: Option<ObserverFactory> = if a.quiet { None } else { Some(progress::observer) };
    let out = a.out.clone();
    // `--data NAME` of a generated or bundled set (not a file of that name) is the model's `data = NAME`.
    let mut data = a.data;
    if let Some(name) = data.as_deref().filter(|d| !d.exists()).and_then(|d| d.to_str())
        && DATA_NAMES.contains(&name)
    {
        cfg.data = Some(name.to_string());
        data = None;
    }
    let quant_options = a
        .quantize
        .as_deref()
        .map(|m| {
            quantize::scheme(m).map(|scheme| ember_export::quant::QuantizeOptions { scheme, ..Default::default() })
        })
        .transpose()?;
    if quant_options.is_some()
        && matches!(cfg.task, ember_train::config::Task::Ngram | ember_train::config::Task::Entity)
    {
        bail!("--quantize is for classifiers, regressors and autoencoders, not word or entity models");
    }
    let opts = TrainOptions { data, out: a.out, resume: a.resume, observer };
    let s = train(&cfg, &opts)?;
    match &s.classification {
        Some(report) => println!("{}: classification report\n\n{report}", cfg.name),
        None if !s.summary.is_empty() => s.summary.iter().for_each(|l| println!("{}: {l}", cfg.name)),
        None => println!("{}: validation reconstruction MSE {:.6}", cfg.name, s.val_mse),
    }
    if let Some(p) = s.pca_mse {
        println!("PCA with the same code size: validation MSE {p:.6}");
    }
    for f in &s.files {
        println!("wrote {}", f.display());
    }
    if let Some(options) = quant_options {
        let q = ember_train::quantized::quantize_run(&s, &out, options).context("quantizing the trained model")?;
        q.lines.iter().for_each(|l| println!("{}: {l}", cfg.name));
        for f in &q.files {
            println!("wrote {}", f.display());
        }
    }
    if let Some(t) = &a.test_data {
        // A denoising autoencoder is scored on what it was trained for: noisy inputs, clean targets.
        let noise = match cfg.task {
            ember_train::config::Task::Denoise => cfg.noise.or(Some(NoiseConfig::Gaussian { level: 0.5 })),
            _ => None,
        };
        let opts = ember_train::evaluate::EvalOptions { noise, seed: cfg.train.seed, ..Default::default() };
        let (eval, files) = ember_train::evaluate::add_to_run(&s.model, t, &out, &opts)
            .with_context(|| format!("scoring the trained model on --test-data {}", t.display()))?;
        print!("\ntest data: {eval}");
        for f in files {
            println!("wrote {}", f.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_model(path: &Path) -> anyhow::Result<Model> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Model::from_blob(&bytes).with_context(|| format!("{} is not a valid ember blob", path.display()))
}

fn cmd_export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let mut model = read_model(&a.model)?;
    if a.encoder {
        let k: usize = model
            .meta("encoder_layers")
            .context("this blob names no encoder (no encoder_layers metadata): use --layers START..END")?
            .parse()
            .context("encoder_layers metadata is not a number")?;
        model = model.sub_model(format!("{}_encoder", model.name), 0..k)?;
    } else if let Some(r) = a.layers {
        model = model.sub_model(format!("{}_{}_{}", model.name, r.start, r.end), r)?;
    }
    if a.onnx.is_none() && a.blob.is_none() && a.rust.is_none() {
        bail!("nothing to write: give --onnx, --blob and/or --rust");
    }
    if let Some(p) = &a.onnx {
        write_bytes(p, &model.to_onnx()?)?;
        println!("wrote {}", p.display());
    }
    let blob_name = a
        .blob
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or(format!("{}.emb", model.name), |n| n.to_string_lossy().into_owned());
    if let Some(p) = &a.blob {
        write_bytes(p, &model.to_blob()?)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &a.rust {
        write_bytes(p, model.to_rust(&blob_name)?.as_bytes())?;
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Every `(onnx, blob)` pair a verify target names.
pub fn verify_pairs(target: &Path, blob: Option<&Path>) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    if target.is_dir() {
        let mut pairs = Vec::new();
        // The folder itself, then its subfolders (one level: a quickstart output).
        let mut dirs = vec![target.to_path_buf()];
        for entry in std::fs::read_dir(target).with_context(|| format!("cannot read {}", target.display()))? {
            let p = entry?.path();
            if p.is_dir() {
                dirs.push(p);
            }
        }
        for dir in &dirs {
            for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
                let p = entry?.path();
                if p.extension().is_some_and(|e| e == "onnx") && p.with_extension("emb").exists() {
                    let emb = p.with_extension("emb");
                    pairs.push((p, emb));
                }
            }
        }
        pairs.sort();
        if pairs.is_empty() {
            bail!("no NAME.onnx with a NAME.emb beside it in {}", target.display());
        }
        Ok(pairs)
    } else {
        let blob = blob.context("give the blob too: ember verify MODEL.onnx MODEL.emb")?;
        Ok(vec![(target.to_path_buf(), blob.to_path_buf())])
    }
}

/// Verifies every pair, printing a table; returns whether all passed.
pub fn verify_all(pairs: &[(PathBuf, PathBuf)], samples: usize, seed: u64) -> anyhow::Result<bool> {
    let mut all_ok = true;
    for (onnx, emb) in pairs {
        let blob = std::fs::read(emb).with_context(|| format!("cannot read {}", emb.display()))?;
        let onnx_bytes = std::fs::read(onnx).with_context(|| format!("cannot read {}", onnx.display()))?;
        let model = Model::from_blob(&blob).with_context(|| format!("{} is not a valid ember blob", emb.display()))?;
        let inputs = verify::sample_inputs(&model, samples, seed);
        let report =
            verify::verify(&blob, &onnx_bytes, &inputs).with_context(|| format!("verifying {}", onnx.display()))?;
        print!("{}", verify::format_report(&report));
        all_ok &= report.ok();
    }
    Ok(all_ok)
}

fn cmd_verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    if a.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let pairs = verify_pairs(&a.target, a.blob.as_deref())?;
    if verify_all(&pairs, a.samples, a.seed)? {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: some backend differs from the ember runtime by more than the tolerance");
        Ok(ExitCode::FAILURE)
    }
}
