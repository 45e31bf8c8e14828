//! What the pooling writers (`max_pool1d.rs`, `average_pool1d.rs`,
//! `average_pool2d.rs`) share: one `MaxPool` or `AveragePool` node on a
//! channels-first value.

use ember_runtime::spec::LayerSpec;

use super::layout::{Layout, channels_first, channels_first_out, window, window_attributes};
use super::{GraphBuilder, Value, attr_int};
use crate::ExportError;

/// Emits `op` (`"MaxPool"` or `"AveragePool"`, the latter with
/// `count_include_pad = 0`) named `prefix` for the window of `spec`.
///
/// # Shapes
/// `x`: channels-last or channels-first → NCL `[batch, C, OL]` (`one_d`) or
/// NCHW `[batch, C, OH, OW]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    op: &str,
    spec: &LayerSpec,
    one_d: bool,
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let g = window(prefix, spec)?;
    let x = channels_first(b, prefix, x, *layout, &g, one_d)?;
    let mut attributes = window_attributes(&g, one_d, false);
    if op == "AveragePool" {
        attributes.push(attr_int("count_include_pad", 0));
    }
    let y = b.node(op, prefix, &[&x.name], attributes)?;
    *layout = Layout::Nchw;
    Ok(Value { name: y, dims: channels_first_out(&g, g.c, one_d) })
}
