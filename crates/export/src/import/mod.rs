//! ONNX import: [`import_onnx`] turns an ONNX model made by another
//! framework (Keras through tf2onnx, PyTorch through `torch.onnx`, ...)
//! into an ember [`Model`], or says exactly why it cannot.
//!
//! The supported set is what the runtime runs (see `docs/IMPORT.md`): a
//! chain of `Gemm` / `MatMul` (+ `Add`), `Conv` (1-D, 2-D, depthwise,
//! strided, dilated), `MaxPool`, `AveragePool`, `GlobalAveragePool`,
//! `Resize` / `Upsample` (nearest, integer factor), `BatchNormalization`
//! (folded into a preceding `Conv` or `Gemm` where it can be), `Gather` (an
//! embedding of the input ids), `RNN`, `LSTM`, `GRU`, the activations
//! `Relu`, `Sigmoid`, `Tanh`, `Softmax` (fused into the layer before), and
//! the layout operators `Flatten`, `Reshape`, `Squeeze`, `Unsqueeze`,
//! `Transpose`, `Identity`, `Dropout`, which move no data in ember's
//! channels-last buffer (`value.rs` tracks the order), and the `Gather` /
//! `Slice` of a recurrent layer's last step (`select.rs`). Small constant
//! subgraphs (shape arithmetic) are folded (`consts.rs`).
//!
//! Every node outside the set is reported, all at once
//! ([`ImportError::Unsupported`]); a supported op with attributes the
//! runtime cannot honour is an error naming the node
//! ([`ImportError::Node`]). Nothing is ever approximated.
//!
//! One file per layer kind, named as the exporter's (`dense.rs`,
//! `conv2d.rs`, ...), `layout.rs` for the layout operators and `fuse.rs`
//! for folding batch normalisation, biases and activations into the layer before.

mod attrs;
mod batch_norm;
mod consts;
mod conv2d;
mod dense;
mod embedding;
mod error;
mod finish;
mod fold;
mod fuse;
mod global_average_pool;
mod layout;
mod max_pool2d;
mod recurrent;
mod select;
mod upsample2d;
mod value;
mod walk;

pub use error::{ImportError, UnsupportedNode};
pub use value::split_batch;
pub use walk::import_onnx;

use crate::Model;

/// Options of [`import_onnx`].
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The model's name (file stem by default in the CLI).
    pub name: String,
    /// Dimensions of one input sample (the batch dimension left out) that
    /// replace the graph input's declared ones, for inputs with dynamic dimensions.
    pub input_shape: Option<Vec<usize>>,
}

/// An imported model and how its buffers relate to the ONNX graph's tensors.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The ember model.
    pub model: Model,
    /// The graph input's per-sample dimensions (batch left out), as ONNX declares them.
    pub onnx_input_dims: Vec<usize>,
    /// The graph input's batch size, if the graph fixes it.
    pub fixed_batch: Option<usize>,
    /// Whether the graph input holds token ids (`INT64`/`INT32`).
    pub token_ids: bool,
    /// ember input position → ONNX per-sample flat index of the input.
    pub input_order: Vec<u32>,
    /// ember output position → ONNX per-sample flat index of the output.
    pub output_order: Vec<u32>,
    /// The graph output's dimensions with the batch axis (of size 1).
    pub onnx_output_dims: Vec<usize>,
    /// Which axis of the graph output is the batch axis.
    pub output_batch_axis: usize,
    /// How the input is laid out relative to ONNX: `"same"`, `"NCHW"`, `"NCL"` or `"permuted"`.
    pub input_layout: String,
    /// The same for the output.
    pub output_layout: String,
    /// One line per ONNX node: what it became.
    pub steps: Vec<String>,
}

impl Imported {
    /// An ember input sample rearranged into the ONNX graph's order.
    pub fn to_onnx_input(&self, ember: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; ember.len()];
        for (i, &k) in self.input_order.iter().enumerate() {
            out[k as usize] = ember[i];
        }
        out
    }

    /// An ONNX-ordered input sample rearranged into ember's order.
    pub fn from_onnx_input(&self, onnx: &[f32]) -> Vec<f32> {
        self.input_order.iter().map(|&k| onnx[k as usize]).collect()
    }

    /// An ONNX output sample (batch axis removed, row-major) rearranged into ember's order.
    pub fn from_onnx_output(&self, onnx: &[f32]) -> Vec<f32> {
        self.output_order.iter().map(|&k| onnx[k as usize]).collect()
    }
}
