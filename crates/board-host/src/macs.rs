//! Multiply-accumulates per inference, from a blob's layer list: the
//! denominator of the instructions-per-MAC figure of `cargo xtask boards`.

use ember_runtime::format::ALIGN;
use ember_runtime::{Blob, LayerSpec};

/// Multiply-accumulates of one forward pass of `layer`, one sample: the
/// products of its weight matrices and kernels (Dense `in × out`;
/// recurrent `steps × dirs × gates × units × (inputs + units)`; Conv2d
/// `oh × ow × filters × kh × kw × channels`, strided and 1-D alike;
/// DepthwiseConv2d `oh × ow × channels × kh × kw`; BatchNorm one per value).
/// Zero for the layers that only copy, compare or average (Embedding,
/// Flatten, Dropout, the pools, Upsample2d).
pub fn layer_macs(layer: &LayerSpec) -> Option<u64> {
    if let Some(r) = layer.recurrent() {
        let per_step = r.dirs * r.gates * r.units * (r.inputs + r.units);
        return Some((r.seq_len * per_step) as u64);
    }
    let macs = match *layer {
        LayerSpec::Dense { inputs, units, .. } => u64::from(inputs) * u64::from(units),
        LayerSpec::Conv2d { channels, kernel_h, kernel_w, .. } => {
            layer.output_len() as u64 * u64::from(kernel_h) * u64::from(kernel_w) * u64::from(channels)
        }
        LayerSpec::Conv2dStrided { channels, kernel: [kh, kw], .. } => {
            layer.output_len() as u64 * u64::from(kh) * u64::from(kw) * u64::from(channels)
        }
        LayerSpec::Conv1d { channels, kernel, .. } => {
            layer.output_len() as u64 * u64::from(kernel) * u64::from(channels)
        }
        LayerSpec::DepthwiseConv2d { kernel: [kh, kw], .. } => {
            layer.output_len() as u64 * u64::from(kh) * u64::from(kw)
        }
        LayerSpec::BatchNorm { .. } => layer.output_len() as u64,
        LayerSpec::EntityDot { columns, dim, .. } => {
            let (c, d) = (u64::from(columns), u64::from(dim));
            c * c.saturating_sub(1) / 2 * d
        }
        LayerSpec::Embedding { .. }
        | LayerSpec::Flatten { .. }
        | LayerSpec::Dropout { .. }
        | LayerSpec::MaxPool2d { .. }
        | LayerSpec::Upsample2d { .. }
        | LayerSpec::MaxPool1d { .. }
        | LayerSpec::AveragePool1d { .. }
        | LayerSpec::AveragePool2d { .. }
        | LayerSpec::GlobalAveragePool { .. } => 0,
        // Counted above through `recurrent()`.
        LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => return None,
    };
    Some(macs)
}

/// Multiply-accumulates per inference of the model in `blob` (the sum of
/// [`layer_macs`]); `None` if the blob does not parse or holds a layer kind
/// the count does not know.
pub fn model_macs(blob: &[u8]) -> Option<u64> {
    // The runtime reads blobs in place, 16-byte aligned: copy to such an address.
    let mut buf = vec![0u8; blob.len() + ALIGN];
    let at = buf.as_ptr().align_offset(ALIGN);
    let aligned = buf.get_mut(at..at + blob.len())?;
    aligned.copy_from_slice(blob);
    let parsed = Blob::parse(aligned).ok()?;
    parsed.header().layers.iter().map(layer_macs).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ember_runtime::spec::Activation;

    #[test]
    fn counts_dense_and_recurrent_products() {
        let dense = LayerSpec::Dense { inputs: 784, units: 128, activation: Activation::Relu };
        assert_eq!(layer_macs(&dense), Some(100_352));
        let lstm =
            LayerSpec::Lstm { inputs: 32, units: 100, seq_len: 400, return_sequences: false, bidirectional: false };
        assert_eq!(layer_macs(&lstm), Some(400 * 4 * 100 * 132));
        let gru = LayerSpec::Gru { inputs: 32, units: 100, seq_len: 400, return_sequences: false, bidirectional: true };
        assert_eq!(layer_macs(&gru), Some(2 * 400 * 3 * 100 * 132));
        let embedding = LayerSpec::Embedding { vocab: 5000, dim: 32, seq_len: 400 };
        assert_eq!(layer_macs(&embedding), Some(0));
    }

    #[test]
    fn counts_window_products() {
        use ember_runtime::spec::Padding;
        // 49x10x1 -> stride 2, same, 10x4 kernel, 16 filters: 25x5x16 outputs of 40 products.
        let conv = LayerSpec::Conv2dStrided {
            height: 49,
            width: 10,
            channels: 1,
            filters: 16,
            kernel: [10, 4],
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::Same,
            activation: Activation::Relu,
        };
        assert_eq!(layer_macs(&conv), Some(25 * 5 * 16 * 40));
        let dw = LayerSpec::DepthwiseConv2d {
            height: 25,
            width: 5,
            channels: 16,
            kernel: [3, 3],
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Same,
            activation: Activation::Relu,
        };
        assert_eq!(layer_macs(&dw), Some(25 * 5 * 16 * 9));
        let c1 = LayerSpec::Conv1d {
            length: 64,
            channels: 3,
            filters: 8,
            kernel: 5,
            stride: 1,
            dilation: 1,
            padding: Padding::Valid,
            activation: Activation::Relu,
        };
        assert_eq!(layer_macs(&c1), Some(60 * 8 * 15));
    }

    #[test]
    fn a_blob_that_does_not_parse_has_no_count() {
        assert_eq!(model_macs(b"not a blob"), None);
    }
}
