//! Running ONNX models with [ONNX Runtime](https://onnxruntime.ai) through the
//! `ort` crate, with the shared library loaded at run time.
//!
//! The library is found by [`ort_dylib_path`] and loaded once per process
//! (the first [`OrtModel::load`]); a missing or incompatible library is an
//! error, not a panic, and the same error is returned on every later call.
//! Sessions use one intra-op and one inter-op thread so that results are
//! deterministic.

use std::path::PathBuf;
use std::sync::OnceLock;

use ::ort::session::Session;
use ::ort::value::{TensorElementType, TensorRef, ValueType};
use ember_runtime::spec::ValueKind;

use super::locate::ort_dylib_path;
use super::{InputInfo, check_len, check_output, input_info, input_shape, read_proto, token_ids};
use crate::error::{Result, VerifyError};

pub use super::locate::ORT_DYLIB_ENV;

/// Why the library or its environment is unusable, kept for every later call.
#[derive(Clone, Debug)]
enum EnvFailure {
    /// Nothing found: the places searched ([`VerifyError::OrtNotFound`]).
    NotFound(String),
    /// `ORT_DYLIB_PATH` is not a file ([`VerifyError::OrtDylibEnv`]).
    DylibEnv(PathBuf),
    /// The library did not load: its path and the loader's message.
    Load(PathBuf, String),
    /// The environment could not be created: ONNX Runtime's message.
    Environment(String),
}

impl EnvFailure {
    fn error(self) -> VerifyError {
        match self {
            EnvFailure::NotFound(searched) => VerifyError::OrtNotFound { searched },
            EnvFailure::DylibEnv(path) => VerifyError::OrtDylibEnv { path },
            EnvFailure::Load(path, message) => VerifyError::OrtLoad { path, message },
            EnvFailure::Environment(message) => VerifyError::Ort { what: "environment", message },
        }
    }
}

/// The process-wide ONNX Runtime environment, created on first use.
fn environment() -> Result<&'static ::ort::environment::Environment> {
    static ENV: OnceLock<Result<::ort::environment::Environment, EnvFailure>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let path = ort_dylib_path().map_err(|e| match e {
            VerifyError::OrtNotFound { searched } => EnvFailure::NotFound(searched),
            VerifyError::OrtDylibEnv { path } => EnvFailure::DylibEnv(path),
            other => EnvFailure::Environment(other.to_string()),
        })?;
        let builder = ::ort::init_from(&path).map_err(|e| EnvFailure::Load(path.clone(), e.to_string()))?;
        builder.with_name("ember").build().map_err(|e| EnvFailure::Environment(e.to_string()))
    });
    env.as_ref().map_err(|e| e.clone().error())
}

/// Maps an `ort` error to [`VerifyError::Ort`] for the step `what`.
fn ort_err<R>(what: &'static str) -> impl FnOnce(::ort::Error<R>) -> VerifyError {
    move |e| VerifyError::Ort { what, message: e.to_string() }
}

/// An ONNX model loaded into an ONNX Runtime session, for input shape
/// `[batch, ...input_dims]`.
#[derive(Debug)]
pub struct OrtModel {
    session: Session,
    shape: Vec<usize>,
    input: InputInfo,
}

