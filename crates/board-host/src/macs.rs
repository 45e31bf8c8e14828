//! Multiply-accumulates per inference, from a blob's layer list: the
//! denominator of the instructions-per-MAC figure of `cargo xtask boards`.

use ember_runtime::format::ALIGN;
use ember_runtime::{Blob, LayerSpec};

/// Multiply-accumulates of one forward pass of `layer`, one sample: the
/// products of its weight matrices and kernels (Dense `in × out`;
/// recurrent `steps × dirs × gates × units × (inputs + units)`; Conv2d
/// `oh × ow × filters × kh × kw × channels`; BatchNorm one per value).
/// Zero for the layers that only copy or compare (Embedding, Flatten,
/// Dropout, MaxPool2d, Upsample2d); `None` for a kind this count does not
/// know (a model holding one gets no per-MAC figure).
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
        LayerSpec::BatchNorm { .. } => layer.output_len() as u64,
        LayerSpec::EntityDot { columns, dim, .. } => {
            let (c, d) = (u64::from(columns), u64::from(dim));
            c * c.saturating_sub(1) / 2 * d
        }
        LayerSpec::Embedding { .. }
        | LayerSpec::Flatten { .. }
        | LayerSpec::Dropout { .. }
        | LayerSpec::MaxPool2d { .. }
        | LayerSpec::Upsample2d { .. } => 0,
        #[allow(unreachable_patterns)]
        _ => return None,
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
    fn a_blob_that_does_not_parse_has_no_count() {
        assert_eq!(model_macs(b"not a blob"), None);
    }
}
