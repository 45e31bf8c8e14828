//! The stored form of a quantized [`crate::Model`]: per layer its
//! [`LayerQuant`] and the tensors [`ember_runtime::spec::LayerSpec::qparam`]
//! lists for the layer's mode, as a version-2 blob holds them.

use ember_runtime::qspec::LayerQuant;
use ember_runtime::spec::DType;

/// The values of one stored tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum QData {
    /// `F32` (scales, f32 biases, parameters of layers left in f32).
    F32(Vec<f32>),
    /// `I8` (quantized weights).
    I8(Vec<i8>),
    /// `I32` (quantized biases, folded kernel biases, requantization pairs).
    I32(Vec<i32>),
}

impl QData {
    /// The blob element type.
    pub fn dtype(&self) -> DType {
        match self {
            QData::F32(_) => DType::F32,
            QData::I8(_) => DType::I8,
            QData::I32(_) => DType::I32,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            QData::F32(v) => v.len(),
            QData::I8(v) => v.len(),
            QData::I32(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One stored tensor of a quantized model.
#[derive(Clone, Debug, PartialEq)]
pub struct QTensor {
    /// `{kind}_{layer}.{param}`, the param name from `LayerSpec::qparam`.
    pub name: String,
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: QData,
}

/// How a model is quantized, and the tensors its blob stores.
///
/// When a [`crate::Model`] has `quant: Some(_)`, its `params` stay the f32
/// view of the same model (dequantized weights: `q · scale`; an int8 layer's
/// bias as `bias_i32 · s_in · s_w[c]`), which the f32 exporters and the
/// summary use, while the blob stores `tensors`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// One entry per layer of the model.
    pub layers: Vec<LayerQuant>,
    /// In layer order, each layer's `LayerSpec::qparam(i, mode)` tensors.
    pub tensors: Vec<QTensor>,
}
