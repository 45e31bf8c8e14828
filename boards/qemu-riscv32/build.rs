//! Puts the model into the firmware: copies the files named by `EMBER_BLOB`,
//! `EMBER_MODEL_RS`, `EMBER_INPUTS` and (optionally) `EMBER_TEXTS` into
//! `OUT_DIR` (as `model.emb`, `model.rs`, `inputs.bin`, `texts.txt`), and hands `memory.x` (with the `REGION_ALIAS`
//! lines riscv-rt needs) and `link.x` to the linker.

use std::path::{Path, PathBuf};
use std::{env, fs, process};

/// The environment variables naming the model files, and their names in `OUT_DIR`.
const FILES: [(&str, &str); 3] =
    [("EMBER_BLOB", "model.emb"), ("EMBER_MODEL_RS", "model.rs"), ("EMBER_INPUTS", "inputs.bin")];
/// Optional raw texts (one per line) for models with a tokenizer; empty when unset.
const TEXTS: (&str, &str) = ("EMBER_TEXTS", "texts.txt");

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

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set")));
    for (var, name) in FILES {
        println!("cargo:rerun-if-env-changed={var}");
        let Some(src) = env::var_os(var) else {
            fail("set EMBER_BLOB, EMBER_MODEL_RS, EMBER_INPUTS (cargo xtask boards does this)");
        };
        let src = PathBuf::from(src);
        println!("cargo:rerun-if-changed={}", src.display());
        let bytes = fs::read(&src).unwrap_or_else(|e| fail(&format!("{var}: cannot read {}: {e}", src.display())));
        if name == "inputs.bin" && bytes.len() % 4 != 0 {
            fail(&format!("EMBER_INPUTS: {} holds {} bytes, not a whole number of f32", src.display(), bytes.len()));
        }
        write_if_changed(&out.join(name), &bytes);
    }
    println!("cargo:rerun-if-env-changed={}", TEXTS.0);
    let texts = match env::var_os(TEXTS.0) {
        Some(src) => {
            let src = PathBuf::from(src);
            println!("cargo:rerun-if-changed={}", src.display());
            fs::read(&src).unwrap_or_else(|e| fail(&format!("{}: cannot read {}: {e}", TEXTS.0, src.display())))
        }
        None => Vec::new(),
    };
    write_if_changed(&out.join(TEXTS.1), &texts);
    write_if_changed(&out.join("memory.x"), include_bytes!("memory.x"));
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg=-Tmemory.x");
    println!("cargo:rustc-link-arg=-Tlink.x");
}
