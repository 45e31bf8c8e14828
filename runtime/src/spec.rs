//! The single definition of every layer kind: shapes, parameter names and
//! tensor layouts. The trainer, the exporters and the runtime all use these
//! types; layouts are converted nowhere but in `ember-export`'s ONNX writer.
//!
//! Semantics are ONNX semantics (see `DESIGN.md`): a [`LayerSpec::Dense`]
//! computes `y = act(x · Wᵀ + b)` with `W` stored row-major as
//! `[units, inputs]`, exactly ONNX `Gemm(transB = 1)` followed by the
//! activation node.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Most dimensions a tensor may have.
pub const MAX_RANK: usize = 4;
/// Largest single dimension accepted in a blob (keeps every size product inside `u32`).
pub const MAX_DIM: u32 = 1 << 24;
/// Largest number of elements in one tensor.
pub const MAX_ELEMENTS: u64 = 1 << 28;

/// Element-wise (or, for softmax, vector-wise) non-linearity after a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Activation {
    /// Identity.
    Linear,
    /// `max(x, 0)` (ONNX `Relu`).
    Relu,
    /// `1 / (1 + e^-x)` (ONNX `Sigmoid`).
    Sigmoid,
    /// `tanh(x)` (ONNX `Tanh`).
    Tanh,
    /// Softmax over the last axis (ONNX `Softmax`, axis = -1).
    Softmax,
}

impl Activation {
    /// Lower-case name, as used in model files and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    /// Parses a lower-case name (the inverse of [`Activation::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Linear, Self::Relu, Self::Sigmoid, Self::Tanh, Self::Softmax].into_iter().find(|a| a.name() == name)
    }
}

/// Element type of a tensor in a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DType {
    /// Little-endian IEEE-754 binary32.
    F32,
    /// Raw bytes (text assets such as vocabularies).
    U8,
}

impl DType {
    /// Size of one element in bytes.
    pub const fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::U8 => 1,
        }
    }
}

/// A list of 1 to [`MAX_RANK`] dimensions, outermost first (row-major).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dims {
    rank: u8,
    dims: [u32; MAX_RANK],
}

impl Dims {
    /// Builds a dimension list; `None` if it is empty, longer than
    /// [`MAX_RANK`], or holds a zero or a dimension over [`MAX_DIM`].
    pub fn new(dims: &[u32]) -> Option<Self> {
        if dims.is_empty() || dims.len() > MAX_RANK {
            return None;
        }
        let mut d = [0u32; MAX_RANK];
        d[..dims.len()].copy_from_slice(dims);
        let out = Dims { rank: dims.len() as u8, dims: d };
        out.validate().ok().map(|_| out)
    }

    /// A one-dimensional list.
    pub fn d1(a: u32) -> Self {
        Dims { rank: 1, dims: [a, 0, 0, 0] }
    }

    /// A two-dimensional list.
    pub fn d2(a: u32, b: u32) -> Self {
        Dims { rank: 2, dims: [a, b, 0, 0] }
    }

    /// The dimensions.
    pub fn as_slice(&self) -> &[u32] {
        &self.dims[..(self.rank as usize).min(MAX_RANK)]
    }

    /// Number of elements (product of the dimensions).
    pub fn elements(&self) -> usize {
        self.as_slice().iter().map(|&d| d as usize).product()
    }

    /// Checks the invariants that [`Dims::new`] enforces (decoded values are untrusted).
    pub fn validate(&self) -> Result<(), Error> {
        let r = self.rank as usize;
        if r == 0 || r > MAX_RANK || self.dims[r..].iter().any(|&d| d != 0) {
            return Err(Error::BadDims);
        }
        let mut n: u64 = 1;
        for &d in &self.dims[..r] {
            if d == 0 || d > MAX_DIM {
                return Err(Error::BadDims);
            }
            n *= d as u64;
            if n > MAX_ELEMENTS {
                return Err(Error::BadDims);
            }
        }
        Ok(())
    }
}

/// What a model input holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValueKind {
    /// Real values.
    F32,
    /// Token ids (stored as f32 or i64 in ONNX, as `u32` on a device).
    TokenIds,
}

