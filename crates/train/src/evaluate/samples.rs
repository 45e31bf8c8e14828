//! Feature, image and time-series data of classifiers, regressors and
//! autoencoders, read by the loaders `ember train` uses for the `classify`,
//! `regress` and `autoencoder` tasks (`ember_data::load_class_folders`,
//! `load_labeled_csv`, `load_regression_csv`, `load_auto`): the data's class
//! names mapped onto the model's classes (the `classes` metadata), its
//! target columns found by the model's target names (the `targets`
//! metadata). A sample is the model's input values in row-major order; a
//! time series is `[steps, channels]`, time-major.

use std::path::Path;

use ember_data::{self as data, Dataset, Labeled};

use super::LoadedModel;
use super::inputs::{Columns, features, is_csv};
use crate::error::{Result, invalid};

/// Samples of a classifier or autoencoder, with the classes of a folder per
/// class (or of a labelled file) when the data has them.
pub(super) fn samples(lm: &LoadedModel, path: &Path, label: Option<&str>) -> Result<Labeled> {
    if path.is_dir() {
        let l = data::load_class_folders(path)?;
        super::inputs::check_samples(lm, path, &l.data, lm.input_len())?;
        return Ok(l);
    }
    let ds = features(lm, path, label, lm.input_len())?;
    let k = ds.labels.as_ref().and_then(|l| l.iter().max()).map_or(0, |&m| m as usize + 1);
    Ok(Labeled { data: ds, classes: (0..k).map(|i| i.to_string()).collect() })
}

/// The label column of CSV data: `--label-column`, else the model's
/// `label_column` metadata (the training config's `[columns] label`), else
/// `label` when the header has it, else the last column when the rows hold
/// one value more than the model takes; `None` when there is none.
pub(super) fn label_column(lm: &LoadedModel, path: &Path, cols: &Columns) -> Result<Option<String>> {
    if let Some(l) = &cols.label {
        return Ok(Some(l.clone()));
    }
    if let Some(l) = lm.model.meta("label_column") {
        return Ok(Some(l.to_string()));
    }
    let (header, ncols) = data::csv_columns(path)?;
    if header.as_ref().is_some_and(|h| h.iter().any(|c| c == "label")) {
        return Ok(Some("label".into()));
    }
    Ok((ncols == lm.input_len() + 1).then(|| "-1".into()))
}

/// A classifier's samples (features, images, time series) and labels as
/// the model's class indices: a folder per class, a CSV file with a label
/// column, an MNIST CSV, or IDX images with their labels file.
pub(super) fn labelled_features(
    lm: &LoadedModel,
    classes: &[String],
    path: &Path,
    cols: &Columns,
) -> Result<(Vec<f32>, Vec<u32>)> {
    let l = if path.is_dir() {
        samples(lm, path, None)?
    } else if is_csv(path) {
        // An MNIST CSV carries its labels (and pixels of 0-255, scaled).
        match data::load_auto(path) {
            Ok(ds) if ds.labels.is_some() && cols.label.is_none() => samples(lm, path, None)?,
            _ => match label_column(lm, path, cols)? {
                Some(col) => {
                    let l = data::load_labeled_csv(path, Some(&col))?;
                    super::inputs::check_samples(lm, path, &l.data, lm.input_len())?;
                    l
                }
                None => invalid!(
                    "{}: no label column (name it with --label-column, or give a column named \"label\")",
                    path.display()
                ),
            },
        }
    } else {
        samples(lm, path, None)?
    };
    let Some(labels) = &l.data.labels else {
        invalid!(
            "{}: no labels (give a folder per class, a CSV with a label column, an MNIST CSV, or IDX images with \
             their labels file)",
            path.display()
        );
    };
    let labels = to_model_classes(labels, &l.classes, classes)?;
    Ok((l.data.x, labels))
}

