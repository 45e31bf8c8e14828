//! Helpers shared by several test files (each test file is its own crate,
//! so each uses only a part of them).

pub mod wire;
