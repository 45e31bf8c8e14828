//! [`evaluate`]: a model's own metrics on held-out data, as text, as
//! Markdown and as a confusion-matrix picture.

use std::path::{Path, PathBuf};

use ember_export::Model;
use ember_nn::metrics::{self, ClassificationReport};

use super::inputs::{Columns, EvalData, load_eval_data};
use super::{LoadedModel, ModelKind};
use crate::config::NoiseConfig;
use crate::error::{Result, invalid};

/// Options of [`evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// Where the text and labels are in CSV data.
    pub columns: Columns,
    /// Word models: the `k` of top-k accuracy.
    pub top_k: usize,
    /// Autoencoders: corrupt the inputs with this noise and score the
    /// outputs against the clean data (a denoising autoencoder's task).
    pub noise: Option<NoiseConfig>,
    /// Seed of the noise.
    pub seed: u64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { columns: Columns::default(), top_k: 5, noise: None, seed: 42 }
    }
}

/// `x` corrupted by `noise` (values kept in `[0, 1]`), deterministic for `seed`.
fn corrupt(noise: NoiseConfig, x: &[f32], seed: u64) -> Vec<f32> {
    match noise {
        NoiseConfig::Gaussian { level } => ember_data::noise::gaussian(x, level, seed),
        NoiseConfig::SaltPepper { level } => ember_data::noise::salt_and_pepper(x, level, seed),
    }
}

/// The scores of one kind of model.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Scores {
    /// A classifier's.
    Classification {
        /// Accuracy, precision, recall, F1 and the confusion matrix.
        report: ClassificationReport,
        /// Mean cross-entropy of the true classes.
        cross_entropy: f64,
    },
    /// An autoencoder's reconstruction errors.
    Reconstruction {
        /// Mean squared error per value.
        mse: f64,
        /// Mean absolute error per value.
        mae: f64,
        /// The noise added to the inputs, if any (the outputs are scored
        /// against the clean data), and the noisy inputs' own MSE.
        noise: Option<(NoiseConfig, f64)>,
        /// An anomaly detector's flags (a model with an anomaly threshold).
        anomalies: Option<Anomalies>,
    },
    /// A regressor's errors.
    Regression {
        /// Mean squared error per output.
        mse: f64,
        /// Mean absolute error per output.
        mae: f64,
        /// The targets' names (the `targets` metadata), if the model names them.
        targets: Vec<String>,
    },
    /// A word model's.
    Words {
        /// Mean cross-entropy of the next word (natural log).
        cross_entropy: f64,
        /// `exp(cross_entropy)`.
        perplexity: f64,
        /// Fraction of windows whose most probable word is the next one.
        accuracy: f64,
        /// The `k` of `top_k_accuracy`.
        k: usize,
        /// Fraction whose next word is among the `k` most probable.
        top_k_accuracy: f64,
        /// Windows left out (a word outside the vocabulary).
        dropped: usize,
    },
    /// An entity model's.
    Entity {
        /// Mean absolute error of the target, in its units.
        mae: f64,
        /// The target's name.
        target: String,
        /// Records left out (no target).
        skipped: usize,
    },
}

/// The samples an anomaly detector flags: those whose reconstruction MSE
/// (mean over the sample's values) exceeds the model's threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomalies {
    /// The threshold (the model's `anomaly_threshold` metadata).
    pub threshold: f64,
    /// Samples flagged.
    pub flagged: usize,
    /// Samples scored.
    pub samples: usize,
    /// For a folder per class: each class's name, samples flagged and samples.
    pub per_class: Vec<(String, usize, usize)>,
}

impl Anomalies {
    /// Flags the samples of `out` (reconstructions) against `x` (the clean
    /// inputs), `per` values a sample; counted per class of `groups`.
    ///
    /// # Shapes
    /// `out`, `x`: `[n, per]`; `groups`: `n` class indices and the names.
    pub fn count(threshold: f64, out: &[f32], x: &[f32], per: usize, groups: Option<&(Vec<u32>, Vec<String>)>) -> Self {
        let flags: Vec<bool> = metrics::per_sample_mse(out, x, per).iter().map(|&e| e > threshold).collect();
        let per_class = groups.map_or_else(Vec::new, |(labels, names)| {
            names
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let of = flags.iter().zip(labels).filter(|(_, l)| **l as usize == k);
                    let (n, f) = of.fold((0, 0), |(n, f), (&flag, _)| (n + 1, f + usize::from(flag)));
                    (name.clone(), f, n)
                })
                .collect()
        });
        Anomalies { threshold, flagged: flags.iter().filter(|&&f| f).count(), samples: flags.len(), per_class }
    }

    /// The fraction of samples flagged.
    pub fn rate(&self) -> f64 {
        self.flagged as f64 / self.samples.max(1) as f64
    }
}

