//! `Conv`: [`LayerSpec::Conv2d`] (stride and dilation 1),
//! [`LayerSpec::Conv2dStrided`], [`LayerSpec::Conv1d`] (1-D) and
//! [`LayerSpec::DepthwiseConv2d`] (`group = channels = filters`, 1-D ones
//! as 2-D of height 1). ONNX's OIHW weight becomes ember's OHWI (OIW →
//! OWI, `[C, 1, kh, kw]` → `[kh, kw, C]`). ONNX `pads` must be those of
//! Keras `"valid"` or `"same"` (see [`window_padding`]): the runtime knows
//! no other padding.

use ember_runtime::spec::{Activation, LayerSpec, Padding};

use super::ImportError;
use super::attrs;
use super::value::channels_last;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// Geometry of a window op along its spatial axes.
pub(crate) struct Geometry {
    /// Kernel per axis.
    pub kernel: Vec<usize>,
    /// Stride per axis.
    pub stride: Vec<usize>,
    /// Dilation per axis.
    pub dilation: Vec<usize>,
    /// The Keras padding that gives the same windows.
    pub padding: Padding,
    /// Output size per axis.
    pub out: Vec<usize>,
}

/// Reads `kernel_shape`, `strides`, `dilations`, `pads`, `auto_pad` and
/// `ceil_mode` of a window node over `spatial` and finds the Keras padding
/// giving the same output size and the same padding before each axis.
pub(crate) fn window_padding(node: &NodeProto, spatial: &[usize], kernel: Vec<usize>) -> Result<Geometry, ImportError> {
    let r = spatial.len();
    let list = |name: &str| -> Vec<usize> {
        let v = attrs::ints(node, name);
        if v.is_empty() { vec![1; r] } else { v.iter().map(|&x| x.max(0) as usize).collect() }
    };
    let (stride, dilation) = (list("strides"), list("dilations"));
    let pads = attrs::ints(node, "pads");
    let pads: Vec<usize> =
        if pads.is_empty() { vec![0; 2 * r] } else { pads.iter().map(|&p| p.max(0) as usize).collect() };
    if kernel.len() != r || stride.len() != r || dilation.len() != r || pads.len() != 2 * r {
        return Err(node_err(node, "kernel, strides, dilations or pads do not match the input's rank"));
    }
    if kernel.contains(&0) || stride.contains(&0) || dilation.contains(&0) {
        return Err(node_err(node, "a kernel, stride or dilation of 0"));
    }
    let auto = attrs::string(node, "auto_pad", "NOTSET");
    let ceil = attrs::int(node, "ceil_mode", 0) == 1;
    let mut out = Vec::with_capacity(r);
    let mut fits = [true, true]; // Valid, Same
    for a in 0..r {
        let (n, k, s, d) = (spatial[a], kernel[a], stride[a], dilation[a]);
        let span = (k - 1) * d + 1;
        let (o, before) = match auto.as_str() {
            "VALID" => (if n >= span { (n - span) / s + 1 } else { 0 }, 0),
            "SAME_UPPER" | "SAME_LOWER" => {
                let o = n.div_ceil(s);
                let total = ((o.max(1) - 1) * s + span).saturating_sub(n);
                (o, if auto == "SAME_UPPER" { total / 2 } else { total - total / 2 })
            }
            _ => {
                let padded = n + pads[a] + pads[a + r];
                if padded < span {
                    (0, pads[a])
                } else {
                    let q = padded - span;
                    (if ceil { q.div_ceil(s) } else { q / s } + 1, pads[a])
                }
            }
        };
        for (f, p) in fits.iter_mut().zip([Padding::Valid, Padding::Same]) {
            *f &= p.dilated_geometry(n, k, s, d) == Some((o, before));
        }
        out.push(o);
    }
    let padding = match fits {
        [true, _] => Padding::Valid,
        [false, true] => Padding::Same,
        _ => {
            return Err(node_err(
                node,
                format!(
                    "padding (pads {pads:?}, auto_pad {auto}, ceil_mode {}) over {spatial:?} with kernel {kernel:?}, \
                     strides {stride:?}: the runtime pads only as Keras \"valid\" or \"same\" (the larger half after)",
                    ceil as u8
                ),
            ));
        }
    };
    Ok(Geometry { kernel, stride, dilation, padding, out })
}

/// The running value as `[C, spatial...]` with the batch first; checks the rank.
pub(crate) fn map_input(b: &Builder, node: &NodeProto) -> Result<(usize, Vec<usize>), ImportError> {
    let d = &b.x.dims;
    if b.x.batch_axis != 0 || !(d.len() == 3 || d.len() == 4) {
        return Err(node_err(node, format!("input {d:?} is not [N, C, L] or [N, C, H, W]")));
    }
    Ok((d[1], d[2..].to_vec()))
}

