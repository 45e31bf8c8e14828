//! Training entity embeddings of categorical table columns (`task =
//! "entity"`): a numeric target predicted from the pairwise dot products of
//! the columns' batch-normalised embeddings plus one bias per category.
//!
//! # Target scale
//!
//! Targets come in their own units (grams, prices). Training divides them by
//! their standard deviation `s` on the training records, and starts the last
//! `Dense(1, relu)` at weight 1 and bias `mean / s`, so that the untrained
//! model predicts the mean. After training the scale is folded back into
//! that Dense (weight and bias times `s`): every backend then predicts in
//! the target's units, and ReLU still clips at a real zero. Dividing by `s`
//! without centring keeps that zero where it is.
//!
//! # Report
//!
//! Records are shuffled once (fixed seed) and `entity.test_split` of them
//! held out; the report gives the test MAE beside two baselines fitted on
//! the training records: their mean, and the per-category mean of the best
//! single column.

use std::fmt::Write as _;
use std::path::Path;

use ember_export::{Asset, Model};
use ember_runtime::search::COLUMNS_TENSOR;
use ember_runtime::text::VOCAB_TENSOR;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::config::{EntityConfig, ModelConfig};
use crate::embed;
use crate::error::{Result, TrainError, bad_config, invalid};
use crate::output::{TrainOptions, TrainSummary, prepare_out, run_lines, write_history, write_model};
use crate::runlog::RunObserver;
use ember_data::{self as data, CategoryTable};
use ember_nn::fit::{self, FitOptions, TrainData};
use ember_nn::network::Network;

/// Records of the generated table used when a model names `synthetic-penguins`.
pub const SYNTHETIC_RECORDS: usize = 344;
/// Seed of the generated table.
pub const SYNTHETIC_SEED: u64 = 11;
/// Seed of the shuffle that picks the test records.
pub const TEST_SHUFFLE_SEED: u64 = 2024;

/// Loads the table a config names (or `path`): `synthetic-penguins`, or a CSV or JSON file.
pub fn load_entity_table(cfg: &ModelConfig, path: Option<&Path>) -> Result<CategoryTable> {
    let e = entity_config(cfg)?;
    let table = match (path, cfg.data.as_deref()) {
        (Some(p), _) => data::load_table(p, &e.columns, &e.target)?,
        (None, Some("synthetic-penguins")) => {
            let t = data::synthetic_table(SYNTHETIC_RECORDS, SYNTHETIC_SEED);
            select_columns(t, &e.columns, &e.target)?
        }
        (None, Some(other)) => data::load_table(Path::new(other), &e.columns, &e.target)?,
        (None, None) => invalid!("model {} names no default data: pass --data PATH", cfg.name),
    };
    if table.target.len() < 2 {
        invalid!("the table holds {} usable records; at least 2 are needed", table.target.len());
    }
    Ok(table)
}

fn entity_config(cfg: &ModelConfig) -> Result<&EntityConfig> {
    let e = cfg.entity.as_ref().ok_or_else(|| TrainError::config("an entity model needs an [entity] section"))?;
    if e.columns.is_empty() || e.target.is_empty() {
        bad_config!("an entity model needs entity.columns (at least one) and entity.target");
    }
    if !(0.0..1.0).contains(&e.test_split) {
        bad_config!("entity.test_split must be in [0, 1), got {}", e.test_split);
    }
    Ok(e)
}

/// The generated table restricted to (and ordered as) the configured columns.
fn select_columns(mut t: CategoryTable, columns: &[String], target: &str) -> Result<CategoryTable> {
    if t.target_name != target {
        invalid!("the generated table's target is {:?}, not {target:?}", t.target_name);
    }
    let mut picked = Vec::new();
    for name in columns {
        let i = t.columns.iter().position(|c| &c.name == name).ok_or_else(|| {
            TrainError::invalid({
                let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                format!("the generated table has no column {name:?} (columns: {})", names.join(", "))
            })
        })?;
        picked.push(t.columns[i].clone());
    }
    t.columns = picked;
    Ok(t)
}

