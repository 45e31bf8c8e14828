//! The image layers as ONNX:
//! [`LayerSpec::Conv2d`] → `Conv` (+ activation),
//! [`LayerSpec::MaxPool2d`] → `MaxPool`,
//! [`LayerSpec::Upsample2d`] → `Resize` (nearest) and
//! [`LayerSpec::BatchNorm`] → `BatchNormalization` (inference form).
//!
//! # Layouts
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
//! The convolution weight is stored OHWI (`[filters, kh, kw, channels]`);
//! its initializer (same name, `conv2d_0.weight`) holds the OIHW transpose
//! that `Conv` reads. Keras `"same"` padding becomes explicit `pads`
//! `[top, left, bottom, right]` from [`Window2d`] (the larger half after,
//! as in TensorFlow); `auto_pad` is never used.
//!
//! Every emitter takes the current [`Layout`] of `x` and sets it to the
//! layout of the value it returns.
//!
//! # Nodes
//!
//! * Conv2d `conv2d_1`: `Conv` named `conv2d_1` (`kernel_shape = [kh, kw]`,
//!   `strides = [1, 1]`, `pads`), then the activation `conv2d_1.act`;
//!   initializers `conv2d_1.weight` (OIHW) and `conv2d_1.bias`.
//! * MaxPool2d `maxpool2d_2`: `MaxPool` (`kernel_shape = strides =
//!   [pool, pool]`, `pads`; ONNX never lets a padded cell win, exactly as
//!   the runtime skips them).
//! * Upsample2d `upsample2d_3`: `Resize` (opset 13 form: `roi` left empty,
//!   `scales` the `FLOAT` initializer `upsample2d_3.scales` =
//!   `[1, 1, f, f]`; `mode = nearest`, `coordinate_transformation_mode =
//!   asymmetric`, `nearest_mode = floor`): output `(y, x)` copies input
//!   `(floor(y / f), floor(x / f))`.
//! * BatchNorm `batchnorm_4`: `BatchNormalization` (`epsilon` from the
//!   spec, inference mode) on the channel axis 1, with initializers
//!   `batchnorm_4.gamma`, `.beta`, `.mean`, `.var` as the node's `scale`,
//!   `B`, `input_mean`, `input_var`. A map (`[H, W, C]`) is normalised in
//!   NCHW and stays there; a vector (`[C]`) needs no transpose; any other
//!   rank (a sequence `[T, C]`) is transposed so that the channel comes
//!   first (`batchnorm_4.cfirst`), normalised (`batchnorm_4.bn`) and
//!   transposed back (`batchnorm_4`).

use ember_runtime::spec::{Activation, LayerSpec, Window2d};

use super::{GraphBuilder, Value, attr_float, attr_ints, attr_string, check_len};
use crate::{ExportError, Tensor};

/// Memory layout of the value flowing between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// The per-sample dimensions of `ember_runtime::spec` (HWC for a map).
    ChannelsLast,
    /// A map transposed to ONNX's `[batch, C, H, W]`; the value's `dims` are `[C, H, W]`.
    Nchw,
}

/// Whether a layer runs in NCHW (so that a run of them needs no transposes
/// in between): Conv2d, MaxPool2d, Upsample2d and BatchNorm on a map.
pub(super) fn runs_in_nchw(spec: &LayerSpec) -> bool {
    match spec {
        LayerSpec::Conv2d { .. } | LayerSpec::MaxPool2d { .. } | LayerSpec::Upsample2d { .. } => true,
        LayerSpec::BatchNorm { dims, .. } => dims.as_slice().len() == 3,
        _ => false,
    }
}

/// `Transpose(perm = [0, 2, 3, 1])` named `name`: an NCHW value `[C, H, W]`
/// back to channels-last `[H, W, C]`.
pub(super) fn to_channels_last(b: &mut GraphBuilder, name: &str, x: Value) -> Result<Value, ExportError> {
    let [c, h, w] = x.dims[..] else {
        return Err(ExportError::Onnx(format!("{name}: {:?} is not an NCHW map", x.dims)));
    };
    let y = b.node("Transpose", name, &[&x.name], vec![attr_ints("perm", &[0, 2, 3, 1])])?;
    Ok(Value { name: y, dims: vec![h, w, c] })
}

