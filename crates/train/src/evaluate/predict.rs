//! [`predict`]: a model's outputs for a file of inputs, as a readable CSV
//! table or as the raw outputs in `.npy`.

use std::io::Write as _;
use std::path::Path;

use ember_data::text;
use ember_nn::metrics::ClassificationReport;

use super::inputs::{Columns, exists, features};
use super::samples;
use super::tables::{EntityRows, entity_rows};
use super::texts::{contexts, read_texts};
use super::{ClassifierInput, LoadedModel, ModelKind, run_host};
use crate::error::{Result, TrainError, invalid};

/// Options of [`predict`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredictOptions {
    /// CSV columns: the text column of text models (default `text`); a
    /// label column to leave out of feature rows.
    pub columns: Columns,
    /// Autoencoders: the codes (the encoder's outputs) instead of the
    /// reconstructions.
    pub codes: bool,
    /// Word models: how many of the most probable next words the CSV lists.
    pub top_k: usize,
}

impl Default for PredictOptions {
    fn default() -> Self {
        PredictOptions { columns: Columns::default(), codes: false, top_k: 5 }
    }
}

/// The file format of predictions, from the output file's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// A CSV table with a header: readable classes, words, probabilities.
    Csv,
    /// The model's outputs (or codes) as a `<f4` array `[n, output dims...]`.
    Npy,
}

impl OutputFormat {
    /// `.csv` or `.npy` (any case).
    ///
    /// # Errors
    /// [`TrainError::Invalid`] for any other name.
    pub fn of(path: &Path) -> Result<Self> {
        match path.extension().map(|e| e.to_string_lossy().to_lowercase()).as_deref() {
            Some("csv") => Ok(OutputFormat::Csv),
            Some("npy") => Ok(OutputFormat::Npy),
            _ => invalid!("{}: predictions are written as .csv or .npy", path.display()),
        }
    }
}

/// Predictions for every input sample: a table and the raw outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// Column names of the table.
    pub header: Vec<String>,
    /// One row of cells per sample.
    pub rows: Vec<Vec<String>>,
    /// Shape of [`Self::values`]: `[n, output dims...]`.
    pub shape: Vec<usize>,
    /// The model's outputs (or codes), row-major.
    pub values: Vec<f32>,
}

impl Predictions {
    /// Samples predicted.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the table (`.csv`) or the outputs (`.npy`) to `path`,
    /// atomically: a failure leaves no file.
    ///
    /// # Errors
    /// [`TrainError::Invalid`] for another extension; [`TrainError::Io`].
    pub fn write(&self, path: &Path) -> Result<()> {
        match OutputFormat::of(path)? {
            OutputFormat::Npy => {
                ember_data::npy::write_npy(path, &self.shape, &self.values).map_err(ember_data::DataError::from)?;
                Ok(())
            }
            OutputFormat::Csv => ember_export::fsutil::write_atomic(path, |w| {
                writeln!(w, "{}", csv_line(&self.header))?;
                for r in &self.rows {
                    writeln!(w, "{}", csv_line(r))?;
                }
                Ok::<(), std::io::Error>(())
            })
            .map_err(|e| TrainError::io("write", path, e)),
        }
    }
}

/// One CSV record; fields holding a comma, quote or line break are quoted.
fn csv_line(cells: &[String]) -> String {
    let field = |c: &String| {
        if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() }
    };
    cells.iter().map(field).collect::<Vec<_>>().join(",")
}

/// The shortest text that reads back as the same `f32`.
fn num(v: f32) -> String {
    format!("{v}")
}

