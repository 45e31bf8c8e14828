//! How a layer of a blob is quantized (format version 2): the per-layer
//! [`LayerQuant`] record and the parameter tensors each [`QuantMode`] stores.
//!
//! The arithmetic is in [`crate::quant`]; the number formats and the reasons
//! for them are in `docs/QUANTIZATION.md`. In short:
//!
//! * [`QuantMode::Float`]: the layer is exactly its version-1 self (f32
//!   parameters from [`LayerSpec::param`]).
//! * [`QuantMode::WeightsOnly`]: every weight matrix (dense and convolution
//!   kernels, embedding tables, recurrent `W` and `R`) is `I8`, symmetric,
//!   with one `F32` scale per output channel (per row) in the tensor that
//!   follows it; biases and everything else stay `F32`; activations are f32.
//!   The weights are dequantized on the fly: `Σ x · q` times the row's scale.
//! * [`QuantMode::Int8`] (Dense, the convolutions, depthwise): int8 weights
//!   as above, the input quantized with [`LayerQuant::input`], an `i32`
//!   accumulator, and for a linear or ReLU activation a fixed-point
//!   requantization to [`LayerQuant::output`]. For sigmoid, tanh and softmax
//!   the accumulator is scaled to f32 (`acc · s_in · s_w[c]`) and the function
//!   applied in f32; the output then stays f32 and `output` is not used.
//!
//! Between layers, activations are f32 in the interpreter: an int8 layer's
//! output is dequantized with its `output` parameters and the next int8 layer
//! quantizes with its `input` parameters. When the two are equal (the
//! quantizer makes them equal) the round trip is exact, so this is
//! bit-identical to passing the int8 values along.

use serde::{Deserialize, Serialize};

use crate::quant::QuantParams;
use crate::spec::{DType, Dims, LayerSpec, ParamSpec};

/// How a layer's arithmetic runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QuantMode {
    /// f32 parameters and activations (as in format version 1).
    Float,
    /// int8 weights and activations, `i32` accumulators and biases.
    Int8,
    /// int8 weights dequantized on the fly; f32 activations and biases.
    WeightsOnly,
}

/// The quantization record of one layer (one per layer in a version-2 blob).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerQuant {
    /// How the layer runs.
    pub mode: QuantMode,
    /// Scale and zero point the layer's f32 input is quantized with
    /// ([`QuantMode::Int8`] only; `{1.0, 0}` otherwise).
    pub input: QuantParams,
    /// Scale and zero point of the layer's int8 output ([`QuantMode::Int8`]
    /// with a linear or ReLU activation only; `{1.0, 0}` otherwise).
    pub output: QuantParams,
}

impl LayerQuant {
    /// Parameters for a layer that does not use them.
    pub const UNUSED: QuantParams = QuantParams { scale: 1.0, zero_point: 0 };

    /// A layer that runs in f32.
    pub const FLOAT: Self = Self { mode: QuantMode::Float, input: Self::UNUSED, output: Self::UNUSED };

    /// A weights-only layer.
    pub const WEIGHTS_ONLY: Self = Self { mode: QuantMode::WeightsOnly, input: Self::UNUSED, output: Self::UNUSED };
}

/// Along which axis a weight tensor's per-channel scales run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleAxis {
    /// One scale per row: the tensor seen as `[Π leading dims, last dim]`
    /// (dense `[units, inputs]`, embedding `[vocab, dim]`, recurrent
    /// `[dirs, gates·units, inputs]`). The scale tensor has the leading dims
    /// as its shape.
    Rows,
    /// One scale per index of the last axis (depthwise `[kh, kw, channels]`).
    Last,
    /// One scale per index of the first axis: the tensor seen as
    /// `[first dim, Π other dims]` (convolution OHWI / OWI: one scale per
    /// filter, the output channel). The scale tensor is `[first dim]`.
    First,
}

/// Names of the scale tensors that follow quantized weights (`{weight}_scale`).
fn scale_name(weight: &str) -> &'static str {
    match weight {
        "w" => "w_scale",
        "r" => "r_scale",
        _ => "weight_scale",
    }
}

impl LayerSpec {
    /// Whether this kind can run in `mode`.
    pub fn supports(&self, mode: QuantMode) -> bool {
        match mode {
            QuantMode::Float => true,
            QuantMode::WeightsOnly => (0..self.param_count()).any(|p| self.scale_axis(p).is_some()),
            QuantMode::Int8 => matches!(
                self,
                LayerSpec::Dense { .. }
                    | LayerSpec::Conv2d { .. }
                    | LayerSpec::Conv1d { .. }
                    | LayerSpec::Conv2dStrided { .. }
                    | LayerSpec::DepthwiseConv2d { .. }
            ),
        }
    }

