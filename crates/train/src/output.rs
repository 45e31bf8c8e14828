//! What every training task shares: the options of a run, its summary, the
//! output folder with its checkpoint, and writing models and history.

use std::path::{Path, PathBuf};

use ember_export::{Model, ModelSummary};
use ember_nn::checkpoint::Checkpoint;
use ember_nn::fit::{self, FitObserver, History};

use crate::config::{ModelConfig, TrainConfig};
use crate::error::{Result, TrainError, invalid};
use crate::plot;

/// Makes the [`FitObserver`] of one training run (the CLI's progress bars
/// and per-epoch lines).
pub type ObserverFactory = fn() -> Box<dyn FitObserver>;

/// Options of one training run that are not part of the model config.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Data file (the config's default data if absent).
    pub data: Option<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Continue from `out/checkpoint.bin`.
    pub resume: bool,
    /// Makes the observer of the fit loop's progress (none: silent).
    pub observer: Option<ObserverFactory>,
}

/// What a training run produced.
#[derive(Clone, Debug)]
pub struct TrainSummary {
    /// The trained model.
    pub model: Model,
    /// The encoder alone, for autoencoders.
    pub encoder: Option<Model>,
    /// Metric history.
    pub history: History,
    /// Validation reconstruction MSE of the model (for classifiers: of the
    /// predicted probabilities against the one-hot labels, the Brier score).
    pub val_mse: f64,
    /// Validation reconstruction MSE of PCA with as many components as the code.
    pub pca_mse: Option<f64>,
    /// For classifiers: the report on the validation data (the training data
    /// when there is no validation split).
    pub classification: Option<ember_nn::metrics::ClassificationReport>,
    /// Result lines to print (embedding models: held-out scores and baselines).
    pub summary: Vec<String>,
    /// Every file written.
    pub files: Vec<PathBuf>,
    /// Inputs kept for post-training quantization (`None` for the word and
    /// entity tasks).
    pub data: Option<RunData>,
}

/// Training samples used at most to calibrate a quantized model.
pub const CALIBRATION_SAMPLES: usize = 1000;

/// What a quantized copy of a run's model is scored against.
#[derive(Clone, Debug, PartialEq)]
pub enum Truth {
    /// Class labels (accuracy).
    Labels(Vec<u32>),
    /// Expected outputs, `[n, output elements]` (MSE).
    Values(Vec<f32>),
}

/// The inputs of a run that quantizing its model needs.
#[derive(Clone, Debug, PartialEq)]
pub struct RunData {
    /// Up to [`CALIBRATION_SAMPLES`] training inputs, evenly spaced,
    /// `[n, input elements]`.
    pub calibration: Vec<f32>,
    /// The validation inputs (the training inputs without a split).
    pub validation: Vec<f32>,
    /// The validation truth.
    pub truth: Truth,
}

impl RunData {
    /// From all inputs `x` (`d` values per sample) of which the first
    /// `n_train` trained the model, and the validation samples `eval`.
    pub fn new(x: &[f32], d: usize, n_train: usize, eval: std::ops::Range<usize>, truth: Truth) -> Self {
        let n_train = if n_train == 0 { x.len() / d.max(1) } else { n_train };
        let step = n_train.div_ceil(CALIBRATION_SAMPLES).max(1);
        let calibration = x[..n_train * d].chunks(d.max(1)).step_by(step).flatten().copied().collect();
        RunData { calibration, validation: x[eval.start * d..eval.end * d].to_vec(), truth }
    }
}

/// Creates the output folder and loads the checkpoint to resume from, if asked.
pub(crate) fn prepare_out(opts: &TrainOptions) -> Result<(PathBuf, Option<Checkpoint>)> {
    std::fs::create_dir_all(&opts.out).map_err(|e| TrainError::io("create", &opts.out, e))?;
    let ck_path = opts.out.join("checkpoint.bin");
    let resume = if opts.resume {
        if !ck_path.exists() {
            invalid!("--resume: no checkpoint at {}", ck_path.display());
        }
        Some(Checkpoint::load(&ck_path)?)
    } else {
        None
    };
    Ok((ck_path, resume))
}

