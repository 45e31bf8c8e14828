//! Checks that the model files are in `model/` (else stops with the command
//! that writes them), hands `memory.x` to the linker and adds the linker
//! scripts of cortex-m-rt (`link.x`) and defmt (`defmt.x`).

use ember_board_package::build;

/// The model files `src/main.rs` includes, relative to this folder.
const MODEL_FILES: &[&str] = &[
    "model/kws_dscnn.emb",
    "model/kws_dscnn.rs",
    "model/kws_dscnn.inputs.bin",
    "model/sine.emb",
    "model/sine.rs",
    "model/sine.inputs.bin",
];

fn main() {
    build::require_models(
        MODEL_FILES,
        "`ember export YOUR.emb --blob model/kws_dscnn.emb --rust model/kws_dscnn.rs` (README.md).",
    );
    build::memory_x(include_bytes!("memory.x"));
    build::link_args(&["--nmagic", "-Tlink.x", "-Tdefmt.x"]);
}