/// Shape (without the batch dimension) and meaning of a model input or output.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IoSpec {
    /// Element meaning.
    pub kind: ValueKind,
    /// Dimensions of one sample (the batch dimension is not included).
    pub dims: Dims,
    /// The closed range that valid values lie in, if the model declares one
    /// (for example `[0, 1]` for pixel intensities).
    pub range: Option<[f32; 2]>,
}

/// Which end of a sequence padding or truncation applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// The beginning (Keras's default `"pre"`).
    Pre,
    /// The end (`"post"`).
    Post,
}

/// Settings of the stable hashing tokenizer shared by host and device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenizerSpec {
    /// Vocabulary size, reserved ids included.
    pub vocab: u32,
    /// Ids below this are reserved (0 padding, 1 start, 2 out-of-vocabulary).
    pub reserved: u32,
    /// Lower-case the text before hashing.
    pub lowercase: bool,
    /// Sequence length after padding and truncation.
    pub max_len: u32,
    /// Where padding goes.
    pub padding: Side,
    /// Where truncation cuts.
    pub truncating: Side,
}

/// One parameter tensor of a layer: its name (suffix) and required dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Parameter name, for example `"weight"`; tensors are named `{layer}.{param}`.
    pub name: &'static str,
    /// Required dimensions.
    pub dims: Dims,
    /// Element type.
    pub dtype: DType,
    /// Whether L2 regularisation applies to it (kernels, not biases).
    pub regularized: bool,
}

/// One layer of a model: its kind and sizes. Parameter tensors are listed
/// separately in the blob's tensor table, in layer order, then in the order of
/// [`LayerSpec::param`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LayerSpec {
    /// Fully connected: `y = act(x · Wᵀ + b)`.
    ///
    /// Parameters: `weight` `[units, inputs]` (row-major, ONNX `Gemm` with
    /// `transB = 1`), `bias` `[units]`.
    Dense {
        /// Input features.
        inputs: u32,
        /// Output features.
        units: u32,
        /// Activation after the affine map.
        activation: Activation,
    },
}

impl LayerSpec {
    /// Short lower-case kind name (`"dense"`), used for tensor names.
    pub const fn kind_name(&self) -> &'static str {
        match self {
            LayerSpec::Dense { .. } => "dense",
        }
    }

    /// Number of elements of one input sample.
    pub fn input_len(&self) -> usize {
        match *self {
            LayerSpec::Dense { inputs, .. } => inputs as usize,
        }
    }

    /// Number of elements of one output sample.
    pub fn output_len(&self) -> usize {
        match *self {
            LayerSpec::Dense { units, .. } => units as usize,
        }
    }

    /// What the layer's input holds.
    pub fn input_kind(&self) -> ValueKind {
        match self {
            LayerSpec::Dense { .. } => ValueKind::F32,
        }
    }

    /// The activation applied at the layer's output.
    pub fn activation(&self) -> Activation {
        match *self {
            LayerSpec::Dense { activation, .. } => activation,
        }
    }

    /// Number of parameter tensors.
    pub fn param_count(&self) -> usize {
        match self {
            LayerSpec::Dense { .. } => 2,
        }
    }

    /// The `i`-th parameter tensor, `None` past [`LayerSpec::param_count`].
    pub fn param(&self, i: usize) -> Option<ParamSpec> {
        match *self {
            LayerSpec::Dense { inputs, units, .. } => match i {
                0 => Some(ParamSpec {
                    name: "weight",
                    dims: Dims::d2(units, inputs),
                    dtype: DType::F32,
                    regularized: true,
                }),
                1 => Some(ParamSpec { name: "bias", dims: Dims::d1(units), dtype: DType::F32, regularized: false }),
                _ => None,
            },
        }
    }

    /// Checks that the sizes are non-zero and within [`MAX_DIM`].
    pub fn validate(&self) -> Result<(), Error> {
        match *self {
            LayerSpec::Dense { inputs, units, .. } => {
                if inputs == 0 || units == 0 || inputs > MAX_DIM || units > MAX_DIM {
                    return Err(Error::BadLayer);
                }
                if inputs as u64 * units as u64 > MAX_ELEMENTS {
                    return Err(Error::BadLayer);
                }
            }
        }
        Ok(())
    }
}