/// `v` with 5 significant digits, whatever its scale (tonnes or milligrams).
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (4 - v.abs().log10().floor() as i32).clamp(0, 15) as usize;
    format!("{v:.decimals$}")
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

fn mae(pred: impl Iterator<Item = f64>, truth: impl Iterator<Item = f64>) -> f64 {
    mean(pred.zip(truth).map(|(p, t)| (p - t).abs()))
}

/// Test MAE of the training mean, and of the best single column's
/// per-category training means (`(column name, MAE)`).
fn baselines(table: &CategoryTable, train: &[usize], test: &[usize]) -> (f64, Option<(String, f64)>) {
    let y = |r: usize| table.target[r] as f64;
    let overall = mean(train.iter().map(|&r| y(r)));
    let constant = mae(test.iter().map(|_| overall), test.iter().map(|&r| y(r)));
    let best = table
        .columns
        .iter()
        .map(|c| {
            let mut sum = vec![(0.0f64, 0usize); c.categories.len()];
            for &r in train {
                let s = &mut sum[c.ids[r] as usize];
                *s = (s.0 + y(r), s.1 + 1);
            }
            let by_cat: Vec<f64> = sum.iter().map(|&(s, n)| if n > 0 { s / n as f64 } else { overall }).collect();
            let err = mae(test.iter().map(|&r| by_cat[c.ids[r] as usize]), test.iter().map(|&r| y(r)));
            (c.name.clone(), err)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1));
    (constant, best)
}

/// The trained model with its column and category names.
fn entity_model(net: &Network, cfg: &ModelConfig, table: &CategoryTable) -> Result<Model> {
    let mut model = net.to_model()?;
    model.set_meta("producer", crate::PRODUCER);
    model.set_meta("task", "entity");
    model.set_meta("loss", cfg.train.loss.clone());
    model.set_meta("target", table.target_name.clone());
    let names: Vec<String> = table.columns.iter().flat_map(|c| c.categories.iter().cloned()).collect();
    model.assets.push(Asset { name: VOCAB_TENSOR.into(), bytes: embed::join_names(&names)?.into_bytes() });
    let cols: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    embed::join_names(&cols)?;
    let lines: Vec<String> = table.columns.iter().map(|c| format!("{}\t{}", c.name, c.categories.len())).collect();
    model.assets.push(Asset { name: COLUMNS_TENSOR.into(), bytes: lines.join("\n").into_bytes() });
    model.validate()?;
    Ok(model)
}

/// Sets the last Dense's weight and bias.
fn set_last_dense(net: &mut Network, weight: f32, bias: f32) {
    let mut values = net.param_values();
    let n = values.len();
    values[n - 2] = vec![weight];
    values[n - 1] = vec![bias];
    net.set_param_values(&values);
}

