//! Helpers shared by several test files of this binary.

pub mod wire;
