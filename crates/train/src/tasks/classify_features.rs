//! Training classifiers of feature vectors, images and time series (`task =
//! "classify"` without a `[text]` section): labelled data from
//! [`super::features`], integer labels trained with sparse categorical
//! cross-entropy against a softmax (no one-hot rows), one-hot rows with
//! `cce`, or 0/1 targets for one sigmoid unit with `bce`; the
//! classification report on the validation data; class names kept in the
//! model's `classes` metadata.

use crate::runlog::RunObserver;
use std::fmt::Write as _;

use ember_export::Model;
use ember_nn::fit::{self, FitOptions, TrainData};
use ember_nn::loss::Loss;
use ember_nn::metrics::ClassificationReport;
use ember_nn::network::Network;

use crate::config::ModelConfig;
use crate::error::{Result, TrainError, invalid};
use crate::output::{RunData, TrainOptions, TrainSummary, Truth, prepare_out, run_lines, write_history, write_model};
use crate::tasks::features;

/// Training targets for a network of `width` outputs trained with `loss`:
/// the labels themselves (one sigmoid unit with `bce`, or class indices
/// with `sparse_cce`) or one-hot rows (`cce`). A label the output cannot
/// represent is an error naming its sample and class.
pub(crate) fn targets(labels: &[u32], classes: &[String], width: usize, loss: Loss) -> Result<Vec<f32>> {
    features::check_labels(labels, classes, width)?;
    Ok(match (width, loss) {
        (1, Loss::Bce) | (2.., Loss::SparseCce) => labels.iter().map(|&l| l as f32).collect(),
        (2.., Loss::Cce) => {
            let mut y = vec![0.0; labels.len() * width];
            for (row, &l) in y.chunks_mut(width).zip(labels) {
                row[l as usize] = 1.0;
            }
            y
        }
        (1, _) => invalid!("a classifier with one sigmoid unit is trained with loss = \"bce\""),
        _ => invalid!("a classifier with {width} outputs is trained with loss = \"sparse_cce\" (or \"cce\")"),
    })
}

/// Mean squared error of the predicted probabilities against the one-hot
/// rows of `labels` (the Brier score; 0/1 targets for one unit).
fn brier(probs: &[f32], labels: &[u32], width: usize) -> f64 {
    let mut sum = 0.0;
    for (p, &l) in probs.chunks(width).zip(labels) {
        for (j, &v) in p.iter().enumerate() {
            let t = if width == 1 { l as f64 } else { f64::from(u8::from(j == l as usize)) };
            sum += (v as f64 - t).powi(2);
        }
    }
    sum / probs.len().max(1) as f64
}

/// The trained model with its class names.
fn class_model(net: &Network, cfg: &ModelConfig, classes: &[String]) -> Result<Model> {
    let mut model = net.to_model()?;
    model.set_meta("producer", crate::PRODUCER);
    model.set_meta("task", "classify");
    model.set_meta("loss", cfg.train.loss.clone());
    model.set_meta("classes", classes.join("\n"));
    if let Some(label) = cfg.columns.as_ref().and_then(|c| c.label.as_deref()) {
        model.set_meta("label_column", label);
    }
    model.validate()?;
    Ok(model)
}

/// Trains a classifier of features, images or time series and writes the
/// model, plots and report into `opts.out`.
pub fn train(cfg: &ModelConfig, opts: &TrainOptions) -> Result<TrainSummary> {
    let specs = cfg.layer_specs()?;
    let fit_cfg = cfg.fit_config()?;
    let mut net = Network::init(cfg.name.clone(), cfg.input_spec()?, &specs, cfg.train.seed);
    let width = net.output_len();
    let l = features::load_labeled(cfg, opts.data.as_deref(), width)?;
    let ds = &l.data;
    let labels = ds.labels.as_deref().ok_or_else(|| TrainError::invalid("the data has no labels"))?;
    let y = targets(labels, &l.classes, width, fit_cfg.loss)?;
    // Classes the data does not hold (a class folder missing) keep their index as name.
    let mut classes = l.classes.clone();
    for k in classes.len()..width.max(2) {
        classes.push(k.to_string());
    }
    let (ck_path, resume) = prepare_out(opts)?;
    let mut observer = RunObserver::new(opts, &net, resume.as_ref())?;
    let fit_opts = FitOptions { checkpoint: Some(ck_path), resume, observer: observer.as_dyn(), input_transform: None };
    let history = fit::fit(&mut net, TrainData { x: &ds.x, y: &y }, &fit_cfg, fit_opts)?;
    observer.finish()?;

    let model = class_model(&net, cfg, &classes)?;
    let mut files = write_model(&model, &opts.out)?;
    let n_val = fit::validation_count(ds.len(), fit_cfg.validation_split);
    let eval = if n_val > 0 { ds.len() - n_val..ds.len() } else { 0..ds.len() };
    let d = ds.sample_len();
    let probs = net.predict(&ds.x[eval.start * d..eval.end * d]);
    let truth = &labels[eval.clone()];
    let report = ClassificationReport::new(truth, &ClassificationReport::predictions(&probs, width), &classes);
    let val_mse = brier(&probs, truth, width);
    files.extend(write_history(cfg, &history, &opts.out)?);
    let on = if n_val > 0 { "validation" } else { "training (no validation split)" };
    let lines = vec![format!("{on} accuracy {:.4} on {} samples", report.accuracy, report.samples)];
    let mut summary = TrainSummary {
        model,
        encoder: None,
        history,
        val_mse,
        pca_mse: None,
        classification: Some(report),
        summary: lines,
        files,
        data: Some(RunData::new(&ds.x, d, ds.len() - n_val, eval.clone(), Truth::Labels(truth.to_vec()))),
    };
    let report_path = opts.out.join("report.md");
    crate::write_file(&report_path, markdown(cfg, &summary, ds, on).as_bytes())?;
    summary.files.push(report_path);
    Ok(summary)
}

fn markdown(cfg: &ModelConfig, s: &TrainSummary, ds: &ember_data::Dataset, on: &str) -> String {
    let mut r = String::new();
    let t = &cfg.train;
    let _ = writeln!(r, "# {}\n", cfg.name);
    let _ = writeln!(
        r,
        "- classifier, {} samples of shape {:?}, {} classes, validation split {}",
        ds.len(),
        ds.dims,
        s.classification.as_ref().map_or(0, |c| c.classes.len()),
        t.validation_split
    );
    r += &run_lines(t, &s.history);
    let _ = writeln!(r, "- Brier score (MSE of the probabilities) on the {on} data: {:.6}", s.val_mse);
    if let Some(c) = &s.classification {
        let _ = writeln!(r, "\n## Classification report on the {on} data\n\n```text\n{c}```");
    }
    let _ = writeln!(r, "\n## Files\n");
    for f in &s.files {
        let _ = writeln!(r, "- {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    }
    r
}
