//! Checks that the model files are in `model/` (else stops with the command
//! that writes them) and adds the linker scripts of esp-hal (`linkall.x`)
//! and defmt (`defmt.x`).

use std::path::PathBuf;
use std::{env, process};

/// The model files `src/main.rs` includes, relative to this folder.
const MODEL_FILES: &[&str] =
    &["model/gesture_conv1d.emb", "model/gesture_conv1d.rs", "model/gesture_conv1d.inputs.bin"];

fn main() {
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let missing: Vec<&str> = MODEL_FILES.iter().copied().filter(|f| !here.join(f).is_file()).collect();
    for f in MODEL_FILES {
        println!("cargo:rerun-if-changed={f}");
    }
    if !missing.is_empty() {
        eprintln!(
            "error: the model is missing ({}).\n\
             Write it with `cargo xtask board-packages` (from the repository root), or put your own\n\
             model there: `ember export YOUR.emb --blob model/gesture_conv1d.emb --rust model/gesture_conv1d.rs`\n\
             and its inputs in model/gesture_conv1d.inputs.bin (README.md).",
            missing.join(", ")
        );
        process::exit(1);
    }
    for arg in ["-Tlinkall.x", "-Tdefmt.x"] {
        println!("cargo:rustc-link-arg={arg}");
    }
}
