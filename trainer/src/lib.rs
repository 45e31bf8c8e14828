//! # ember-trainer
//!
//! Trains ember models on the host with hand-written forward and backward
//! passes on a fast `f32` GEMM, and drives export and verification. The
//! `ember` command-line tool is built on this library.
#![warn(missing_docs)]

pub mod backends;
pub mod board;
pub mod checkpoint;
pub mod classify;
pub mod config;
pub mod data;
pub mod embed;
pub mod entity;
pub mod fit;
pub mod fsutil;
pub mod gemm;
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod network;
pub mod ngram;
pub mod npy;
pub mod optim;
pub mod pca;
pub mod plot;
pub mod presets;
pub mod simd;
pub mod text;
pub mod train;
pub mod verify;
