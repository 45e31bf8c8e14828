//! Rust source for a board (placeholder module).
