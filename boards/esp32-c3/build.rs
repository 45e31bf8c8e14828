//! Checks that the model files are in `model/` (else stops with the command
//! that writes them) and adds the linker scripts of esp-hal (`linkall.x`)
//! and defmt (`defmt.x`).

use ember_board_package::build;

/// The model files `src/main.rs` includes, relative to this folder.
const MODEL_FILES: &[&str] =
    &["model/gesture_conv1d.emb", "model/gesture_conv1d.rs", "model/gesture_conv1d.inputs.bin"];

fn main() {
    build::require_models(
        MODEL_FILES,
        "`ember export YOUR.emb --blob model/gesture_conv1d.emb --rust model/gesture_conv1d.rs`\n\
         and its inputs in model/gesture_conv1d.inputs.bin (README.md).",
    );
    build::link_args(&["-Tlinkall.x", "-Tdefmt.x"]);
}
