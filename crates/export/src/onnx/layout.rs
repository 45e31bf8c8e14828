//! The NCHW runs of the image layers (`conv2d.rs`, `max_pool2d.rs`,
//! `upsample2d.rs`, `batch_norm.rs`) and what their writers share.
//!
//! ember samples are HWC (`[height, width, channels]`, Keras
//! `channels_last`); ONNX's image operators read NCHW. Values between
//! layers are therefore either channels-last ([`Layout::ChannelsLast`]: the
//! per-sample dimensions of `ember_runtime::spec`, `[batch, H, W, C]` for a
//! map) or channels-first ([`Layout::Nchw`]: `[batch, C, H, W]`, and the
//! [`Value`]'s `dims` are then `[C, H, W]`). A run of consecutive image
//! layers stays in NCHW: only the first one transposes its input
//! (`{prefix}.nchw`, `Transpose(perm = [0, 3, 1, 2])`, after a
//! `{prefix}.reshape` to `[batch, H, W, C]` when the value has another shape,
//! for example a flat `[784]` input), and the next layer that is not an image
//! layer (or the graph output) transposes back ([`to_channels_last`],
//! `Transpose(perm = [0, 2, 3, 1])`). A Dropout inside such a run keeps the
//! layout (it is no node at all).
//!
//! Keras `"same"` padding becomes explicit `pads` `[top, left, bottom,
//! right]` from [`Window2d`] (the larger half after, as in TensorFlow);
//! `auto_pad` is never used.
//!
//! Every image writer takes the current [`Layout`] of `x` and sets it to the
//! layout of the value it returns.

use ember_runtime::spec::{LayerSpec, Window2d};

use super::proto::AttributeProto;
use super::{GraphBuilder, Value, attr_ints, check_len};
use crate::ExportError;

/// Memory layout of the value flowing between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// The per-sample dimensions of `ember_runtime::spec` (HWC for a map).
    ChannelsLast,
    /// A map transposed to ONNX's `[batch, C, H, W]`; the value's `dims` are `[C, H, W]`.
    Nchw,
}

/// Whether a layer reads channels-first values (so that a run of them needs
/// no transposes in between): the 2-D and 1-D window layers, Upsample2d,
/// BatchNorm on a map and GlobalAveragePool (which leaves a channels-last
/// vector).
pub(super) fn runs_in_nchw(spec: &LayerSpec) -> bool {
    match spec {
        LayerSpec::Conv2d { .. }
        | LayerSpec::MaxPool2d { .. }
        | LayerSpec::Upsample2d { .. }
        | LayerSpec::Conv1d { .. }
        | LayerSpec::MaxPool1d { .. }
        | LayerSpec::GlobalAveragePool { .. }
        | LayerSpec::Conv2dStrided { .. }
        | LayerSpec::DepthwiseConv2d { .. }
        | LayerSpec::AveragePool1d { .. }
        | LayerSpec::AveragePool2d { .. } => true,
        LayerSpec::BatchNorm { dims, .. } => dims.as_slice().len() == 3,
        LayerSpec::Dense { .. }
        | LayerSpec::Embedding { .. }
        | LayerSpec::Flatten { .. }
        | LayerSpec::Dropout { .. }
        | LayerSpec::SimpleRnn { .. }
        | LayerSpec::Lstm { .. }
        | LayerSpec::Gru { .. }
        | LayerSpec::EntityDot { .. } => false,
    }
}

/// `Transpose` named `name` back to channels-last: an NCHW value `[C, H, W]`
/// to `[H, W, C]` (`perm = [0, 2, 3, 1]`), or an NCL sequence `[C, L]` to
/// `[L, C]` (`perm = [0, 2, 1]`).
pub(super) fn to_channels_last(b: &mut GraphBuilder, name: &str, x: Value) -> Result<Value, ExportError> {
    let (perm, dims): (&[i64], _) = match x.dims[..] {
        [c, h, w] => (&[0, 2, 3, 1], vec![h, w, c]),
        [c, l] => (&[0, 2, 1], vec![l, c]),
        _ => return Err(ExportError::Onnx(format!("{name}: {:?} is not an NCHW map or NCL sequence", x.dims))),
    };
    let y = b.node("Transpose", name, &[&x.name], vec![attr_ints("perm", perm)])?;
    Ok(Value { name: y, dims })
}

/// The value `x` as an NCL sequence `[c, l]` (ONNX's 1-D layout): unchanged
/// if it already is one, else brought to channels-last `[l, c]` and
/// transposed (`{prefix}.ncl`, perm `[0, 2, 1]`).
pub(super) fn ncl(
    b: &mut GraphBuilder,
    prefix: &str,
    x: Value,
    layout: Layout,
    [l, c]: [usize; 2],
) -> Result<Value, ExportError> {
    if layout == Layout::Nchw && x.dims == [c, l] {
        return Ok(x);
    }
    let x = channels_last(b, prefix, x, layout, &[l, c])?;
    let y = b.node("Transpose", &format!("{prefix}.ncl"), &[&x.name], vec![attr_ints("perm", &[0, 2, 1])])?;
    Ok(Value { name: y, dims: vec![c, l] })
}

