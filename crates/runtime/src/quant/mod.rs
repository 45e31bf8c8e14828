//! Integer (int8) inference arithmetic, after TensorFlow Lite and CMSIS-NN.
//!
//! The number format is the affine one of TFLite and ONNX: a real value `r`
//! is stored as an integer `q` with `r = scale · (q − zero_point)`.
//!
//! * activations: `i8`, asymmetric (a scale and a zero point per tensor);
//! * weights: `i8`, symmetric (zero point 0), one scale per output channel;
//! * biases: `i32` with scale `input_scale · weight_scale[c]` and zero point 0;
//! * accumulators: `i32`.
//!
//! A layer's `i32` accumulator is brought back to `i8` by [`requantize`]: a
//! multiplication by the real factor `input_scale · weight_scale[c] /
//! output_scale`, represented as a [`QuantizedMultiplier`] (a Q31 mantissa and
//! a power-of-two shift, TFLite's `QuantizeMultiplier`), followed by adding
//! the output zero point and clamping to `[act_min, act_max]` (a fused ReLU is
//! a clamp bound). All of it is `no_std`, allocation-free and panic-free:
//! kernels use wrapping `i32` arithmetic, which is exact whenever a dot product
//! has fewer than 2³¹ / (255 · 128) ≈ 65 000 terms.
//!
//! * [`fixed`]: multiplier and shift, gemmlowp's rounding primitives;
//! * [`linear`]: f32 ↔ i8 (ONNX `QuantizeLinear` / `DequantizeLinear`);
//! * [`dot`]: the int8 dot product (portable, and the Cortex-M DSP path);
//! * [`dense`]: fully connected, with the input offset folded into the bias;
//! * [`conv`]: 2-D convolution and depthwise convolution over HWC tensors;
//! * [`pool`]: max and average pooling of int8 HWC tensors;
//! * [`int8`]: int8 layers run from a version-2 blob's tensors (f32 in and out);
//! * [`int8_acc`]: their accumulators (dense, im2row convolution, depthwise);
//! * [`weights_only`]: int8 weights with per-row scales, f32 activations.

pub mod conv;
pub mod dense;
pub mod dot;
pub mod fixed;
pub mod int8;
pub mod int8_acc;
pub mod linear;
pub mod pool;
pub mod weights_only;

pub use conv::{Conv2dGeometry, QConv2d, QDepthwise};
pub use dense::{QDense, fold_input_offset};
pub use fixed::{QuantizedMultiplier, multiply_by_quantized_multiplier, requantize};
pub use int8::{Int8Layer, Int8Shape};
pub use linear::{QuantParams, dequantize, quantize};
pub use pool::{PoolGeometry, avg_pool_i8, max_pool_i8};
pub use weights_only::QCellParams;

/// The output stage shared by the int8 kernels: the output zero point and the
/// clamp bounds (the fused activation: `[zp, 127]` is a ReLU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputStage {
    /// Zero point of the output tensor.
    pub zero_point: i32,
    /// Lowest output value (−128, or the zero point for a fused ReLU).
    pub act_min: i8,
    /// Highest output value (127, or lower for a fused ReLU6).
    pub act_max: i8,
}

impl OutputStage {
    /// No activation: the whole `i8` range.
    pub const fn linear(zero_point: i32) -> Self {
        Self { zero_point, act_min: i8::MIN, act_max: i8::MAX }
    }

    /// A fused ReLU: outputs below the real value 0 (the zero point) are clamped.
    pub const fn relu(zero_point: i32) -> Self {
        let lo = if zero_point < -128 {
            -128
        } else if zero_point > 127 {
            127
        } else {
            zero_point
        };
        Self { zero_point, act_min: lo as i8, act_max: i8::MAX }
    }
}
