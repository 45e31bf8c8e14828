//! [`LayerSpec::Dropout`](ember_runtime::spec::LayerSpec::Dropout) as ONNX:
//! no node at all.
//!
//! Dropout is the identity at inference, so the value flows on unchanged,
//! with its name, shape and layout (a Dropout inside an NCHW image run keeps
//! the run going, see `layout.rs`). No node means no name either: a graph
//! never holds a `dropout_{i}` value.

use super::{Value, check_len};
use crate::ExportError;

/// Checks that `x` holds the layer's `len` values and passes it on.
///
/// # Shapes
/// `x`: `[batch, ...dims]` with `product(dims) == len` → the same value.
pub(super) fn export(prefix: &str, len: u32, x: Value) -> Result<Value, ExportError> {
    check_len(prefix, &x, len as usize)?;
    Ok(x)
}