/// `Conv` on the running value.
pub(crate) fn conv(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let (c, spatial) = map_input(b, node)?;
    let w = b.need_const(node, 1)?.clone();
    let f = w.dims[0];
    if w.dims.len() != spatial.len() + 2 {
        return Err(node_err(node, format!("weight {:?} does not fit input {:?}", w.dims, b.x.dims)));
    }
    let kernel = w.dims[2..].to_vec();
    let g = attrs::int(node, "group", 1).max(1) as usize;
    let depthwise = g > 1 && g == c && f == c && w.dims[1] == 1;
    if !(g == 1 && w.dims[1] == c || depthwise) {
        return Err(node_err(
            node,
            format!(
                "group = {g} with {c} channels and {f} filters: ember runs plain (group 1) and depthwise (group = channels = filters) convolutions"
            ),
        ));
    }
    let bias = match b.input_const(node, 2)? {
        Some(bc) if bc.len() == f => bc.f32s(),
        Some(bc) => return Err(node_err(node, format!("bias of shape {:?}", bc.dims))),
        None => vec![0.0; f],
    };
    let geo = window_padding(node, &spatial, kernel)?;
    let who = format!("node `{}` (Conv)", node_name(node));
    b.x.require(channels_last(&b.x.sample_dims()), &who)?;
    let wf = w.f32s();
    let u = |v: usize| v as u32;
    let (kk, st, dl, p) = (&geo.kernel, &geo.stride, &geo.dilation, geo.padding);
    let act = Activation::Linear;
    let (spec, weight) = match (spatial.len(), depthwise) {
        (1, false) => {
            let k = kk[0];
            let weight = (0..f * k * c)
                .map(|i| {
                    let (o, r) = (i / (k * c), i % (k * c));
                    wf[(o * c + r % c) * k + r / c]
                })
                .collect();
            (
                LayerSpec::Conv1d {
                    length: u(spatial[0]),
                    channels: u(c),
                    filters: u(f),
                    kernel: u(k),
                    stride: u(st[0]),
                    dilation: u(dl[0]),
                    padding: p,
                    activation: act,
                },
                weight,
            )
        }
        (2, false) => {
            let (kh, kw) = (kk[0], kk[1]);
            let weight = (0..f * kh * kw * c)
                .map(|i| {
                    let (o, r) = (i / (kh * kw * c), i % (kh * kw * c));
                    let (y, x, ch) = (r / (kw * c), r / c % kw, r % c);
                    wf[((o * c + ch) * kh + y) * kw + x]
                })
                .collect();
            let spec = if st == &[1, 1] && dl == &[1, 1] {
                LayerSpec::Conv2d {
                    height: u(spatial[0]),
                    width: u(spatial[1]),
                    channels: u(c),
                    filters: u(f),
                    kernel_h: u(kh),
                    kernel_w: u(kw),
                    padding: p,
                    activation: act,
                }
            } else {
                LayerSpec::Conv2dStrided {
                    height: u(spatial[0]),
                    width: u(spatial[1]),
                    channels: u(c),
                    filters: u(f),
                    kernel: [u(kh), u(kw)],
                    stride: [u(st[0]), u(st[1])],
                    dilation: [u(dl[0]), u(dl[1])],
                    padding: p,
                    activation: act,
                }
            };
            (spec, weight)
        }
        (_, true) => {
            // 1-D depthwise runs as 2-D over one row.
            let (h, wd, kh, kw, sh, sw, dh, dw) = if spatial.len() == 1 {
                (1, spatial[0], 1, kk[0], 1, st[0], 1, dl[0])
            } else {
                (spatial[0], spatial[1], kk[0], kk[1], st[0], st[1], dl[0], dl[1])
            };
            let weight = (0..kh * kw * c)
                .map(|i| {
                    let (cell, ch) = (i / c, i % c);
                    wf[ch * kh * kw + cell]
                })
                .collect();
            (
                LayerSpec::DepthwiseConv2d {
                    height: u(h),
                    width: u(wd),
                    channels: u(c),
                    kernel: [u(kh), u(kw)],
                    stride: [u(sh), u(sw)],
                    dilation: [u(dh), u(dw)],
                    padding: p,
                    activation: act,
                },
                weight,
            )
        }
        _ => return Err(node_err(node, "only 1-D and 2-D convolutions")),
    };
    let i = b.push(spec, vec![weight, bias], String::new());
    *b.steps.last_mut().expect("a step was pushed") = format!(
        "`{}` (Conv) → {}_{i}: {c}→{f} channels, kernel {:?}, strides {:?}, dilations {:?}, {} padding{}",
        node_name(node),
        spec.kind_name(),
        geo.kernel,
        geo.stride,
        geo.dilation,
        geo.padding.name(),
        if depthwise { ", depthwise" } else { "" }
    );
    let mut dims = vec![b.x.dims[0], f];
    dims.extend(&geo.out);
    b.x.src = channels_last(&dims[1..]);
    b.x.dims = dims;
    Ok(())
}