/// Predicts every sample of `path` with `lm` on the host runtime.
///
/// # Errors
/// As [`super::load_eval_data`] for the inputs (without truth); an unknown
/// word of a word model's context, or an unknown category of an entity
/// model, names its line and column.
pub fn predict(lm: &LoadedModel, path: &Path, opts: &PredictOptions) -> Result<Predictions> {
    exists(path)?;
    if opts.top_k == 0 {
        invalid!("top-k needs k of at least 1");
    }
    if opts.codes && !matches!(lm.kind, ModelKind::Autoencoder { .. }) {
        invalid!("codes are an autoencoder's; {} is a {}", lm.model.name, lm.kind.name());
    }
    let in_len = lm.input_len();
    match &lm.kind {
        ModelKind::Autoencoder { encoder_layers } if opts.codes => {
            let Some(k) = *encoder_layers else {
                invalid!("model {} names no encoder (no encoder_layers metadata)", lm.model.name);
            };
            let encoder = lm.model.sub_model(format!("{}_encoder", lm.model.name), 0..k)?;
            let ds = features(lm, path, opts.columns.label.as_deref(), in_len)?;
            let out = run_host(&encoder.to_blob()?, &ds.x)?;
            Ok(value_table(out, encoder.output().dims.as_slice(), "code"))
        }
        ModelKind::Autoencoder { .. } => {
            let ds = samples::samples(lm, path, opts.columns.label.as_deref())?.data;
            let dims = lm.model.output().dims;
            let out = lm.run(&ds.x)?;
            let errors = ember_nn::metrics::per_sample_mse(&out, &ds.x, in_len);
            let mut p = value_table(out, dims.as_slice(), "out");
            // An anomaly detector: each sample's error and flag.
            if let Some(t) = super::anomaly_threshold(&lm.model) {
                p.header.extend(["mse".into(), "anomaly".into()]);
                for (r, e) in p.rows.iter_mut().zip(errors) {
                    r.extend([format!("{e}"), u8::from(e > t).to_string()]);
                }
            }
            Ok(p)
        }
        ModelKind::Encoder => {
            let ds = features(lm, path, opts.columns.label.as_deref(), in_len)?;
            let dims = lm.model.output().dims;
            Ok(value_table(lm.run(&ds.x)?, dims.as_slice(), "out"))
        }
        ModelKind::Regressor => {
            let (ds, _) = samples::regression_rows(lm, path, &opts.columns)?;
            let dims = lm.model.output().dims;
            let mut p = value_table(lm.run(&ds.x)?, dims.as_slice(), "out");
            if let Some(names) = samples::target_names(lm) {
                p.header.truncate(1);
                p.header.extend(names);
            }
            Ok(p)
        }
        ModelKind::Classifier { input, classes } => {
            let (x, lines) = match input {
                ClassifierInput::Text { spec, vocab } => {
                    let (texts, lines) = read_texts(path, opts.columns.text.as_deref())?;
                    let ids = text::encode_texts(spec, vocab.as_deref(), &texts)?;
                    (ids.into_iter().map(|i| i as f32).collect(), Some(lines))
                }
                ClassifierInput::Ids => (features(lm, path, opts.columns.label.as_deref(), in_len)?.x, None),
                ClassifierInput::Features => (samples::unlabelled_features(lm, path, &opts.columns)?.x, None),
            };
            let out = lm.run(&x)?;
            Ok(class_table(lm, out, classes, lines))
        }
        ModelKind::Words { words, context } => {
            let (x, lines) = contexts(path, words, *context)?;
            let out = lm.run(&x)?;
            Ok(word_table(out, &x, words, *context, &lines, opts.top_k))
        }
        ModelKind::Entity { names, target, columns } => {
            let EntityRows { x, places, .. } = entity_rows(lm, path, false)?;
            let out = lm.run(&x)?;
            let mut header: Vec<String> = vec!["sample".into(), "row".into()];
            header.extend(columns.iter().map(|c| c.name.clone()));
            header.push(target.clone());
            let k = columns.len();
            let rows = x
                .chunks(k)
                .zip(&out)
                .enumerate()
                .map(|(i, (ids, &p))| {
                    let mut r = vec![(i + 1).to_string(), places[i].clone()];
                    r.extend(ids.iter().map(|&id| names[id as usize].clone()));
                    r.push(num(p));
                    r
                })
                .collect();
            Ok(Predictions { header, rows, shape: vec![out.len(), 1], values: out })
        }
    }
}

/// Outputs as numbered columns `{prefix}_0`, `{prefix}_1`, ...
fn value_table(out: Vec<f32>, dims: &[u32], prefix: &str) -> Predictions {
    let width: usize = dims.iter().map(|&d| d as usize).product::<usize>().max(1);
    let mut header = vec!["sample".to_string()];
    header.extend((0..width).map(|j| format!("{prefix}_{j}")));
    let rows = out
        .chunks(width)
        .enumerate()
        .map(|(i, o)| std::iter::once((i + 1).to_string()).chain(o.iter().map(|&v| num(v))).collect())
        .collect();
    let mut shape = vec![out.len() / width];
    shape.extend(dims.iter().map(|&d| d as usize));
    Predictions { header, rows, shape, values: out }
}

/// Class id, class name (when the model names its classes) and one
/// probability per class.
fn class_table(lm: &LoadedModel, out: Vec<f32>, classes: &[String], lines: Option<Vec<u64>>) -> Predictions {
    let width = lm.output_len();
    let named = lm.model.meta("classes").is_some();
    let mut header = vec!["sample".to_string()];
    if lines.is_some() {
        header.push("line".into());
    }
    header.push("class".into());
    if named {
        header.push("class_name".into());
    }
    header.extend(classes.iter().map(|c| format!("p_{c}")));
    let predicted = ClassificationReport::predictions(&out, width);
    let rows = out
        .chunks(width)
        .zip(&predicted)
        .enumerate()
        .map(|(i, (o, &k))| {
            let mut r = vec![(i + 1).to_string()];
            if let Some(l) = &lines {
                r.push(l[i].to_string());
            }
            r.push(k.to_string());
            if named {
                r.push(classes[k as usize].clone());
            }
            if width == 1 {
                r.extend([num(1.0 - o[0]), num(o[0])]);
            } else {
                r.extend(o.iter().map(|&v| num(v)));
            }
            r
        })
        .collect();
    let n = predicted.len();
    Predictions { header, rows, shape: vec![n, width], values: out }
}

/// The context and the `k` most probable next words with their probabilities.
fn word_table(out: Vec<f32>, x: &[f32], vocab: &[String], context: usize, lines: &[u64], k: usize) -> Predictions {
    let width = vocab.len();
    let k = k.min(width);
    let mut header = vec!["sample".to_string(), "line".into(), "context".into()];
    for j in 1..=k {
        header.extend([format!("next_{j}"), format!("p_{j}")]);
    }
    let rows = out
        .chunks(width)
        .zip(x.chunks(context))
        .enumerate()
        .map(|(i, (p, ctx))| {
            let ctx: Vec<&str> = ctx.iter().map(|&id| vocab[id as usize].as_str()).collect();
            let mut order: Vec<usize> = (0..width).collect();
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
            let mut r = vec![(i + 1).to_string(), lines[i].to_string(), ctx.join(" ")];
            for &w in &order[..k] {
                r.extend([vocab[w].clone(), num(p[w])]);
            }
            r
        })
        .collect();
    let n = out.len() / width.max(1);
    Predictions { header, rows, shape: vec![n, width], values: out }
}
