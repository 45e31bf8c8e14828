//! [`LayerSpec::MaxPool1d`] as ONNX: `MaxPool` (max pooling, padded cells never win; see `pool.rs`).

use ember_runtime::spec::LayerSpec;

use super::layout::Layout;
use super::{GraphBuilder, Value, pool};
use crate::ExportError;

/// Emits a [`LayerSpec::MaxPool1d`] named `prefix` after `x`.
///
/// # Shapes
/// `x`: channels-last or channels-first → channels-first, `C` channels.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    pool::export(b, prefix, "MaxPool", spec, true, x, layout)
}
