//! Puts the model into the firmware (see `ember_board_common::build`): the
//! files named by `EMBER_BLOB`, `EMBER_MODEL_RS`, `EMBER_INPUTS` and
//! (optionally) `EMBER_TEXTS`, and the package's `memory.x`, go to `OUT_DIR`;
//! the linker gets its scripts. Shared by the three Cortex-M packages (their
//! `Cargo.toml` names it), each with its own `memory.x`.

fn main() {
    let memory_x = concat!(env!("CARGO_MANIFEST_DIR"), "/memory.x");
    let bytes = std::fs::read(memory_x).unwrap_or_else(|e| panic!("cannot read {memory_x}: {e}"));
    ember_board_common::build::prepare(&bytes, &["-Tlink.x"]);
}
