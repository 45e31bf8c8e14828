//! Training regressors (`task = "regress"`): one or more numeric targets
//! predicted from features, images or time series with MSE, MAE or Huber.
//!
//! # Target scale
//!
//! The targets are standardised with the mean and standard deviation of the
//! training rows (the validation tail left out), and the network, whose last
//! layer is a linear `Dense` with one unit per target, learns them in those
//! units. After training the scale is folded back into that layer
//! ([`super::scale::fold_output_scale`]), so the exported model predicts the
//! targets in their own units on every backend. Huber's `delta = 1` is then
//! one standard deviation of the target.
//!
//! # Report
//!
//! MSE and MAE in the targets' units on the validation data, beside the MSE
//! and MAE of predicting the training mean (for MSE, the variance).

use crate::runlog::RunObserver;
use std::fmt::Write as _;

use ember_export::Model;
use ember_nn::fit::{self, FitOptions, TrainData};
use ember_nn::metrics;
use ember_nn::network::Network;

use crate::config::ModelConfig;
use crate::error::{Result, invalid};
use crate::output::{RunData, TrainOptions, TrainSummary, Truth, prepare_out, run_lines, write_history, write_model};
use crate::tasks::{features, scale};

/// The trained model with its target names.
fn target_model(net: &Network, cfg: &ModelConfig, names: &[String]) -> Result<Model> {
    let mut model = net.to_model()?;
    model.set_meta("producer", crate::PRODUCER);
    model.set_meta("task", "regress");
    model.set_meta("loss", cfg.train.loss.clone());
    model.set_meta("targets", names.join("\n"));
    model.validate()?;
    Ok(model)
}

/// Trains a regressor of `cfg` and writes the model, plots and report into `opts.out`.
pub fn train(cfg: &ModelConfig, opts: &TrainOptions) -> Result<TrainSummary> {
    let t = features::load_targets(cfg, opts.data.as_deref())?;
    let specs = cfg.layer_specs()?;
    let fit_cfg = cfg.fit_config()?;
    if !matches!(fit_cfg.loss, ember_nn::loss::Loss::Mse | ember_nn::loss::Loss::Mae | ember_nn::loss::Loss::Huber) {
        invalid!("a regressor is trained with loss = \"mse\", \"mae\" or \"huber\", not {:?}", cfg.train.loss);
    }
    let mut net = Network::init(cfg.name.clone(), cfg.input_spec()?, &specs, cfg.train.seed);
    let width = t.names.len();
    if net.output_len() != width {
        invalid!("the data has {width} target(s) but the last layer has {} units", net.output_len());
    }
    let n = t.x.len();
    let n_val = fit::validation_count(n, fit_cfg.validation_split);
    let n_train = n - n_val;
    let (shift, sd) = scale::column_stats(&t.y[..n_train * width], width);
    let y = scale::standardise(&t.y, &shift, &sd);

    let (ck_path, resume) = prepare_out(opts)?;
    let mut observer = RunObserver::new(opts, &net, resume.as_ref())?;
    let fit_opts = FitOptions { checkpoint: Some(ck_path), resume, observer: observer.as_dyn(), input_transform: None };
    let history = fit::fit(&mut net, TrainData { x: &t.x.x, y: &y }, &fit_cfg, fit_opts)?;
    observer.finish()?;
    scale::fold_output_scale(&mut net, &sd, &shift);

    let model = target_model(&net, cfg, &t.names)?;
    let mut files = write_model(&model, &opts.out)?;
    files.extend(write_history(cfg, &history, &opts.out)?);
    let eval = if n_val > 0 { n_train..n } else { 0..n };
    let d = t.x.sample_len();
    let pred = net.predict(&t.x.x[eval.start * d..eval.end * d]);
    let truth = &t.y[eval.start * width..eval.end * width];
    let (mse, mae) = (metrics::mse(&pred, truth), metrics::mae(&pred, truth));
    let mean_pred: Vec<f32> = (0..truth.len()).map(|i| shift[i % width] as f32).collect();
    let (base_mse, base_mae) = (metrics::mse(&mean_pred, truth), metrics::mae(&mean_pred, truth));
    let on = if n_val > 0 { "validation" } else { "training" };
    let lines = vec![
        format!("{on} MSE {mse:.6}, MAE {mae:.6} ({} samples)", eval.len()),
        format!("baseline, the training mean: MSE {base_mse:.6}, MAE {base_mae:.6}"),
    ];
    let mut r = String::new();
    let _ = writeln!(r, "# {}\n", cfg.name);
    let _ = writeln!(
        r,
        "- regressor of {} from {n} samples of shape {:?}, validation split {}",
        t.names.join(", "),
        t.x.dims,
        cfg.train.validation_split
    );
    let stats: Vec<String> =
        t.names.iter().zip(shift.iter().zip(&sd)).map(|(n, (m, s))| format!("{n}: mean {m:.6}, sd {s:.6}")).collect();
    let _ =
        writeln!(r, "- targets standardised for training ({}), the scale folded into the last layer", stats.join("; "));
    r += &run_lines(&cfg.train, &history);
    let _ = writeln!(r, "\n## Errors on the {on} data (targets' units)\n");
    let _ = writeln!(r, "| model | MSE | MAE |\n|---|---|---|");
    let _ = writeln!(r, "| {} | {mse:.6} | {mae:.6} |", cfg.name);
    let _ = writeln!(r, "| the training mean | {base_mse:.6} | {base_mae:.6} |");
    let report_path = opts.out.join("report.md");
    files.push(report_path.clone());
    let _ = writeln!(r, "\n## Files\n");
    for f in &files {
        let _ = writeln!(r, "- {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    }
    crate::write_file(&report_path, r.as_bytes())?;
    Ok(TrainSummary {
        model,
        encoder: None,
        history,
        val_mse: mse,
        pca_mse: None,
        classification: None,
        summary: lines,
        files,
        data: Some(RunData::new(&t.x.x, d, n_train, eval, Truth::Values(truth.to_vec()))),
    })
}
