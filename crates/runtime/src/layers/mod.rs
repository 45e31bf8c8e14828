//! Typed layers. Each binds its tensors in place from a blob and implements
//! [`crate::Forward`] with const-generic sizes.
//!
//! One layer kind, one file: `dense`, `embedding`, `flatten`, `dropout`,
//! `rnn`, `lstm`, `gru`, `conv2d` (with `conv2d_strided`, its strided and
//! dilated form), `max_pool2d`, `upsample2d`, `batch_norm`, `entity_dot`,
//! `conv1d`, `max_pool1d`, `global_average_pool`, `depthwise_conv2d`,
//! `average_pool1d`, `average_pool2d`: the same stems name each kind's files
//! in the kernels, the
//! exporters, the trainer and the conformance tests.
//! `recurrent` holds what the three cells share (the [`Recurrent`] and
//! [`Bidirectional`] wrappers, [`CellState`]), `window` what the window
//! layers share (the padding markers [`Same`] and [`Valid`]).
//!
//! Quantized forms (issue 12, see `crate::qspec`): `quant_dense`,
//! `quant_conv2d` (Conv2d and Conv2dStrided), `quant_conv1d`,
//! `quant_depthwise` bind [`QuantMode::Int8`](crate::qspec::QuantMode) layers
//! (`int8` holds what they share); `wo_dense`, `wo_embedding` bind
//! weights-only layers, and the recurrent layers bind f32 or weights-only
//! weights alike ([`DirParams`]).
//!
//! A new layer kind, in this crate: its `LayerSpec` variant appended in
//! `spec.rs` (and its line in `FORMAT.md`), `layers/<stem>.rs` (the typed
//! layer, re-exported here and at the crate root), `kernels/<stem>.rs` if it
//! computes anything, and its arm in `dynamic.rs`. Every `match` on
//! `LayerSpec` is exhaustive, so the compiler lists the remaining places, in
//! this crate and in the others (for example `ember-export`'s `rust.rs`).

pub mod average_pool1d;
pub mod average_pool2d;
pub mod batch_norm;
pub mod conv1d;
pub mod conv2d;
pub mod conv2d_strided;
pub mod dense;
pub mod depthwise_conv2d;
pub mod dropout;
pub mod embedding;
pub mod entity_dot;
pub mod flatten;
pub mod global_average_pool;
pub mod gru;
pub(crate) mod int8;
pub mod lstm;
pub mod max_pool1d;
pub mod max_pool2d;
pub mod quant_conv1d;
pub mod quant_conv2d;
pub mod quant_dense;
pub mod quant_depthwise;
pub mod recurrent;
pub mod rnn;
pub mod upsample2d;
pub mod window;
pub mod wo_dense;
pub mod wo_embedding;

pub use average_pool1d::{AveragePool1d, AveragePool1dView};
pub use average_pool2d::{AveragePool2d, AveragePool2dView};
pub use batch_norm::{BatchNorm, BatchNormView};
pub use conv1d::{Conv1d, Conv1dView};
pub use conv2d::{Conv2d, Conv2dView};
pub use conv2d_strided::{Conv2dStrided, Conv2dStridedView};
pub use dense::{Dense, DenseView};
pub use depthwise_conv2d::{DepthwiseConv2d, DepthwiseConv2dView};
pub use dropout::{Dropout, DropoutView};
pub use embedding::{Embedding, EmbeddingView};
pub use entity_dot::{EntityDot, EntityDotView};
pub use flatten::{Flatten, FlattenView};
pub use global_average_pool::{GlobalAveragePool, GlobalAveragePoolView};
pub use gru::{Gru, GruCell};
pub use lstm::{Lstm, LstmCell};
pub use max_pool1d::{MaxPool1d, MaxPool1dView};
pub use max_pool2d::{MaxPool2d, MaxPool2dView};
pub use quant_conv1d::{QConv1d, QConv1dView};
pub use quant_conv2d::{QConv2d, QConv2dView};
pub use quant_dense::{QDense, QDenseView};
pub use quant_depthwise::{QDepthwise, QDepthwiseView};
pub use recurrent::{
    Bidirectional, BidirectionalView, Cell, CellKind, CellState, DirParams, Last, Recurrent, RecurrentView, Returns,
    Sequences,
};
pub use rnn::{SimpleRnn, TanhCell};
pub use upsample2d::{Upsample2d, Upsample2dView};
pub use window::{Pad, Same, Valid};
pub use wo_dense::{WoDense, WoDenseView};
pub use wo_embedding::{WoEmbedding, WoEmbeddingView};

use crate::Error;

/// Checks a view's parameter length (already guaranteed by `Blob::parse`).
fn sized(t: &[f32], len: usize) -> Result<&[f32], Error> {
    if t.len() == len { Ok(t) } else { Err(Error::TensorShape) }
}
