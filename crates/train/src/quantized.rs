//! `ember train --quantize`: a quantized copy of a run's model
//! (`ember_export::quant::quantize`, calibrated on up to
//! [`CALIBRATION_SAMPLES`] training inputs), written beside the f32 model as
//! `NAME.int8.emb` and `NAME.int8.onnx` (QDQ), scored against the f32 model
//! on the validation data through the host runtime, with both blob sizes
//! (the flash a board needs) added to the report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ember_export::Model;
use ember_export::quant::{QuantizeOptions, Scheme, quantize};
use ember_nn::metrics::{ClassificationReport, mse};

use crate::error::{Result, TrainError, invalid};
use crate::evaluate::run_host;
use crate::output::{CALIBRATION_SAMPLES, TrainSummary, Truth};

/// What [`quantize_run`] produced.
#[derive(Clone, Debug)]
pub struct QuantizedRun {
    /// The quantized model.
    pub model: Model,
    /// Result lines (modes, flash, metrics), as added to the report.
    pub lines: Vec<String>,
    /// The files written (`NAME.int8.emb`, `NAME.int8.onnx`).
    pub files: Vec<PathBuf>,
}

/// The score of `out` against `truth`: accuracy for labels, MSE for values.
fn score(out: &[f32], truth: &Truth, width: usize) -> f64 {
    match truth {
        Truth::Labels(labels) => {
            let predicted = ClassificationReport::predictions(out, width);
            let hits = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
            hits as f64 / labels.len().max(1) as f64
        }
        Truth::Values(y) => mse(out, y),
    }
}

/// Quantizes the model of the finished run `s` with `options`, writes
/// `NAME.int8.emb` and `NAME.int8.onnx` into `out`, scores both models on
/// the run's validation data and appends the results to `report.md`.
///
/// # Errors
/// [`TrainError::Invalid`] for a task without kept inputs (word and entity
/// models) or when the model cannot be quantized; the file errors of the
/// writes. Nothing is written unless the quantized blob and ONNX both encode.
pub fn quantize_run(s: &TrainSummary, out: &Path, options: QuantizeOptions) -> Result<QuantizedRun> {
    let Some(data) = &s.data else {
        invalid!("--quantize is not available for {} models (word and entity tasks)", s.model.name);
    };
    let d = s.model.input.dims.elements().max(1);
    let samples: Vec<Vec<f32>> = data.calibration.chunks(d).map(<[f32]>::to_vec).collect();
    let q = quantize(&s.model, &samples, options).map_err(|e| TrainError::invalid(format!("cannot quantize: {e}")))?;
    let (blob, onnx) = (q.to_blob()?, q.to_onnx()?);
    let f32_blob = s.model.to_blob()?;
    let width = s.model.output().dims.elements();
    let (f32_score, q_score) = if data.validation.is_empty() {
        (f64::NAN, Ok(f64::NAN))
    } else {
        let f = score(&run_host(&f32_blob, &data.validation)?, &data.truth, width);
        // An interpreter without the int8 path reports why instead of failing the run.
        (f, run_host(&blob, &data.validation).map(|out| score(&out, &data.truth, width)))
    };
    let q_score = match q_score {
        Ok(v) => format!("{v:.6}"),
        Err(e) => format!("not run ({e})"),
    };
    let emb_path = out.join(format!("{}.int8.emb", s.model.name));
    let onnx_path = out.join(format!("{}.int8.onnx", s.model.name));
    crate::write_file(&emb_path, &blob)?;
    crate::write_file(&onnx_path, &onnx)?;

    let scheme = match options.scheme {
        Scheme::Int8 => "int8",
        Scheme::WeightsOnly => "weights-only",
    };
    let metric = match data.truth {
        Truth::Labels(_) => "accuracy",
        Truth::Values(_) => "MSE",
    };
    let n_val = data.validation.len() / d;
    let mut lines = vec![
        format!("quantized ({scheme}, {} calibration samples of at most {CALIBRATION_SAMPLES})", samples.len()),
        format!("flash (blob): f32 {} B, quantized {} B", f32_blob.len(), blob.len()),
        format!("validation {metric} ({n_val} samples): f32 {f32_score:.6}, quantized {q_score}"),
    ];
    if let Some(quant) = &q.quant {
        let modes: Vec<String> = q
            .layers
            .iter()
            .zip(&quant.layers)
            .enumerate()
            .map(|(i, (l, lq))| format!("{}_{i} {:?}", l.kind_name(), lq.mode))
            .collect();
        lines.push(format!("layer modes: {}", modes.join(", ")));
    }
    append_report(s, &lines)?;
    Ok(QuantizedRun { model: q, lines, files: vec![emb_path, onnx_path] })
}

/// Adds the quantization lines to the run's `report.md`, if it has one.
fn append_report(s: &TrainSummary, lines: &[String]) -> Result<()> {
    let Some(path) = s.files.iter().find(|f| f.file_name().is_some_and(|n| n == "report.md")) else {
        return Ok(());
    };
    let mut text = std::fs::read_to_string(path).map_err(|e| TrainError::io("read", path, e))?;
    let _ = writeln!(text, "\n## Quantized model\n");
    for l in lines {
        let _ = writeln!(text, "- {l}");
    }
    crate::write_file(path, text.as_bytes())
}
