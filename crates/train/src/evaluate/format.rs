//! An [`Evaluation`] as text, as Markdown, and as a confusion-matrix picture.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use ember_nn::metrics::ClassificationReport;

use super::report::{Evaluation, Scores};
use crate::config::NoiseConfig;
use crate::error::{Result, TrainError};
use crate::plot;

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
            Scores::Reconstruction { mse, mae, noise, anomalies } => {
                let mut v = vec![format!("reconstruction MSE {mse:.6}"), format!("reconstruction MAE {mae:.6}")];
                if let Some((n, before)) = noise {
                    let what = match n {
                        NoiseConfig::Gaussian { level } => format!("gaussian noise {level}"),
                        NoiseConfig::SaltPepper { level } => format!("salt-and-pepper noise {level}"),
                    };
                    v.push(format!("inputs corrupted by {what}, scored against the clean data"));
                    v.push(format!("noisy input MSE {before:.6}"));
                }
                if let Some(a) = anomalies {
                    v.push(format!(
                        "anomaly threshold {:.6} (reconstruction MSE per sample, from training)",
                        a.threshold
                    ));
                    v.push(format!("flagged {} of {} (rate {:.4})", a.flagged, a.samples, a.rate()));
                    for (name, f, n) in &a.per_class {
                        let rate = *f as f64 / (*n).max(1) as f64;
                        v.push(format!("flagged in class {name}: {f} of {n} (rate {rate:.4})"));
                    }
                }
                v
            }
            Scores::Regression { mse, mae, targets } => {
                let mut v = vec![format!("MSE {mse:.6}"), format!("MAE {mae:.6}")];
                if !targets.is_empty() {
                    v.push(format!("targets {} (the model's own units)", targets.join(", ")));
                }
                v
            }
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
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io("create", dir, e))?;
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
