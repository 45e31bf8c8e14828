//! `ember quantize MODEL.emb --calibration DATA --out MODEL.int8.emb`:
//! post-training quantization (`ember_export::quant::quantize`) of a trained
//! blob, written with its QDQ ONNX beside it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use ember_export::Model;
use ember_export::fsutil::write_bytes;
use ember_export::quant::{QuantizeOptions, RangeMode, Scheme, quantize};
use ember_train::evaluate::{LoadedModel, model_inputs};

use super::evaluate::ColumnArgs;

/// Calibration samples used at most (spread evenly over the data).
pub const MAX_CALIBRATION: usize = 1000;

/// Arguments of `ember quantize`.
#[derive(clap::Args)]
pub struct QuantizeArgs {
    /// The trained f32 model's blob.
    model: PathBuf,
    /// Calibration inputs, in any format `ember predict` or `ember evaluate` reads for the model (.npy, CSV, IDX, a folder per class, texts, the model's training data formats); at most 1000 samples are used, spread over the file.
    #[arg(long)]
    calibration: PathBuf,
    /// The quantized blob to write (the QDQ ONNX goes beside it, as .onnx).
    #[arg(long)]
    out: PathBuf,
    /// int8 (int8 arithmetic for dense and convolution layers, int8 weights elsewhere) or weights-only (int8 weights, f32 activations).
    #[arg(long, default_value = "int8", value_parser = ["int8", "weights-only"])]
    mode: String,
    /// Activation ranges from the P-th and (100 − P)-th percentiles (P in (50, 100], e.g. 99.99) instead of min/max.
    #[arg(long)]
    percentile: Option<f32>,
    #[command(flatten)]
    columns: ColumnArgs,
}

/// The scheme named by `--mode` / `--quantize`.
pub fn scheme(name: &str) -> anyhow::Result<Scheme> {
    match name {
        "int8" => Ok(Scheme::Int8),
        "weights-only" => Ok(Scheme::WeightsOnly),
        other => bail!("unknown quantization mode {other:?}: use int8 or weights-only"),
    }
}

/// At most [`MAX_CALIBRATION`] samples of `flat` (`[n, len]`), evenly spaced.
pub fn pick_samples(flat: &[f32], len: usize) -> anyhow::Result<Vec<Vec<f32>>> {
    if len == 0 || !flat.len().is_multiple_of(len) {
        bail!("{} calibration values do not make whole samples of {len}", flat.len());
    }
    let n = flat.len() / len;
    let step = n.div_ceil(MAX_CALIBRATION).max(1);
    Ok(flat.chunks(len).step_by(step).map(<[f32]>::to_vec).collect())
}

/// Quantizes `model` and returns it with its blob and QDQ ONNX bytes.
pub fn quantize_model(
    model: &Model,
    samples: &[Vec<f32>],
    options: QuantizeOptions,
) -> anyhow::Result<(Model, Vec<u8>, Vec<u8>)> {
    let q = quantize(model, samples, options).context("cannot quantize")?;
    let blob = q.to_blob().context("cannot encode the quantized blob")?;
    let onnx = q.to_onnx().context("cannot export the quantized model to ONNX")?;
    Ok((q, blob, onnx))
}

/// One line per layer: index, kind and mode.
pub fn mode_lines(q: &Model) -> Vec<String> {
    let Some(quant) = &q.quant else { return Vec::new() };
    q.layers
        .iter()
        .zip(&quant.layers)
        .enumerate()
        .map(|(i, (l, lq))| format!("  {}_{i:<3} {:?}", l.kind_name(), lq.mode))
        .collect()
}

/// `path` with its extension replaced by `onnx`.
pub fn onnx_beside(path: &Path) -> PathBuf {
    path.with_extension("onnx")
}

/// Runs `ember quantize`.
pub fn cmd_quantize(a: QuantizeArgs) -> anyhow::Result<ExitCode> {
    let range = match a.percentile {
        Some(p) if !(p > 50.0 && p <= 100.0) => bail!("--percentile {p} is outside (50, 100]"),
        Some(p) => RangeMode::Percentile(p),
        None => RangeMode::MinMax,
    };
    let options = QuantizeOptions { scheme: scheme(&a.mode)?, range };
    let lm = LoadedModel::read(&a.model)?;
    if lm.model.quant.is_some() {
        bail!("{} is quantized already: quantize its f32 original", a.model.display());
    }
    let flat = model_inputs(&lm, &a.calibration, &a.columns.columns())
        .with_context(|| format!("cannot read calibration data {}", a.calibration.display()))?;
    let cal = a.calibration.display();
    let samples = pick_samples(&flat, lm.input_len()).with_context(|| format!("calibration data {cal}"))?;
    let (q, blob, onnx) =
        quantize_model(&lm.model, &samples, options).with_context(|| format!("calibration data {cal}"))?;
    let onnx_path = onnx_beside(&a.out);
    if onnx_path == a.out {
        bail!("--out {} must not end in .onnx (the ONNX is written beside it)", a.out.display());
    }
    write_bytes(&a.out, &blob).with_context(|| format!("cannot write {}", a.out.display()))?;
    write_bytes(&onnx_path, &onnx).with_context(|| format!("cannot write {}", onnx_path.display()))?;
    println!("{} quantized ({}, {} calibration samples):", lm.model.name, a.mode, samples.len());
    mode_lines(&q).iter().for_each(|l| println!("{l}"));
    println!("flash (blob): f32 {} B, quantized {} B", lm.blob.len(), blob.len());
    println!("wrote {}", a.out.display());
    println!("wrote {}", onnx_path.display());
    Ok(ExitCode::SUCCESS)
}
