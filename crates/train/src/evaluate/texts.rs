//! Texts for [`super::predict`]: one per line of a text file or a CSV
//! column, and a word model's contexts.

use std::path::Path;

use ember_data::text;
use ember_runtime::text::words;

use crate::error::{Result, TrainError, invalid};

/// Texts to classify: a CSV column, or the non-blank lines of a text file;
/// with the line each is on. A text without a word is an error naming it.
pub(super) fn read_texts(path: &Path, column: Option<&str>) -> Result<(Vec<String>, Vec<u64>)> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let (texts, lines) = if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        text::read_text_column(path, column.unwrap_or("text"))?
    } else {
        let raw =
            std::fs::read(path).map_err(|e| TrainError::invalid(format!("cannot read {}: {e}", path.display())))?;
        let all = String::from_utf8(raw)
            .map_err(|_| TrainError::invalid(format!("{}: not UTF-8 text (one text per line)", path.display())))?;
        let kept = all.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        kept.map(|(i, l)| (l.to_string(), i as u64 + 1)).unzip()
    };
    if texts.is_empty() {
        invalid!("{}: no text to predict", path.display());
    }
    if let Some(i) = texts.iter().position(|t| words(t).next().is_none()) {
        invalid!("{}, line {}: the text has no word", path.display(), lines[i]);
    }
    Ok((texts, lines))
}

/// A word model's contexts: lines of `context` words (every one in the
/// vocabulary), or a `.npy` of ids `[n, context]`.
pub(super) fn contexts(path: &Path, vocab: &[String], context: usize) -> Result<(Vec<f32>, Vec<u64>)> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.ends_with(".npy") || name.ends_with(".npy.gz") {
        let ds = ember_data::load_auto(path)?;
        if ds.sample_len() != context {
            invalid!(
                "{}: {} ids per row, but the model takes {context} words of context",
                path.display(),
                ds.sample_len()
            );
        }
        if let Some(i) = ds.x.iter().position(|&v| !(v >= 0.0 && v < vocab.len() as f32 && v.fract() == 0.0)) {
            invalid!(
                "{}: sample {} id {} is not a word id below {}",
                path.display(),
                i / context + 1,
                ds.x[i],
                vocab.len()
            );
        }
        let lines = (1..=ds.len() as u64).collect();
        return Ok((ds.x, lines));
    }
    let (texts, lines) = read_texts(path, None)?;
    let mut x = Vec::with_capacity(texts.len() * context);
    for (t, line) in texts.iter().zip(&lines) {
        let ws: Vec<String> = words(t).map(|w| String::from_utf8_lossy(w).to_ascii_lowercase()).collect();
        if ws.len() != context {
            invalid!(
                "{}, line {line}: {} words, but the model takes {context} words of context",
                path.display(),
                ws.len()
            );
        }
        for w in &ws {
            let Some(id) = vocab.iter().position(|v| v == w) else {
                invalid!("{}, line {line}: the word {w:?} is not in the model's vocabulary", path.display());
            };
            x.push(id as f32);
        }
    }
    Ok((x, lines))
}
