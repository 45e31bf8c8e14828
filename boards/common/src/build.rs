//! What every board's `build.rs` does (feature `build`, host only): copy the
//! model files named by `EMBER_BLOB`, `EMBER_MODEL_RS`, `EMBER_INPUTS` and
//! (optionally) `EMBER_TEXTS` and `EMBER_QUERIES` into `OUT_DIR` as
//! `model.emb`, `model.rs`, `inputs.bin`, `texts.txt`, `queries.txt` (the
//! optional ones empty when unset), write the board's `memory.x` there, and
//! hand the linker its scripts.

use std::path::{Path, PathBuf};
use std::vec::Vec;
use std::{env, eprintln, format, fs, println, process};

use crate::protocol::{FILE_INPUTS, OPTIONAL_FILES, REQUIRED_FILES};

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    process::exit(1);
}

/// Writes `bytes` to `path` unless it already holds them (keeps mtimes, avoids rebuilds).
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if fs::read(path).ok().as_deref() != Some(bytes) {
        fs::write(path, bytes).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
    }
}

/// Reads the file named by `var`, telling cargo to rerun when it changes.
fn read_named(var: &str) -> Option<(PathBuf, Vec<u8>)> {
    println!("cargo:rerun-if-env-changed={var}");
    let src = PathBuf::from(env::var_os(var)?);
    println!("cargo:rerun-if-changed={}", src.display());
    let bytes = fs::read(&src).unwrap_or_else(|e| fail(&format!("{var}: cannot read {}: {e}", src.display())));
    Some((src, bytes))
}

/// Prepares `OUT_DIR` for the firmware and passes `link_args` (for example
/// `-Tlink.x`) to the linker; exits with a message on any missing file.
pub fn prepare(memory_x: &[u8], link_args: &[&str]) {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set")));
    for (var, name) in REQUIRED_FILES {
        let Some((src, bytes)) = read_named(var) else {
            fail("set EMBER_BLOB, EMBER_MODEL_RS, EMBER_INPUTS (cargo xtask boards does this)");
        };
        if name == FILE_INPUTS && bytes.len() % 4 != 0 {
            fail(&format!("EMBER_INPUTS: {} holds {} bytes, not a whole number of f32", src.display(), bytes.len()));
        }
        write_if_changed(&out.join(name), &bytes);
    }
    for (var, name) in OPTIONAL_FILES {
        let bytes = read_named(var).map(|(_, b)| b).unwrap_or_default();
        write_if_changed(&out.join(name), &bytes);
    }
    write_if_changed(&out.join("memory.x"), memory_x);
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    for arg in link_args {
        println!("cargo:rustc-link-arg={arg}");
    }
}
