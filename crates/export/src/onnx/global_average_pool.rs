//! [`LayerSpec::GlobalAveragePool`] as ONNX: `GlobalAveragePool` on the
//! channels-first value, then `Flatten` to `[batch, C]`.
//!
//! Nodes of `globalavgpool_3`: `globalavgpool_3` (`GlobalAveragePool`, giving
//! `[batch, C, 1, 1]` or `[batch, C, 1]`) and `globalavgpool_3.flatten`.

use ember_runtime::spec::Dims;

use super::layout::{Layout, nchw, ncl};
use super::{GraphBuilder, Value, attr_int};
use crate::ExportError;

/// Emits a [`LayerSpec::GlobalAveragePool`] over `dims` named `prefix` after `x`.
///
/// # Shapes
/// `x`: `[batch, L, C]` / `[batch, H, W, C]` or channels-first → `[batch, C]`
/// (channels-last).
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    dims: Dims,
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let d: Vec<usize> = dims.as_slice().iter().map(|&v| v as usize).collect();
    let x = match d[..] {
        [l, c] => ncl(b, prefix, x, *layout, [l, c])?,
        [h, w, c] => nchw(b, prefix, x, *layout, [h, w, c])?,
        _ => return Err(ExportError::Onnx(format!("{prefix}: global pooling needs a sequence or a map, not {d:?}"))),
    };
    let c = x.dims[0];
    let pooled = b.node("GlobalAveragePool", prefix, &[&x.name], vec![])?;
    let y = b.node("Flatten", &format!("{prefix}.flatten"), &[&pooled], vec![attr_int("axis", 1)])?;
    *layout = Layout::ChannelsLast;
    Ok(Value { name: y, dims: vec![c] })
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::LayerSpec;

    use super::*;
    use crate::onnx::testing::{model, nodes};

    #[test]
    fn a_sequence_is_transposed_pooled_and_flattened() {
        let pool = LayerSpec::GlobalAveragePool { dims: Dims::d2(6, 3) };
        let p = model(&[6, 3], vec![pool]);
        assert_eq!(
            nodes(&p),
            [
                ("Transpose", "globalavgpool_0.ncl"),
                ("GlobalAveragePool", "globalavgpool_0"),
                ("Flatten", "globalavgpool_0.flatten"),
            ]
        );
    }
}
