//! Building and running board firmware under QEMU.
//!
//! A board (`boards/<name>/`) is a standalone firmware package that takes a
//! model at build time from three files named by environment variables:
//! `EMBER_BLOB` (the `.emb` blob), `EMBER_MODEL_RS` (the generated Rust type
//! file: `Model`, `INPUT_LEN`, `OUTPUT_LEN`, `BLOB_FILE`) and `EMBER_INPUTS`
//! (little-endian `f32` samples), and optionally `EMBER_TEXTS` (raw texts
//! for the device tokenizer) and `EMBER_QUERIES` (similarity queries over
//! the first embedding table), one per line. [`run_board`] builds it in its
//! own folder (each board picks its own critical-section implementation, so
//! two boards never share one cargo invocation), runs it under QEMU with
//! `-icount shift=0` and parses what the firmware prints (the line tags,
//! environment variables and file names are the constants of
//! `ember_board_common::protocol`, re-exported here as [`protocol`]):
//!
//! ```text
//! out <sample> <f32 bits as hex, space separated>
//! instret <sample> <instructions for that inference>
//! text_ids <line> <token ids>
//! text_out <line> <f32 bits as hex>
//! text_instret <line> <instructions to tokenize> <instructions for the inference>
//! similar <line> <row> <score f32 bits as hex> <row> <score bits> ...
//! similar_instret <line> <instructions for the whole query>
//! ram_activation_bytes <bytes>
//! stack_peak_bytes <peak stack bytes> <stack region bytes>
//! done
//! ```
//!
//! A similarity query ([`query_terms`]) is names separated by spaces, each
//! optionally prefixed with `-` (`king -man woman`; `column=value` terms for
//! entity models). The firmware answers it with `ember_runtime::search`
//! (`combine`, then `nearest::<`[`QUERY_NEIGHBOURS`]`>` leaving out the
//! query's rows); [`check_queries`] compares its rows and score bits with
//! the host's answer from the same functions.
//!
//! Everything is deterministic: same files, same ELF, same outputs and counts.
//!
//! The board packages live in the ember source checkout (`boards/`): the
//! one this crate was built from, or the one `EMBER_CHECKOUT` names
//! ([`repo_root`]); [`board_available`] says whether a board can run here.
//!
//! `xtask`, the `ember` command and the conformance tests share it.

#![warn(missing_docs)]

mod board;
pub mod error;
mod macs;
mod output;
mod run;
mod sizes;

use std::path::PathBuf;
use std::time::Duration;

pub use board::{
    Board, CHECKOUT_ENV, board_available, board_cargo, checkout_available, qemu_available, repo_root, set_model_env,
};
pub use ember_board_common::StackUse;
pub use ember_board_common::protocol;
pub use ember_board_common::protocol::query_terms;
pub use error::{BoardError, Protocol, Result};
pub use macs::{layer_macs, model_macs};
pub use output::{ParsedOutput, QueryRun, TextRun, check_queries, parse_output};
pub use run::{
    QuietRun, build_board, build_board_quiet, input_len_of, run_board, run_board_quiet, run_board_with_texts,
    run_board_workload, run_qemu,
};
pub use sizes::{CodeSizes, Sizes, llvm_tool, measure_code, measure_sizes};

/// How long a firmware run may take before QEMU is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Neighbours the firmware reports per similarity query.
pub use ember_board_common::protocol::NEIGHBOURS as QUERY_NEIGHBOURS;

/// The folder under `target/boards/<name>/` where `cargo xtask boards`
/// re-runs a model (a scratch copy, so it is not listed as a model).
pub const SCRATCH_DIR: &str = "xtask-run";

/// What one firmware run reported.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardRun {
    /// One output vector per input sample, exactly as the board computed it.
    pub outputs: Vec<Vec<f32>>,
    /// Instructions per inference, one per sample (see [`Board::counter`]).
    pub instructions: Vec<u64>,
    /// The model type's `ACTIVATION_BYTES` (activation RAM known at compile time).
    pub activation_bytes: usize,
    /// The stack the whole run used (painted before the model ran, see
    /// `ember_board_stack`): its peak and the size of the stack region.
    pub stack: StackUse,
    /// Section sizes of the firmware.
    pub sizes: Sizes,
    /// The firmware that ran.
    pub elf: PathBuf,
    /// One result per raw text, tokenized and classified on the board.
    pub texts: Vec<TextRun>,
    /// One answer per similarity query, computed on the board.
    pub queries: Vec<QueryRun>,
}

/// What a firmware run is given besides the model.
#[derive(Clone, Copy, Debug, Default)]
pub struct Workload<'a> {
    /// Input samples, whole samples of `INPUT_LEN` values (may be empty).
    pub inputs: &'a [f32],
    /// Raw texts for the device tokenizer, one line each.
    pub texts: &'a [String],
    /// Similarity queries ([`query_terms`]), one line each.
    pub queries: &'a [String],
}
