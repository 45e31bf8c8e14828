//! [`LayerSpec::Flatten`](ember_runtime::spec::LayerSpec::Flatten) as ONNX:
//! `Flatten(axis = 1)`.
//!
//! Layout: ember samples are row-major (a sequence time-major, a map HWC),
//! exactly what `Flatten` reads once the value is channels-last, so no data
//! moves; a value in an NCHW image run is transposed back first (see
//! `layout.rs`). The same node, named `output.flatten`, ends a graph whose
//! last value has more than one dimension when the model declares a vector.

use super::{GraphBuilder, OUTPUT_NAME, Value, attr_int, check_len};
use crate::ExportError;

/// `Flatten(axis = 1)` named `prefix`: `[batch, ...dims]` → `[batch, len]`,
/// row-major (a time-major sequence `[seq_len, n]` keeps its order).
///
/// # Shapes
/// `x`: `[batch, ...dims]` with `product(dims) == len` → `[batch, len]`.
pub(super) fn export(b: &mut GraphBuilder, prefix: &str, len: usize, x: Value) -> Result<Value, ExportError> {
    check_len(prefix, &x, len)?;
    let name = if prefix == OUTPUT_NAME { format!("{OUTPUT_NAME}.flatten") } else { prefix.to_string() };
    let y = b.node("Flatten", &name, &[&x.name], vec![attr_int("axis", 1)])?;
    Ok(Value { name: y, dims: vec![len] })
}
