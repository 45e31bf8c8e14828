//! Building a board's firmware with a model and running it under QEMU.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ember_board_common::protocol::{FILE_BLOB, FILE_INPUTS, FILE_MODEL_RS, FILE_QUERIES, FILE_TEXTS};

use crate::error::{BoardError, Result, io};
use crate::{
    Board, BoardRun, CodeSizes, ParsedOutput, RUN_TIMEOUT, Sizes, StackUse, Workload, board_cargo, measure_code,
    measure_sizes, parse_output, set_model_env,
};

/// Builds the board's firmware with the model in `work_dir`
/// ([`set_model_env`]); returns the ELF.
///
/// # Errors
/// If the checkout's board packages are missing, cargo cannot be run, the
/// build fails (the error holds cargo's output) or leaves no ELF.
pub fn build_board(board: Board, work_dir: &Path) -> Result<PathBuf> {
    build(board, work_dir, false)
}

/// [`build_board`] for the board's quiet firmware (feature `quiet`: the
/// model on the fixed inputs, results only, no `core::fmt`; see
/// `ember_board_common::quiet`), in [`Board::quiet_target_dir`]; returns
/// the ELF.
///
/// # Errors
/// As [`build_board`].
pub fn build_board_quiet(board: Board, work_dir: &Path) -> Result<PathBuf> {
    build(board, work_dir, true)
}

fn build(board: Board, work_dir: &Path, quiet: bool) -> Result<PathBuf> {
    crate::checkout_available()?;
    let mut cmd = board_cargo(board);
    cmd.args(["build", "--release"]);
    if quiet {
        cmd.args(["--features", "quiet"]).env("CARGO_TARGET_DIR", board.quiet_target_dir());
    }
    set_model_env(&mut cmd, work_dir);
    let out = cmd.stdin(Stdio::null()).output().map_err(io("run", "cargo"))?;
    if !out.status.success() {
        let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        return Err(BoardError::Build { board: board.name(), status: out.status, target: board.target(), output });
    }
    let elf = if quiet { board.quiet_elf() } else { board.elf() };
    if !elf.is_file() {
        return Err(BoardError::ElfMissing { board: board.name(), elf });
    }
    Ok(elf)
}

/// Copies `src` to `dst` unless they are the same file or `dst` already holds
/// the same bytes (keeps its mtime, so cargo does not rebuild).
fn copy_if_changed(src: &Path, dst: &Path) -> Result<()> {
    let bytes = fs::read(src).map_err(io("read", src))?;
    write_if_changed(dst, &bytes)
}

fn write_if_changed(dst: &Path, bytes: &[u8]) -> Result<()> {
    if fs::read(dst).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    let tmp = dst.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(io("write", &tmp))?;
    fs::rename(&tmp, dst).map_err(io("write", dst))
}

/// Reads `pub const INPUT_LEN: usize = N;` from a generated `model.rs`.
///
/// # Errors
/// [`BoardError::InputLen`] if there is no such line or its value is not a number.
pub fn input_len_of(model_rs: &str) -> Result<usize> {
    let Some(line) = model_rs.lines().find(|l| l.contains("const INPUT_LEN")) else {
        return Err(BoardError::InputLen { why: "no `pub const INPUT_LEN: usize = ...;` line".into() });
    };
    let value = line.split_once('=').map(|(_, v)| v.trim().trim_end_matches(';').replace('_', "")).unwrap_or_default();
    value.trim().parse().map_err(|e| BoardError::InputLen { why: format!("`{}`: {e}", line.trim()) })
}

/// Builds `board` with the given model and runs it on `inputs` (whole
/// samples of `INPUT_LEN` values, read from `model_rs`) under QEMU.
///
/// `blob` and `model_rs` are copied, and `inputs` written, into `work_dir`
/// as `model.emb`, `model.rs`, `inputs.bin` (unchanged files are left alone).
///
/// # Errors
/// If the checkout or QEMU is missing, the build fails, QEMU runs longer
/// than [`RUN_TIMEOUT`], or the output is not exactly what the firmware
/// prints on success (any `error:` line, a missing `done`, a wrong sample
/// count); the error then holds the whole output.
pub fn run_board(board: Board, blob: &Path, model_rs: &Path, inputs: &[f32], work_dir: &Path) -> Result<BoardRun> {
    run_board_workload(board, blob, model_rs, &Workload { inputs, ..Workload::default() }, work_dir)
}

/// [`run_board`], then also each of `texts` tokenized on the board by the
/// blob's own tokenizer and run through the model (`texts.txt` in
/// `work_dir`, one per line). `inputs` may be empty when `texts` is not.
///
/// # Errors
/// As [`run_board`].
pub fn run_board_with_texts(
    board: Board,
    blob: &Path,
    model_rs: &Path,
    inputs: &[f32],
    texts: &[String],
    work_dir: &Path,
) -> Result<BoardRun> {
    run_board_workload(board, blob, model_rs, &Workload { inputs, texts, queries: &[] }, work_dir)
}

