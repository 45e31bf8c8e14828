//! Training text classifiers (`task = "classify"` with a `[text]` section): text data, labels,
//! fit with accuracy, the classification report, and a model that carries its
//! tokenizer (and word list) so that any backend, and a board, can classify
//! raw text.

use std::fmt::Write as _;
use std::path::Path;

use ember_export::{Asset, Model};
use ember_runtime::spec::TokenizerKind;
use ember_runtime::text::VOCAB_TENSOR;

use crate::config::{ModelConfig, TextConfig};
use crate::error::{Result, TrainError, invalid};
use crate::output::{RunData, TrainOptions, TrainSummary, Truth, prepare_out, run_lines, write_history, write_model};
use crate::runlog::RunObserver;
use ember_data::text::{self, ImdbOptions, TextData};
use ember_nn::fit::{self, FitOptions, TrainData};
use ember_nn::metrics::ClassificationReport;
use ember_nn::network::Network;

/// The labelled phrases of Keras's `one_hot` example (1 = positive).
pub const PHRASES: [(&str, u32); 10] = [
    ("Well done!", 1),
    ("Good work", 1),
    ("Great effort", 1),
    ("nice work", 1),
    ("Excellent!", 1),
    ("Weak", 0),
    ("Poor effort!", 0),
    ("not good", 0),
    ("poor work", 0),
    ("Could have done better.", 0),
];

/// Reviews generated for the `synthetic-imdb` data: 3750 for training and
/// 1250 for validation at the presets' split of 0.25 (the shape of Keras's
/// IMDB example).
pub const SYNTHETIC_REVIEWS: usize = 5000;

/// Loads the text data a config names (or `path`): `phrases`,
/// `synthetic-imdb`, an IMDB `.npz`, an `aclImdb` folder (its `train`
/// split) or a CSV file with a text and a label column.
pub fn load_text_data(cfg: &ModelConfig, path: Option<&Path>) -> Result<TextData> {
    let text = cfg
        .text
        .as_ref()
        .ok_or_else(|| TrainError::config(format!("model {} is a classifier without a [text] section", cfg.name)))?;
    let spec = text.tokenizer_spec()?;
    let td = match (path, cfg.data.as_deref()) {
        (Some(p), _) => load_path(p, text)?,
        (None, Some("phrases")) => {
            let (texts, labels): (Vec<&str>, Vec<u32>) = PHRASES.iter().copied().unzip();
            TextData::from_texts(&texts, labels, vec!["negative".into(), "positive".into()], spec, None)?
        }
        (None, Some("synthetic-imdb")) => {
            text::synthetic_reviews(SYNTHETIC_REVIEWS, spec.vocab, spec.max_len, cfg.train.seed)
        }
        (None, Some(other)) => load_path(Path::new(other), text)?,
        (None, None) => invalid!("model {} names no default data: pass --data PATH", cfg.name),
    };
    if td.tokenizer.max_len != spec.max_len || td.tokenizer.vocab > spec.vocab {
        invalid!(
            "the data has sequences of {} ids below {} but the model takes {} ids below {}",
            td.tokenizer.max_len,
            td.tokenizer.vocab,
            spec.max_len,
            spec.vocab
        );
    }
    Ok(match cfg.train.max_samples {
        Some(n) if n < td.data.len() => TextData { data: td.data.take(n), ..td },
        _ => td,
    })
}

/// Seed of the fixed shuffle of text folders and CSV files.
pub const TEXT_SHUFFLE_SEED: u64 = 2024;

fn load_path(p: &Path, text: &TextConfig) -> Result<TextData> {
    let spec = text.tokenizer_spec()?;
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    // Folders and CSV files come sorted (aclImdb: every `neg`, then every
    // `pos`): shuffle them once, with a fixed seed, so that the validation
    // tail holds every class.
    Ok(if p.is_dir() {
        text::load_acl_imdb(p, &spec)?.0.shuffled(TEXT_SHUFFLE_SEED)
    } else if ext == "npz" {
        // Keras's order is shuffled by its fixed seed, so the validation tail holds both classes.
        text::load_imdb_npz(p, &spec, &ImdbOptions::default())?.0
    } else if ext == "csv" {
        let col = |c: &Option<String>, default: &'static str| c.clone().unwrap_or_else(|| default.into());
        let td = text::load_text_csv(p, &col(&text.text_column, "text"), &col(&text.label_column, "label"), &spec)?;
        td.shuffled(TEXT_SHUFFLE_SEED)
    } else if !p.exists() {
        invalid!("{}: no such file or folder", p.display());
    } else {
        invalid!("{}: text data must be an aclImdb folder, a Keras IMDB .npz or a .csv file", p.display());
    })
}