/// A model's scores on one data file.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The model's name.
    pub model: String,
    /// Its kind ([`ModelKind::name`]).
    pub kind: &'static str,
    /// The data, as given.
    pub data: String,
    /// Samples scored.
    pub samples: usize,
    /// The scores.
    pub scores: Scores,
}

/// Scores `lm` on the data at `path` through the host runtime.
///
/// # Errors
/// Those of [`load_eval_data`] and of [`super::run_host`].
pub fn evaluate(lm: &LoadedModel, path: &Path, opts: &EvalOptions) -> Result<Evaluation> {
    if opts.top_k == 0 {
        invalid!("top-k needs k of at least 1");
    }
    if opts.noise.is_some() && !matches!(lm.kind, ModelKind::Autoencoder { .. }) {
        invalid!("noise is for autoencoders; {} is a {}", lm.model.name, lm.kind.name());
    }
    let data = load_eval_data(lm, path, &opts.columns)?;
    let width = lm.output_len();
    let (samples, scores) = match data {
        EvalData::Values { x, y, groups } => {
            let noisy = opts.noise.map(|n| corrupt(n, &x, opts.seed));
            let out = lm.run(noisy.as_deref().unwrap_or(&x))?;
            let (mse, mae) = (metrics::mse(&out, &y), metrics::mae(&out, &y));
            let scores = match lm.kind {
                ModelKind::Autoencoder { .. } => {
                    let noise = opts.noise.zip(noisy.map(|n| metrics::mse(&n, &y)));
                    let anomalies = super::anomaly_threshold(&lm.model)
                        .map(|t| Anomalies::count(t, &out, &y, lm.input_len(), groups.as_ref()));
                    Scores::Reconstruction { mse, mae, noise, anomalies }
                }
                _ => {
                    let targets = super::samples::target_names(lm).unwrap_or_default();
                    Scores::Regression { mse, mae, targets }
                }
            };
            (x.len() / lm.input_len(), scores)
        }
        EvalData::Labelled { x, labels } => {
            let ModelKind::Classifier { classes, .. } = &lm.kind else {
                invalid!("labelled data for a model that is not a classifier");
            };
            let out = lm.run(&x)?;
            let predicted = ClassificationReport::predictions(&out, width);
            let report = ClassificationReport::new(&labels, &predicted, classes);
            let cross_entropy = metrics::cross_entropy(&out, width, &labels);
            (labels.len(), Scores::Classification { report, cross_entropy })
        }
        EvalData::Windows { x, next, dropped } => {
            let out = lm.run(&x)?;
            let cross_entropy = metrics::cross_entropy(&out, width, &next);
            let scores = Scores::Words {
                cross_entropy,
                perplexity: cross_entropy.exp(),
                accuracy: metrics::top_k_accuracy(&out, width, &next, 1),
                k: opts.top_k,
                top_k_accuracy: metrics::top_k_accuracy(&out, width, &next, opts.top_k),
                dropped,
            };
            (next.len(), scores)
        }
        EvalData::Records { x, target, skipped } => {
            let out = lm.run(&x)?;
            let name = match &lm.kind {
                ModelKind::Entity { target, .. } => target.clone(),
                _ => "target".into(),
            };
            (target.len(), Scores::Entity { mae: metrics::mae(&out, &target), target: name, skipped })
        }
    };
    let data = path.display().to_string();
    Ok(Evaluation { model: lm.model.name.clone(), kind: lm.kind.name(), data, samples, scores })
}

/// `ember train --test-data`: evaluates the freshly trained `model` on
/// `test`, appends the report to `out/report.md` and writes
/// `out/test_confusion.png` for classifiers; returns the evaluation and the
/// files written.
///
/// # Errors
/// Those of [`evaluate`], or when the report cannot be written.
pub fn add_to_run(model: &Model, test: &Path, out: &Path, opts: &EvalOptions) -> Result<(Evaluation, Vec<PathBuf>)> {
    let lm = LoadedModel::from_blob(model.to_blob()?)?;
    let eval = evaluate(&lm, test, opts)?;
    let mut files = Vec::new();
    let report = out.join("report.md");
    let mut md = std::fs::read_to_string(&report).unwrap_or_default();
    md += "\n## Test data\n\n";
    md += &eval.markdown(3);
    let png = out.join("test_confusion.png");
    if eval.write_confusion(&png)? {
        md += "\n![confusion matrix on the test data](test_confusion.png)\n";
        files.push(png);
    }
    crate::write_file(&report, md.as_bytes())?;
    files.push(report);
    Ok((eval, files))
}