/// Writes `history.json`, `history.csv`, `loss.png` and, when accuracy was tracked, `accuracy.png`.
pub(crate) fn write_history(cfg: &ModelConfig, history: &History, out: &Path) -> Result<Vec<PathBuf>> {
    let hist_path = out.join("history.json");
    crate::write_file(&hist_path, serde_json::to_string_pretty(&history_json(history))?.as_bytes())?;
    let csv_path = out.join("history.csv");
    crate::write_file(&csv_path, history.to_csv().as_bytes())?;
    let mut files = vec![hist_path, csv_path];
    let series = |f: &dyn Fn(&fit::EpochRecord) -> Option<f64>| -> Vec<f32> {
        history.epochs.iter().filter_map(|e| f(e).map(|v| v as f32)).collect()
    };
    /// A chart: metric name, detail for the title, and its two lines.
    type Chart<'a> = (&'a str, &'a str, [(&'a str, Vec<f32>); 2]);
    let charts: [Chart<'_>; 2] = [
        ("loss", &cfg.train.loss, [("loss", series(&|e| Some(e.loss))), ("val_loss", series(&|e| e.val_loss))]),
        ("accuracy", "", [("accuracy", series(&|e| e.accuracy)), ("val_accuracy", series(&|e| e.val_accuracy))]),
    ];
    for (metric, detail, lines) in charts {
        let lines: Vec<(&str, &[f32])> =
            lines.iter().filter(|(_, v)| !v.is_empty()).map(|(n, v)| (*n, v.as_slice())).collect();
        if lines.is_empty() {
            continue;
        }
        let path = out.join(format!("{metric}.png"));
        let title = if detail.is_empty() {
            format!("{} {metric}", cfg.name)
        } else {
            format!("{} {metric} ({detail})", cfg.name)
        };
        plot::line_chart(&path, &title, "epoch", metric, &lines)?;
        files.push(path);
    }
    Ok(files)
}

/// Writes `NAME.emb` and `NAME.onnx` for a model into `dir`.
pub fn write_model(m: &Model, dir: &Path) -> Result<Vec<PathBuf>> {
    let emb = dir.join(format!("{}.emb", m.name));
    let onnx = dir.join(format!("{}.onnx", m.name));
    crate::write_file(&emb, &m.to_blob()?)?;
    crate::write_file(&onnx, &m.to_onnx()?)?;
    Ok(vec![emb, onnx])
}

fn history_json(h: &History) -> serde_json::Value {
    serde_json::json!({
        "epochs": h.epochs,
        "best_epoch": h.best_epoch,
        "stopped_early": h.stopped_early,
    })
}

/// Adds the model summary (Keras's `model.summary()`, with flash and
/// activation RAM) to the end of the report of a finished run.
pub(crate) fn append_model_summary(summary: &TrainSummary) -> Result<()> {
    let Some(path) = summary.files.iter().find(|f| f.file_name().is_some_and(|n| n == "report.md")) else {
        return Ok(());
    };
    let mut text = std::fs::read_to_string(path).map_err(|e| TrainError::io("read", path, e))?;
    let table = ModelSummary::of(&summary.model)?.table();
    text += &format!("\n## Model summary\n\n```text\n{table}```\n");
    crate::write_file(path, text.as_bytes())
}

/// The report lines every task writes about its run: the loss, optimizer,
/// batch size and seed; then the epochs run, the epoch whose weights the
/// model holds, whether early stopping ended the run, and the mean time per
/// epoch.
pub(crate) fn run_lines(t: &TrainConfig, history: &History) -> String {
    let mut r = format!("- loss {}, optimizer {}, batch {}, seed {}\n", t.loss, t.optimizer, t.batch_size, t.seed);
    if let Some(s) = &t.lr_schedule {
        r += &format!(
            "- learning-rate schedule: {}\n",
            toml::to_string(s).unwrap_or_default().trim().replace('\n', ", ")
        );
    }
    if let Some(w) = &t.class_weights {
        r += &format!("- class weights: {}\n", serde_json::to_string(w).unwrap_or_default());
    }
    if let Some(last) = history.epochs.last() {
        let secs = history.epochs.iter().map(|e| e.seconds).sum::<f64>() / history.epochs.len() as f64;
        let best = history.best_epoch.map_or("none".to_string(), |b| b.to_string());
        let stop = if history.stopped_early { ", stopped early" } else { "" };
        r += &format!("- epochs run: {} (weights of epoch {best}{stop}), {secs:.3} s per epoch\n", last.epoch);
    }
    r
}
