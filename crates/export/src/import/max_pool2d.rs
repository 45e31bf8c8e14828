//! `MaxPool` and `AveragePool`: [`LayerSpec::MaxPool2d`] (a square window
//! moved by its own size), [`LayerSpec::MaxPool1d`], and
//! [`LayerSpec::AveragePool2d`] / [`LayerSpec::AveragePool1d`] (padding
//! never counted: `count_include_pad = 1` only where no padding is read).
//! Padding as for `Conv` (`conv2d.rs`). A 2-D max pooling over a map of
//! one row or one column runs as the 1-D one. An activation after a max pooling moves
//! before it (they commute: the activations are monotone).

use ember_runtime::spec::{LayerSpec, Padding};

use super::ImportError;
use super::attrs;
use super::conv2d::{map_input, window_padding};
use super::value::channels_last;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// A pooling node on the running value.
pub(crate) fn pool(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let (c, spatial) = map_input(b, node)?;
    let kernel: Vec<usize> = attrs::ints(node, "kernel_shape").iter().map(|&k| k.max(0) as usize).collect();
    let geo = window_padding(node, &spatial, kernel)?;
    if geo.dilation.iter().any(|&d| d != 1) {
        return Err(node_err(node, "dilated pooling"));
    }
    let max = node.op_type == "MaxPool";
    if attrs::int(node, "storage_order", 0) != 0 {
        return Err(node_err(node, "storage_order = 1"));
    }
    if !max && attrs::int(node, "count_include_pad", 0) == 1 {
        let reads_padding = geo.padding == Padding::Same
            && spatial
                .iter()
                .zip(&geo.kernel)
                .zip(&geo.stride)
                .any(|((&n, &k), &s)| Padding::Same.geometry(n, k, s).is_some_and(|(o, _)| (o - 1) * s + k > n));
        if reads_padding {
            return Err(node_err(
                node,
                "count_include_pad = 1 with padding (the runtime never counts padded cells, as Keras)",
            ));
        }
    }
    let who = format!("node `{}` ({})", node_name(node), node.op_type);
    b.x.require(channels_last(&b.x.sample_dims()), &who)?;
    let u = |v: usize| v as u32;
    let (k, s, p) = (&geo.kernel, &geo.stride, geo.padding);
    let one_row = spatial.len() == 2 && spatial[0] == 1 && k[0] == 1;
    // tf2onnx writes a Keras 1-D pooling as a 2-D one over `[steps, 1]`.
    let one_col = spatial.len() == 2 && spatial[1] == 1 && k[1] == 1;
    let spec = match (spatial.len(), max) {
        (1, true) => {
            LayerSpec::MaxPool1d { length: u(spatial[0]), channels: u(c), pool: u(k[0]), stride: u(s[0]), padding: p }
        }
        (1, false) => LayerSpec::AveragePool1d {
            length: u(spatial[0]),
            channels: u(c),
            pool: u(k[0]),
            stride: u(s[0]),
            padding: p,
        },
        (2, true) if k[0] == k[1] && s[0] == k[0] && s[1] == k[1] => LayerSpec::MaxPool2d {
            height: u(spatial[0]),
            width: u(spatial[1]),
            channels: u(c),
            pool: u(k[0]),
            padding: p,
        },
        (2, true) if one_row => {
            LayerSpec::MaxPool1d { length: u(spatial[1]), channels: u(c), pool: u(k[1]), stride: u(s[1]), padding: p }
        }
        (2, true) if one_col => {
            LayerSpec::MaxPool1d { length: u(spatial[0]), channels: u(c), pool: u(k[0]), stride: u(s[0]), padding: p }
        }
        (2, true) => {
            return Err(node_err(
                node,
                format!(
                    "kernel {k:?} with strides {s:?}: the runtime's 2-D max pooling moves a square window by its own size"
                ),
            ));
        }
        (_, false) => LayerSpec::AveragePool2d {
            height: u(spatial[0]),
            width: u(spatial[1]),
            channels: u(c),
            pool: [u(k[0]), u(k[1])],
            stride: [u(s[0]), u(s[1])],
            padding: p,
        },
        _ => return Err(node_err(node, "only 1-D and 2-D pooling")),
    };
    let slot = b.act_slot;
    let i = b.push(spec, Vec::new(), String::new());
    if max {
        b.act_slot = slot;
    }
    *b.steps.last_mut().expect("a step was pushed") = format!(
        "`{}` ({}) → {}_{i}: kernel {k:?}, strides {s:?}, {} padding",
        node_name(node),
        node.op_type,
        spec.kind_name(),
        p.name()
    );
    let mut dims = vec![b.x.dims[0], c];
    dims.extend(&geo.out);
    b.x.src = channels_last(&dims[1..]);
    b.x.dims = dims;
    Ok(())
}