impl OrtModel {
    /// Loads the ONNX Runtime library (once per process), creates a session
    /// for `onnx` and checks that its single input accepts
    /// `[batch, ...input_dims]` of `f32` (or of `i64` token ids, for a model
    /// whose input is `INT64`).
    ///
    /// # Errors
    /// If the library is missing, ONNX Runtime rejects the model, or the
    /// model's input is not a single `f32` or `i64` tensor of a compatible
    /// shape.
    pub fn load(onnx: &[u8], input_dims: &[usize], batch: usize) -> Result<Self> {
        let shape = input_shape(input_dims, batch, None)?;
        let info = input_info(&read_proto(onnx, "ONNX Runtime")?)?;
        let want_ty = match info.kind {
            ValueKind::F32 => TensorElementType::Float32,
            ValueKind::TokenIds if info.int32 => TensorElementType::Int32,
            ValueKind::TokenIds => TensorElementType::Int64,
        };
        let env = environment()?;
        let session = Session::builder(env)
            .map_err(ort_err("session options"))?
            .with_intra_threads(1)
            .map_err(ort_err("session options"))?
            .with_inter_threads(1)
            .map_err(ort_err("session options"))?
            .commit_from_memory(onnx)
            .map_err(ort_err("rejected the ONNX model"))?;
        let [input] = session.inputs() else {
            return Err(VerifyError::InputCount { count: session.inputs().len() });
        };
        match input.dtype() {
            ValueType::Tensor { ty, shape: declared, .. } if *ty == want_ty => {
                let fits = declared.len() == shape.len()
                    && declared.iter().zip(&shape).all(|(&d, &s)| d < 0 || d as usize == s);
                if !fits {
                    let (name, declared) = (input.name().to_string(), declared.to_vec());
                    return Err(VerifyError::InputShape { name, declared, shape });
                }
            }
            other => {
                let (name, found, want) = (input.name().to_string(), format!("{other:?}"), format!("{want_ty:?}"));
                return Err(VerifyError::InputType { name, found, want });
            }
        }
        Ok(OrtModel { session, shape, input: info })
    }

    /// What the model's input holds: `F32` values or `TokenIds`.
    pub fn input_kind(&self) -> ValueKind {
        self.input.kind
    }

    /// The input shape the model was loaded for, `[batch, ...input_dims]`.
    pub fn input_shape(&self) -> &[usize] {
        &self.shape
    }

    /// Runs one batch.
    ///
    /// # Shapes
    /// `input`: row-major `[batch, ...input_dims]` (as loaded) → row-major
    /// `[batch, ...output]`, the model's first output.
    ///
    /// For a token-id model each value is an id, converted exactly to `i64`.
    ///
    /// # Errors
    /// If `input` does not hold exactly the loaded shape's element count, a
    /// token id is not a whole number in `0..vocab`, or ONNX Runtime fails
    /// while running.
    pub fn run(&mut self, input: &[f32]) -> Result<Vec<f32>> {
        check_len(&self.shape, input.len())?;
        let (ids, ids32): (Vec<i64>, Vec<i32>);
        let x = match self.input.kind {
            ValueKind::F32 => TensorRef::from_array_view((self.shape.clone(), input)).map(|t| t.into_dyn()),
            ValueKind::TokenIds if self.input.int32 => {
                let wide = token_ids(input, self.input.vocab)?;
                ids32 = wide.iter().map(|&i| i32::try_from(i).unwrap_or(i32::MAX)).collect();
                TensorRef::from_array_view((self.shape.clone(), &ids32[..])).map(|t| t.into_dyn())
            }
            ValueKind::TokenIds => {
                ids = token_ids(input, self.input.vocab)?;
                TensorRef::from_array_view((self.shape.clone(), &ids[..])).map(|t| t.into_dyn())
            }
        }
        .map_err(ort_err("input tensor"))?;
        let outputs = self.session.run(::ort::inputs![x]).map_err(ort_err("failed to run the model"))?;
        let first = outputs.values().next().ok_or(VerifyError::NoOutput { backend: "ONNX Runtime" })?;
        let (shape, data) = first.try_extract_tensor::<f32>().map_err(ort_err("output"))?;
        let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
        check_output("ONNX Runtime", &dims, self.shape[0], data.len())?;
        Ok(data.to_vec())
    }
}

/// Runs an ONNX model on a batch with ONNX Runtime.
///
/// # Shapes
/// `input` is row-major `[batch, ...input_dims]`; returns row-major
/// `[batch, ...output]`.
///
/// # Errors
/// As [`OrtModel::load`] and [`OrtModel::run`]; the input length is checked
/// before anything is loaded.
pub fn run_ort(onnx: &[u8], input_dims: &[usize], batch: usize, input: &[f32]) -> Result<Vec<f32>> {
    input_shape(input_dims, batch, Some(input.len()))?;
    OrtModel::load(onnx, input_dims, batch)?.run(input)
}