/// The data's labels (indices into `names`) as indices into the model's
/// `classes`: by name, else a name that is a number is the class index.
/// A class the model does not have is an error naming its first sample.
fn to_model_classes(labels: &[u32], names: &[String], classes: &[String]) -> Result<Vec<u32>> {
    let all = classes.join(", ");
    let mut map = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        let first = labels.iter().position(|&l| l as usize == k).map_or(0, |i| i + 1);
        let index = match (classes.iter().position(|c| c == name), name.parse::<usize>()) {
            (Some(i), _) => i,
            // A class of the data that no sample holds (a gap in integer labels).
            _ if first == 0 => 0,
            (None, Ok(i)) if i < classes.len() => i,
            (None, Ok(i)) => invalid!(
                "sample {first}: label {i} is outside the model's {} classes (0 to {}: {all})",
                classes.len(),
                classes.len() - 1
            ),
            (None, Err(_)) => invalid!("sample {first}: class {name:?} is not one of the model's classes ({all})"),
        };
        map.push(index as u32);
    }
    Ok(labels.iter().map(|&l| map[l as usize]).collect())
}

/// The model's target names (the `targets` metadata), if it names them.
pub(super) fn target_names(lm: &LoadedModel) -> Option<Vec<String>> {
    let names: Vec<String> = lm.model.meta("targets")?.split('\n').map(str::to_string).collect();
    (names.len() == lm.output_len()).then_some(names)
}

/// A regressor's inputs and, when the data has them, its targets, in the
/// model's units. CSV: the target columns of `--target-column`, else those
/// named by the model's `targets` metadata when the header has them all,
/// else the last columns when the rows hold the inputs and one value per
/// target. Other files (`.npy`, IDX): rows of the inputs followed by the
/// targets, or the inputs alone.
pub(super) fn regression_rows(lm: &LoadedModel, path: &Path, cols: &Columns) -> Result<(Dataset, Option<Vec<f32>>)> {
    let (in_len, out_len) = (lm.input_len(), lm.output_len());
    if !is_csv(path) {
        let ds = data::load_auto(path)?;
        if ds.sample_len() == in_len + out_len {
            let ds = features(lm, path, None, in_len + out_len)?;
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for row in ds.x.chunks(in_len + out_len) {
                x.extend_from_slice(&row[..in_len]);
                y.extend_from_slice(&row[in_len..]);
            }
            let x = Dataset::new(x, vec![in_len], None)?;
            super::inputs::check_samples(lm, path, &x, in_len)?;
            return Ok((x, Some(y)));
        }
        return Ok((features(lm, path, None, in_len)?, None));
    }
    let (header, ncols) = data::csv_columns(path)?;
    let names = if cols.targets.is_empty() {
        let meta = target_names(lm).filter(|n| header.as_ref().is_some_and(|h| n.iter().all(|t| h.contains(t))));
        match meta {
            Some(n) => n,
            None if ncols == in_len + out_len => (1..=out_len).rev().map(|k| format!("-{k}")).collect(),
            None => return Ok((features(lm, path, None, in_len)?, None)),
        }
    } else {
        cols.targets.clone()
    };
    if names.len() != out_len {
        invalid!("{} target column(s) named, but model {} has {out_len} output(s)", names.len(), lm.model.name);
    }
    let t = data::load_regression_csv(path, &names)?;
    super::inputs::check_samples(lm, path, &t.x, in_len)?;
    Ok((t.x, Some(t.y)))
}

/// A classifier's inputs for `predict` (labels, if any, left out): a folder
/// per class, a CSV of feature rows (with or without a label column, see
/// [`label_column`]), an MNIST CSV, `.npy` or IDX images.
pub(super) fn unlabelled_features(lm: &LoadedModel, path: &Path, cols: &Columns) -> Result<Dataset> {
    let in_len = lm.input_len();
    if path.is_dir() {
        return Ok(samples(lm, path, None)?.data);
    }
    if is_csv(path) {
        if cols.label.is_none()
            && let Ok(ds) = data::load_auto(path)
            && ds.sample_len() == in_len
        {
            return features(lm, path, None, in_len);
        }
        if let Some(col) = label_column(lm, path, cols)? {
            let l = data::load_labeled_csv(path, Some(&col))?;
            super::inputs::check_samples(lm, path, &l.data, in_len)?;
            return Ok(l.data);
        }
    }
    features(lm, path, None, in_len)
}
