//! Post-training quantization of a whole [`Model`]: [`quantize`].
//!
//! Per layer (see `ember_runtime::qspec`):
//! * [`Scheme::Int8`]: Dense, the convolutions and depthwise run in
//!   [`QuantMode::Int8`]; Embedding and the recurrent kinds (whose state
//!   stays f32, `docs/QUANTIZATION.md`) in [`QuantMode::WeightsOnly`];
//!   every other kind in [`QuantMode::Float`];
//! * [`Scheme::WeightsOnly`]: every kind with a weight matrix in
//!   [`QuantMode::WeightsOnly`], the rest in [`QuantMode::Float`].
//!
//! Activation parameters of an int8 layer come from the f32 model run over
//! the calibration samples ([`super::observe`]), observed with the chosen
//! [`RangeMode`]: the output's (for a linear or ReLU activation) from the
//! layer's outputs; the input's from the previous int8 layer's output
//! parameters when the layers between are copies on the int8 grid
//! (max pooling, flatten, dropout, nearest upsampling), so the dequantize /
//! quantize round trip between them is exact, and otherwise from the values
//! the layer reads.

use ember_runtime::Activation;
use ember_runtime::qspec::{LayerQuant, QuantMode};
use ember_runtime::quant::QuantParams;
use ember_runtime::spec::LayerSpec;

use super::layer::quantize_layer;
use super::observe::{check_calibration, for_each_layer};
use super::{CalibrationError, Observer, Quantized, RangeMode};
use crate::{ExportError, Model};

/// Which modes [`quantize`] gives the layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Int8 arithmetic where the kind has it, int8 weights elsewhere.
    Int8,
    /// int8 weights, f32 activations everywhere.
    WeightsOnly,
}

impl Scheme {
    /// The mode of a layer of kind `spec`.
    pub fn mode_of(self, spec: &LayerSpec) -> QuantMode {
        if self == Scheme::Int8 && spec.supports(QuantMode::Int8) {
            QuantMode::Int8
        } else if spec.supports(QuantMode::WeightsOnly) {
            QuantMode::WeightsOnly
        } else {
            QuantMode::Float
        }
    }
}

/// Options of [`quantize`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantizeOptions {
    /// The layers' modes.
    pub scheme: Scheme,
    /// How activation ranges are taken from the calibration values.
    pub range: RangeMode,
}

impl Default for QuantizeOptions {
    fn default() -> Self {
        Self { scheme: Scheme::Int8, range: RangeMode::MinMax }
    }
}

/// Why a model could not be quantized.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    /// No calibration sample.
    #[error("the calibration data is empty: give at least one input sample")]
    EmptyCalibration,
    /// A sample of the wrong length.
    #[error("calibration sample {index} has {got} values, the model's input takes {want}")]
    SampleLength {
        /// Index of the sample.
        index: usize,
        /// Its length.
        got: usize,
        /// The model's input length.
        want: usize,
    },
    /// A NaN or infinite value in a sample.
    #[error("calibration sample {index} holds a non-finite value ({value}) at position {position}")]
    NonFinite {
        /// Index of the sample.
        index: usize,
        /// Position of the value in the sample.
        position: usize,
        /// The value, as text.
        value: String,
    },
    /// The f32 interpreter rejected a sample.
    #[error("calibration sample {index} fails in layer {layer}: {message}")]
    Forward {
        /// Index of the sample.
        index: usize,
        /// The layer.
        layer: usize,
        /// The runtime's message.
        message: String,
    },
    /// The model is quantized already.
    #[error("the model is quantized already; quantize its f32 original")]
    AlreadyQuantized,
    /// The observed ranges do not give parameters.
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    /// The model is invalid or does not encode.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A tensor does not have the size its spec lists (a bug).
    #[error("internal error while quantizing: {0}")]
    Internal(String),
}

/// Kinds whose output holds exactly the values of their input (on an int8
/// grid the output stays on it).
fn copies_values(spec: &LayerSpec) -> bool {
    matches!(
        spec,
        LayerSpec::MaxPool2d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::Upsample2d { .. }
    )
}

