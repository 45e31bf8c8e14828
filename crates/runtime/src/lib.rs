//! # ember-runtime
//!
//! `no_std`, no-alloc inference for models trained and exported by ember.
//!
//! * [`spec`]: the single definition of every layer kind: its shapes, its
//!   parameter names and their layouts. Export and trainer use the same types.
//! * [`format`]: the `.emb` blob reader (see `FORMAT.md`). Every byte string
//!   is either accepted or rejected with an [`Error`]; nothing panics.
//! * [`layers`]: typed, const-generic forward passes (`Dense<IN, OUT, Relu>`)
//!   that view their weights in place inside the blob (which can stay in flash).
//! * [`model`]: [`Chain`] to compose layers into a model whose activation RAM
//!   is known at compile time, and [`TypedModel::load`] to bind a blob to a type.
//! * [`text`]: the tokenizer shared by host and device (hashing or word list).
//! * [`search`]: the names stored with a model (`vocab`, `columns`) and
//!   nearest-neighbour search over an embedding table (cosine similarity).
//! * [`dynamic`]: an interpreter for any blob on caller-provided buffers, used
//!   by host tools that do not know the model's type at compile time.
#![no_std]
// Exceptions, each an `asm!` or SIMD-intrinsic module with its own `allow`: `quant::dot`'s DSP
// instructions, `kernels::blocked_sse` (x86-64 SSE) and `kernels::blocked_arm` (Cortex-M4F VLDMIA/VMLA).
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod activation;
pub mod crc;
pub mod dynamic;
pub mod error;
pub mod format;
pub mod kernels;
pub mod layers;
pub mod model;
pub mod qspec;
pub mod quant;
pub mod search;
pub mod spec;
pub mod text;

pub use activation::{Act, Linear, Relu, Sigmoid, Softmax, Tanh};
pub use error::Error;
pub use format::{Blob, Header};
pub use layers::{
    AveragePool1d, AveragePool1dView, AveragePool2d, AveragePool2dView, Conv1d, Conv1dView, Conv2dStrided,
    Conv2dStridedView, DepthwiseConv2d, DepthwiseConv2dView, GlobalAveragePool, GlobalAveragePoolView, MaxPool1d,
    MaxPool1dView,
};
pub use layers::{
    BatchNorm, BatchNormView, Bidirectional, BidirectionalView, CellState, Conv2d, Conv2dView, Dense, DenseView,
    Dropout, Embedding, EmbeddingView, EntityDot, EntityDotView, Flatten, Gru, Last, Lstm, MaxPool2d, MaxPool2dView,
    Pad, Recurrent, RecurrentView, Same, Sequences, SimpleRnn, Upsample2d, Upsample2dView, Valid,
};
pub use layers::{
    QConv1d, QConv1dView, QConv2d, QConv2dView, QDense, QDenseView, QDepthwise, QDepthwiseView, WoDense, WoDenseView,
    WoEmbedding, WoEmbeddingView,
};
pub use model::{Chain, ChainView, Forward, Layer, Sample, TypedModel};
pub use nalgebra::{SMatrix, SVector};
pub use spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
pub use text::{TokenIds, Tokenizer};

/// A byte buffer aligned to 16 bytes, so that a blob included in flash can be
/// viewed in place. Use [`include_aligned!`] to build one from a file.
#[repr(C, align(16))]
pub struct Aligned16<T: ?Sized>(pub T);

/// Includes a file as a `&'static Aligned16<[u8]>` (16-byte aligned), for
/// blobs that the runtime views in place.
///
/// ```text
/// static BLOB: &ember_runtime::Aligned16<[u8]> = ember_runtime::include_aligned!("model.emb");
/// ```
#[macro_export]
macro_rules! include_aligned {
    ($path:expr) => {{
        static ALIGNED: &$crate::Aligned16<[u8; include_bytes!($path).len()]> =
            &$crate::Aligned16(*include_bytes!($path));
        ALIGNED as &$crate::Aligned16<[u8]>
    }};
}
