//! ember trainer
