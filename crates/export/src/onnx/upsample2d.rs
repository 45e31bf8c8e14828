//! [`LayerSpec::Upsample2d`](ember_runtime::spec::LayerSpec::Upsample2d) as
//! ONNX: `Resize` (nearest).
//!
//! Nodes of `upsample2d_3`: `Resize` (opset 13 form: `roi` left empty,
//! `scales` the `FLOAT` initializer `upsample2d_3.scales` = `[1, 1, f, f]`;
//! `mode = nearest`, `coordinate_transformation_mode = asymmetric`,
//! `nearest_mode = floor`), in an NCHW run (see `layout.rs`): output `(y, x)`
//! copies input `(floor(y / f), floor(x / f))`.

use super::layout::{Layout, nchw};
use super::{GraphBuilder, Value, attr_string};
use crate::ExportError;

/// Emits a [`LayerSpec::Upsample2d`](ember_runtime::spec::LayerSpec::Upsample2d) named `prefix` after `x`.
///
/// # Shapes
/// `x`: channels-last `[batch, H, W, C]` or NCHW `[batch, C, H, W]` → NCHW
/// `[batch, C, f·H, f·W]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    [height, width, channels, factor]: [u32; 4],
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let [h, w, c, f] = [height, width, channels, factor].map(|v| v as usize);
    let x = nchw(b, prefix, x, *layout, [h, w, c])?;
    let scales = b.initializer_with(&format!("{prefix}.scales"), &[4], &[1.0, 1.0, f as f32, f as f32])?;
    let attributes = vec![
        attr_string("mode", "nearest"),
        attr_string("coordinate_transformation_mode", "asymmetric"),
        attr_string("nearest_mode", "floor"),
    ];
    let y = b.node("Resize", prefix, &[&x.name, "", &scales], attributes)?;
    *layout = Layout::Nchw;
    Ok(Value { name: y, dims: vec![c, h * f, w * f] })
}
