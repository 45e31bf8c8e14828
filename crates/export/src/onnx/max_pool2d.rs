//! [`LayerSpec::MaxPool2d`] as ONNX: `MaxPool`.
//!
//! Nodes of `maxpool2d_2`: `MaxPool` (`kernel_shape = strides =
//! [pool, pool]`, explicit `pads`; ONNX never lets a padded cell win,
//! exactly as the runtime skips them), in an NCHW run (see `layout.rs`).

use ember_runtime::spec::LayerSpec;

use super::layout::{Layout, nchw, pads, window};
use super::{GraphBuilder, Value, attr_ints};
use crate::ExportError;

/// Emits a [`LayerSpec::MaxPool2d`] named `prefix` after `x`.
///
/// # Shapes
/// `x`: channels-last `[batch, H, W, C]` or NCHW `[batch, C, H, W]` → NCHW
/// `[batch, C, OH, OW]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let g = window(prefix, spec)?;
    let x = nchw(b, prefix, x, *layout, [g.h, g.w, g.c])?;
    let attributes = vec![
        attr_ints("kernel_shape", &[g.kh as i64, g.kw as i64]),
        attr_ints("strides", &[g.sh as i64, g.sw as i64]),
        attr_ints("pads", &pads(&g)),
    ];
    let y = b.node("MaxPool", prefix, &[&x.name], attributes)?;
    *layout = Layout::Nchw;
    Ok(Value { name: y, dims: vec![g.c, g.oh, g.ow] })
}