/// Builds `board` with the given model and runs the whole `work` on it:
/// the input samples, the texts ([`run_board_with_texts`]) and the
/// similarity queries (`queries.txt` in `work_dir`, one per line; each is
/// answered on the board from the blob's first embedding table and its
/// `vocab` names, see the crate docs).
///
/// # Errors
/// As [`run_board`]; also any query the firmware cannot answer (an unknown
/// name, ...), with its `error:` line.
pub fn run_board_workload(
    board: Board,
    blob: &Path,
    model_rs: &Path,
    work: &Workload<'_>,
    work_dir: &Path,
) -> Result<BoardRun> {
    let Workload { inputs, texts, queries } = *work;
    crate::board_available(board)?;
    let model_text = fs::read_to_string(model_rs).map_err(io("read", model_rs))?;
    let input_len = input_len_of(&model_text)?;
    let samples = inputs.len().checked_div(input_len).unwrap_or(0);
    if samples * input_len != inputs.len() || samples + texts.len() + queries.len() == 0 {
        return Err(BoardError::Workload(format!(
            "{} input values are not a whole number of samples of {input_len}, or nothing to run",
            inputs.len()
        )));
    }
    if let Some(t) = texts.iter().chain(queries).find(|t| t.contains('\n') || t.contains('\r')) {
        return Err(BoardError::Workload(format!("a text or query for the board must be one line: {t:?}")));
    }
    if let Some(q) = queries.iter().find(|q| q.trim().is_empty()) {
        return Err(BoardError::Workload(format!("a similarity query must name at least one row: {q:?}")));
    }
    fs::create_dir_all(work_dir).map_err(io("create", work_dir))?;
    // The build runs in the board's folder: hand it absolute paths.
    let work_dir = &work_dir.canonicalize().map_err(io("resolve", work_dir))?;
    copy_if_changed(blob, &work_dir.join(FILE_BLOB))?;
    copy_if_changed(model_rs, &work_dir.join(FILE_MODEL_RS))?;
    let bytes: Vec<u8> = inputs.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_if_changed(&work_dir.join(FILE_INPUTS), &bytes)?;
    write_if_changed(&work_dir.join(FILE_TEXTS), texts.join("\n").as_bytes())?;
    write_if_changed(&work_dir.join(FILE_QUERIES), queries.join("\n").as_bytes())?;

    let elf = build_board(board, work_dir)?;
    let parsed = run_parsed(board, &elf, samples, texts.len(), queries.len())?;
    let sizes = measure_sizes(&elf)?;
    Ok(BoardRun {
        outputs: parsed.outputs,
        instructions: parsed.instructions,
        activation_bytes: parsed.activation_bytes,
        stack: parsed.stack,
        sizes,
        elf,
        texts: parsed.texts,
        queries: parsed.queries,
    })
}

/// Runs `elf` under QEMU and parses its output (the error holds the whole
/// output when it breaks the protocol or QEMU exits with failure).
fn run_parsed(board: Board, elf: &Path, samples: usize, texts: usize, queries: usize) -> Result<ParsedOutput> {
    let (status, stdout, stderr) = run_qemu(board, elf)?;
    let output = || format!("--- stdout ---\n{stdout}--- stderr ---\n{stderr}");
    let parsed = parse_output(&stdout, samples, texts, queries).map_err(|error| BoardError::Run {
        board: board.name(),
        error,
        output: output(),
    })?;
    if !status.success() {
        return Err(BoardError::Exit { board: board.name(), status, output: output() });
    }
    Ok(parsed)
}

/// What a run of the quiet firmware ([`run_board_quiet`]) reported.
#[derive(Clone, Debug, PartialEq)]
pub struct QuietRun {
    /// One output vector per input sample (the same bits as [`BoardRun::outputs`]).
    pub outputs: Vec<Vec<f32>>,
    /// Instructions per inference, one per sample.
    pub instructions: Vec<u64>,
    /// The stack the quiet firmware used (its peak and the region's size).
    pub stack: StackUse,
    /// Section sizes of the quiet firmware.
    pub sizes: Sizes,
    /// Its `.text` by owner: what the runtime's code costs in flash.
    pub code: CodeSizes,
    /// The firmware that ran.
    pub elf: PathBuf,
}

/// Builds the board's quiet firmware ([`build_board_quiet`]) with the model
/// files already in `work_dir` (as [`run_board_workload`] leaves them; its
/// texts and queries are ignored) and runs it on its `samples` input samples.
///
/// # Errors
/// As [`run_board`].
pub fn run_board_quiet(board: Board, work_dir: &Path, samples: usize) -> Result<QuietRun> {
    crate::board_available(board)?;
    let work_dir = &work_dir.canonicalize().map_err(io("resolve", work_dir))?;
    let elf = build_board_quiet(board, work_dir)?;
    let parsed = run_parsed(board, &elf, samples, 0, 0)?;
    Ok(QuietRun {
        outputs: parsed.outputs,
        instructions: parsed.instructions,
        stack: parsed.stack,
        sizes: measure_sizes(&elf)?,
        code: measure_code(&elf)?,
        elf,
    })
}

/// Runs the ELF under the board's QEMU with a [`RUN_TIMEOUT`]; returns the
/// exit status, stdout and stderr.
///
/// # Errors
/// If the runner cannot be read ([`Board::runner`]), QEMU cannot be started
/// or waited for, or it runs longer than [`RUN_TIMEOUT`] (it is killed; the
/// error holds its output).
pub fn run_qemu(board: Board, elf: &Path) -> Result<(ExitStatus, String, String)> {
    let args = board.runner()?;
    let mut child = Command::new(&args[0])
        .args(&args[1..])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io("start", &args[0]))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io("wait for", &args[0]))? {
            break Some(status);
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Some(status) => Ok((status, stdout, stderr)),
        None => Err(BoardError::Timeout {
            board: board.name(),
            secs: RUN_TIMEOUT.as_secs(),
            output: format!("--- stdout ---\n{stdout}--- stderr ---\n{stderr}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_input_len() {
        assert_eq!(input_len_of("pub type Model = X;\npub const INPUT_LEN: usize = 784;\n").unwrap(), 784);
        assert_eq!(input_len_of("pub const INPUT_LEN: usize = 1_024;").unwrap(), 1024);
        assert!(input_len_of("pub const OUTPUT_LEN: usize = 3;").is_err());
    }
}
