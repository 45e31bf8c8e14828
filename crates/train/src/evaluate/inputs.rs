//! Reading data for a trained model: held-out data with its truth for
//! [`super::evaluate`], inputs alone for [`super::predict`]. Every format is
//! read by the `ember-data` loader `ember train` uses for the task, then
//! mapped onto the model's own tokenizer, words and categories.

use std::collections::HashMap;
use std::path::Path;

use ember_data::text::{self, ImdbOptions, TextData};
use ember_data::{self as data, Dataset};

use super::samples;
use super::tables::{EntityRows, entity_rows};
use super::{ClassifierInput, LoadedModel, ModelKind};
use crate::error::{Result, TrainError, invalid};

/// Where to find the columns of CSV data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// Text models: the text column (default `text`).
    pub text: Option<String>,
    /// Classifiers: the label column, a name or a 0-based index (negative
    /// from the end). Default: `label` for text; for numbers the labels of
    /// an MNIST CSV, else the model's `label_column` metadata, else the
    /// column named `label`, else the last column when the rows hold one
    /// value more than the model takes.
    pub label: Option<String>,
    /// Regressors: the target columns, names or 0-based indices. Default:
    /// the model's target names (its `targets` metadata) when the header
    /// has them, else the last columns.
    pub targets: Vec<String>,
}

/// Held-out data with its truth, as the model takes it.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalData {
    /// Inputs and the outputs expected of them (an autoencoder's inputs
    /// themselves, a regressor's targets), `[n, in]` and `[n, out]`.
    Values {
        /// Inputs.
        x: Vec<f32>,
        /// Expected outputs.
        y: Vec<f32>,
        /// Autoencoders on a folder per class: each sample's class and the
        /// class names (an anomaly detector's flags are counted per class).
        groups: Option<(Vec<u32>, Vec<String>)>,
    },
    /// Inputs and class labels.
    Labelled {
        /// Inputs, `[n, in]`.
        x: Vec<f32>,
        /// One class index per sample.
        labels: Vec<u32>,
    },
    /// Word windows: context ids and the id of the next word.
    Windows {
        /// Context ids as `f32`, `[n, context]`.
        x: Vec<f32>,
        /// The next word of each window.
        next: Vec<u32>,
        /// Windows left out because a word is not in the model's vocabulary.
        dropped: usize,
    },
    /// Entity records: their table rows and targets.
    Records {
        /// Global table rows as `f32`, `[n, columns]`.
        x: Vec<f32>,
        /// The target of each record.
        target: Vec<f32>,
        /// Records left out because their target is missing.
        skipped: usize,
    },
}

/// Loads the held-out data at `path` for `lm`, with its truth.
///
/// # Errors
/// The loader's error for an unreadable or malformed file; [`TrainError::Invalid`]
/// for data that does not fit the model (size, NaN, range, an unknown
/// category, no labels), naming the sample, row or column.
pub fn load_eval_data(lm: &LoadedModel, path: &Path, cols: &Columns) -> Result<EvalData> {
    exists(path)?;
    let (in_len, out_len) = (lm.input_len(), lm.output_len());
    Ok(match &lm.kind {
        ModelKind::Autoencoder { .. } => {
            let l = samples::samples(lm, path, None)?;
            let groups = if path.is_dir() { l.data.labels.clone().map(|g| (g, l.classes.clone())) } else { None };
            EvalData::Values { y: l.data.x.clone(), x: l.data.x, groups }
        }
        ModelKind::Encoder => invalid!(
            "{} is an encoder alone: there is nothing to compare its codes with; evaluate the whole autoencoder, \
             or use `ember predict` for the codes",
            lm.model.name
        ),
        ModelKind::Regressor => {
            let (x, y) = samples::regression_rows(lm, path, cols)?;
            let Some(y) = y else {
                let names = samples::target_names(lm).map_or(String::new(), |n| format!(" ({})", n.join(", ")));
                invalid!(
                    "{}: no targets: give the model's {in_len} input value(s) and {out_len} target(s){names} per row, \
                     or name the target columns with --target-column",
                    path.display()
                );
            };
            EvalData::Values { x: x.x, y, groups: None }
        }
        ModelKind::Classifier { input, classes } => {
            let (x, labels) = labelled(lm, input, classes, path, cols)?;
            if let Some(i) = labels.iter().position(|&l| l as usize >= classes.len()) {
                invalid!("sample {}: label {} is not below the model's {} classes", i + 1, labels[i], classes.len());
            }
            EvalData::Labelled { x, labels }
        }
        ModelKind::Words { words, context } => windows(words, *context, path)?,
        ModelKind::Entity { .. } => {
            let EntityRows { x, target, read, .. } = entity_rows(lm, path, true)?;
            let skipped = read - target.len();
            if target.is_empty() {
                invalid!("{}: no record has a value for the target", path.display());
            }
            EvalData::Records { x, target, skipped }
        }
    })
}

/// An error naming a missing file or folder.
pub(super) fn exists(path: &Path) -> Result<()> {
    if !path.exists() {
        invalid!("{}: no such file or folder", path.display());
    }
    Ok(())
}

