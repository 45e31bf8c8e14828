//! [`LayerCursor`]: the layers of a parsed [`Blob`] in order, each with its
//! quantization and its tensors (as its mode lists them).

use crate::Error;
use crate::qspec::{LayerQuant, QuantMode};
use crate::spec::LayerSpec;

use super::Blob;

/// Walks the layers of a [`Blob`] in order, handing each layer's spec and
/// tensors to the typed layer that binds it.
pub struct LayerCursor<'b, 'a> {
    blob: &'b Blob<'a>,
    layer: usize,
    tensor: usize,
}

/// One layer taken from a [`LayerCursor`].
pub struct LayerEntry<'b, 'a> {
    blob: &'b Blob<'a>,
    /// The layer's spec.
    pub spec: LayerSpec,
    /// How the layer is quantized ([`LayerQuant::FLOAT`] in a version-1 blob).
    pub quant: LayerQuant,
    first_tensor: usize,
}

impl<'a> LayerEntry<'_, 'a> {
    /// Index of the layer's parameter `i` (in [`LayerSpec::qparam`] order for
    /// its mode) in the tensor table.
    fn tensor_index(&self, i: usize) -> Result<usize, Error> {
        if i >= self.spec.qparam_count(self.quant.mode) {
            return Err(Error::TensorCount);
        }
        Ok(self.first_tensor + i)
    }

    /// The layer's `i`-th parameter as `f32`, in place; `i` indexes the
    /// layer's [`LayerSpec::qparam`] list for its mode (for an f32 layer the
    /// same as [`LayerSpec::param`]). [`Error::TensorType`] if it is not `F32`.
    pub fn param_f32(&self, i: usize) -> Result<&'a [f32], Error> {
        self.blob.tensor_f32(self.tensor_index(i)?)
    }

    /// The layer's `i`-th parameter (as in [`LayerEntry::param_f32`]) as `i8`, in place.
    pub fn param_i8(&self, i: usize) -> Result<&'a [i8], Error> {
        self.blob.tensor_i8(self.tensor_index(i)?)
    }

    /// The layer's `i`-th parameter (as in [`LayerEntry::param_f32`]) as `i32`, in place.
    pub fn param_i32(&self, i: usize) -> Result<&'a [i32], Error> {
        self.blob.tensor_i32(self.tensor_index(i)?)
    }

    /// The layer's mode (shorthand for `self.quant.mode`).
    pub fn mode(&self) -> QuantMode {
        self.quant.mode
    }
}

impl<'b, 'a> LayerCursor<'b, 'a> {
    /// A cursor before the first layer of `blob`.
    pub(super) fn new(blob: &'b Blob<'a>) -> Self {
        LayerCursor { blob, layer: 0, tensor: 0 }
    }

    /// Takes the next layer; [`Error::LayerCount`] if there is none.
    pub fn next_layer(&mut self) -> Result<LayerEntry<'b, 'a>, Error> {
        let spec = *self.blob.header.layers.get(self.layer).ok_or(Error::LayerCount)?;
        let quant = self.blob.header.layer_quant(self.layer);
        let entry = LayerEntry { blob: self.blob, spec, quant, first_tensor: self.tensor };
        self.layer += 1;
        self.tensor += spec.qparam_count(quant.mode);
        Ok(entry)
    }

    /// Succeeds if every layer has been taken.
    pub fn finish(self) -> Result<(), Error> {
        if self.layer == self.blob.header.layers.len() { Ok(()) } else { Err(Error::LayerCount) }
    }
}
