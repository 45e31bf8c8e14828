//! Post-training quantization on the host: the statistics and parameters
//! that turn an f32 model into an int8 one for `ember_runtime::quant`.
//!
//! It lives in ember-export because quantizing is a conversion of a
//! [`crate::Model`]'s tensors (export owns every layout and encoding change),
//! and because `ember quantize MODEL.emb --calibration DATA` works on an
//! exported model without the trainer; the trainer (`ember train --quantize`)
//! depends on this crate and reaches it too. The activations to observe come
//! from any f32 forward pass (the runtime's `dynamic` interpreter for a blob).
//!
//! * [`calibrate`]: per-tensor range observers (min/max or a percentile) and
//!   activation scale / zero point with TFLite's nudging;
//! * [`quantize`]: a whole model from its f32 self and calibration inputs
//!   ([`observe`] runs the f32 layers one by one);
//! * [`stored`]: the stored (blob) form of a quantized model;
//! * [`weights`]: per-output-channel symmetric weight scales, int32 biases,
//!   int8 embedding tables with a scale per row.

pub mod calibrate;
mod layer;
pub mod observe;
pub mod quantize;
pub mod stored;
pub mod weights;

pub use calibrate::{CalibrationError, Observer, RangeMode, activation_params};
pub use quantize::{QuantizeError, QuantizeOptions, Scheme, has_int8_output, quantize};
pub use stored::{QData, QTensor, Quantized};
pub use weights::{QuantizedRows, quantize_bias_i32, quantize_rows_symmetric};

#[cfg(test)]
mod tests;
