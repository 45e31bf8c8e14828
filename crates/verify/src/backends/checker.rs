//! The reference ONNX checker: `onnx.checker.check_model(full_check=True)`
//! run by the venv's Python (`cargo xtask setup` creates it).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The venv's Python: `EMBER_PYTHON` (set by `cargo xtask test`) when set
/// and non-empty, else `.venv/bin/python` of the workspace.
///
/// # Errors
/// When that file does not exist, with the command that creates it.
pub fn python() -> Result<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("."));
    let p = std::env::var_os("EMBER_PYTHON")
        .filter(|p| !p.is_empty())
        .map_or_else(|| workspace.join(".venv").join("bin").join("python"), PathBuf::from);
    if !p.exists() {
        bail!("{} not found: run `cargo xtask setup` (creates .venv with onnx, onnxruntime and numpy)", p.display());
    }
    Ok(p)
}

/// Checks an ONNX model with the `onnx` package's full checker.
///
/// # Errors
/// A missing Python ([`python`]), or the checker's message when it rejects the model.
pub fn onnx_check(onnx: &[u8]) -> Result<()> {
    let python = python()?;
    let file = ember_export::fsutil::temp_path(&std::env::temp_dir().join("ember-onnx-check.onnx"));
    std::fs::write(&file, onnx).with_context(|| format!("cannot write {}", file.display()))?;
    let out = Command::new(&python)
        .arg("-c")
        .arg("import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)")
        .arg(&file)
        .output()
        .with_context(|| format!("cannot run {}", python.display()));
    let _ = std::fs::remove_file(&file);
    let out = out?;
    if !out.status.success() {
        bail!("the ONNX checker rejects the model: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}
