//! [`BoardError`]: everything that can go wrong while building firmware,
//! running it under QEMU and reading what it printed.
//!
//! Every message is complete on its own (a wrapped error's text is part of
//! it), so printing the error, with or without its chain, says it all.

use std::path::PathBuf;
use std::process::ExitStatus;

/// An error of `ember-board-host`.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The board packages (`<checkout>/boards/`) are not there: the board
    /// steps need the ember source checkout.
    #[error(
        "the board steps need the ember source checkout (its boards/ folder), and {} does not exist; \
         set EMBER_CHECKOUT to the folder of an ember checkout (git clone of the ember repository) \
         to run them",
        .boards.display()
    )]
    NoCheckout {
        /// The `boards` folder looked for.
        boards: PathBuf,
    },
    /// The board's QEMU is not installed.
    #[error(
        "{qemu} is not installed; run `cargo xtask setup` as root (it installs QEMU 10 from \
         bookworm-backports: qemu-system-arm qemu-system-misc)"
    )]
    QemuMissing {
        /// The QEMU program.
        qemu: &'static str,
    },
    /// A file could not be read or written, or a program could not be run.
    #[error("cannot {action} {}: {error}", .path.display())]
    Io {
        /// What was being done (`read`, `write`, `create`, `resolve`, `run`, `start`).
        action: &'static str,
        /// The file, folder or program.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The board's `.cargo/config.toml` has no usable QEMU runner.
    #[error("{}: {why}", .config.display())]
    Runner {
        /// The config file.
        config: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The firmware build failed.
    #[error("building {board} failed ({status}; `cargo xtask setup` installs the target {target}):\n{output}")]
    Build {
        /// The board.
        board: &'static str,
        /// Cargo's exit status.
        status: ExitStatus,
        /// The Rust target.
        target: &'static str,
        /// Cargo's stdout and stderr.
        output: String,
    },
    /// The build succeeded but left no ELF.
    #[error("{board} built, but {} is missing", .elf.display())]
    ElfMissing {
        /// The board.
        board: &'static str,
        /// The ELF expected.
        elf: PathBuf,
    },
    /// The generated `model.rs` does not state `INPUT_LEN`.
    #[error("cannot read INPUT_LEN from model.rs: {why}")]
    InputLen {
        /// What is wrong.
        why: String,
    },
    /// The workload cannot be run (inputs that are not whole samples, a
    /// text on several lines, an empty query).
    #[error("{0}")]
    Workload(String),
    /// QEMU ran longer than [`RUN_TIMEOUT`](crate::RUN_TIMEOUT).
    #[error("{board} did not finish within {secs} s (killed)\n{output}")]
    Timeout {
        /// The board.
        board: &'static str,
        /// The timeout.
        secs: u64,
        /// QEMU's stdout and stderr.
        output: String,
    },
    /// The firmware's output broke the protocol (see [`Protocol`]).
    #[error("{board} run failed: {error}\n{output}")]
    Run {
        /// The board.
        board: &'static str,
        /// What was wrong with the output.
        error: Protocol,
        /// QEMU's stdout and stderr.
        output: String,
    },
    /// QEMU exited with a failure status after a well-formed output.
    #[error("{board} exited with {status}\n{output}")]
    Exit {
        /// The board.
        board: &'static str,
        /// QEMU's exit status.
        status: ExitStatus,
        /// QEMU's stdout and stderr.
        output: String,
    },
    /// The output, on its own, breaks the protocol.
    #[error(transparent)]
    Protocol(#[from] Protocol),
    /// The board's and the host's answers to similarity queries differ, or
    /// the host cannot answer one.
    #[error("{0}")]
    Queries(String),
    /// An LLVM tool is missing or failed.
    #[error("{0}")]
    Llvm(String),
}

/// How a firmware's output breaks the protocol of
/// `ember_board_common::protocol`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Protocol {
    /// The firmware printed an `error:` line.
    #[error("the firmware reported `{0}`")]
    Firmware(String),
    /// A line that is malformed or out of order.
    #[error("line {line}: {why}: `{text}`")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
        /// The line.
        text: String,
    },
    /// The output ended early or with wrong counts.
    #[error("{0}")]
    Incomplete(String),
}

/// `Result` with a [`BoardError`].
pub type Result<T, E = BoardError> = std::result::Result<T, E>;

/// An [`BoardError::Io`] maker for `map_err`.
pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BoardError {
    let path = path.into();
    move |error| BoardError::Io { action, path, error }
}
