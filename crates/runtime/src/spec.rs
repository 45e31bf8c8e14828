//! The single definition of every layer kind: shapes, parameter names and
//! tensor layouts. The trainer, the exporters and the runtime all use these
//! types; layouts are converted nowhere but in `ember-export`'s ONNX writer.
//!
//! Semantics are ONNX semantics (see `docs/ARCHITECTURE.md`): a [`LayerSpec::Dense`]
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
    /// Signed 8-bit integers (quantized weights; format version 2).
    I8,
    /// Little-endian signed 16-bit integers (format version 2).
    I16,
    /// Little-endian signed 32-bit integers (quantized biases, requantization
    /// multipliers and shifts; format version 2).
    I32,
}

impl DType {
    /// Size of one element in bytes.
    pub const fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::U8 | DType::I8 => 1,
            DType::I16 => 2,
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

    /// The list exactly as decoded from a blob (not checked: see [`Dims::validate`]).
    pub(crate) const fn from_raw(rank: u8, dims: [u32; MAX_RANK]) -> Self {
        Dims { rank, dims }
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

/// Padding of a 2-D window (convolution or pooling), as in Keras.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// No padding: only windows that lie wholly inside the input
    /// (`out = (n - k) / s + 1`).
    Valid,
    /// Keras/TensorFlow `"same"`: `out = ceil(n / s)`, padded by
    /// `max((out - 1) * s + k - n, 0)` cells split as `total / 2` before and
    /// the rest after (ONNX explicit `pads`). Padded cells are zeros for a
    /// convolution and are skipped by max pooling.
    Same,
}

impl Padding {
    /// `(out, pad_before)` of a window of `k` cells moved by `stride` over `n`
    /// cells; `None` if no window fits or a size is zero.
    pub const fn geometry(self, n: usize, k: usize, stride: usize) -> Option<(usize, usize)> {
        self.dilated_geometry(n, k, stride, 1)
    }

    /// [`Padding::geometry`] of a window of `k` cells `dilation` apart (it
    /// spans `(k - 1) * dilation + 1` cells, as in ONNX `dilations` and Keras
    /// `dilation_rate`).
    pub const fn dilated_geometry(self, n: usize, k: usize, stride: usize, dilation: usize) -> Option<(usize, usize)> {
        if n == 0 || k == 0 || stride == 0 || dilation == 0 {
            return None;
        }
        let Some(span) = (k - 1).checked_mul(dilation) else {
            return None;
        };
        let span = span + 1;
        match self {
            Padding::Valid => {
                if span > n {
                    None
                } else {
                    Some(((n - span) / stride + 1, 0))
                }
            }
            Padding::Same => {
                let out = n.div_ceil(stride);
                let need = (out - 1) * stride + span;
                let total = need.saturating_sub(n);
                Some((out, total / 2))
            }
        }
    }

    /// Lower-case name (`"valid"`, `"same"`), as in model files.
    pub const fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }
}

/// Geometry of a 2-D window op (convolution or pooling) on one HWC sample:
/// input `[h, w, c]`, window `kh x kw` of cells `dh` rows and `dw` columns
/// apart, moved by `sh` rows and `sw` columns, output `[oh, ow, ·]`, input
/// cell `(oy * sh + ky * dh - pad_top, ox * sw + kx * dw - pad_left)` under
/// window cell `(ky, kx)`. A 1-D op on `[len, c]` is the 2-D op on
/// `[1, len, c]` with a `1 x k` window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window2d {
    /// Input rows.
    pub h: usize,
    /// Input columns.
    pub w: usize,
    /// Input channels.
    pub c: usize,
    /// Window rows.
    pub kh: usize,
    /// Window columns.
    pub kw: usize,
    /// Step between output rows.
    pub sh: usize,
    /// Step between output columns.
    pub sw: usize,
    /// Rows between window rows (1: adjacent).
    pub dh: usize,
    /// Columns between window columns (1: adjacent).
    pub dw: usize,
    /// Output rows.
    pub oh: usize,
    /// Output columns.
    pub ow: usize,
    /// Padding rows before the first input row.
    pub pad_top: usize,
    /// Padding columns before the first input column.
    pub pad_left: usize,
}

impl Window2d {
    /// The geometry of a `kh x kw` window moved by `stride` both ways, cells
    /// adjacent; `None` if no window fits or a size is zero.
    pub const fn new(
        h: usize,
        w: usize,
        c: usize,
        kh: usize,
        kw: usize,
        stride: usize,
        padding: Padding,
    ) -> Option<Self> {
        Self::general(h, w, c, [kh, kw], [stride, stride], [1, 1], padding)
    }

