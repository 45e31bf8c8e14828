//! # ember-train
//!
//! Turns a model file or a preset into a trained, exported model: model
//! files ([`config`]), the built-in presets ([`presets`]), one module per
//! task under [`tasks`] (autoencoders in [`train`], text classifiers, word
//! and entity embeddings), reports, plots and PCA. The layers, losses,
//! optimizers and fit loop are `ember-nn`'s; data loading is `ember-data`'s.
//! Every fallible function returns a [`TrainError`].
#![warn(missing_docs)]

pub mod config;
pub mod embed;
pub mod error;
pub mod evaluate;
pub mod output;
pub mod pca;
pub mod plot;
pub mod presets;
pub mod quantized;
mod runlog;
pub mod tasks;
pub mod train;

pub use error::TrainError;

/// The `producer` metadata entry of every model ember trains.
pub const PRODUCER: &str = concat!("ember-trainer ", env!("CARGO_PKG_VERSION"));

/// Writes `bytes` to `path` atomically (see [`ember_export::fsutil::write_atomic`]),
/// creating its folder if needed; the error names the file.
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> error::Result<()> {
    use std::io::Write as _;
    ember_export::fsutil::write_atomic(path, |w| w.write_all(bytes)).map_err(|e| TrainError::io("write", path, e))
}
