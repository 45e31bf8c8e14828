//! Why an ONNX model cannot be imported.

/// One node outside the supported set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedNode {
    /// The node's name (or its first output's, if it has none).
    pub name: String,
    /// Its `op_type` (with its domain, if not the default one).
    pub op: String,
}

/// Why [`import_onnx`](super::import_onnx) failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The bytes are not an ONNX model (not protobuf, truncated, no graph).
    #[error("not a valid ONNX model: {0}")]
    Decode(String),
    /// Nodes whose operators the runtime does not run (all of them).
    #[error(
        "{} unsupported ONNX node{}: {} (ember imports Gemm, MatMul, Add / Sub / Mul / Div by constants, Conv, MaxPool, AveragePool, \
         GlobalAveragePool, Resize, Upsample, BatchNormalization, Gather, RNN, LSTM, GRU, Relu, Sigmoid, \
         Tanh, Softmax and layout-only Flatten, Reshape, Squeeze, Unsqueeze, Transpose; see docs/IMPORT.md)",
        .0.len(),
        if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|n| format!("`{}` ({})", n.name, n.op)).collect::<Vec<_>>().join(", ")
    )]
    Unsupported(Vec<UnsupportedNode>),
    /// A dimension of the input other than the batch is not fixed.
    #[error(
        "input `{input}` has a dynamic dimension {dim} ({what}): ember models have fixed sizes; \
         give the sample shape with --input-shape"
    )]
    DynamicShape {
        /// The graph input.
        input: String,
        /// The axis (0 is the batch).
        dim: usize,
        /// The symbol or value found.
        what: String,
    },
    /// A supported operator used in a way the runtime cannot run.
    #[error("node `{node}` ({op}): {reason}")]
    Node {
        /// The node's name.
        node: String,
        /// Its operator.
        op: String,
        /// What is not supported.
        reason: String,
    },
    /// The graph as a whole does not fit (not a chain, several inputs, ...).
    #[error("{0}")]
    Graph(String),
    /// The resulting model is invalid.
    #[error(transparent)]
    Model(#[from] crate::ExportError),
}
