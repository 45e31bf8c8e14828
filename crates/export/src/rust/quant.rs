//! The generated types of quantized layers (see the module docs of `rust.rs`).

use ember_runtime::qspec::QuantMode;
use ember_runtime::spec::{Dims, LayerSpec};

use super::{RT, activation_type, layer_type, out_len, padding_type, pixels};
use crate::ExportError;

/// The runtime type of a quantized layer (see the module docs).
pub(super) fn quant_type(i: usize, layer: &LayerSpec, mode: QuantMode, dims: Dims) -> Result<String, ExportError> {
    let unsupported =
        || ExportError::Invalid(format!("layer {i} ({}): no typed runtime layer for {mode:?}", layer.kind_name()));
    let s2 = |v: [u32; 2]| format!("{}, {}", v[0], v[1]);
    Ok(match (mode, *layer) {
        (QuantMode::Int8, LayerSpec::Dense { inputs, units, activation }) => {
            format!("{RT}::QDense<{inputs}, {units}, {RT}::{}>", activation_type(activation))
        }
        (
            QuantMode::Int8,
            LayerSpec::Conv2d { height, width, channels, filters, kernel_h, kernel_w, padding, activation },
        ) => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::QConv2d<{height}, {width}, {channels}, {filters}, {kernel_h}, {kernel_w}, 1, 1, 1, 1, \
                 {RT}::{}, {RT}::{}, {hw}, {ohw}>",
                padding_type(padding),
                activation_type(activation)
            )
        }
        (
            QuantMode::Int8,
            LayerSpec::Conv2dStrided {
                height,
                width,
                channels,
                filters,
                kernel,
                stride,
                dilation,
                padding,
                activation,
            },
        ) => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::QConv2d<{height}, {width}, {channels}, {filters}, {}, {}, {}, {RT}::{}, {RT}::{}, {hw}, {ohw}>",
                s2(kernel),
                s2(stride),
                s2(dilation),
                padding_type(padding),
                activation_type(activation)
            )
        }
        (
            QuantMode::Int8,
            LayerSpec::Conv1d { length, channels, filters, kernel, stride, dilation, padding, activation },
        ) => {
            let out = out_len(i, layer)?;
            format!(
                "{RT}::QConv1d<{length}, {channels}, {filters}, {kernel}, {stride}, {dilation}, {RT}::{}, {RT}::{}, \
                 {out}>",
                padding_type(padding),
                activation_type(activation)
            )
        }
        (
            QuantMode::Int8,
            LayerSpec::DepthwiseConv2d { height, width, channels, kernel, stride, dilation, padding, activation },
        ) => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::QDepthwise<{height}, {width}, {channels}, {}, {}, {}, {RT}::{}, {RT}::{}, {hw}, {ohw}>",
                s2(kernel),
                s2(stride),
                s2(dilation),
                padding_type(padding),
                activation_type(activation)
            )
        }
        (QuantMode::WeightsOnly, LayerSpec::Dense { inputs, units, activation }) => {
            format!("{RT}::WoDense<{inputs}, {units}, {RT}::{}>", activation_type(activation))
        }
        (QuantMode::WeightsOnly, LayerSpec::Embedding { vocab, dim, seq_len }) => {
            format!("{RT}::WoEmbedding<{vocab}, {dim}, {seq_len}>")
        }
        (QuantMode::WeightsOnly, LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. }) => {
            layer_type(i, layer, dims)?
        }
        _ => return Err(unsupported()),
    })
}
