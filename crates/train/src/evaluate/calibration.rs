//! [`model_inputs`]: the input samples of a data file for a trained model,
//! without their truth (the calibration data of `ember quantize`).

use std::path::Path;

use ember_data::text;

use super::inputs::{Columns, EvalData, exists, features, load_eval_data};
use super::samples;
use super::tables::{EntityRows, entity_rows};
use super::texts::{contexts, read_texts};
use super::{ClassifierInput, LoadedModel, ModelKind};
use crate::error::Result;

/// The inputs held by `path`, as the model takes them (`[n, input
/// elements]`, token ids and table rows as `f32`): first read as held-out
/// data in any format `ember train` and `ember evaluate` read for the
/// model's task (with labels or targets, which are dropped), else as
/// `ember predict` reads inputs alone (feature rows, `.npy`, CSV, IDX, a
/// folder per class; texts one per line or in a CSV column; word contexts;
/// table rows by category names).
///
/// # Errors
/// The `ember predict` reader's error when neither reading works (a missing
/// file, samples of the wrong size, a NaN, an unknown word or category).
pub fn model_inputs(lm: &LoadedModel, path: &Path, cols: &Columns) -> Result<Vec<f32>> {
    exists(path)?;
    if let Ok(d) = load_eval_data(lm, path, cols) {
        return Ok(match d {
            EvalData::Values { x, .. }
            | EvalData::Labelled { x, .. }
            | EvalData::Windows { x, .. }
            | EvalData::Records { x, .. } => x,
        });
    }
    let label = cols.label.as_deref();
    Ok(match &lm.kind {
        ModelKind::Autoencoder { .. } => samples::samples(lm, path, label)?.data.x,
        ModelKind::Encoder => features(lm, path, label, lm.input_len())?.x,
        ModelKind::Regressor => samples::regression_rows(lm, path, cols)?.0.x,
        ModelKind::Classifier { input: ClassifierInput::Text { spec, vocab }, .. } => {
            let (texts, _) = read_texts(path, cols.text.as_deref())?;
            text::encode_texts(spec, vocab.as_deref(), &texts)?.into_iter().map(|i| i as f32).collect()
        }
        ModelKind::Classifier { input: ClassifierInput::Ids, .. } => features(lm, path, label, lm.input_len())?.x,
        ModelKind::Classifier { input: ClassifierInput::Features, .. } => {
            samples::unlabelled_features(lm, path, cols)?.x
        }
        ModelKind::Words { words, context } => contexts(path, words, *context)?.0,
        ModelKind::Entity { .. } => {
            let EntityRows { x, .. } = entity_rows(lm, path, false)?;
            x
        }
    })
}
