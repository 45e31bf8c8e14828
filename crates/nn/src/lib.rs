//! # ember-nn
//!
//! Trainable layers with hand-written forward and backward passes (one file
//! per layer kind under [`layers`], the parameter names and layouts of
//! `ember_runtime::spec`), the [`network`], losses, optimizers, metrics and
//! the [`fit`] loop with its history and checkpoints, on a fast `f32` GEMM
//! ([`gemm`]) with rayon over the batch.
//!
//! The fit loop prints nothing: it reports to a [`FitObserver`] (progress
//! bars are the command line's business). Errors are [`NnError`]s.
#![warn(missing_docs)]

pub mod checkpoint;
pub mod error;
pub mod fit;
pub mod gemm;
pub mod history;
pub mod layers;
pub mod loss;
pub mod math;
pub mod metrics;
pub mod network;
pub mod observer;
pub mod optim;
pub mod schedule;
pub mod simd;

pub use error::NnError;
pub use observer::{FitObserver, NoObserver};
