//! The models of the real-board packages (`boards/<board>/model/`): each
//! preset trained briefly on its own generated or bundled data (as `ember
//! train PRESET --epochs E --max-samples N` does; the sizes are those of the
//! fully trained model, only the weights are less good), quantized to int8
//! (`ember quantize`: calibrated on a few training inputs) and exported as a
//! blob and Rust source (`ember export --blob --rust`), with a few
//! validation inputs (`NAME.inputs.bin`, little-endian `f32`, whole samples)
//! for the firmware to run.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ember_export::Model;
use ember_export::quant::{QuantizeOptions, quantize};
use ember_train::presets;
use ember_train::train::{TrainOptions, TrainSummary, train};

/// Training inputs the int8 models are calibrated on.
const CALIBRATION: usize = 64;
/// Validation samples written to `NAME.inputs.bin`.
const SAMPLES: usize = 4;

/// Which part of a trained preset a package runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Part {
    /// The whole model.
    Whole,
    /// The encoder of an autoencoder (the layers its `encoder_layers` names).
    Encoder,
}

/// How a preset is trained for the packages: briefly, on part of its data.
#[derive(Clone, Copy, Debug)]
pub struct Training {
    /// The preset.
    pub preset: &'static str,
    /// Epochs.
    pub epochs: usize,
    /// Samples used (training and validation).
    pub max_samples: usize,
}

/// One model file set of a package: `model/<file>.emb`, `.rs`, `.inputs.bin`.
#[derive(Clone, Copy, Debug)]
pub struct PackageModel {
    /// File stem in `model/`.
    pub file: &'static str,
    /// The preset it comes from and how it is trained.
    pub training: Training,
    /// The part of the preset's model.
    pub part: Part,
    /// Quantized to int8 (else f32).
    pub int8: bool,
}

impl PackageModel {
    /// The label of the table: the preset, its part and its number format.
    pub fn label(&self) -> String {
        let part = if self.part == Part::Encoder { " encoder" } else { "" };
        format!("{}{part}, {}", self.training.preset, if self.int8 { "int8" } else { "f32" })
    }
}

/// A trained preset, kept while the packages that use it are written.
pub struct Trained {
    /// The preset.
    pub preset: &'static str,
    /// What training returned.
    pub summary: TrainSummary,
    /// Seconds it took.
    pub seconds: f64,
}

/// Trains `t` into `work/<preset>/` (quietly: no progress output).
pub fn train_preset(t: Training, work: &Path) -> Result<Trained> {
    let mut cfg = presets::preset(t.preset).with_context(|| format!("no preset `{}`", t.preset))?;
    cfg.train.epochs = t.epochs;
    cfg.train.max_samples = Some(t.max_samples);
    let out = work.join(t.preset);
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let started = Instant::now();
    let opts = TrainOptions { out, ..TrainOptions::default() };
    let summary = train(&cfg, &opts).with_context(|| format!("training preset `{}`", t.preset))?;
    Ok(Trained { preset: t.preset, summary, seconds: started.elapsed().as_secs_f64() })
}

/// The model `m` of `trained` to export: its part, quantized if asked.
fn package_model(m: &PackageModel, trained: &Trained) -> Result<(Model, Vec<f32>)> {
    let s = &trained.summary;
    let model = match m.part {
        Part::Whole => s.model.clone(),
        Part::Encoder => s.encoder.clone().with_context(|| format!("preset `{}` has no encoder", trained.preset))?,
    };
    let data = s.data.as_ref().with_context(|| format!("preset `{}` kept no inputs", trained.preset))?;
    let d = model.input.dims.elements().max(1);
    let inputs: Vec<f32> = data.validation.chunks_exact(d).take(SAMPLES).flatten().copied().collect();
    if inputs.len() != SAMPLES * d {
        bail!("preset `{}`: fewer than {SAMPLES} validation samples", trained.preset);
    }
    if !m.int8 {
        return Ok((model, inputs));
    }
    let samples: Vec<Vec<f32>> = data.calibration.chunks_exact(d).take(CALIBRATION).map(<[f32]>::to_vec).collect();
    let mut q = quantize(&model, &samples, QuantizeOptions::default())
        .with_context(|| format!("quantizing `{}`", model.name))?;
    q.name = format!("{}_int8", model.name);
    Ok((q, inputs))
}

/// Writes `bytes` to `path` unless it already holds them (keeps the
/// package's build fresh when nothing changed).
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `model/<file>.emb`, `.rs` and `.inputs.bin` of `m` into the
/// package folder `dir`; returns the blob's path.
pub fn write_model(m: &PackageModel, trained: &Trained, dir: &Path) -> Result<PathBuf> {
    let (model, inputs) = package_model(m, trained)?;
    let out = dir.join("model");
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let blob_name = format!("{}.emb", m.file);
    let blob = model.to_blob().with_context(|| format!("{}: blob", m.file))?;
    let rust = model.to_rust(&blob_name).with_context(|| format!("{}: Rust source", m.file))?;
    let raw: Vec<u8> = inputs.iter().flat_map(|v| v.to_le_bytes()).collect();
    let blob_path = out.join(&blob_name);
    write_if_changed(&blob_path, &blob)?;
    write_if_changed(&out.join(format!("{}.rs", m.file)), rust.as_bytes())?;
    write_if_changed(&out.join(format!("{}.inputs.bin", m.file)), &raw)?;
    Ok(blob_path)
}
