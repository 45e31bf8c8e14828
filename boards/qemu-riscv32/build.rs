//! Puts the model into the firmware (see `ember_board_common::build`): the
//! files named by `EMBER_BLOB`, `EMBER_MODEL_RS`, `EMBER_INPUTS` and
//! (optionally) `EMBER_TEXTS`, and `memory.x` (with the `REGION_ALIAS` lines riscv-rt needs), go to `OUT_DIR`;
//! the linker gets its scripts.

fn main() {
    ember_board_common::build::prepare(include_bytes!("memory.x"), &["-Tmemory.x", "-Tlink.x"]);
}