/// A CSV file by its name.
pub(super) fn is_csv(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

/// Feature rows (IDX, `.npy`, CSV) of `want` values each, checked against
/// the model's input (finite, in its range).
pub(super) fn features(lm: &LoadedModel, path: &Path, label: Option<&str>, want: usize) -> Result<Dataset> {
    let ds = match label {
        Some(col) if is_csv(path) => data::load_csv(path, Some(col))?,
        _ => data::load_auto(path)?,
    };
    check_samples(lm, path, &ds, want)?;
    Ok(ds)
}

/// Samples of `want` values each (the data's sample shape named when they
/// are not), at least one, checked against the model's input (finite, in
/// its range) when `want` is the input's size, else finite.
pub(super) fn check_samples(lm: &LoadedModel, path: &Path, ds: &Dataset, want: usize) -> Result<()> {
    if ds.sample_len() != want {
        invalid!(
            "{}: {} values per sample (samples of shape {:?}), but model {} takes {want} (input {:?})",
            path.display(),
            ds.sample_len(),
            ds.dims,
            lm.model.name,
            lm.model.input.dims.as_slice()
        );
    }
    if ds.is_empty() {
        invalid!("{}: no samples", path.display());
    }
    if want == lm.input_len() {
        check_values(lm, &ds.x, want)?;
    } else if let Some(i) = ds.x.iter().position(|v| !v.is_finite()) {
        invalid!("sample {} value {} is {}: the data holds a NaN or infinite value", i / want + 1, i % want, ds.x[i]);
    }
    Ok(())
}

/// Finite, and inside the model's declared input range.
fn check_values(lm: &LoadedModel, x: &[f32], per: usize) -> Result<()> {
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        invalid!("sample {} value {} is {}: the data holds a NaN or infinite value", i / per + 1, i % per, x[i]);
    }
    if let Some([lo, hi]) = lm.model.input.range
        && let Some(i) = x.iter().position(|v| *v < lo || *v > hi)
    {
        invalid!(
            "sample {} value {} is {}, outside the range [{lo}, {hi}] that model {} declares (scale pixels to [0, 1])",
            i / per + 1,
            i % per,
            x[i],
            lm.model.name
        );
    }
    Ok(())
}

/// The data to imitate when tokenizing: the model's tokenizer, words and classes.
fn like(
    spec: &ember_runtime::spec::TokenizerSpec,
    vocab: &Option<Vec<String>>,
    classes: &[String],
) -> Result<TextData> {
    let data = Dataset::new(Vec::new(), vec![spec.max_len as usize], Some(Vec::new()))?;
    Ok(TextData { data, tokenizer: *spec, vocab: vocab.clone(), classes: classes.to_vec() })
}

/// A classifier's inputs and labels.
fn labelled(
    lm: &LoadedModel,
    input: &ClassifierInput,
    classes: &[String],
    path: &Path,
    cols: &Columns,
) -> Result<(Vec<f32>, Vec<u32>)> {
    let in_len = lm.input_len();
    let labels_of = |td: TextData| -> Result<(Vec<f32>, Vec<u32>)> {
        let labels = td.data.labels.clone().ok_or_else(|| TrainError::invalid("text data without labels"))?;
        Ok((td.data.x, labels))
    };
    match input {
        ClassifierInput::Text { spec, vocab } => {
            let td = if path.is_dir() {
                text::load_acl_imdb_split(path, "test", spec, vocab.clone())?
            } else if is_csv(path) {
                let (t, l) = (cols.text.as_deref().unwrap_or("text"), cols.label.as_deref().unwrap_or("label"));
                text::load_text_csv_like(path, t, l, &like(spec, vocab, classes)?)?
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz")) {
                text::load_imdb_npz(path, spec, &ImdbOptions::default())?.1
            } else {
                invalid!("{}: a text classifier reads an aclImdb folder, a Keras IMDB .npz or a .csv", path.display())
            };
            labels_of(td)
        }
        ClassifierInput::Ids => {
            let vocab = lm.model.layers.first().and_then(|l| l.id_table()).map_or(0, |t| t.rows);
            let spec = text::keras_imdb_spec(vocab, in_len as u32);
            labels_of(text::load_imdb_npz(path, &spec, &ImdbOptions::default())?.1)
        }
        ClassifierInput::Features => samples::labelled_features(lm, classes, path, cols),
    }
}

/// Word windows of a held-out corpus (text, `.npy`, `.npz`, `.mat`), in
/// the model's ids: the test windows when the file has them, else all.
fn windows(words: &[String], context: usize, path: &Path) -> Result<EvalData> {
    let n = context + 1;
    let d = text::load_ngrams(path, text::MAX_VOCAB as usize, n)?;
    if d.n != n {
        invalid!(
            "{}: windows of {} words, but the model takes {context} words of context plus the next",
            path.display(),
            d.n
        );
    }
    // Arrays without words (`.npy`, `.npz` without `vocab`) hold the
    // model's ids; words are looked up by name.
    let numbered = d.words.iter().enumerate().all(|(i, w)| *w == i.to_string());
    let ids: HashMap<&str, u32> = words.iter().enumerate().map(|(i, w)| (w.as_str(), i as u32)).collect();
    let map: Vec<Option<u32>> = if numbered {
        if d.words.len() > words.len() {
            invalid!("{}: id {} is not below the model's {} words", path.display(), d.words.len() - 1, words.len());
        }
        (0..d.words.len() as u32).map(Some).collect()
    } else {
        d.words.iter().map(|w| ids.get(w.as_str()).copied()).collect()
    };
    let all: Vec<u32> =
        if d.test.is_empty() { [&d.train[..], &d.valid[..], &d.test[..]].concat() } else { d.test.clone() };
    let (mut x, mut next, mut dropped) = (Vec::new(), Vec::new(), 0);
    for w in all.chunks_exact(n) {
        let mapped: Option<Vec<u32>> = w.iter().map(|&i| map.get(i as usize).copied().flatten()).collect();
        match mapped {
            Some(m) => {
                x.extend(m[..context].iter().map(|&i| i as f32));
                next.push(m[context]);
            }
            None => dropped += 1,
        }
    }
    if next.is_empty() {
        invalid!("{}: none of its {dropped} windows has only words the model knows", path.display());
    }
    Ok(EvalData::Windows { x, next, dropped })
}
