//! Checks that the model files are in `model/` (else stops with the command
//! that writes them), hands `memory.x` to the linker and adds the linker
//! scripts of cortex-m-rt (`link.x`) and defmt (`defmt.x`).

use ember_board_package::build;

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
    build::require_models(
        MODEL_FILES,
        "`ember export YOUR.emb --blob model/conv_ae_encoder.emb --rust model/conv_ae_encoder.rs` (README.md).",
    );
    build::memory_x(include_bytes!("memory.x"));
    build::link_args(&["--nmagic", "-Tlink.x", "-Tdefmt.x"]);
}
