//! Checks that the model files are in `model/` (else stops with the command
//! that writes them), hands `memory.x` to the linker and adds the linker
//! scripts of cortex-m-rt (`link.x`) and defmt (`defmt.x`).

use std::path::PathBuf;
use std::{env, fs, process};

/// The model files `src/main.rs` includes, relative to this folder.
const MODEL_FILES: &[&str] = &[
    "model/conv_ae_encoder.emb",
    "model/conv_ae_encoder.rs",
    "model/conv_ae_encoder.inputs.bin",
    "model/conv_ae_encoder_int8.emb",
    "model/conv_ae_encoder_int8.rs",
    "model/conv_ae_encoder_int8.inputs.bin",
];

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
             model there: `ember export YOUR.emb --blob model/conv_ae_encoder.emb --rust model/conv_ae_encoder.rs` (README.md).",
            missing.join(", ")
        );
        process::exit(1);
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = fs::write(out.join("memory.x"), include_bytes!("memory.x")) {
        eprintln!("error: cannot write memory.x into {}: {e}", out.display());
        process::exit(1);
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    for arg in ["--nmagic", "-Tlink.x", "-Tdefmt.x"] {
        println!("cargo:rustc-link-arg={arg}");
    }
}
