//! [`evaluate`]: a model's own metrics on held-out data, as text, as
//! Markdown and as a confusion-matrix picture.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use ember_export::Model;
use ember_nn::metrics::{self, ClassificationReport};

use super::inputs::{Columns, EvalData, load_eval_data};
use super::{LoadedModel, ModelKind};
use crate::config::NoiseConfig;
use crate::error::{Result, invalid};
use crate::plot;

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
    },
    /// A regressor's errors.
    Regression {
        /// Mean squared error per output.
        mse: f64,
        /// Mean absolute error per output.
        mae: f64,
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
        EvalData::Values { x, y } => {
            let noisy = opts.noise.map(|n| corrupt(n, &x, opts.seed));
            let out = lm.run(noisy.as_deref().unwrap_or(&x))?;
            let (mse, mae) = (metrics::mse(&out, &y), metrics::mae(&out, &y));
            let scores = match lm.kind {
                ModelKind::Autoencoder { .. } => {
                    let noise = opts.noise.zip(noisy.map(|n| metrics::mse(&n, &y)));
                    Scores::Reconstruction { mse, mae, noise }
                }
                _ => Scores::Regression { mse, mae },
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

impl Evaluation {
    /// The classification report, for classifiers.
    pub fn classification(&self) -> Option<&ClassificationReport> {
        match &self.scores {
            Scores::Classification { report, .. } => Some(report),
            _ => None,
        }
    }

    /// The scores as `name value` lines (no title).
    fn lines(&self) -> Vec<String> {
        match &self.scores {
            Scores::Classification { report, cross_entropy } => vec![
                format!("accuracy {:.4} ({} of {})", report.accuracy, correct(report), report.samples),
                format!("cross-entropy {cross_entropy:.4}"),
            ],
            Scores::Reconstruction { mse, mae, noise } => {
                let mut v = vec![format!("reconstruction MSE {mse:.6}"), format!("reconstruction MAE {mae:.6}")];
                if let Some((n, before)) = noise {
                    let what = match n {
                        NoiseConfig::Gaussian { level } => format!("gaussian noise {level}"),
                        NoiseConfig::SaltPepper { level } => format!("salt-and-pepper noise {level}"),
                    };
                    v.push(format!("inputs corrupted by {what}, scored against the clean data"));
                    v.push(format!("noisy input MSE {before:.6}"));
                }
                v
            }
            Scores::Regression { mse, mae } => vec![format!("MSE {mse:.6}"), format!("MAE {mae:.6}")],
            Scores::Words { cross_entropy, perplexity, accuracy, k, top_k_accuracy, dropped } => {
                let mut v = vec![
                    format!("cross-entropy {cross_entropy:.4}"),
                    format!("perplexity {perplexity:.2}"),
                    format!("accuracy {accuracy:.4}"),
                    format!("top-{k} accuracy {top_k_accuracy:.4}"),
                ];
                if *dropped > 0 {
                    v.push(format!("windows left out (a word outside the model's vocabulary): {dropped}"));
                }
                v
            }
            Scores::Entity { mae, target, skipped } => {
                let mut v = vec![format!("MAE of {target} {mae:.6}")];
                if *skipped > 0 {
                    v.push(format!("records left out (no {target}): {skipped}"));
                }
                v
            }
        }
    }

    /// The report as Markdown, its title at `level` (`#` count).
    pub fn markdown(&self, level: usize) -> String {
        let h = "#".repeat(level.max(1));
        let mut r = format!("{h} {} on {}\n\n", self.model, self.data);
        let _ = writeln!(r, "- {}, {} samples scored by the host runtime", self.kind, self.samples);
        for l in self.lines() {
            let _ = writeln!(r, "- {l}");
        }
        if let Some(c) = self.classification() {
            let _ = writeln!(r, "\n```text\n{c}```\n\nConfusion matrix (rows: true class, columns: predicted):\n");
            r += &confusion_table(c);
        }
        r
    }

    /// Writes the confusion-matrix PNG of a classifier to `path`; `false`
    /// (nothing written) for other models or too many classes to draw.
    ///
    /// # Errors
    /// [`crate::plot::PlotError`] when the picture cannot be written.
    pub fn write_confusion(&self, path: &Path) -> Result<bool> {
        let Some(c) = self.classification() else { return Ok(false) };
        if c.classes.len() > plot::MAX_CLASSES {
            return Ok(false);
        }
        let names: Vec<String> = c.classes.iter().map(|s| s.name.clone()).collect();
        let title = format!("{}: confusion matrix ({} samples)", self.model, c.samples);
        plot::confusion_matrix(path, &title, &names, &c.confusion)?;
        Ok(true)
    }

    /// Writes `report.md` (and `confusion.png` for classifiers) into `dir`.
    ///
    /// # Errors
    /// When a file cannot be written (nothing partial is left).
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| crate::error::TrainError::io("create", dir, e))?;
        let mut files = Vec::new();
        let png = dir.join("confusion.png");
        let mut md = self.markdown(1);
        if self.write_confusion(&png)? {
            md += "\n![confusion matrix](confusion.png)\n";
            files.push(png);
        }
        let report = dir.join("report.md");
        crate::write_file(&report, md.as_bytes())?;
        files.push(report);
        Ok(files)
    }
}

fn correct(c: &ClassificationReport) -> usize {
    (0..c.confusion.len()).map(|i| c.confusion[i][i]).sum()
}

/// The confusion matrix as a Markdown table.
fn confusion_table(c: &ClassificationReport) -> String {
    let names: Vec<&str> = c.classes.iter().map(|s| s.name.as_str()).collect();
    let mut r = format!("| true \\ predicted | {} |\n|---|{}\n", names.join(" | "), "---|".repeat(names.len()));
    for (name, row) in names.iter().zip(&c.confusion) {
        let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
        let _ = writeln!(r, "| {name} | {} |", cells.join(" | "));
    }
    r
}

impl fmt::Display for Evaluation {
    /// A readable report: the title, one line per score, and for
    /// classifiers the per-class report and the confusion matrix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({}) on {}: {} samples", self.model, self.kind, self.data, self.samples)?;
        for l in self.lines() {
            writeln!(f, "  {l}")?;
        }
        if let Some(c) = self.classification() {
            writeln!(f, "\n{c}")?;
            writeln!(f, "confusion matrix (rows: true class, columns: predicted):")?;
            let w = c.classes.iter().map(|s| s.name.len()).max().unwrap_or(1).max(5);
            let cw = c.confusion.iter().flatten().map(|n| n.to_string().len()).max().unwrap_or(1).max(w.min(8));
            write!(f, "{:>w$}", "")?;
            for s in &c.classes {
                write!(f, " {:>cw$}", s.name.chars().take(cw).collect::<String>())?;
            }
            writeln!(f)?;
            for (s, row) in c.classes.iter().zip(&c.confusion) {
                write!(f, "{:>w$}", s.name)?;
                for n in row {
                    write!(f, " {n:>cw$}")?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
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