/// Trains an entity-embedding model of `cfg` and writes the model, plots and report into `opts.out`.
pub fn train(cfg: &ModelConfig, opts: &TrainOptions) -> Result<TrainSummary> {
    let table = load_entity_table(cfg, opts.data.as_deref())?;
    let counts: Vec<u32> = table.columns.iter().map(|c| c.categories.len() as u32).collect();
    let cfg = &cfg.with_categories(counts);
    let e = entity_config(cfg)?;
    let specs = cfg.layer_specs()?;
    if !matches!(specs.last(), Some(ember_runtime::LayerSpec::Dense { inputs: 1, units: 1, .. })) {
        invalid!("an entity model ends with a dense layer of one unit (it holds the target's scale)");
    }
    let fit_cfg = cfg.fit_config()?;

    // Shuffle once, hold out the test records, train (and validate) on the rest.
    let n = table.target.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(TEST_SHUFFLE_SEED));
    let n_test = ((n as f64 * e.test_split as f64).floor() as usize).min(n - 1);
    let (train_rows, test_rows) = order.split_at(n - n_test);
    let inputs =
        |rows: &[usize]| -> Vec<f32> { rows.iter().flat_map(|&r| table.global_ids(r)).map(|id| id as f32).collect() };
    let x = inputs(train_rows);
    let y_mean = mean(train_rows.iter().map(|&r| table.target[r] as f64));
    let var = mean(train_rows.iter().map(|&r| (table.target[r] as f64 - y_mean).powi(2)));
    let scale = if var > 0.0 { var.sqrt() } else { y_mean.abs().max(1.0) };
    let y: Vec<f32> = train_rows.iter().map(|&r| (table.target[r] as f64 / scale) as f32).collect();

    let mut net = Network::init(cfg.name.clone(), cfg.input_spec()?, &specs, cfg.train.seed);
    set_last_dense(&mut net, 1.0, (y_mean / scale) as f32);
    let (ck_path, resume) = prepare_out(opts)?;
    let mut observer = RunObserver::new(opts, &net, resume.as_ref())?;
    let fit_opts = FitOptions { checkpoint: Some(ck_path), resume, observer: observer.as_dyn(), input_transform: None };
    let history = fit::fit(&mut net, TrainData { x: &x, y: &y }, &fit_cfg, fit_opts)?;
    observer.finish()?;

    // Fold the scale into the last Dense: predictions in the target's units.
    super::scale::fold_output_scale(&mut net, &[scale], &[0.0]);
    let model = entity_model(&net, cfg, &table)?;
    let mut files = write_model(&model, &opts.out)?;
    files.extend(write_history(cfg, &history, &opts.out)?);

    let (eval_rows, eval_name) = if test_rows.is_empty() { (train_rows, "training") } else { (test_rows, "test") };
    let pred = net.predict(&inputs(eval_rows));
    let test_mae = mae(pred.iter().map(|&p| p as f64), eval_rows.iter().map(|&r| table.target[r] as f64));
    let (constant, best) = baselines(&table, train_rows, eval_rows);

    let emb = embed::embedding_table(&model)?;
    let png = opts.out.join("embeddings.png");
    let rows: Vec<usize> = (0..emb.rows).collect();
    let labels: Vec<String> =
        table.columns.iter().flat_map(|c| c.categories.iter().map(move |v| format!("{}={v}", c.name))).collect();
    let groups: Vec<u32> =
        table.columns.iter().enumerate().flat_map(|(k, c)| vec![k as u32; c.categories.len()]).collect();
    let title = format!("{}: category embeddings (PCA; colour = column)", cfg.name);
    embed::plot_projection_of(&png, &title, &emb, &rows, &labels, Some(&groups))?;
    files.push(png);

    let unit = &table.target_name;
    let mut lines = vec![format!("{eval_name} MAE of {unit}: {} ({} records)", significant(test_mae), eval_rows.len())];
    lines.push(format!("baseline, the training mean: {}", significant(constant)));
    if let Some((col, err)) = &best {
        lines.push(format!("baseline, the per-category mean of the best column ({col}): {}", significant(*err)));
    }
    let report_path = opts.out.join("report.md");
    let mut r = String::new();
    let t = &cfg.train;
    let _ = writeln!(r, "# {}\n", cfg.name);
    let cols: Vec<String> = table.columns.iter().map(|c| format!("{} ({})", c.name, c.categories.len())).collect();
    let _ = writeln!(
        r,
        "- entity embeddings of {} predicting {unit}; {} training records ({} skipped: no target), {} {eval_name}",
        cols.join(", "),
        train_rows.len(),
        table.skipped,
        eval_rows.len()
    );
    let _ = writeln!(
        r,
        "- target scale {} (standard deviation of the training targets), folded into the last layer",
        significant(scale)
    );
    r += &run_lines(t, &history);
    let _ = writeln!(r, "\n## Mean absolute error\n");
    for l in &lines {
        let _ = writeln!(r, "- {l}");
    }
    crate::write_file(&report_path, r.as_bytes())?;
    files.push(report_path);
    Ok(TrainSummary {
        model,
        encoder: None,
        history,
        val_mse: test_mae,
        pca_mse: None,
        classification: None,
        summary: lines,
        files,
        data: None,
    })
}