    /// The geometry of a `kernel` window moved by `stride` with `dilation`
    /// (each `[rows, columns]`); `None` if no window fits or a size is zero.
    pub const fn general(
        h: usize,
        w: usize,
        c: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        padding: Padding,
    ) -> Option<Self> {
        let (Some((oh, pad_top)), Some((ow, pad_left))) = (
            padding.dilated_geometry(h, kernel[0], stride[0], dilation[0]),
            padding.dilated_geometry(w, kernel[1], stride[1], dilation[1]),
        ) else {
            return None;
        };
        if c == 0 {
            return None;
        }
        Some(Window2d {
            h,
            w,
            c,
            kh: kernel[0],
            kw: kernel[1],
            sh: stride[0],
            sw: stride[1],
            dh: dilation[0],
            dw: dilation[1],
            oh,
            ow,
            pad_top,
            pad_left,
        })
    }

    /// The 1-D geometry of a `k`-cell window over `[len, c]`, as the 2-D one
    /// over `[1, len, c]`.
    pub const fn d1(len: usize, c: usize, k: usize, stride: usize, dilation: usize, padding: Padding) -> Option<Self> {
        Self::general(1, len, c, [1, k], [1, stride], [1, dilation], padding)
    }

    /// For output column `ox` of a window whose columns are adjacent
    /// (`dw == 1`): the window columns `kx0..kx1` that fall inside the input
    /// (padding excluded) and the input column under `kx0`.
    #[inline(always)]
    pub fn columns(&self, ox: usize) -> (usize, usize, usize) {
        let left = ox * self.sw; // input column of kx = 0, plus pad_left
        let kx0 = self.pad_left.saturating_sub(left);
        let kx1 = self.kw.min((self.w + self.pad_left).saturating_sub(left));
        (kx0, kx1.max(kx0), (left + kx0).saturating_sub(self.pad_left))
    }

    /// The input column under window column `kx` for output column `ox`, if inside.
    #[inline(always)]
    pub fn col(&self, ox: usize, kx: usize) -> Option<usize> {
        (ox * self.sw + kx * self.dw).checked_sub(self.pad_left).filter(|&ix| ix < self.w)
    }

