//! [`LayerSpec::AveragePool1d`] as ONNX: `AveragePool` (average pooling, padding not counted; see `pool.rs`).

use ember_runtime::spec::LayerSpec;

use super::layout::Layout;
use super::{GraphBuilder, Value, pool};
use crate::ExportError;

/// Emits a [`LayerSpec::AveragePool1d`] named `prefix` after `x`.
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
    pool::export(b, prefix, "AveragePool", spec, true, x, layout)
}