/// Whether an int8 layer requantizes its output (linear or ReLU).
pub fn has_int8_output(spec: &LayerSpec) -> bool {
    matches!(spec.activation(), Activation::Linear | Activation::Relu)
}

/// The int8 layer whose output parameters layer `i` inherits as its input's.
fn input_source(model: &Model, modes: &[QuantMode], i: usize) -> Option<usize> {
    let mut j = i.checked_sub(1)?;
    while copies_values(&model.layers[j]) {
        j = j.checked_sub(1)?;
    }
    (modes[j] == QuantMode::Int8 && has_int8_output(&model.layers[j])).then_some(j)
}

/// Quantizes the f32 `model` with the calibration inputs `samples` (each
/// one input sample, as `ember_runtime::dynamic::forward` reads it: token
/// ids as `f32` integers). The result has `quant: Some(_)` with every
/// layer's record and stored tensors, and `params` holding the f32 view of
/// the quantized parameters.
///
/// # Errors
/// [`QuantizeError::EmptyCalibration`], [`QuantizeError::SampleLength`],
/// [`QuantizeError::NonFinite`] for bad calibration data (checked whatever
/// the scheme), [`QuantizeError::Forward`] for a sample the model rejects,
/// [`QuantizeError::AlreadyQuantized`], [`QuantizeError::Calibration`] for a
/// bad percentile.
pub fn quantize(model: &Model, samples: &[Vec<f32>], options: QuantizeOptions) -> Result<Model, QuantizeError> {
    if model.quant.is_some() {
        return Err(QuantizeError::AlreadyQuantized);
    }
    model.validate()?;
    check_calibration(model, samples)?;
    if let RangeMode::Percentile(p) = options.range
        && !(p > 50.0 && p <= 100.0)
    {
        return Err(CalibrationError::BadPercentile(p).into());
    }
    let modes: Vec<QuantMode> = model.layers.iter().map(|l| options.scheme.mode_of(l)).collect();
    let sources: Vec<Option<usize>> = (0..modes.len()).map(|i| input_source(model, &modes, i)).collect();
    let mut inputs: Vec<Option<QuantParams>> = vec![None; modes.len()];
    let mut outputs: Vec<Option<QuantParams>> = vec![None; modes.len()];
    if let Some(last) = modes.iter().rposition(|&m| m == QuantMode::Int8) {
        for_each_layer(model, samples, last, |i, xs, ys| {
            if modes[i] != QuantMode::Int8 {
                return Ok(());
            }
            let name = |what| format!("{}_{i}.{what}", model.layers[i].kind_name());
            inputs[i] = match sources[i] {
                Some(j) => outputs[j],
                None => Some(observe(name("input"), options.range, xs)?),
            };
            if has_int8_output(&model.layers[i]) {
                outputs[i] = Some(observe(name("output"), options.range, ys)?);
            }
            Ok(())
        })?;
    }
    let mut quant = Quantized { layers: Vec::new(), tensors: Vec::new() };
    for (i, spec) in model.layers.iter().enumerate() {
        let lq = match modes[i] {
            QuantMode::Float => LayerQuant::FLOAT,
            QuantMode::WeightsOnly => LayerQuant::WEIGHTS_ONLY,
            QuantMode::Int8 => LayerQuant {
                mode: QuantMode::Int8,
                input: inputs[i].ok_or_else(|| QuantizeError::Internal(format!("layer {i}: no input range")))?,
                output: outputs[i].unwrap_or(LayerQuant::UNUSED),
            },
        };
        quant.layers.push(lq);
        quant.tensors.extend(quantize_layer(spec, i, model.layer_params(i), &lq)?);
    }
    // The f32 view, by the same function `Model::from_blob` uses.
    let view = crate::blob::dequantized_params(&model.layers, &quant)?;
    let mut out = model.clone();
    for (t, data) in out.params.iter_mut().zip(view) {
        t.data = data;
    }
    out.quant = Some(quant);
    out.validate()?;
    Ok(out)
}

/// The activation parameters of the values `xs` (all samples).
fn observe(name: String, mode: RangeMode, xs: &[Vec<f32>]) -> Result<QuantParams, CalibrationError> {
    let mut o = Observer::new(name, mode);
    for x in xs {
        o.observe(x);
    }
    o.params()
}
