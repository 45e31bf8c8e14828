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

/// How text becomes token ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TokenizerKind {
    /// Stable hashing: `id = reserved + fnv1a32(word) % (vocab - reserved)`
    /// (see [`crate::text`]); needs no word list, fixed forever.
    Hashing,
    /// A word list stored in the blob as the `u8` tensor named `vocab`:
    /// words separated by `\n`, the first one having id `reserved`. Words not
    /// in the list get the out-of-vocabulary id 2.
    Vocabulary,
}

/// Settings of the tokenizer shared by host and device (see [`crate::text`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenizerSpec {
    /// Hashing or word list.
    pub kind: TokenizerKind,
    /// Vocabulary size, reserved ids included.
    pub vocab: u32,
    /// Ids below this are reserved (0 padding, 1 start, 2 out-of-vocabulary).
    pub reserved: u32,
    /// Lower-case the text (ASCII letters only) before lookup.
    pub lowercase: bool,
    /// Put the start id 1 before the first word (Keras IMDB convention).
    pub start_token: bool,
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
///
/// Sequences are stored time-major within a sample: a sample of `seq_len`
/// steps of `n` features is `[seq_len, n]` row-major (step `t` at `t * n`),
/// so that [`LayerSpec::Flatten`] after it moves no data.
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
    /// Table lookup (ONNX `Gather` on axis 0): token ids `[seq_len]` →
    /// `[seq_len, dim]`. An id `>= vocab` is an error, never a clamp.
    ///
    /// Parameters: `weight` `[vocab, dim]` (row `i` is the vector of id `i`).
    Embedding {
        /// Number of rows (ids `0..vocab`).
        vocab: u32,
        /// Vector length.
        dim: u32,
        /// Ids per sample.
        seq_len: u32,
    },
    /// Reshape of a sample to one flat vector (ONNX `Flatten`, axis 1). Moves
    /// no data; kept so that exports and typed models see the shapes.
    Flatten {
        /// Dimensions of the input sample.
        dims: Dims,
    },
    /// Identity at inference; zeroes a fraction of the values while training
    /// (inverted dropout). Not exported to ONNX (it is the identity there).
    Dropout {
        /// Values per sample.
        len: u32,
        /// Fraction dropped while training, in parts per million.
        rate_ppm: u32,
    },
    /// Elman RNN with tanh, exactly ONNX `RNN` (`activations = [Tanh]`):
    /// `h_t = tanh(x_t · Wᵀ + h_{t-1} · Rᵀ + Wb + Rb)`, `h_0 = 0`. Input
    /// `[seq_len, inputs]`; output the last state `[dirs * units]` or every
    /// state `[seq_len, dirs * units]` (`return_sequences`). Bidirectional
    /// runs a second cell over the reversed sequence and concatenates
    /// (forward first), like Keras's `Bidirectional(merge_mode="concat")`:
    /// its "last" backward state is the one after reading step 0.
    ///
    /// Parameters (ONNX layouts, `dirs` = 1 or 2): `w` `[dirs, units, inputs]`,
    /// `r` `[dirs, units, units]`, `b` `[dirs, 2 * units]` (`Wb` then `Rb`).
    SimpleRnn {
        /// Features per step.
        inputs: u32,
        /// State size per direction.
        units: u32,
        /// Steps per sample.
        seq_len: u32,
        /// Output every step's state instead of the last.
        return_sequences: bool,
        /// Also run backwards in time and concatenate.
        bidirectional: bool,
    },
    /// LSTM, exactly ONNX `LSTM` (no peepholes, default activations): gates
    /// `i, o, f` = sigmoid, cell candidate `c` = tanh,
    /// `C_t = f ⊙ C_{t-1} + i ⊙ c`, `h_t = o ⊙ tanh(C_t)`, zero initial
    /// states. Shapes and directions as [`LayerSpec::SimpleRnn`].
    ///
    /// Parameters (ONNX layouts, gate blocks in the order `i, o, f, c`):
    /// `w` `[dirs, 4 * units, inputs]`, `r` `[dirs, 4 * units, units]`,
    /// `b` `[dirs, 8 * units]` (`Wb` then `Rb`).
    Lstm {
        /// Features per step.
        inputs: u32,
        /// State size per direction.
        units: u32,
        /// Steps per sample.
        seq_len: u32,
        /// Output every step's state instead of the last.
        return_sequences: bool,
        /// Also run backwards in time and concatenate.
        bidirectional: bool,
    },
}

