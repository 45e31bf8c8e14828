//! Every conformance test of the workspace in one test binary (the boards
//! test, which `cargo xtask boards` runs on its own, is `tests/boards.rs`).
//!
//! One binary instead of one per file: each linked test binary carries its
//! own copy of tract, ONNX Runtime's bindings and the trainer (50–70 MB each
//! with line tables), and three dozen of them filled a CI disk. Run one group
//! with a filter: `cargo test -p ember-conformance --test conformance blob_format::`.
//!
//! A new file in this folder must be declared below; [`every_file_is_a_module`]
//! fails otherwise, so no test file is silently left out.

mod backends;
mod backends_conv;
mod backends_entity;
mod backends_gru;
mod backends_seq;
mod backends_window;
mod blob_format;
mod blob_format_v2;
mod data;
mod data_embed;
mod fit;
mod fit_extras;
mod gradients;
mod gradients_conv;
mod gradients_entity;
mod gradients_gru;
mod gradients_seq;
mod gradients_window;
mod presets_conv;
mod presets_tasks;
mod presets_text;
mod quant_fixed;
mod quant_kernels;
mod quant_network;
mod quant_onnx;
mod quant_ort;
mod quant_presets;
mod quant_runtime;
mod quant_runtime_support;
mod runtime_conv;
mod runtime_entity;
mod runtime_kernels;
mod runtime_reference;
mod runtime_seq;
mod runtime_window;
mod support;
mod text;

/// Every `.rs` file (and folder with a `mod.rs`) beside this one is declared
/// as a module above, so none of its tests is silently skipped.
#[test]
fn every_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("read main.rs");
    let declared: Vec<&str> = main.lines().filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';')).collect();
    for entry in std::fs::read_dir(&dir).expect("list tests/conformance") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 file name");
        let is_module = path.extension().is_some_and(|e| e == "rs") || path.join("mod.rs").is_file();
        if is_module && name != "main" {
            assert!(declared.contains(&name), "tests/conformance/{name} is not declared in main.rs: add `mod {name};`");
        }
    }
}