    /// For f32 parameter `p` (see [`LayerSpec::param`]): the axis of its
    /// per-channel scales when it is a weight matrix that quantized modes store
    /// as `I8`, `None` for biases and everything else.
    pub fn scale_axis(&self, p: usize) -> Option<ScaleAxis> {
        match self {
            LayerSpec::Dense { .. } | LayerSpec::Embedding { .. } => (p == 0).then_some(ScaleAxis::Rows),
            LayerSpec::Conv2d { .. } | LayerSpec::Conv1d { .. } | LayerSpec::Conv2dStrided { .. } => {
                (p == 0).then_some(ScaleAxis::First)
            }
            LayerSpec::DepthwiseConv2d { .. } => (p == 0).then_some(ScaleAxis::Last),
            LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => {
                (p < 2).then_some(ScaleAxis::Rows)
            }
            _ => None,
        }
    }

    /// Number of parameter tensors the layer stores in `mode` (0 if the kind
    /// does not support it).
    pub fn qparam_count(&self, mode: QuantMode) -> usize {
        if !self.supports(mode) {
            return 0;
        }
        match mode {
            QuantMode::Float => self.param_count(),
            QuantMode::WeightsOnly => {
                self.param_count() + (0..self.param_count()).filter(|&p| self.scale_axis(p).is_some()).count()
            }
            QuantMode::Int8 => 5,
        }
    }

    /// The `i`-th parameter tensor the layer stores in `mode`, `None` past
    /// [`LayerSpec::qparam_count`].
    ///
    /// * `Float`: [`LayerSpec::param`].
    /// * `WeightsOnly`: each f32 parameter in order; a weight matrix (see
    ///   [`LayerSpec::scale_axis`]) as `I8` of the same dims, followed by its
    ///   `F32` scales (`weight_scale`, `w_scale`, `r_scale`).
    /// * `Int8`: `weight` `I8` (the f32 weight's dims), `weight_scale` `F32`
    ///   `[C]`, `bias` `I32` `[C]` (`round(b / (s_in · s_w[c]))`, ONNX's int32
    ///   bias), `kernel_bias` `I32` `[C]` (`bias − zp_in · Σ taps w[c, ·]`:
    ///   what the kernels add to the plain int8 dot product; padded taps read
    ///   the input zero point, so the fold is exact at borders too), and
    ///   `requant` `I32` `[C, 2]` (per channel: the Q31 multiplier and the
    ///   shift of `s_in · s_w[c] / s_out`, see [`crate::quant::QuantizedMultiplier`]).
    pub fn qparam(&self, i: usize, mode: QuantMode) -> Option<ParamSpec> {
        if i >= self.qparam_count(mode) {
            return None;
        }
        match mode {
            QuantMode::Float => self.param(i),
            QuantMode::WeightsOnly => {
                let mut at = 0;
                for p in 0..self.param_count() {
                    let spec = self.param(p)?;
                    let axis = self.scale_axis(p);
                    if at == i {
                        let dtype = if axis.is_some() { DType::I8 } else { spec.dtype };
                        return Some(ParamSpec { dtype, ..spec });
                    }
                    at += 1;
                    if let Some(axis) = axis {
                        if at == i {
                            return Some(scale_param(&spec, axis));
                        }
                        at += 1;
                    }
                }
                None
            }
            QuantMode::Int8 => {
                let weight = self.param(0)?;
                let axis = self.scale_axis(0)?;
                let scales = scale_param(&weight, axis);
                let c = scales.dims.elements() as u32;
                let int = |name, dims| Some(ParamSpec { name, dims, dtype: DType::I32, regularized: false });
                match i {
                    0 => Some(ParamSpec { dtype: DType::I8, ..weight }),
                    1 => Some(scales),
                    2 => int("bias", Dims::d1(c)),
                    3 => int("kernel_bias", Dims::d1(c)),
                    4 => int("requant", Dims::d2(c, 2)),
                    _ => None,
                }
            }
        }
    }
}

/// The `F32` scale tensor of a quantized weight.
fn scale_param(weight: &ParamSpec, axis: ScaleAxis) -> ParamSpec {
    let d = weight.dims.as_slice();
    let dims = match axis {
        ScaleAxis::Rows => Dims::new(&d[..d.len().saturating_sub(1)]),
        ScaleAxis::Last => d.last().map(|&c| Dims::d1(c)),
        ScaleAxis::First => d.first().map(|&c| Dims::d1(c)),
    };
    ParamSpec {
        name: scale_name(weight.name),
        dims: dims.unwrap_or(Dims::d1(1)),
        dtype: DType::F32,
        regularized: false,
    }
}