    /// The input row under window row `ky` for output row `oy`, if inside.
    #[inline(always)]
    pub fn row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.sh + ky * self.dh).checked_sub(self.pad_top).filter(|&iy| iy < self.h)
    }

    /// Input cells (padding excluded) under the window of output `(oy, ox)`.
    pub fn cells(&self, oy: usize, ox: usize) -> usize {
        let rows = (0..self.kh).filter(|&ky| self.row(oy, ky).is_some()).count();
        let cols = (0..self.kw).filter(|&kx| self.col(ox, kx).is_some()).count();
        rows * cols
    }

    /// Padding rows after the last input row (ONNX `pads` end value).
    pub const fn pad_bottom(&self) -> usize {
        let need = (self.oh - 1) * self.sh + (self.kh - 1) * self.dh + 1;
        need.saturating_sub(self.h + self.pad_top)
    }

    /// Padding columns after the last input column.
    pub const fn pad_right(&self) -> usize {
        let need = (self.ow - 1) * self.sw + (self.kw - 1) * self.dw + 1;
        need.saturating_sub(self.w + self.pad_left)
    }
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
///
/// The enum is exhaustive on purpose: its variants, in this order, are part
/// of the blob's versioned wire format (the postcard discriminant is the
/// variant's index; see `FORMAT.md`), so a new kind is appended, never
/// inserted, and every `match` on a `LayerSpec` lists every kind: adding one
/// makes the compiler point at each place that must handle it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// 2-D convolution with stride 1, exactly ONNX `Conv` (explicit pads,
    /// zeros) followed by the activation: input `[height, width, channels]`
    /// (HWC, Keras `channels_last`), output `[oh, ow, filters]` with the
    /// sizes of [`Padding::geometry`]. Softmax is not allowed.
    ///
    /// Parameters: `weight` `[filters, kernel_h, kernel_w, channels]` (OHWI:
    /// one filter's window contiguous, each window row contiguous in the
    /// input too; ONNX's OIHW is written by the exporter), `bias` `[filters]`.
    Conv2d {
        /// Input rows.
        height: u32,
        /// Input columns.
        width: u32,
        /// Input channels.
        channels: u32,
        /// Output channels.
        filters: u32,
        /// Kernel rows.
        kernel_h: u32,
        /// Kernel columns.
        kernel_w: u32,
        /// Border handling.
        padding: Padding,
        /// Activation after the convolution.
        activation: Activation,
    },
    /// Max pooling over `pool x pool` windows moved by `pool` (ONNX `MaxPool`
    /// with `strides = kernel_shape` and explicit pads that never win):
    /// `[height, width, channels]` → `[oh, ow, channels]`; `"same"` turns 7
    /// rows into 4.
    MaxPool2d {
        /// Input rows.
        height: u32,
        /// Input columns.
        width: u32,
        /// Channels.
        channels: u32,
        /// Window size and stride.
        pool: u32,
        /// Border handling.
        padding: Padding,
    },
    /// Nearest-neighbour upsampling by an integer factor (Keras
    /// `UpSampling2D`, ONNX `Resize` nearest/asymmetric/floor):
    /// `[height, width, channels]` → `[factor·height, factor·width, channels]`,
    /// output `(y, x)` copying input `(y / factor, x / factor)`.
    Upsample2d {
        /// Input rows.
        height: u32,
        /// Input columns.
        width: u32,
        /// Channels.
        channels: u32,
        /// Scale in both directions.
        factor: u32,
    },
    /// Batch normalisation in inference form, exactly ONNX
    /// `BatchNormalization`: `y = (x - mean) / sqrt(var + epsilon) · gamma + beta`
    /// per channel, the channel being the last dimension of `dims` (features
    /// of a vector, channels of an HWC map, features of a time-major
    /// sequence). The output has the input's dimensions.
    ///
    /// Parameters: `gamma`, `beta`, `mean` (moving mean), `var` (moving
    /// variance), each `[channels]`.
    BatchNorm {
        /// Dimensions of one sample (the last one is the channel).
        dims: Dims,
        /// `epsilon` as IEEE-754 bits (`f32::to_bits`); finite and positive.
        epsilon_bits: u32,
    },
    /// Entity embeddings of categorical columns and their pairwise
    /// interactions (a factorisation machine over batch-normalised
    /// embeddings). The input is one row id per column, `[columns]` token
    /// ids, each the row of that column's category in the shared table
    /// (column `k`'s categories are rows `offset_k .. offset_k + count_k`, in
    /// column order; the blob's `columns` asset holds the counts). Row `id_k`
    /// is looked up (`e_k = weight[id_k]`), normalised with column `k`'s
    /// statistics in inference form, `n_k = (e_k - mean_k) / sqrt(var_k + epsilon)
    /// · gamma_k + beta_k` (ONNX `BatchNormalization`), and the output `[1]`
    /// is `Σ_{j<k} n_j · n_k + Σ_k bias[id_k]`: every pairwise dot product
    /// plus one learned bias per category. Put a `Dense` after it to scale
    /// and clip the prediction.
    ///
    /// Parameters: `weight` `[rows, dim]`, `bias` `[rows]`, and `gamma`,
    /// `beta`, `mean` (moving mean), `var` (moving variance), each `[columns, dim]`.
    EntityDot {
        /// Categorical columns (ids per sample).
        columns: u32,
        /// Rows of the shared table (categories of every column).
        rows: u32,
        /// Embedding length.
        dim: u32,
        /// Batch-norm `epsilon` as IEEE-754 bits; finite and positive.
        epsilon_bits: u32,
    },
    /// GRU, exactly ONNX `GRU` with `linear_before_reset = 1` (Keras's
    /// `GRU(reset_after=True)`), default activations: gates `z, r` = sigmoid,
    /// `z = σ(W_z·x_t + R_z·h_{t-1} + Wb_z + Rb_z)` (and `r` alike),
    /// candidate `ĥ = tanh(W_h·x_t + Wb_h + r ⊙ (R_h·h_{t-1} + Rb_h))`,
    /// `h_t = (1 - z) ⊙ ĥ + z ⊙ h_{t-1}`, zero initial state. Shapes and
    /// directions as [`LayerSpec::SimpleRnn`].
    ///
    /// Parameters (ONNX layouts, gate blocks in the order `z, r, h`):
    /// `w` `[dirs, 3 * units, inputs]`, `r` `[dirs, 3 * units, units]`,
    /// `b` `[dirs, 6 * units]` (`Wb` then `Rb`; `Rb_h` stays apart, inside
    /// the reset gate's product).
    Gru {
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
    /// 1-D convolution over time, exactly ONNX `Conv` on `[N, C, L]` (explicit
    /// zero pads, `strides = [stride]`, `dilations = [dilation]`) followed by
    /// the activation: input `[length, channels]` (time-major, channels last,
    /// Keras `Conv1D`), output `[out, filters]` with the sizes of
    /// [`Padding::dilated_geometry`]. Softmax is not allowed.
    ///
    /// Parameters: `weight` `[filters, kernel, channels]` (OWI: one filter's
    /// window contiguous; ONNX's OIW is written by the exporter), `bias` `[filters]`.
    Conv1d {
        /// Input steps.
        length: u32,
        /// Input channels.
        channels: u32,
        /// Output channels.
        filters: u32,
        /// Window cells.
        kernel: u32,
        /// Steps between outputs.
        stride: u32,
        /// Steps between window cells (1: adjacent).
        dilation: u32,
        /// Border handling.
        padding: Padding,
        /// Activation after the convolution.
        activation: Activation,
    },
    /// 1-D max pooling, exactly ONNX `MaxPool` on `[N, C, L]`
    /// (`kernel_shape = [pool]`, `strides = [stride]`, explicit pads that
    /// never win): `[length, channels]` → `[out, channels]`.
    MaxPool1d {
        /// Input steps.
        length: u32,
        /// Channels.
        channels: u32,
        /// Window cells.
        pool: u32,
        /// Steps between windows.
        stride: u32,
        /// Border handling.
        padding: Padding,
    },
    /// The mean of every channel over all steps or pixels, exactly ONNX
    /// `GlobalAveragePool` then `Flatten`: `[length, channels]` or
    /// `[height, width, channels]` → `[channels]` (Keras
    /// `GlobalAveragePooling1D/2D`).
    GlobalAveragePool {
        /// Dimensions of one input sample, rank 2 or 3 (the last one is the channel).
        dims: Dims,
    },
    /// 2-D convolution with strides and dilations: [`LayerSpec::Conv2d`]
    /// generalised (ONNX `Conv` with `strides` and `dilations`, Keras
    /// `Conv2D(strides, dilation_rate)`). Writers use [`LayerSpec::Conv2d`]
    /// when both are 1, so stride-1 models keep their encoding. Tensors are
    /// named `conv2d_i` as for [`LayerSpec::Conv2d`].
    ///
    /// Parameters: as [`LayerSpec::Conv2d`].
    Conv2dStrided {
        /// Input rows.
        height: u32,
        /// Input columns.
        width: u32,
        /// Input channels.
        channels: u32,
        /// Output channels.
        filters: u32,
        /// Kernel `[rows, columns]`.
        kernel: [u32; 2],
        /// Step `[rows, columns]` between outputs.
        stride: [u32; 2],
        /// Spacing `[rows, columns]` of the kernel's cells (1: adjacent).
        dilation: [u32; 2],
        /// Border handling.
        padding: Padding,
        /// Activation after the convolution.
        activation: Activation,
    },
    /// Depthwise 2-D convolution, depth multiplier 1: each channel convolved
    /// with its own kernel, exactly ONNX `Conv` with `group = channels`
    /// (Keras `DepthwiseConv2D`), then the activation:
    /// `[height, width, channels]` → `[oh, ow, channels]`. Softmax is not allowed.
    ///
    /// Parameters: `weight` `[kernel_h, kernel_w, channels]` (HWC: Keras's
    /// depthwise kernel without its multiplier axis; ONNX's `[channels, 1,
    /// kh, kw]` is written by the exporter), `bias` `[channels]`.
    DepthwiseConv2d {
        /// Input rows.
        height: u32,
        /// Input columns.
        width: u32,
        /// Channels (in and out).
        channels: u32,
        /// Kernel `[rows, columns]`.
        kernel: [u32; 2],
        /// Step `[rows, columns]` between outputs.
        stride: [u32; 2],
        /// Spacing `[rows, columns]` of the kernel's cells (1: adjacent).
        dilation: [u32; 2],
        /// Border handling.
        padding: Padding,
        /// Activation after the convolution.
        activation: Activation,
    },
    /// 1-D average pooling, exactly ONNX `AveragePool` on `[N, C, L]` with
    /// `count_include_pad = 0` (padded cells are not counted, as in Keras
    /// `"same"`): `[length, channels]` → `[out, channels]`.
    AveragePool1d {
        /// Input steps.
        length: u32,
        /// Channels.
        channels: u32,
        /// Window cells.
        pool: u32,
        /// Steps between windows.
        stride: u32,
        /// Border handling.
        padding: Padding,
    },
    /// 2-D average pooling, exactly ONNX `AveragePool` with
    /// `count_include_pad = 0`: `[height, width, channels]` → `[oh, ow, channels]`.
    AveragePool2d {
        /// Input rows.
        height: u32,
        /// Input columns.
        width: u32,
        /// Channels.
        channels: u32,
        /// Window `[rows, columns]`.
        pool: [u32; 2],
        /// Step `[rows, columns]` between windows.
        stride: [u32; 2],
        /// Border handling.
        padding: Padding,
    },
}

