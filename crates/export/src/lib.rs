//! # ember-export
//!
//! The host-side model container ([`Model`]: layer specs plus named `f32`
//! tensors) and its exporters:
//!
//! * [`blob`]: the `.emb` blob (`crates/runtime/FORMAT.md`) and back;
//! * [`onnx`]: ONNX (opset 17), run by tract and ONNX Runtime; the only place
//!   where tensor layouts are converted;
//! * [`rust`]: Rust source naming the typed runtime model for a board;
//! * [`summary`]: Keras's `model.summary()` with flash and activation RAM.
#![warn(missing_docs)]

pub mod blob;
pub mod error;
pub mod fsutil;
pub mod import;
pub mod model;
pub mod onnx;
pub mod quant;
pub mod rust;
pub mod summary;

pub use blob::AlignedBytes;
pub use error::ExportError;
pub use model::{Asset, Model, Tensor};
pub use summary::ModelSummary;
