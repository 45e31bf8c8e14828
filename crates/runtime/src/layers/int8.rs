//! What the typed int8 layers share: binding a blob layer in
//! [`QuantMode::Int8`] to an [`Int8Layer`] (see [`crate::quant::int8`]).

use crate::Error;
use crate::format::LayerEntry;
use crate::qspec::QuantMode;
use crate::quant::{Int8Layer, Int8Shape};
use crate::spec::Activation;

/// Binds an int8 layer's tensors (`weight`, `weight_scale`, `kernel_bias`,
/// `requant`, see [`crate::spec::LayerSpec::qparam`]) and checks them against
/// `shape` and `channels` output channels.
///
/// # Errors
/// [`Error::LayerKind`] if the layer is not int8, a tensor error if a tensor
/// is missing or of the wrong type, [`Error::TensorShape`] if a length differs.
pub(crate) fn bind_int8<'a>(
    entry: &LayerEntry<'_, 'a>,
    shape: Int8Shape,
    channels: usize,
    activation: Activation,
) -> Result<Int8Layer<'a>, Error> {
    if entry.mode() != QuantMode::Int8 {
        return Err(Error::LayerKind);
    }
    let (weight, scale) = (entry.param_i8(0)?, entry.param_f32(1)?);
    let (kernel_bias, requant) = (entry.param_i32(3)?, entry.param_i32(4)?);
    let q = entry.quant;
    let layer = Int8Layer::new(shape, weight, scale, kernel_bias, requant, q.input, q.output, activation)?;
    if layer.channels() != channels {
        return Err(Error::TensorShape);
    }
    Ok(layer)
}

/// Checks that a layer runs in `mode` ([`Error::LayerKind`] otherwise).
pub(crate) fn expect_mode(entry: &LayerEntry<'_, '_>, mode: QuantMode) -> Result<(), Error> {
    if entry.mode() == mode { Ok(()) } else { Err(Error::LayerKind) }
}

/// `f32` slots that an `n`-byte `i8` buffer takes (for `PEAK_ACTIVATION_FLOATS`).
pub(crate) const fn i8_floats(n: usize) -> usize {
    n.div_ceil(4)
}