/// The sizes shared by the recurrent layers ([`LayerSpec::SimpleRnn`], [`LayerSpec::Lstm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecurrentDims {
    /// Features per step.
    pub inputs: usize,
    /// State size per direction.
    pub units: usize,
    /// Steps per sample.
    pub seq_len: usize,
    /// Output every step's state.
    pub return_sequences: bool,
    /// 1 or 2.
    pub dirs: usize,
    /// Gate blocks per cell: 1 (RNN) or 4 (LSTM).
    pub gates: usize,
}

impl RecurrentDims {
    /// Output features per step (`dirs * units`).
    pub fn step_out(&self) -> usize {
        self.dirs * self.units
    }
}

fn f32_param(name: &'static str, dims: Dims, regularized: bool) -> Option<ParamSpec> {
    Some(ParamSpec { name, dims, dtype: DType::F32, regularized })
}

fn in_range(v: u32) -> bool {
    v != 0 && v <= MAX_DIM
}

impl LayerSpec {
    /// Short lower-case kind name (`"dense"`), used for tensor names.
    pub const fn kind_name(&self) -> &'static str {
        match self {
            LayerSpec::Dense { .. } => "dense",
            LayerSpec::Embedding { .. } => "embedding",
            LayerSpec::Flatten { .. } => "flatten",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::SimpleRnn { .. } => "rnn",
            LayerSpec::Lstm { .. } => "lstm",
        }
    }

    /// The sizes of a recurrent layer; `None` for other kinds.
    pub fn recurrent(&self) -> Option<RecurrentDims> {
        let (inputs, units, seq_len, return_sequences, bidirectional, gates) = match *self {
            LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences, bidirectional } => {
                (inputs, units, seq_len, return_sequences, bidirectional, 1)
            }
            LayerSpec::Lstm { inputs, units, seq_len, return_sequences, bidirectional } => {
                (inputs, units, seq_len, return_sequences, bidirectional, 4)
            }
            _ => return None,
        };
        Some(RecurrentDims {
            inputs: inputs as usize,
            units: units as usize,
            seq_len: seq_len as usize,
            return_sequences,
            dirs: if bidirectional { 2 } else { 1 },
            gates,
        })
    }

    /// Number of elements of one input sample.
    pub fn input_len(&self) -> usize {
        match *self {
            LayerSpec::Dense { inputs, .. } => inputs as usize,
            LayerSpec::Embedding { seq_len, .. } => seq_len as usize,
            LayerSpec::Flatten { dims } => dims.elements(),
            LayerSpec::Dropout { len, .. } => len as usize,
            LayerSpec::SimpleRnn { inputs, seq_len, .. } | LayerSpec::Lstm { inputs, seq_len, .. } => {
                inputs as usize * seq_len as usize
            }
        }
    }

    /// Number of elements of one output sample.
    pub fn output_len(&self) -> usize {
        self.output_dims().elements()
    }

    /// Dimensions of one output sample (`[seq_len, features]` for sequences).
    pub fn output_dims(&self) -> Dims {
        match *self {
            LayerSpec::Dense { units, .. } => Dims::d1(units),
            LayerSpec::Embedding { dim, seq_len, .. } => Dims::d2(seq_len, dim),
            LayerSpec::Flatten { dims } => Dims::d1(dims.elements() as u32),
            LayerSpec::Dropout { len, .. } => Dims::d1(len),
            LayerSpec::SimpleRnn { units, seq_len, return_sequences, bidirectional, .. }
            | LayerSpec::Lstm { units, seq_len, return_sequences, bidirectional, .. } => {
                let out = units * if bidirectional { 2 } else { 1 };
                if return_sequences { Dims::d2(seq_len, out) } else { Dims::d1(out) }
            }
        }
    }

    /// What the layer's input holds.
    pub fn input_kind(&self) -> ValueKind {
        match self {
            LayerSpec::Embedding { .. } => ValueKind::TokenIds,
            _ => ValueKind::F32,
        }
    }

    /// The activation applied at the layer's output (`Linear` for layers
    /// without one; `Tanh` for [`LayerSpec::SimpleRnn`]).
    pub fn activation(&self) -> Activation {
        match *self {
            LayerSpec::Dense { activation, .. } => activation,
            LayerSpec::SimpleRnn { .. } => Activation::Tanh,
            _ => Activation::Linear,
        }
    }

    /// Number of parameter tensors.
    pub fn param_count(&self) -> usize {
        match self {
            LayerSpec::Dense { .. } => 2,
            LayerSpec::Embedding { .. } => 1,
            LayerSpec::Flatten { .. } | LayerSpec::Dropout { .. } => 0,
            LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } => 3,
        }
    }

    /// The `i`-th parameter tensor, `None` past [`LayerSpec::param_count`].
    pub fn param(&self, i: usize) -> Option<ParamSpec> {
        match *self {
            LayerSpec::Dense { inputs, units, .. } => match i {
                0 => f32_param("weight", Dims::d2(units, inputs), true),
                1 => f32_param("bias", Dims::d1(units), false),
                _ => None,
            },
            // Keras applies no regulariser to embeddings by default, and a
            // dense L2 gradient would defeat the sparse update.
            LayerSpec::Embedding { vocab, dim, .. } if i == 0 => f32_param("weight", Dims::d2(vocab, dim), false),
            LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } => {
                let r = self.recurrent()?;
                let (d, g, h) = (r.dirs as u32, (r.gates * r.units) as u32, r.units as u32);
                match i {
                    0 => f32_param("w", Dims::new(&[d, g, r.inputs as u32])?, true),
                    1 => f32_param("r", Dims::new(&[d, g, h])?, true),
                    2 => f32_param("b", Dims::d2(d, 2 * g), false),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Checks that the sizes are non-zero and that every tensor and
    /// activation stays within [`MAX_DIM`] and [`MAX_ELEMENTS`].
    pub fn validate(&self) -> Result<(), Error> {
        let ok = match *self {
            LayerSpec::Dense { inputs, units, .. } => in_range(inputs) && in_range(units),
            LayerSpec::Embedding { vocab, dim, seq_len } => in_range(vocab) && in_range(dim) && in_range(seq_len),
            LayerSpec::Flatten { dims } => dims.validate().is_ok(),
            LayerSpec::Dropout { len, rate_ppm } => in_range(len) && rate_ppm < 1_000_000,
            LayerSpec::SimpleRnn { inputs, units, seq_len, .. } | LayerSpec::Lstm { inputs, units, seq_len, .. } => {
                in_range(inputs) && in_range(units) && in_range(seq_len)
            }
        };
        if !ok {
            return Err(Error::BadLayer);
        }
        let small = |n: u64| n <= MAX_ELEMENTS;
        let sizes_ok = small(self.input_len_u64())
            && small(self.output_len_u64())
            && (0..self.param_count()).all(|i| self.param(i).is_some_and(|p| p.dims.validate().is_ok()));
        if sizes_ok { Ok(()) } else { Err(Error::BadLayer) }
    }

    /// Input length in `u64`, safe to compute before [`LayerSpec::validate`].
    fn input_len_u64(&self) -> u64 {
        match *self {
            LayerSpec::SimpleRnn { inputs, seq_len, .. } | LayerSpec::Lstm { inputs, seq_len, .. } => {
                inputs as u64 * seq_len as u64
            }
            LayerSpec::Flatten { dims } => dims.elements() as u64,
            _ => self.input_len() as u64,
        }
    }

    /// Output length in `u64` (an upper bound for recurrent layers), safe to
    /// compute before [`LayerSpec::validate`].
    fn output_len_u64(&self) -> u64 {
        match *self {
            LayerSpec::Embedding { dim, seq_len, .. } => dim as u64 * seq_len as u64,
            LayerSpec::SimpleRnn { units, seq_len, .. } | LayerSpec::Lstm { units, seq_len, .. } => {
                2 * units as u64 * seq_len as u64
            }
            LayerSpec::Dense { units, .. } => units as u64,
            LayerSpec::Flatten { dims } => dims.elements() as u64,
            LayerSpec::Dropout { len, .. } => len as u64,
        }
    }
}