/// The value `x` as a channels-last sample of `dims`: transposed back from
/// NCHW (`{prefix}.nhwc`) and reshaped (`{prefix}.reshape`) where needed.
fn channels_last(
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
fn nchw(
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
fn pads(g: &Window2d) -> [i64; 4] {
    [g.pad_top, g.pad_left, g.pad_bottom(), g.pad_right()].map(|p| p as i64)
}

/// The window geometry of `spec` (an error if no window fits).
fn window(prefix: &str, spec: &LayerSpec) -> Result<Window2d, ExportError> {
    spec.window().ok_or_else(|| ExportError::Onnx(format!("{prefix}: no window fits the input")))
}

/// Checks that `params` are tensors of `want` dimensions, in order.
fn check_params<'a, const N: usize>(
    prefix: &str,
    params: &'a [Tensor],
    want: [&[usize]; N],
) -> Result<&'a [Tensor; N], ExportError> {
    let ps: &[Tensor; N] = params
        .try_into()
        .map_err(|_| ExportError::Onnx(format!("{prefix}: expected {N} parameter tensors, got {}", params.len())))?;
    for (t, dims) in ps.iter().zip(want) {
        if t.dims != dims {
            return Err(ExportError::Onnx(format!("{prefix}: {} has dims {:?}, expected {dims:?}", t.name, t.dims)));
        }
    }
    Ok(ps)
}

/// OHWI `[o, kh, kw, i]` → OIHW `[o, i, kh, kw]`, row-major.
fn ohwi_to_oihw(w: &[f32], [o, kh, kw, i]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0f32; w.len()];
    for f in 0..o {
        for y in 0..kh {
            for x in 0..kw {
                for c in 0..i {
                    out[((f * i + c) * kh + y) * kw + x] = w[((f * kh + y) * kw + x) * i + c];
                }
            }
        }
    }
    out
}

/// Emits a [`LayerSpec::Conv2d`] named `prefix` after `x` (see the module docs).
///
/// # Shapes
/// `x`: `[batch, H, W, C]` (or any channels-last value holding `H·W·C`
/// values per sample) or NCHW `[batch, C, H, W]` → NCHW `[batch, F, OH, OW]`.
/// `params`: `weight` `[F, kh, kw, C]` (OHWI), `bias` `[F]`.
pub(super) fn conv2d(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    params: &[Tensor],
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let LayerSpec::Conv2d { filters, activation, .. } = *spec else {
        return Err(ExportError::Onnx(format!("{prefix}: not a Conv2d")));
    };
    if activation == Activation::Softmax {
        return Err(ExportError::Onnx(format!("{prefix}: a convolution cannot end in softmax")));
    }
    let g = window(prefix, spec)?;
    let f = filters as usize;
    let ohwi = [f, g.kh, g.kw, g.c];
    let [weight, bias] = check_params(prefix, params, [&ohwi, &[f]])?;
    let x = nchw(b, prefix, x, *layout, [g.h, g.w, g.c])?;
    let w = b.initializer_with(&weight.name, &[f, g.c, g.kh, g.kw], &ohwi_to_oihw(&weight.data, ohwi))?;
    let bias = b.initializer(bias)?;
    let attributes = vec![
        attr_ints("kernel_shape", &[g.kh as i64, g.kw as i64]),
        attr_ints("strides", &[1, 1]),
        attr_ints("pads", &pads(&g)),
    ];
    let y = b.node("Conv", prefix, &[&x.name, &w, &bias], attributes)?;
    let y = b.activation(prefix, activation, &y)?;
    *layout = Layout::Nchw;
    Ok(Value { name: y, dims: vec![f, g.oh, g.ow] })
}

/// Emits a [`LayerSpec::MaxPool2d`] named `prefix` after `x`.
///
/// # Shapes
/// `x`: channels-last `[batch, H, W, C]` or NCHW `[batch, C, H, W]` → NCHW
/// `[batch, C, OH, OW]`.
pub(super) fn max_pool2d(
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
        attr_ints("strides", &[g.stride as i64, g.stride as i64]),
        attr_ints("pads", &pads(&g)),
    ];
    let y = b.node("MaxPool", prefix, &[&x.name], attributes)?;
    *layout = Layout::Nchw;
    Ok(Value { name: y, dims: vec![g.c, g.oh, g.ow] })
}