/// The sizes shared by the recurrent layers ([`LayerSpec::SimpleRnn`], [`LayerSpec::Lstm`],
/// [`LayerSpec::Gru`]).
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
    /// Gate blocks per cell: 1 (RNN), 4 (LSTM) or 3 (GRU).
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

/// Saturating product in `u64` (safe on unvalidated sizes).
fn product(dims: &[u32]) -> u64 {
    dims.iter().fold(1u64, |n, &d| n.saturating_mul(d as u64))
}

fn in_range(v: u32) -> bool {
    v != 0 && v <= MAX_DIM
}

/// What kind of rows an [`IdTable`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// A word embedding's ([`LayerSpec::Embedding`]): one row per word.
    Words,
    /// An entity model's ([`LayerSpec::EntityDot`]): the rows of every
    /// column's categories, column after column.
    Entities,
}

/// The table of a layer whose input is ids ([`LayerSpec::id_table`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdTable {
    /// Words or entities.
    pub kind: TableKind,
    /// Rows of the table: every id must be below it.
    pub rows: u32,
    /// Values per row.
    pub dim: u32,
    /// Ids per sample: the sequence length of an `Embedding`, the column
    /// count of an `EntityDot`.
    pub ids_per_sample: u32,
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
            LayerSpec::Gru { .. } => "gru",
            LayerSpec::Conv2d { .. } | LayerSpec::Conv2dStrided { .. } => "conv2d",
            LayerSpec::MaxPool2d { .. } => "maxpool2d",
            LayerSpec::Upsample2d { .. } => "upsample2d",
            LayerSpec::BatchNorm { .. } => "batchnorm",
            LayerSpec::EntityDot { .. } => "entitydot",
            LayerSpec::Conv1d { .. } => "conv1d",
            LayerSpec::MaxPool1d { .. } => "maxpool1d",
            LayerSpec::GlobalAveragePool { .. } => "globalavgpool",
            LayerSpec::DepthwiseConv2d { .. } => "depthwiseconv2d",
            LayerSpec::AveragePool1d { .. } => "avgpool1d",
            LayerSpec::AveragePool2d { .. } => "avgpool2d",
        }
    }

    /// The window geometry of a convolution or pooling layer (1-D kinds as
    /// 2-D ones of height 1); `None` for other kinds or when no window fits.
    pub fn window(&self) -> Option<Window2d> {
        let u = |v: u32| v as usize;
        let u2 = |v: [u32; 2]| v.map(u);
        match *self {
            LayerSpec::Conv2d { height, width, channels, kernel_h, kernel_w, padding, .. } => {
                Window2d::new(u(height), u(width), u(channels), u(kernel_h), u(kernel_w), 1, padding)
            }
            LayerSpec::MaxPool2d { height, width, channels, pool, padding } => {
                Window2d::new(u(height), u(width), u(channels), u(pool), u(pool), u(pool), padding)
            }
            LayerSpec::Conv1d { length, channels, kernel, stride, dilation, padding, .. } => {
                Window2d::d1(u(length), u(channels), u(kernel), u(stride), u(dilation), padding)
            }
            LayerSpec::MaxPool1d { length, channels, pool, stride, padding }
            | LayerSpec::AveragePool1d { length, channels, pool, stride, padding } => {
                Window2d::d1(u(length), u(channels), u(pool), u(stride), 1, padding)
            }
            LayerSpec::Conv2dStrided { height, width, channels, kernel, stride, dilation, padding, .. }
            | LayerSpec::DepthwiseConv2d { height, width, channels, kernel, stride, dilation, padding, .. } => {
                Window2d::general(u(height), u(width), u(channels), u2(kernel), u2(stride), u2(dilation), padding)
            }
            LayerSpec::AveragePool2d { height, width, channels, pool, stride, padding } => {
                Window2d::general(u(height), u(width), u(channels), u2(pool), u2(stride), [1, 1], padding)
            }
            LayerSpec::Dense { .. }
            | LayerSpec::Embedding { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::SimpleRnn { .. }
            | LayerSpec::Lstm { .. }
            | LayerSpec::Gru { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::BatchNorm { .. }
            | LayerSpec::EntityDot { .. }
            | LayerSpec::GlobalAveragePool { .. } => None,
        }
    }

    /// `[height, width, channels]` of a window layer's input (`[1, length,
    /// channels]` for the 1-D kinds) and its output channels; `None` for other kinds.
    fn window_sizes(&self) -> Option<([u32; 3], u32)> {
        Some(match *self {
            LayerSpec::Conv2d { height, width, channels, filters, .. }
            | LayerSpec::Conv2dStrided { height, width, channels, filters, .. } => ([height, width, channels], filters),
            LayerSpec::MaxPool2d { height, width, channels, .. }
            | LayerSpec::DepthwiseConv2d { height, width, channels, .. }
            | LayerSpec::AveragePool2d { height, width, channels, .. } => ([height, width, channels], channels),
            LayerSpec::Conv1d { length, channels, filters, .. } => ([1, length, channels], filters),
            LayerSpec::MaxPool1d { length, channels, .. } | LayerSpec::AveragePool1d { length, channels, .. } => {
                ([1, length, channels], channels)
            }
            LayerSpec::Dense { .. }
            | LayerSpec::Embedding { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::SimpleRnn { .. }
            | LayerSpec::Lstm { .. }
            | LayerSpec::Gru { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::BatchNorm { .. }
            | LayerSpec::EntityDot { .. }
            | LayerSpec::GlobalAveragePool { .. } => return None,
        })
    }

    /// Whether a window layer is 1-D (its samples `[length, channels]`).
    fn is_1d(&self) -> bool {
        matches!(self, LayerSpec::Conv1d { .. } | LayerSpec::MaxPool1d { .. } | LayerSpec::AveragePool1d { .. })
    }

    /// Channels of a [`LayerSpec::BatchNorm`] (the last dimension).
    pub fn batch_norm_channels(&self) -> Option<usize> {
        match self {
            LayerSpec::BatchNorm { dims, .. } => dims.as_slice().last().map(|&c| c as usize),
            LayerSpec::Dense { .. }
            | LayerSpec::Embedding { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::SimpleRnn { .. }
            | LayerSpec::Lstm { .. }
            | LayerSpec::Gru { .. }
            | LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::EntityDot { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::GlobalAveragePool { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => None,
        }
    }

    /// Epsilon of a [`LayerSpec::BatchNorm`] or [`LayerSpec::EntityDot`].
    pub fn batch_norm_epsilon(&self) -> Option<f32> {
        match *self {
            LayerSpec::BatchNorm { epsilon_bits, .. } | LayerSpec::EntityDot { epsilon_bits, .. } => {
                Some(f32::from_bits(epsilon_bits))
            }
            LayerSpec::Dense { .. }
            | LayerSpec::Embedding { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::SimpleRnn { .. }
            | LayerSpec::Lstm { .. }
            | LayerSpec::Gru { .. }
            | LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::GlobalAveragePool { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => None,
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
            LayerSpec::Gru { inputs, units, seq_len, return_sequences, bidirectional } => {
                (inputs, units, seq_len, return_sequences, bidirectional, 3)
            }
            LayerSpec::Dense { .. }
            | LayerSpec::Embedding { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::BatchNorm { .. }
            | LayerSpec::EntityDot { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::GlobalAveragePool { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => return None,
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
        if let Some(([h, w, c], _)) = self.window_sizes() {
            return h as usize * w as usize * c as usize;
        }
        match *self {
            LayerSpec::Dense { inputs, .. } => inputs as usize,
            LayerSpec::Embedding { seq_len, .. } => seq_len as usize,
            LayerSpec::Flatten { dims } | LayerSpec::GlobalAveragePool { dims } => dims.elements(),
            LayerSpec::Dropout { len, .. } => len as usize,
            LayerSpec::SimpleRnn { inputs, seq_len, .. }
            | LayerSpec::Lstm { inputs, seq_len, .. }
            | LayerSpec::Gru { inputs, seq_len, .. } => inputs as usize * seq_len as usize,
            LayerSpec::Upsample2d { height, width, channels, .. } => {
                height as usize * width as usize * channels as usize
            }
            LayerSpec::BatchNorm { dims, .. } => dims.elements(),
            LayerSpec::EntityDot { columns, .. } => columns as usize,
            LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => 0,
        }
    }

    /// Number of elements of one output sample.
    pub fn output_len(&self) -> usize {
        self.output_dims().elements()
    }

    /// Dimensions of one output sample (`[seq_len, features]` for sequences,
    /// `[out, channels]` for the 1-D window kinds, `[oh, ow, channels]` for the 2-D ones).
    pub fn output_dims(&self) -> Dims {
        let invalid = Dims::d1(u32::MAX);
        if let Some((_, channels)) = self.window_sizes() {
            let Some(g) = self.window() else { return invalid };
            let dims = if self.is_1d() {
                Dims::new(&[g.ow as u32, channels])
            } else {
                Dims::new(&[g.oh as u32, g.ow as u32, channels])
            };
            return dims.unwrap_or(invalid);
        }
        match *self {
            LayerSpec::Dense { units, .. } => Dims::d1(units),
            LayerSpec::Embedding { dim, seq_len, .. } => Dims::d2(seq_len, dim),
            LayerSpec::Flatten { dims } => Dims::d1(dims.elements() as u32),
            LayerSpec::Dropout { len, .. } => Dims::d1(len),
            LayerSpec::SimpleRnn { units, seq_len, return_sequences, bidirectional, .. }
            | LayerSpec::Lstm { units, seq_len, return_sequences, bidirectional, .. }
            | LayerSpec::Gru { units, seq_len, return_sequences, bidirectional, .. } => {
                let out = units * if bidirectional { 2 } else { 1 };
                if return_sequences { Dims::d2(seq_len, out) } else { Dims::d1(out) }
            }
            LayerSpec::Upsample2d { height, width, channels, factor } => {
                Dims::new(&[height.saturating_mul(factor), width.saturating_mul(factor), channels]).unwrap_or(invalid)
            }
            LayerSpec::BatchNorm { dims, .. } => dims,
            LayerSpec::EntityDot { .. } => Dims::d1(1),
            LayerSpec::GlobalAveragePool { dims } => Dims::d1(dims.as_slice().last().copied().unwrap_or(u32::MAX)),
            LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => invalid,
        }
    }

    /// The table a layer gathers rows from by id, for the kinds whose input
    /// is ids ([`LayerSpec::Embedding`], [`LayerSpec::EntityDot`]); `None` for
    /// every other kind. The one place that says which kinds take ids: the
    /// interpreter's id checks, the trainer's, the board queries and the
    /// generated Rust constants all ask it.
    pub fn id_table(&self) -> Option<IdTable> {
        match *self {
            LayerSpec::Embedding { vocab, dim, seq_len, .. } => {
                Some(IdTable { kind: TableKind::Words, rows: vocab, dim, ids_per_sample: seq_len })
            }
            LayerSpec::EntityDot { columns, rows, dim, .. } => {
                Some(IdTable { kind: TableKind::Entities, rows, dim, ids_per_sample: columns })
            }
            LayerSpec::Dense { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::SimpleRnn { .. }
            | LayerSpec::Lstm { .. }
            | LayerSpec::Gru { .. }
            | LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::BatchNorm { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::GlobalAveragePool { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => None,
        }
    }

    /// What the layer's input holds: token ids for the kinds with an
    /// [`id_table`](Self::id_table), `f32` values otherwise.
    pub fn input_kind(&self) -> ValueKind {
        if self.id_table().is_some() { ValueKind::TokenIds } else { ValueKind::F32 }
    }

    /// The activation applied at the layer's output (`Linear` for layers
    /// without one; `Tanh` for [`LayerSpec::SimpleRnn`]).
    pub fn activation(&self) -> Activation {
        match *self {
            LayerSpec::Dense { activation, .. }
            | LayerSpec::Conv2d { activation, .. }
            | LayerSpec::Conv1d { activation, .. }
            | LayerSpec::Conv2dStrided { activation, .. }
            | LayerSpec::DepthwiseConv2d { activation, .. } => activation,
            LayerSpec::SimpleRnn { .. } => Activation::Tanh,
            LayerSpec::Embedding { .. }
            | LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::Lstm { .. }
            | LayerSpec::Gru { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::BatchNorm { .. }
            | LayerSpec::EntityDot { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::GlobalAveragePool { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => Activation::Linear,
        }
    }

    /// Number of parameter tensors.
    pub fn param_count(&self) -> usize {
        match self {
            LayerSpec::Dense { .. } => 2,
            LayerSpec::Embedding { .. } => 1,
            LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::GlobalAveragePool { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => 0,
            LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => 3,
            LayerSpec::Conv2d { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. } => 2,
            LayerSpec::BatchNorm { .. } => 4,
            LayerSpec::EntityDot { .. } => 6,
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
            LayerSpec::Embedding { vocab, dim, .. } => match i {
                0 => f32_param("weight", Dims::d2(vocab, dim), false),
                _ => None,
            },
            LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => {
                let r = self.recurrent()?;
                let (d, g, h) = (r.dirs as u32, (r.gates * r.units) as u32, r.units as u32);
                match i {
                    0 => f32_param("w", Dims::new(&[d, g, r.inputs as u32])?, true),
                    1 => f32_param("r", Dims::new(&[d, g, h])?, true),
                    2 => f32_param("b", Dims::d2(d, 2 * g), false),
                    _ => None,
                }
            }
            LayerSpec::Conv2d { channels, filters, kernel_h, kernel_w, .. }
            | LayerSpec::Conv2dStrided { channels, filters, kernel: [kernel_h, kernel_w], .. } => match i {
                0 => f32_param("weight", Dims::new(&[filters, kernel_h, kernel_w, channels])?, true),
                1 => f32_param("bias", Dims::d1(filters), false),
                _ => None,
            },
            LayerSpec::Conv1d { channels, filters, kernel, .. } => match i {
                0 => f32_param("weight", Dims::new(&[filters, kernel, channels])?, true),
                1 => f32_param("bias", Dims::d1(filters), false),
                _ => None,
            },
            LayerSpec::DepthwiseConv2d { channels, kernel: [kh, kw], .. } => match i {
                0 => f32_param("weight", Dims::new(&[kh, kw, channels])?, true),
                1 => f32_param("bias", Dims::d1(channels), false),
                _ => None,
            },
            LayerSpec::BatchNorm { .. } => {
                let c = Dims::d1(self.batch_norm_channels()? as u32);
                let name = ["gamma", "beta", "mean", "var"].get(i)?;
                f32_param(name, c, false)
            }
            LayerSpec::EntityDot { columns, rows, dim, .. } => match i {
                // Not regularised, as for Embedding (sparse updates).
                0 => f32_param("weight", Dims::d2(rows, dim), false),
                1 => f32_param("bias", Dims::d1(rows), false),
                2..=5 => f32_param(["gamma", "beta", "mean", "var"][i - 2], Dims::d2(columns, dim), false),
                _ => None,
            },
            LayerSpec::Flatten { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Upsample2d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::GlobalAveragePool { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => None,
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
            LayerSpec::SimpleRnn { inputs, units, seq_len, .. }
            | LayerSpec::Lstm { inputs, units, seq_len, .. }
            | LayerSpec::Gru { inputs, units, seq_len, .. } => in_range(inputs) && in_range(units) && in_range(seq_len),
            LayerSpec::Conv2d { height, width, channels, filters, kernel_h, kernel_w, activation, .. } => {
                [height, width, channels, filters, kernel_h, kernel_w].into_iter().all(in_range)
                    && activation != Activation::Softmax
                    && self.window().is_some()
            }
            LayerSpec::MaxPool2d { height, width, channels, pool, .. } => {
                [height, width, channels, pool].into_iter().all(in_range) && self.window().is_some()
            }
            LayerSpec::Upsample2d { height, width, channels, factor } => {
                [height, width, channels, factor].into_iter().all(in_range)
                    && height as u64 * factor as u64 <= MAX_DIM as u64
                    && width as u64 * factor as u64 <= MAX_DIM as u64
            }
            LayerSpec::BatchNorm { dims, epsilon_bits } => {
                let eps = f32::from_bits(epsilon_bits);
                dims.validate().is_ok() && eps.is_finite() && eps > 0.0
            }
            LayerSpec::EntityDot { columns, rows, dim, epsilon_bits } => {
                let eps = f32::from_bits(epsilon_bits);
                [columns, rows, dim].into_iter().all(in_range) && columns <= rows && eps.is_finite() && eps > 0.0
            }
            LayerSpec::Conv1d { length, channels, filters, kernel, stride, dilation, activation, .. } => {
                [length, channels, filters, kernel, stride, dilation].into_iter().all(in_range)
                    && activation != Activation::Softmax
                    && self.window().is_some()
            }
            LayerSpec::MaxPool1d { length, channels, pool, stride, .. }
            | LayerSpec::AveragePool1d { length, channels, pool, stride, .. } => {
                [length, channels, pool, stride].into_iter().all(in_range) && self.window().is_some()
            }
            LayerSpec::GlobalAveragePool { dims } => dims.validate().is_ok() && matches!(dims.as_slice().len(), 2 | 3),
            LayerSpec::Conv2dStrided {
                height, width, channels, filters, kernel, stride, dilation, activation, ..
            } => {
                [height, width, channels, filters].into_iter().chain(kernel).chain(stride).chain(dilation).all(in_range)
                    && activation != Activation::Softmax
                    && self.window().is_some()
            }
            LayerSpec::DepthwiseConv2d { height, width, channels, kernel, stride, dilation, activation, .. } => {
                [height, width, channels].into_iter().chain(kernel).chain(stride).chain(dilation).all(in_range)
                    && activation != Activation::Softmax
                    && self.window().is_some()
            }
            LayerSpec::AveragePool2d { height, width, channels, pool, stride, .. } => {
                [height, width, channels].into_iter().chain(pool).chain(stride).all(in_range) && self.window().is_some()
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
        if let Some((hwc, _)) = self.window_sizes() {
            return product(&hwc);
        }
        match *self {
            LayerSpec::SimpleRnn { inputs, seq_len, .. }
            | LayerSpec::Lstm { inputs, seq_len, .. }
            | LayerSpec::Gru { inputs, seq_len, .. } => inputs as u64 * seq_len as u64,
            LayerSpec::Flatten { dims } | LayerSpec::BatchNorm { dims, .. } | LayerSpec::GlobalAveragePool { dims } => {
                dims.elements() as u64
            }
            LayerSpec::Upsample2d { height, width, channels, .. } => product(&[height, width, channels]),
            LayerSpec::Dense { .. }
            | LayerSpec::Embedding { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::EntityDot { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => self.input_len() as u64,
        }
    }

    /// Output length in `u64` (an upper bound for recurrent layers), safe to
    /// compute before [`LayerSpec::validate`].
    fn output_len_u64(&self) -> u64 {
        if let Some((_, c)) = self.window_sizes() {
            return self.window().map_or(u64::MAX, |g| product(&[g.oh as u32, g.ow as u32, c]));
        }
        match *self {
            LayerSpec::Embedding { dim, seq_len, .. } => dim as u64 * seq_len as u64,
            LayerSpec::SimpleRnn { units, seq_len, .. }
            | LayerSpec::Lstm { units, seq_len, .. }
            | LayerSpec::Gru { units, seq_len, .. } => 2 * units as u64 * seq_len as u64,
            LayerSpec::Dense { units, .. } => units as u64,
            LayerSpec::Flatten { dims } | LayerSpec::BatchNorm { dims, .. } => dims.elements() as u64,
            LayerSpec::Dropout { len, .. } => len as u64,
            LayerSpec::Upsample2d { height, width, channels, factor } => {
                product(&[height, factor, width, factor, channels])
            }
            LayerSpec::EntityDot { .. } => 1,
            LayerSpec::GlobalAveragePool { dims } => dims.as_slice().last().map_or(u64::MAX, |&c| c as u64),
            LayerSpec::Conv2d { .. }
            | LayerSpec::MaxPool2d { .. }
            | LayerSpec::Conv1d { .. }
            | LayerSpec::MaxPool1d { .. }
            | LayerSpec::Conv2dStrided { .. }
            | LayerSpec::DepthwiseConv2d { .. }
            | LayerSpec::AveragePool1d { .. }
            | LayerSpec::AveragePool2d { .. } => u64::MAX,
        }
    }
}
