//! # ember-train
//!
//! Turns a model file or a preset into a trained, exported model: model
//! files ([`config`]), the built-in presets ([`presets`]), one module per
//! task under [`tasks`] (autoencoders in [`train`], text classifiers, word
//! and entity embeddings), reports, plots and PCA. The layers, losses,
//! optimizers and fit loop are `ember-nn`'s; data loading is `ember-data`'s.
#![warn(missing_docs)]

pub mod config;
pub mod embed;
pub mod pca;
pub mod plot;
pub mod presets;
pub mod tasks;
pub mod train;

/// The `producer` metadata entry of every model ember trains.
pub const PRODUCER: &str = concat!("ember-trainer ", env!("CARGO_PKG_VERSION"));
