//! Errors of the exporters.

/// Why a model could not be built, written or read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The runtime rejected a blob or a spec.
    #[error("invalid blob: {0}")]
    Runtime(#[from] ember_runtime::Error),
    /// The model is inconsistent (wrong tensor size, empty layer list, ...).
    #[error("invalid model: {0}")]
    Invalid(String),
    /// The model needs more than the blob format holds.
    #[error("model exceeds the blob format: {0}")]
    Capacity(&'static str),
    /// ONNX encoding failed.
    #[error("ONNX encoding failed: {0}")]
    Onnx(String),
}
