//! ember export