/// Emits a [`LayerSpec::Upsample2d`] named `prefix` after `x`.
///
/// # Shapes
/// `x`: channels-last `[batch, H, W, C]` or NCHW `[batch, C, H, W]` → NCHW
/// `[batch, C, f·H, f·W]`.
pub(super) fn upsample2d(
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

/// Emits a [`LayerSpec::BatchNorm`] named `prefix` after `x`.
///
/// # Shapes
/// * map `dims = [H, W, C]`: `x` channels-last or NCHW → NCHW `[batch, C, H, W]`;
/// * vector `dims = [C]`: `[batch, C]` → `[batch, C]`;
/// * other ranks (`dims = [T, C]`, ...): `[batch, ...dims]` → `[batch, ...dims]`.
///
/// `params`: `gamma`, `beta`, `mean`, `var`, each `[C]`.
pub(super) fn batch_norm(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    params: &[Tensor],
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let LayerSpec::BatchNorm { dims, epsilon_bits } = *spec else {
        return Err(ExportError::Onnx(format!("{prefix}: not a BatchNorm")));
    };
    let dims: Vec<usize> = dims.as_slice().iter().map(|&d| d as usize).collect();
    let c = *dims.last().ok_or_else(|| ExportError::Onnx(format!("{prefix}: empty dims")))?;
    let ps = check_params(prefix, params, [&[c], &[c], &[c], &[c]])?;
    let eps = f32::from_bits(epsilon_bits);
    match dims[..] {
        [h, w, c] => {
            let x = nchw(b, prefix, x, *layout, [h, w, c])?;
            let y = batch_norm_node(b, prefix, &x.name, ps, eps)?;
            *layout = Layout::Nchw;
            Ok(Value { name: y, dims: x.dims })
        }
        [_] => {
            let x = channels_last(b, prefix, x, *layout, &dims)?;
            let y = batch_norm_node(b, prefix, &x.name, ps, eps)?;
            *layout = Layout::ChannelsLast;
            Ok(Value { name: y, dims })
        }
        _ => {
            // [batch, d1, ..., dr] with the channel dr moved to axis 1, and back.
            let x = channels_last(b, prefix, x, *layout, &dims)?;
            let r = dims.len() as i64;
            let to_first: Vec<i64> = [0, r].into_iter().chain(1..r).collect();
            let to_last: Vec<i64> = std::iter::once(0).chain(2..=r).chain([1]).collect();
            let t = b.node("Transpose", &format!("{prefix}.cfirst"), &[&x.name], vec![attr_ints("perm", &to_first)])?;
            let bn = batch_norm_node(b, &format!("{prefix}.bn"), &t, ps, eps)?;
            let y = b.node("Transpose", prefix, &[&bn], vec![attr_ints("perm", &to_last)])?;
            *layout = Layout::ChannelsLast;
            Ok(Value { name: y, dims })
        }
    }
}

/// `BatchNormalization(x, gamma, beta, mean, var, epsilon)` named `name`
/// (inference mode), its parameters written unchanged.
fn batch_norm_node(
    b: &mut GraphBuilder,
    name: &str,
    x: &str,
    params: &[Tensor; 4],
    epsilon: f32,
) -> Result<String, ExportError> {
    let mut inputs = vec![x.to_string()];
    for t in params {
        inputs.push(b.initializer(t)?);
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    b.node("BatchNormalization", name, &inputs, vec![attr_float("epsilon", epsilon)])
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::{Dims, IoSpec, Padding, ValueKind};
    use onnx_protobuf::{ModelProto, NodeProto};

    use super::*;
    use crate::Model;

    /// A model with every parameter value 0.5 (variances stay positive).
    fn model(input: &[u32], layers: Vec<LayerSpec>) -> ModelProto {
        let values = layers
            .iter()
            .flat_map(|l| {
                (0..l.param_count()).map(|p| vec![0.5; l.param(p).unwrap().dims.elements()]).collect::<Vec<_>>()
            })
            .collect();
        let input = IoSpec { kind: ValueKind::F32, dims: Dims::new(input).unwrap(), range: None };
        Model::new("t", input, layers, values).unwrap().to_onnx_proto().unwrap()
    }

    fn nodes(p: &ModelProto) -> Vec<(&str, &str)> {
        p.graph.node.iter().map(|n| (n.op_type.as_str(), n.name.as_str())).collect()
    }

    fn ints<'a>(n: &'a NodeProto, name: &str) -> &'a [i64] {
        &n.attribute.iter().find(|a| a.name == name).unwrap().ints
    }

    #[test]
    fn even_same_kernel_pads_after_and_the_run_is_left_before_flatten() {
        let conv = LayerSpec::Conv2d {
            height: 5,
            width: 6,
            channels: 3,
            filters: 2,
            kernel_h: 2,
            kernel_w: 2,
            padding: Padding::Same,
            activation: Activation::Sigmoid,
        };
        let flatten = LayerSpec::Flatten { dims: Dims::new(&[5, 6, 2]).unwrap() };
        let dense = LayerSpec::Dense { inputs: 60, units: 4, activation: Activation::Linear };
        let p = model(&[5, 6, 3], vec![conv, flatten, dense]);
        assert_eq!(
            nodes(&p),
            [
                ("Transpose", "conv2d_0.nchw"),
                ("Conv", "conv2d_0"),
                ("Sigmoid", "conv2d_0.act"),
                ("Transpose", "flatten_1.nhwc"),
                ("Flatten", "flatten_1"),
                ("Gemm", "dense_2"),
            ]
        );
        let n = &p.graph.node;
        assert_eq!((ints(&n[0], "perm"), ints(&n[3], "perm")), (&[0, 3, 1, 2][..], &[0, 2, 3, 1][..]));
        assert_eq!(ints(&n[1], "pads"), [0, 0, 1, 1]);
        assert_eq!(ints(&n[1], "kernel_shape"), [2, 2]);
        assert_eq!(ints(&n[1], "strides"), [1, 1]);
        assert_eq!(p.graph.initializer[0].name, "conv2d_0.weight");
        assert_eq!(p.graph.initializer[0].dims, [2, 3, 2, 2]);
    }

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
        let n = &p.graph.node;
        // 28 rows in windows of 3: 10 windows need 30 rows, 1 padded before and 1 after.
        assert_eq!((ints(&n[2], "kernel_shape"), ints(&n[2], "strides")), (&[3, 3][..], &[3, 3][..]));
        assert_eq!(ints(&n[2], "pads"), [1, 1, 1, 1]);
        assert_eq!(n[3].input[1], "");
        let scales = p.graph.initializer.iter().find(|t| t.name == "upsample2d_1.scales").unwrap();
        let scales: Vec<f32> = scales.raw_data.chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        assert_eq!(scales, [1.0, 1.0, 2.0, 2.0]);
        let eps = n[4].attribute.iter().find(|a| a.name == "epsilon").unwrap();
        assert_eq!(eps.f, 0.25);
        assert_eq!(n[5].output[0], "output");
    }

    #[test]
    fn sequence_batch_norm_moves_the_channel_to_axis_1_and_back() {
        let p = model(&[5, 4], vec![LayerSpec::BatchNorm { dims: Dims::d2(5, 4), epsilon_bits: 1e-3f32.to_bits() }]);
        assert_eq!(
            nodes(&p),
            [
                ("Transpose", "batchnorm_0.cfirst"),
                ("BatchNormalization", "batchnorm_0.bn"),
                ("Transpose", "batchnorm_0")
            ]
        );
        assert_eq!((ints(&p.graph.node[0], "perm"), ints(&p.graph.node[2], "perm")), (&[0, 2, 1][..], &[0, 2, 1][..]));
        let vector = model(&[4], vec![LayerSpec::BatchNorm { dims: Dims::d1(4), epsilon_bits: 1e-3f32.to_bits() }]);
        assert_eq!(nodes(&vector), [("BatchNormalization", "batchnorm_0")]);
    }

    #[test]
    fn weights_go_from_ohwi_to_oihw() {
        // 2 filters, 1x2 window, 3 channels: OHWI value = 100 f + 10 x + c.
        let dims = [2, 1, 2, 3];
        let ohwi: Vec<f32> =
            (0..2).flat_map(|f| (0..2).flat_map(move |x| (0..3).map(move |c| (100 * f + 10 * x + c) as f32))).collect();
        let oihw = ohwi_to_oihw(&ohwi, dims);
        let want: Vec<f32> =
            (0..2).flat_map(|f| (0..3).flat_map(move |c| (0..2).map(move |x| (100 * f + 10 * x + c) as f32))).collect();
        assert_eq!(oihw, want);
    }
}