/// The attributes of a window node: `kernel_shape`, `strides` and `pads`
/// (explicit), with `dilations` when `dilations` is set; 1-D (`[kw]`,
/// `[sw]`, `[left, right]`) when `one_d`, else 2-D.
pub(super) fn window_attributes(g: &Window2d, one_d: bool, dilations: bool) -> Vec<AttributeProto> {
    let i = |v: usize| v as i64;
    let mut a = if one_d {
        vec![
            attr_ints("kernel_shape", &[i(g.kw)]),
            attr_ints("strides", &[i(g.sw)]),
            attr_ints("pads", &[i(g.pad_left), i(g.pad_right())]),
        ]
    } else {
        vec![
            attr_ints("kernel_shape", &[i(g.kh), i(g.kw)]),
            attr_ints("strides", &[i(g.sh), i(g.sw)]),
            attr_ints("pads", &pads(g)),
        ]
    };
    if dilations {
        a.push(if one_d { attr_ints("dilations", &[i(g.dw)]) } else { attr_ints("dilations", &[i(g.dh), i(g.dw)]) });
    }
    a
}

/// The input of a window layer in ONNX's channels-first layout: NCL `[c,
/// l]` for a 1-D layer (`g.h == 1` and `one_d`), else NCHW `[c, h, w]`.
pub(super) fn channels_first(
    b: &mut GraphBuilder,
    prefix: &str,
    x: Value,
    layout: Layout,
    g: &Window2d,
    one_d: bool,
) -> Result<Value, ExportError> {
    if one_d { ncl(b, prefix, x, layout, [g.w, g.c]) } else { nchw(b, prefix, x, layout, [g.h, g.w, g.c]) }
}

/// The per-sample dims of a window layer's channels-first output with `c` channels.
pub(super) fn channels_first_out(g: &Window2d, c: usize, one_d: bool) -> Vec<usize> {
    if one_d { vec![c, g.ow] } else { vec![c, g.oh, g.ow] }
}

/// The value `x` as a channels-last sample of `dims`: transposed back from
/// NCHW (`{prefix}.nhwc`) and reshaped (`{prefix}.reshape`) where needed.
pub(super) fn channels_last(
    b: &mut GraphBuilder,
    prefix: &str,
    x: Value,
    layout: Layout,
    dims: &[usize],
) -> Result<Value, ExportError> {
    check_len(prefix, &x, dims.iter().product())?;
    let x = if layout == Layout::Nchw { to_channels_last(b, &format!("{prefix}.nhwc"), x)? } else { x };
    if x.dims == dims {
        return Ok(x);
    }
    let shape: Vec<i64> = std::iter::once(0).chain(dims.iter().map(|&d| d as i64)).collect();
    let y = b.reshape(&format!("{prefix}.reshape"), &x.name, &shape)?;
    Ok(Value { name: y, dims: dims.to_vec() })
}

/// The value `x` as an NCHW map `[c, h, w]`: unchanged if it already is one,
/// else brought to channels-last `[h, w, c]` and transposed
/// (`{prefix}.nchw`, perm `[0, 3, 1, 2]`).
pub(super) fn nchw(
    b: &mut GraphBuilder,
    prefix: &str,
    x: Value,
    layout: Layout,
    [h, w, c]: [usize; 3],
) -> Result<Value, ExportError> {
    if layout == Layout::Nchw && x.dims == [c, h, w] {
        return Ok(x);
    }
    let x = channels_last(b, prefix, x, layout, &[h, w, c])?;
    let y = b.node("Transpose", &format!("{prefix}.nchw"), &[&x.name], vec![attr_ints("perm", &[0, 3, 1, 2])])?;
    Ok(Value { name: y, dims: vec![c, h, w] })
}

/// Explicit ONNX `pads` `[top, left, bottom, right]` of a window.
pub(super) fn pads(g: &Window2d) -> [i64; 4] {
    [g.pad_top, g.pad_left, g.pad_bottom(), g.pad_right()].map(|p| p as i64)
}

/// The window geometry of `spec` (an error if no window fits).
pub(super) fn window(prefix: &str, spec: &LayerSpec) -> Result<Window2d, ExportError> {
    spec.window().ok_or_else(|| ExportError::Onnx(format!("{prefix}: no window fits the input")))
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::{Dims, Padding};

    use super::*;
    use crate::onnx::testing::{ints, model, nodes};

    #[test]
    fn a_flat_input_is_reshaped_then_transposed_and_pool_and_resize_stay_in_nchw() {
        let layers = vec![
            LayerSpec::MaxPool2d { height: 28, width: 28, channels: 1, pool: 3, padding: Padding::Same },
            LayerSpec::Upsample2d { height: 10, width: 10, channels: 1, factor: 2 },
            LayerSpec::BatchNorm { dims: Dims::new(&[20, 20, 1]).unwrap(), epsilon_bits: 0.25f32.to_bits() },
        ];
        let p = model(&[784], layers);
        assert_eq!(
            nodes(&p),
            [
                ("Reshape", "maxpool2d_0.reshape"),
                ("Transpose", "maxpool2d_0.nchw"),
                ("MaxPool", "maxpool2d_0"),
                ("Resize", "upsample2d_1"),
                ("BatchNormalization", "batchnorm_2"),
                ("Transpose", "output.nhwc"),
            ]
        );
        let n = &p.node;
        // 28 rows in windows of 3: 10 windows need 30 rows, 1 padded before and 1 after.
        assert_eq!((ints(&n[2], "kernel_shape"), ints(&n[2], "strides")), (&[3, 3][..], &[3, 3][..]));
        assert_eq!(ints(&n[2], "pads"), [1, 1, 1, 1]);
        assert_eq!(n[3].input[1], "");
        let scales = p.initializer.iter().find(|t| t.name == "upsample2d_1.scales").unwrap();
        let scales: Vec<f32> = scales.raw_data.chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        assert_eq!(scales, [1.0, 1.0, 2.0, 2.0]);
        let eps = n[4].attribute.iter().find(|a| a.name == "epsilon").unwrap();
        assert_eq!(eps.f, 0.25);
        assert_eq!(n[5].output[0], "output");
    }
}
