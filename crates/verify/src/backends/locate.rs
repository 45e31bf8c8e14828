//! Finding the ONNX Runtime shared library and a Python with the `onnx`
//! package, so that an installed `ember` works outside the source checkout.
//!
//! Both searches look, in order, at:
//!
//! 1. an explicit setting: `ORT_DYLIB_PATH` for the library (the Python has
//!    no separate one: `EMBER_PYTHON` is the first Python asked);
//! 2. the Python that `EMBER_PYTHON` names, when set;
//! 3. the `python3` on `PATH`;
//! 4. the ember checkout's `.venv` (what `cargo xtask setup` creates): the
//!    checkout is `EMBER_CHECKOUT` when set, else the source tree this crate
//!    was built from.
//!
//! A Python is asked where its package lives (`importlib.util.find_spec`,
//! which does not import it); the library is the last
//! `libonnxruntime.so*` in the package's `capi/` folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Result, VerifyError};

/// Environment variable naming the ONNX Runtime shared library.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// Environment variable naming the Python to use (its `onnxruntime` and `onnx` packages).
pub const PYTHON_ENV: &str = "EMBER_PYTHON";
/// Environment variable naming the ember source checkout (for its `.venv`).
pub const CHECKOUT_ENV: &str = "EMBER_CHECKOUT";
/// The Python looked up on `PATH`.
const PATH_PYTHON: &str = "python3";

/// The value of environment variable `name` when set and non-empty.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The ember checkout: `EMBER_CHECKOUT` when set, else the source tree this
/// crate was built from (two levels above `crates/verify`).
pub fn checkout() -> PathBuf {
    env_path(CHECKOUT_ENV).unwrap_or_else(|| {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        here.parent().and_then(Path::parent).unwrap_or(here).to_path_buf()
    })
}

/// The Pythons to ask, in order, each with how it is described in messages:
/// `EMBER_PYTHON` when set, then the `python3` on `PATH`.
fn pythons() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    if let Some(p) = env_path(PYTHON_ENV) {
        let label = format!("{PYTHON_ENV}={}", p.display());
        found.push((p, label));
    }
    found.push((PathBuf::from(PATH_PYTHON), format!("the `{PATH_PYTHON}` on PATH")));
    found
}

/// Why one place searched did not have what was looked for (one line of the
/// "not found" messages), or, for a whole search, every place searched.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Miss(String);

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where `python` finds the package `name` (the folder of its `__init__.py`),
/// without importing it; `Err` says why not.
fn package_dir(python: &Path, name: &str) -> std::result::Result<PathBuf, Miss> {
    let script =
        "import importlib.util as u, sys\ns = u.find_spec(sys.argv[1])\nprint(s.origin if s and s.origin else '')";
    let out = Command::new(python)
        .args(["-c", script, name])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| Miss(format!("cannot run it ({e})")))?;
    let origin = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match Path::new(&origin).parent() {
        Some(dir) if out.status.success() && !origin.is_empty() => Ok(dir.to_path_buf()),
        _ if !out.status.success() => Err(Miss(format!("it failed ({})", out.status))),
        _ => Err(Miss(format!("no `{name}` package"))),
    }
}

/// The last `libonnxruntime.so*` file directly in `dir`, in name order.
fn dylib_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("libonnxruntime.so"))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

/// `lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*` under a
/// virtual environment's `lib` folder; the last name in sort order if several.
pub(crate) fn find_in_venv(venv_lib: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(venv_lib)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .filter_map(|e| dylib_in(&e.path().join("site-packages/onnxruntime/capi")))
        .collect();
    found.sort();
    found.pop()
}

/// Locates the ONNX Runtime shared library: `ORT_DYLIB_PATH` when set, else
/// the `onnxruntime` package of `EMBER_PYTHON` or of the `python3` on
/// `PATH`, else the checkout's `.venv` (see the module docs).
///
/// # Errors
/// [`VerifyError::OrtDylibEnv`] if `ORT_DYLIB_PATH` names something that is
/// not a file; [`VerifyError::OrtNotFound`], listing every place searched
/// and how to install the library, if nothing is found.
pub fn ort_dylib_path() -> Result<PathBuf> {
    if let Some(path) = env_path(ORT_DYLIB_ENV) {
        return if path.is_file() { Ok(path) } else { Err(VerifyError::OrtDylibEnv { path }) };
    }
    let mut searched = format!("  - {ORT_DYLIB_ENV}: not set\n");
    if env_path(PYTHON_ENV).is_none() {
        searched += &format!("  - {PYTHON_ENV}: not set\n");
    }
    for (python, label) in pythons() {
        match package_dir(&python, "onnxruntime") {
            Ok(pkg) => match dylib_in(&pkg.join("capi")) {
                Some(lib) => return Ok(lib),
                None => searched += &format!("  - {label}: no libonnxruntime.so* in {}\n", pkg.join("capi").display()),
            },
            Err(why) => searched += &format!("  - {label}: {why}\n"),
        }
    }
    let venv = checkout().join(".venv");
    match find_in_venv(&venv.join("lib")) {
        Some(lib) => Ok(lib),
        None => {
            let why = if venv.exists() { "no onnxruntime package in it" } else { "not there" };
            searched += &format!("  - the ember checkout's .venv, {}: {why}\n", venv.display());
            Err(VerifyError::OrtNotFound { searched })
        }
    }
}

/// The Python for the ONNX checker: the first of `EMBER_PYTHON`, the
/// `python3` on `PATH` and the checkout's `.venv/bin/python` that has the
/// `onnx` package. Searched once per process.
///
/// # Errors
/// [`VerifyError::PythonNotFound`], listing every place searched and how to
/// install the package, if none has it.
pub fn python() -> Result<PathBuf> {
    static FOUND: std::sync::OnceLock<std::result::Result<PathBuf, Miss>> = std::sync::OnceLock::new();
    FOUND.get_or_init(find_python).clone().map_err(|Miss(searched)| VerifyError::PythonNotFound { searched })
}

/// [`python`] without the cache; `Err` holds the places searched.
fn find_python() -> std::result::Result<PathBuf, Miss> {
    let mut searched = String::new();
    if env_path(PYTHON_ENV).is_none() {
        searched += &format!("  - {PYTHON_ENV}: not set\n");
    }
    let venv = checkout().join(".venv").join("bin").join("python");
    let mut candidates = pythons();
    candidates.push((venv.clone(), format!("the ember checkout's .venv, {}", venv.display())));
    for (python, label) in candidates {
        if python == venv && !venv.exists() {
            searched += &format!("  - {label}: not there\n");
            continue;
        }
        match package_dir(&python, "onnx") {
            Ok(_) => return Ok(python),
            Err(why) => searched += &format!("  - {label}: {why}\n"),
        }
    }
    Err(Miss(searched))
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

    #[test]
    fn a_missing_python_says_why() {
        let err = package_dir(Path::new("/nonexistent/ember/python3"), "onnx").unwrap_err();
        assert!(err.0.starts_with("cannot run it"), "{err}");
    }

    #[test]
    fn the_not_found_message_names_every_option() {
        let e = VerifyError::OrtNotFound { searched: "  - ORT_DYLIB_PATH: not set\n".into() }.to_string();
        for needle in ["ORT_DYLIB_PATH", "EMBER_PYTHON", "python3", "pip install onnxruntime", "cargo xtask setup"] {
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }
}
