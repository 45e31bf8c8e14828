//! [`LayerSpec::DepthwiseConv2d`] as ONNX: `Conv` with `group = channels`
//! (+ activation).
//!
//! The weight is stored `[kh, kw, channels]`; its initializer (same name,
//! `depthwiseconv2d_0.weight`) holds the `[channels, 1, kh, kw]` transpose
//! that a grouped `Conv` reads. Runs in NCHW (see `layout.rs`).

use ember_runtime::spec::LayerSpec;

use super::conv2d::Conv;
use super::layout::{Layout, window};
use super::{GraphBuilder, Value, check_params};
use crate::{ExportError, Tensor};

/// `[kh, kw, c]` → `[c, 1, kh, kw]`, row-major.
fn hwc_to_c1hw(w: &[f32], [kh, kw, c]: [usize; 3]) -> Vec<f32> {
    let mut out = vec![0f32; w.len()];
    for y in 0..kh {
        for x in 0..kw {
            for k in 0..c {
                out[(k * kh + y) * kw + x] = w[(y * kw + x) * c + k];
            }
        }
    }
    out
}

/// Emits a [`LayerSpec::DepthwiseConv2d`] named `prefix` after `x`.
///
/// # Shapes
/// `x`: channels-last `[batch, H, W, C]` or NCHW `[batch, C, H, W]` → NCHW
/// `[batch, C, OH, OW]`. `params`: `weight` `[kh, kw, C]`, `bias` `[C]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    params: &[Tensor],
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let LayerSpec::DepthwiseConv2d { activation, .. } = *spec else {
        return Err(ExportError::Onnx(format!("{prefix}: not a DepthwiseConv2d")));
    };
    let g = window(prefix, spec)?;
    let [weight, bias] = check_params(prefix, params, [&[g.kh, g.kw, g.c], &[g.c]])?;
    let w = hwc_to_c1hw(&weight.data, [g.kh, g.kw, g.c]);
    let conv = Conv { g: &g, one_d: false, dilations: true, group: g.c, out_channels: g.c, activation };
    conv.emit(b, prefix, (&weight.name, &[g.c, 1, g.kh, g.kw], &w), bias, x, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_go_from_hwc_to_c1hw() {
        // 1x2 window, 3 channels: value = 10 x + c.
        let hwc: Vec<f32> = (0..2).flat_map(|x| (0..3).map(move |c| (10 * x + c) as f32)).collect();
        let want: Vec<f32> = (0..3).flat_map(|c| (0..2).map(move |x| (10 * x + c) as f32)).collect();
        assert_eq!(hwc_to_c1hw(&hwc, [1, 2, 3]), want);
    }
}
