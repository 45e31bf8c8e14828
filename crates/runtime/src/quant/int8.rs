//! The int8 layers of a version-2 blob ([`crate::qspec::QuantMode::Int8`]),
//! run straight from the blob's tensors: `weight` `I8`, `weight_scale` `F32`,
//! `kernel_bias` `I32` (the bias with the input zero point folded in, padded
//! taps counted as the zero point) and `requant` `I32` `[C, 2]` (Q31
//! multiplier, shift).
//!
//! [`Int8Layer::run`] takes and returns f32 activations (the interpreter and
//! the typed layers pass f32 between layers): it quantizes the input with
//! ONNX `QuantizeLinear` semantics, accumulates `kernel_bias[c] + Σ x_q · w`
//! in `i32` ([`dense_acc`], [`conv_acc`], [`depthwise_acc`]) and then either
//! requantizes to the output's `i8` and dequantizes it (linear, ReLU), or, for
//! sigmoid, tanh and softmax, scales the accumulator to f32 (`acc · s_in ·
//! s_w[c]`) and applies the function in f32.

use super::OutputStage;
use super::fixed::{QuantizedMultiplier, requantize};
pub use super::int8_acc::{conv_acc, dense_acc, depthwise_acc};
use super::linear::{QuantParams, dequantize, quantize_slice};
use crate::spec::{Activation, Window2d};
use crate::{Error, activation};

/// The shape of an int8 layer's arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Shape {
    /// Fully connected: weights `[C, inputs]`.
    Dense {
        /// Input length.
        inputs: usize,
    },
    /// Convolution over HWC: weights OHWI `[C, kh, kw, c_in]`.
    Conv(Window2d),
    /// Depthwise convolution (multiplier 1): weights `[kh, kw, C]`.
    Depthwise(Window2d),
}

impl Int8Shape {
    /// Input elements.
    pub fn input_len(&self) -> usize {
        match *self {
            Int8Shape::Dense { inputs } => inputs,
            Int8Shape::Conv(g) | Int8Shape::Depthwise(g) => g.h * g.w * g.c,
        }
    }

    /// Output elements for `channels` output channels.
    pub fn output_len(&self, channels: usize) -> usize {
        match *self {
            Int8Shape::Dense { .. } => channels,
            Int8Shape::Conv(g) | Int8Shape::Depthwise(g) => g.oh * g.ow * channels,
        }
    }

    /// Weight elements for `channels` output channels.
    pub fn weight_len(&self, channels: usize) -> usize {
        match *self {
            Int8Shape::Dense { inputs } => channels * inputs,
            Int8Shape::Conv(g) => channels * g.kh * g.kw * g.c,
            Int8Shape::Depthwise(g) => g.kh * g.kw * channels,
        }
    }
}

/// An int8 layer bound to its blob tensors.
#[derive(Clone, Copy, Debug)]
pub struct Int8Layer<'a> {
    /// The arithmetic's shape.
    pub shape: Int8Shape,
    /// Weights, symmetric int8.
    pub weight: &'a [i8],
    /// Per-channel weight scales `[C]`.
    pub weight_scale: &'a [f32],
    /// `bias − zp_in · Σ w` per channel `[C]`.
    pub kernel_bias: &'a [i32],
    /// Per-channel `[multiplier, shift]` of `s_in · s_w[c] / s_out`.
    pub requant: &'a [[i32; 2]],
    /// The input's quantization.
    pub input: QuantParams,
    /// The output's quantization (linear and ReLU only).
    pub output: QuantParams,
    /// The fused activation.
    pub activation: Activation,
}

impl<'a> Int8Layer<'a> {
    /// Binds and checks the parts (`requant` as the flat `I32` tensor `[C, 2]`).
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a length disagrees with the shape or the
    /// channel count, [`Error::LayerShape`] for a depthwise layer whose
    /// channel count differs from its input's.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        shape: Int8Shape,
        weight: &'a [i8],
        weight_scale: &'a [f32],
        kernel_bias: &'a [i32],
        requant: &'a [i32],
        input: QuantParams,
        output: QuantParams,
        activation: Activation,
    ) -> Result<Self, Error> {
        let c = kernel_bias.len();
        let (requant, rest) = requant.as_chunks::<2>();
        let ok = c > 0
            && rest.is_empty()
            && requant.len() == c
            && weight_scale.len() == c
            && weight.len() == shape.weight_len(c)
            && shape.input_len() > 0;
        if !ok {
            return Err(Error::TensorShape);
        }
        if matches!(shape, Int8Shape::Depthwise(g) if g.c != c) {
            return Err(Error::LayerShape);
        }
        Ok(Self { shape, weight, weight_scale, kernel_bias, requant, input, output, activation })
    }

    /// Output channels.
    pub fn channels(&self) -> usize {
        self.kernel_bias.len()
    }

    /// Runs the layer on f32 activations.
    ///
    /// # Shapes
    /// `x`: the input (`[inputs]` or `[h, w, c]`), `xq`: scratch of the same
    /// length, `y`: the output (`[C]` or `[oh, ow, C]`).
    ///
    /// # Errors
    /// [`Error::InputShape`] if a buffer has the wrong length.
    pub fn run(&self, x: &[f32], xq: &mut [i8], y: &mut [f32]) -> Result<(), Error> {
        let c = self.channels();
        if x.len() != self.shape.input_len() || xq.len() != x.len() || y.len() != self.shape.output_len(c) {
            return Err(Error::InputShape);
        }
        quantize_slice(x, self.input, xq);
        let stage = match self.activation {
            Activation::Linear => Some(OutputStage::linear(self.output.zero_point)),
            Activation::Relu => Some(OutputStage::relu(self.output.zero_point)),
            _ => None,
        };
        let out = self.output;
        let (s_in, s_w, requant) = (self.input.scale, self.weight_scale, self.requant);
        let emit = |ch: usize, acc: i32| match stage {
            Some(stage) => {
                let [multiplier, shift] = requant[ch];
                dequantize(requantize(acc, QuantizedMultiplier { multiplier, shift }, stage), out)
            }
            None => float_acc(acc, s_in, s_w[ch]),
        };
        let zp = self.input.zero_point;
        match self.shape {
            Int8Shape::Dense { inputs } => {
                dense_acc(self.weight, self.kernel_bias, inputs, xq, |o, a| y[o] = emit(o, a))
            }
            Int8Shape::Conv(g) => conv_acc(&g, self.weight, self.kernel_bias, zp, xq, |i, ch, a| y[i] = emit(ch, a)),
            Int8Shape::Depthwise(g) => {
                depthwise_acc(&g, self.weight, self.kernel_bias, zp, xq, |i, ch, a| y[i] = emit(ch, a))
            }
        }
        if stage.is_none() {
            activation::apply(self.activation, y);
        }
        Ok(())
    }
}

/// An accumulator in real units: `acc · s_in · s_w` (in this order, in f32).
#[inline]
pub fn float_acc(acc: i32, s_in: f32, s_w: f32) -> f32 {
    acc as f32 * s_in * s_w
}
