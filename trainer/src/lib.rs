//! # ember-trainer
//!
//! Trains ember models on the host with hand-written forward and backward
//! passes on a fast `f32` GEMM, and drives export and verification. The
//! `ember` command-line tool is built on this library.
#![warn(missing_docs)]

pub mod backends;
pub mod board;
pub mod data;
pub mod npy;
pub mod pca;
pub mod plot;
