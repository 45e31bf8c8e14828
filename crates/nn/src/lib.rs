//! # ember-nn
//!
//! Trainable layers with hand-written forward and backward passes (one file
//! per layer kind under [`layers`], the parameter names and layouts of
//! `ember_runtime::spec`), the [`network`], losses, optimizers, metrics and
//! the [`fit`] loop with its history and checkpoints, on a fast `f32` GEMM
//! ([`gemm`]) with rayon over the batch.
#![warn(missing_docs)]

pub mod checkpoint;
pub mod fit;
pub mod gemm;
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod network;
pub mod optim;
pub mod simd;
