//! [`VerifyError`]: everything that can go wrong while locating, loading and
//! running the reference backends and comparing them.
//!
//! Every message is complete on its own (a wrapped error's text is part of
//! it), so printing the error, with or without its chain, says it all.

use std::path::PathBuf;

use ember_export::ExportError;

/// An error of `ember-verify`.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No ONNX Runtime shared library anywhere ember looks.
    #[error(
        "ONNX Runtime was not found. ember looks for its shared library, in order, in:\n{searched}\
         To fix it, do one of: `pip install onnxruntime` (into the `python3` on PATH, or into the Python \
         that EMBER_PYTHON names); set ORT_DYLIB_PATH to a libonnxruntime.so; run `cargo xtask setup` in \
         the ember checkout (creates its .venv; set EMBER_CHECKOUT if the checkout has moved)"
    )]
    OrtNotFound {
        /// One line per place searched, with what was found there.
        searched: String,
    },
    /// `ORT_DYLIB_PATH` names something that is not a file.
    #[error(
        "ORT_DYLIB_PATH={} is not a file; point it at a libonnxruntime.so, or unset it to use the onnxruntime \
         package of EMBER_PYTHON or of the `python3` on PATH (`pip install onnxruntime`)",
        .path.display()
    )]
    OrtDylibEnv {
        /// The value of `ORT_DYLIB_PATH`.
        path: PathBuf,
    },
    /// The ONNX Runtime library was found but could not be loaded.
    #[error(
        "could not load ONNX Runtime from {}: {message}; install a matching onnxruntime \
         (`pip install onnxruntime`) or set ORT_DYLIB_PATH",
        .path.display()
    )]
    OrtLoad {
        /// The library.
        path: PathBuf,
        /// What ONNX Runtime said.
        message: String,
    },
    /// An ONNX Runtime call failed.
    #[error("ONNX Runtime {what}: {message}")]
    Ort {
        /// What was being done.
        what: &'static str,
        /// What ONNX Runtime said.
        message: String,
    },
    /// A tract call failed.
    #[error("tract {what}: {message}")]
    Tract {
        /// What was being done.
        what: String,
        /// What tract said.
        message: String,
    },
    /// The bytes are not an ONNX model.
    #[error("{reader} could not read the ONNX model: {message}")]
    Unreadable {
        /// The backend reading it.
        reader: &'static str,
        /// What the protobuf decoder said.
        message: String,
    },
    /// The ONNX model has no graph.
    #[error("the ONNX model has no graph")]
    NoGraph,
    /// The ONNX model does not have exactly one graph input.
    #[error("the ONNX model has {count} inputs; ember models have exactly one")]
    InputCount {
        /// Graph inputs, initializers left out.
        count: usize,
    },
    /// The graph input is not a tensor.
    #[error("the ONNX model's input `{name}` is not a tensor")]
    InputNotTensor {
        /// The input's name.
        name: String,
    },
    /// The graph input's element type is neither `FLOAT` nor `INT64` / `INT32`.
    #[error("the ONNX model's input `{name}` has element type {elem}; ember feeds FLOAT, INT64 or INT32")]
    InputElement {
        /// The input's name.
        name: String,
        /// The ONNX element type number.
        elem: i32,
    },
    /// The session's input does not take the requested shape.
    #[error("the ONNX model's input `{name}` has shape {declared:?}; cannot feed {shape:?}")]
    InputShape {
        /// The input's name.
        name: String,
        /// Its declared shape (`-1` for a free dimension).
        declared: Vec<i64>,
        /// The shape asked for.
        shape: Vec<usize>,
    },
    /// The session's input is not a tensor of the expected element type.
    #[error("the ONNX model's input `{name}` is {found}, not a {want} tensor")]
    InputType {
        /// The input's name.
        name: String,
        /// What it is.
        found: String,
        /// The element type wanted.
        want: String,
    },
    /// A batch of zero samples.
    #[error("batch size must be at least 1")]
    EmptyBatch,
    /// Input dimensions that are empty or hold a zero.
    #[error("input dims {dims:?} must be non-empty and hold no zero")]
    BadDims {
        /// The dimensions given.
        dims: Vec<usize>,
    },
    /// The input does not fill its shape.
    #[error("input holds {len} values but shape {shape:?} needs {want}")]
    InputLen {
        /// Values given.
        len: usize,
        /// The full input shape.
        shape: Vec<usize>,
        /// Values the shape holds.
        want: usize,
    },
    /// An input shape whose element count overflows.
    #[error("input shape {shape:?} is too large")]
    ShapeTooLarge {
        /// The shape.
        shape: Vec<usize>,
    },
    /// The input is not a whole number of samples.
    #[error("input holds {len} values, not a whole number of {per}-value samples")]
    PartialSample {
        /// Values given.
        len: usize,
        /// Values per sample.
        per: usize,
    },
    /// A NaN or infinite input value.
    #[error("input value {index} is {value} (NaN and infinities are rejected)")]
    NonFinite {
        /// Position in the input.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A token-id input value that is not a whole number `>= 0`.
    #[error("input value {index} is {value}, not a token id (a whole number >= 0)")]
    NotTokenId {
        /// Position in the input.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A token id at or above the vocabulary size.
    #[error("input value {index} is token id {value}, outside the vocabulary 0..{vocab}")]
    TokenOutOfVocab {
        /// Position in the input.
        index: usize,
        /// The id.
        value: f32,
        /// The vocabulary size.
        vocab: usize,
    },
    /// A backend returned an output of an unexpected shape.
    #[error("{backend} returned an output of shape {shape:?} ({len} values); expected [{batch}, ...]")]
    OutputShape {
        /// The backend.
        backend: &'static str,
        /// The output's shape.
        shape: Vec<usize>,
        /// Its values.
        len: usize,
        /// The batch size.
        batch: usize,
    },
    /// A backend returned no output at all.
    #[error("{backend} returned no output")]
    NoOutput {
        /// The backend.
        backend: &'static str,
    },
    /// The ember runtime rejected the blob or failed while running it.
    #[error("{what}: {message}")]
    Runtime {
        /// What was being done (`blob rejected`, `runtime`).
        what: &'static str,
        /// What the runtime said.
        message: String,
    },
    /// Reading or writing a blob with `ember-export` failed.
    #[error("{what}: {error}")]
    Export {
        /// What was being done.
        what: &'static str,
        /// The export error.
        error: ExportError,
    },
    /// No Python with the `onnx` package for the ONNX checker.
    #[error(
        "no Python with the `onnx` package for the ONNX checker. ember looks, in order, at:\n{searched}\
         To fix it, do one of: `pip install onnx` (into the `python3` on PATH, or into the Python that \
         EMBER_PYTHON names); set EMBER_PYTHON to a Python that has it; run `cargo xtask setup` in the \
         ember checkout (creates its .venv; set EMBER_CHECKOUT if the checkout has moved)"
    )]
    PythonNotFound {
        /// One line per place searched, with what was found there.
        searched: String,
    },
    /// The ONNX checker rejected the model.
    #[error("the ONNX checker rejects the model: {message}")]
    CheckerRejects {
        /// What the checker printed.
        message: String,
    },
    /// A file could not be written or a program could not be run.
    #[error("cannot {action} {}: {error}", .path.display())]
    Io {
        /// What was being done (`write`, `run`).
        action: &'static str,
        /// The file or program.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// One backend of [`verify`](crate::verify) failed.
    #[error("{backend}: {error}")]
    Backend {
        /// The backend.
        backend: &'static str,
        /// Its error.
        error: Box<VerifyError>,
    },
}

/// `Result` with a [`VerifyError`].
pub type Result<T, E = VerifyError> = std::result::Result<T, E>;
