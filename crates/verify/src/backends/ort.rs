//! Running ONNX models with [ONNX Runtime](https://onnxruntime.ai) through the
//! `ort` crate, with the shared library loaded at run time.
//!
//! The library is found by [`ort_dylib_path`] and loaded once per process
//! (the first [`OrtModel::load`]); a missing or incompatible library is an
//! error, not a panic, and the same error is returned on every later call.
//! Sessions use one intra-op and one inter-op thread so that results are
//! deterministic.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ::ort::session::Session;
use ::ort::value::{TensorElementType, TensorRef, ValueType};
use anyhow::{Context, Result, anyhow, bail};
use ember_runtime::spec::ValueKind;

use super::{InputInfo, check_len, check_output, input_info, input_shape, read_proto, token_ids};

/// Environment variable naming the ONNX Runtime shared library.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// What to do when no library is found.
const SETUP_HINT: &str = "run `cargo xtask setup` (which creates .venv with onnxruntime) or set ORT_DYLIB_PATH";

/// Locates the ONNX Runtime shared library: the `ORT_DYLIB_PATH` environment
/// variable if set, else the `onnxruntime` wheel inside the workspace's
/// virtual environment,
/// `<workspace>/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*`
/// (`<workspace>` is the source tree this crate was built from).
///
/// # Errors
/// If `ORT_DYLIB_PATH` names a missing file, or nothing is found; the
/// message says how to install the library.
pub fn ort_dylib_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(ORT_DYLIB_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("{ORT_DYLIB_ENV}={} is not a file; {SETUP_HINT}", p.display());
        }
        return Ok(p);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("."));
    let venv_lib = workspace.join(".venv").join("lib");
    find_in_venv(&venv_lib).ok_or_else(|| {
        anyhow!(
            "ONNX Runtime library not found ({ORT_DYLIB_ENV} unset, nothing under {}); {SETUP_HINT}",
            venv_lib.display()
        )
    })
}

/// `lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*` under a
/// virtual environment's `lib` folder; the last name in sort order if several.
fn find_in_venv(venv_lib: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(venv_lib)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .filter_map(|e| std::fs::read_dir(e.path().join("site-packages/onnxruntime/capi")).ok())
        .flat_map(|dir| dir.flatten())
        .filter(|e| e.file_name().to_string_lossy().starts_with("libonnxruntime.so"))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

/// The process-wide ONNX Runtime environment, created on first use.
fn environment() -> Result<&'static ::ort::environment::Environment> {
    static ENV: OnceLock<Result<::ort::environment::Environment, String>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let path = ort_dylib_path().map_err(|e| e.to_string())?;
        let builder = ::ort::init_from(&path)
            .map_err(|e| format!("could not load ONNX Runtime from {}: {e}; {SETUP_HINT}", path.display()))?;
        builder.with_name("ember").build().map_err(|e| format!("could not create the ONNX Runtime environment: {e}"))
    });
    env.as_ref().map_err(|e| anyhow!("{e}"))
}

fn ort_err<R>(what: &str) -> impl FnOnce(::ort::Error<R>) -> anyhow::Error + '_ {
    move |e| anyhow!("ONNX Runtime {what}: {e}")
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
        let info = input_info(&read_proto(onnx).context("ONNX Runtime rejected the ONNX model")?)?;
        let want_ty = match info.kind {
            ValueKind::F32 => TensorElementType::Float32,
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
            bail!("the ONNX model has {} inputs; ember models have exactly one", session.inputs().len());
        };
        match input.dtype() {
            ValueType::Tensor { ty, shape: declared, .. } if *ty == want_ty => {
                let fits = declared.len() == shape.len()
                    && declared.iter().zip(&shape).all(|(&d, &s)| d < 0 || d as usize == s);
                if !fits {
                    bail!(
                        "the ONNX model's input `{}` has shape {:?}; cannot feed {shape:?}",
                        input.name(),
                        &**declared
                    );
                }
            }
            other => bail!("the ONNX model's input `{}` is {other:?}, not a {want_ty:?} tensor", input.name()),
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
        let ids;
        let x = match self.input.kind {
            ValueKind::F32 => TensorRef::from_array_view((self.shape.clone(), input)).map(|t| t.into_dyn()),
            ValueKind::TokenIds => {
                ids = token_ids(input, self.input.vocab)?;
                TensorRef::from_array_view((self.shape.clone(), &ids[..])).map(|t| t.into_dyn())
            }
        }
        .map_err(ort_err("input tensor"))?;
        let outputs = self.session.run(::ort::inputs![x]).map_err(ort_err("failed to run the model"))?;
        let first = outputs.values().next().context("ONNX Runtime returned no output")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venv_search_finds_a_versioned_library() {
        let dir = std::env::temp_dir().join(format!("ember-ort-venv-{}", std::process::id()));
        let capi = dir.join("python3.11/site-packages/onnxruntime/capi");
        std::fs::create_dir_all(&capi).unwrap();
        assert_eq!(find_in_venv(&dir), None);
        std::fs::write(capi.join("libonnxruntime.so.1.32.0"), b"").unwrap();
        std::fs::write(capi.join("libonnxruntime_providers_shared.so"), b"").unwrap();
        assert_eq!(find_in_venv(&dir), Some(capi.join("libonnxruntime.so.1.32.0")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
