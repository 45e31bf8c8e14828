//! The models a core does not run, and why.
//!
//! The four emulated cores (Cortex-M4F, RV32IMAFC, Cortex-M0, Cortex-M33)
//! run the same model set, except where a model does not fit a core: the
//! Cortex-M0 board has the nRF51822's 256 KiB of flash
//! (`boards/qemu-cortex-m0/memory.x`), too little for the models with the
//! largest weights. Those are listed in [`EXCLUDED`] with their reason, and
//! [`excluded`] proves the reason each time instead of skipping silently:
//! it builds the model's firmware, which must fail at the link step with
//! the flash overflowed. An exclusion that stops being true (the firmware
//! links) fails the test, so the model is then run; a model that stops
//! fitting and is not listed fails at its own build.
//!
//! To keep their time in CI down (about 6 minutes for both), the Cortex-M0
//! and the Cortex-M33 leave out the int8 presets of [`INT8_LEFT_OUT`], each
//! the same network as a preset they run or a variant of one.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ember_board_host::protocol::{FILE_BLOB, FILE_INPUTS, FILE_MODEL_RS};
use ember_board_host::{Board, BoardError, build_board};

/// Why a model does not run on a core.
#[derive(Clone, Copy, Debug)]
pub enum Reason {
    /// Its firmware does not fit the board's flash: the linker reports the
    /// `FLASH` region overflowed.
    Flash,
}

/// The models a core does not run: (core, the model's folder name under
/// `target/boards/<board>/`, why). The Cortex-M0's flash is 256 KiB; the
/// comment gives blob + input bytes (the firmware's code is about 35 kB more).
pub const EXCLUDED: &[(Board, &str, Reason)] = &[
    // f32: the 784-128-32 encoder (431 kB), the 5000-word model (454 kB) and
    // the text classifiers' 5000 x 32 embedding table (640 kB alone).
    (Board::CortexM0, "mnist_encoder", Reason::Flash),
    (Board::CortexM0, "next_word_5000", Reason::Flash),
    (Board::CortexM0, "lstm", Reason::Flash),
    (Board::CortexM0, "gru", Reason::Flash),
    // int8 presets whose weights-only or 784-wide layers stay too large.
    (Board::CortexM0, "mnist_ae_int8", Reason::Flash),
    (Board::CortexM0, "rnn_int8", Reason::Flash),
    (Board::CortexM0, "birnn_int8", Reason::Flash),
    (Board::CortexM0, "lstm_int8", Reason::Flash),
    (Board::CortexM0, "gru_int8", Reason::Flash),
];

/// The int8 presets ([`super::int8`]) the Cortex-M0 and Cortex-M33 do not
/// run: `conv-denoise` and `mnist-denoise` are the networks of `conv-ae`
/// and `mnist-ae` (trained on other inputs), `rnn-dense` and `rnn2` are
/// variants of `rnn` (a Dense head, a second SimpleRNN layer). The
/// Cortex-M4F and the RV32IMAFC run every preset.
pub const INT8_LEFT_OUT: [&str; 4] = ["conv-denoise", "mnist-denoise", "rnn-dense", "rnn2"];

/// Whether `board` runs the int8 preset `name` ([`INT8_LEFT_OUT`]).
pub fn runs_int8_preset(board: Board, name: &str) -> bool {
    matches!(board, Board::CortexM4 | Board::Riscv32) || !INT8_LEFT_OUT.contains(&name)
}

/// Whether model `dir_name` (files `blob` and `model_rs`, samples `inputs`)
/// is excluded from `board`. For an excluded one, proves its reason (see the
/// module docs) and prints it.
///
/// # Errors
/// If the reason does not hold (the firmware links: remove the exclusion),
/// or the build fails for another reason.
pub fn excluded(board: Board, dir_name: &str, blob: &Path, model_rs: &Path, inputs: &[f32]) -> Result<bool> {
    let Some((_, _, Reason::Flash)) = EXCLUDED.iter().find(|(b, name, _)| *b == board && *name == dir_name) else {
        return Ok(false);
    };
    // A scratch folder: a model that does not build must not be left where
    // `cargo xtask boards` looks for models.
    let work = tempfile::tempdir()?;
    fs::copy(blob, work.path().join(FILE_BLOB)).context("copy the blob")?;
    fs::copy(model_rs, work.path().join(FILE_MODEL_RS)).context("copy model.rs")?;
    let bytes: Vec<u8> = inputs.iter().flat_map(|v| v.to_le_bytes()).collect();
    fs::write(work.path().join(FILE_INPUTS), bytes)?;
    let built = {
        let _one_at_a_time = super::super::BOARD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        build_board(board, work.path())
    };
    let output = match built {
        Ok(_) => bail!(
            "{} {dir_name} is excluded because its firmware does not fit the flash, but it links now: remove it from \
             EXCLUDED so that it runs",
            board.name()
        ),
        Err(BoardError::Build { output, .. }) => output,
        Err(e) => return Err(e).context(format!("{} {dir_name}: building the excluded firmware", board.name())),
    };
    let Some(overflow) = output.lines().find(|l| l.contains("will not fit in region 'FLASH'")) else {
        bail!("{} {dir_name}: the excluded firmware fails to build, but not for its flash:\n{output}", board.name());
    };
    let by = overflow.split("overflowed by ").nth(1).unwrap_or("?").trim();
    println!("{} {dir_name}: excluded: its firmware does not fit the flash (overflowed by {by})", board.name());
    Ok(true)
}