/// Targets for the network's output width: the label itself for one sigmoid
/// unit (two classes), one-hot rows otherwise.
fn targets(labels: &[u32], classes: usize, width: usize) -> Result<Vec<f32>> {
    if width == 1 {
        if classes != 2 {
            invalid!("one output unit classifies 2 classes, but the data has {classes}");
        }
        return Ok(labels.iter().map(|&l| l as f32).collect());
    }
    if width != classes {
        invalid!("the last layer has {width} units but the data has {classes} classes");
    }
    let mut y = vec![0.0; labels.len() * width];
    for (row, &l) in y.chunks_mut(width).zip(labels) {
        row[l as usize] = 1.0;
    }
    Ok(y)
}

/// The trained model with its tokenizer, word list and class names.
fn text_model(net: &Network, cfg: &ModelConfig, td: &TextData) -> Result<Model> {
    let mut model = net.to_model()?;
    model.set_meta("producer", crate::PRODUCER);
    model.set_meta("task", "classify");
    model.set_meta("loss", cfg.train.loss.clone());
    model.set_meta("classes", td.classes.join("\n"));
    match (td.tokenizer.kind, td.vocab_bytes()) {
        (TokenizerKind::Hashing, _) => model.tokenizer = Some(td.tokenizer),
        (TokenizerKind::Vocabulary, Some(bytes)) => {
            model.tokenizer = Some(td.tokenizer);
            model.assets.push(Asset { name: VOCAB_TENSOR.into(), bytes });
        }
        // Ids that came without their words: the model takes ids only.
        (TokenizerKind::Vocabulary, None) => {}
    }
    model.validate()?;
    Ok(model)
}

/// Trains a classifier of `cfg` and writes the model, plots and report into `opts.out`.
///
/// A classifier without a `[text]` section classifies features, images or
/// time series ([`super::classify_features`]).
pub fn train(cfg: &ModelConfig, opts: &TrainOptions) -> Result<TrainSummary> {
    if cfg.text.is_none() {
        return super::classify_features::train(cfg, opts);
    }
    let td = load_text_data(cfg, opts.data.as_deref())?;
    let ds = &td.data;
    let labels = ds.labels.as_deref().ok_or_else(|| TrainError::invalid("text data without labels"))?;
    let specs = cfg.layer_specs()?;
    let fit_cfg = cfg.fit_config()?;
    let mut net = Network::init(cfg.name.clone(), cfg.input_spec()?, &specs, cfg.train.seed);
    let width = net.output_len();
    let y = targets(labels, td.classes.len(), width)?;
    let (ck_path, resume) = prepare_out(opts)?;
    let mut observer = RunObserver::new(opts, &net, resume.as_ref())?;
    let fit_opts = FitOptions { checkpoint: Some(ck_path), resume, observer: observer.as_dyn(), input_transform: None };
    let history = fit::fit(&mut net, TrainData { x: &ds.x, y: &y }, &fit_cfg, fit_opts)?;
    observer.finish()?;

    let model = text_model(&net, cfg, &td)?;
    let mut files = write_model(&model, &opts.out)?;
    let n_val = fit::validation_count(ds.len(), fit_cfg.validation_split);
    let eval = if n_val > 0 { ds.len() - n_val..ds.len() } else { 0..ds.len() };
    let d = ds.sample_len();
    let probs = net.predict(&ds.x[eval.start * d..eval.end * d]);
    let truth = &labels[eval.clone()];
    let report = ClassificationReport::new(truth, &ClassificationReport::predictions(&probs, width), &td.classes);
    let brier =
        probs.iter().zip(&y[eval.start * width..eval.end * width]).map(|(p, t)| ((p - t) as f64).powi(2)).sum::<f64>()
            / probs.len().max(1) as f64;
    files.extend(write_history(cfg, &history, &opts.out)?);
    let report_path = opts.out.join("report.md");
    let mut summary = TrainSummary {
        model,
        encoder: None,
        history,
        val_mse: brier,
        pca_mse: None,
        classification: Some(report),
        summary: Vec::new(),
        files,
        data: Some(RunData::new(&ds.x, d, ds.len() - n_val, eval.clone(), Truth::Labels(truth.to_vec()))),
    };
    crate::write_file(&report_path, markdown(cfg, &summary, ds.len(), n_val > 0).as_bytes())?;
    summary.files.push(report_path);
    Ok(summary)
}

fn markdown(cfg: &ModelConfig, s: &TrainSummary, n: usize, validation: bool) -> String {
    let mut r = String::new();
    let t = &cfg.train;
    let _ = writeln!(r, "# {}\n", cfg.name);
    let _ = writeln!(
        r,
        "- text classifier, {n} sequences of {:?} token ids, validation split {}",
        cfg.input_spec().map(|i| i.dims.elements()).unwrap_or(0),
        t.validation_split
    );
    r += &run_lines(t, &s.history);
    if let Some(c) = &s.classification {
        let on = if validation { "validation" } else { "training (no validation split)" };
        let _ = writeln!(r, "\n## Classification report on the {on} data\n\n```text\n{c}```");
    }
    let _ = writeln!(r, "\n## Files\n");
    for f in &s.files {
        let _ = writeln!(r, "- {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    }
    r
}
