//! The reference ONNX checker: `onnx.checker.check_model(full_check=True)`
//! run by a Python with the `onnx` package ([`python`] finds it).

use std::process::Command;

use crate::error::{Result, VerifyError};

pub use super::locate::python;

/// Checks an ONNX model with the `onnx` package's full checker.
///
/// # Errors
/// A missing Python ([`python`]), a temporary file that cannot be written,
/// or the checker's message when it rejects the model.
pub fn onnx_check(onnx: &[u8]) -> Result<()> {
    let python = python()?;
    let file = ember_export::fsutil::temp_path(&std::env::temp_dir().join("ember-onnx-check.onnx"));
    std::fs::write(&file, onnx).map_err(|error| VerifyError::Io { action: "write", path: file.clone(), error })?;
    let out = Command::new(&python)
        .arg("-c")
        .arg("import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)")
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let out = out.map_err(|error| VerifyError::Io { action: "run", path: python, error })?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(VerifyError::CheckerRejects { message });
    }
    Ok(())
}
