//! What the packages' build scripts do (feature `build`, host only).

use std::path::PathBuf;
use std::{env, fs, process};

/// Tells cargo to rerun when any of `files` (the model files the firmware
/// includes, relative to the package folder) changes, and stops the build
/// with a message naming `cargo xtask board-packages` when some are
/// missing. `own_model` ends the message: how to put one's own model there
/// (an `ember export` command line).
pub fn require_models(files: &[&str], own_model: &str) {
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let missing: Vec<&str> = files.iter().copied().filter(|f| !here.join(f).is_file()).collect();
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    if !missing.is_empty() {
        eprintln!(
            "error: the model is missing ({}).\n\
             Write it with `cargo xtask board-packages` (from the repository root), or put your own\n\
             model there: {own_model}",
            missing.join(", ")
        );
        process::exit(1);
    }
}

/// Writes `memory_x` (the package's `memory.x`) into `OUT_DIR` and adds
/// that folder to the linker's search path.
pub fn memory_x(memory_x: &[u8]) {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = fs::write(out.join("memory.x"), memory_x) {
        eprintln!("error: cannot write memory.x into {}: {e}", out.display());
        process::exit(1);
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}

/// Passes `args` (for example `-Tlink.x`) to the linker.
pub fn link_args(args: &[&str]) {
    for arg in args {
        println!("cargo:rustc-link-arg={arg}");
    }
}
