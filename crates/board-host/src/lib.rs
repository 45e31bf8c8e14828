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
//! `-icount shift=0` and parses what the firmware prints
//! (`boards/common/src/lib.rs` documents the protocol):
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
//! `xtask`, the `ember` command and the conformance tests share it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use std::{fs, thread};

use anyhow::{Context, Result, anyhow, bail};

/// How long a firmware run may take before QEMU is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Neighbours the firmware reports per similarity query.
pub use ember_board_common::protocol::NEIGHBOURS as QUERY_NEIGHBOURS;

/// The folder under `target/boards/<name>/` where `cargo xtask boards`
/// re-runs a model (a scratch copy, so it is not listed as a model).
pub const SCRATCH_DIR: &str = "xtask-run";

/// Environment variables of the parent cargo that must not reach a board
/// build (a `cargo test` leaks its flags and target into its children).
const LEAKED_ENV_PREFIXES: &[&str] = &["CARGO_TARGET_", "CARGO_BUILD_", "CARGO_ENCODED_", "CARGO_PROFILE_"];
/// Single variables removed from a board build's environment, for the same reason.
const LEAKED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_PRIMARY_PACKAGE",
    "OUT_DIR",
];

/// An emulated board that runs ember firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Board {
    /// Cortex-M4F with FPU on QEMU's `mps2-an386`; counts instructions with
    /// SysTick (±40 instructions, see `boards/qemu-cortex-m4/src/main.rs`).
    CortexM4,
    /// RV32IMAFC on QEMU's `virt`; counts instructions exactly with `minstret`.
    Riscv32,
}

impl Board {
    /// Every board.
    pub const ALL: [Board; 2] = [Board::CortexM4, Board::Riscv32];

    /// The board's name, which is also its folder under `boards/`.
    pub fn name(self) -> &'static str {
        match self {
            Board::CortexM4 => "qemu-cortex-m4",
            Board::Riscv32 => "qemu-riscv32",
        }
    }

    /// The board's package folder, `<repo>/boards/<name>`.
    pub fn dir(self) -> PathBuf {
        repo_root().join("boards").join(self.name())
    }

    /// The Rust target triple the firmware is built for.
    pub fn target(self) -> &'static str {
        match self {
            Board::CortexM4 => "thumbv7em-none-eabihf",
            Board::Riscv32 => "riscv32imafc-unknown-none-elf",
        }
    }

    /// The QEMU system emulator that runs it.
    pub fn qemu(self) -> &'static str {
        match self {
            Board::CortexM4 => "qemu-system-arm",
            Board::Riscv32 => "qemu-system-riscv32",
        }
    }

    /// The firmware's binary (and package) name.
    pub fn binary(self) -> &'static str {
        match self {
            Board::CortexM4 => "ember-board-qemu-cortex-m4",
            Board::Riscv32 => "ember-board-qemu-riscv32",
        }
    }

    /// How the instruction count is taken, for reports.
    pub fn counter(self) -> &'static str {
        match self {
            Board::CortexM4 => "SysTick x 40 under -icount shift=0 (repeatable, +-40 instructions)",
            Board::Riscv32 => "minstret under -icount shift=0 (exact)",
        }
    }

    /// Cargo's target folder for this board, `<repo>/target/boards/<name>`,
    /// apart from the workspace's so that neither clobbers the other.
    pub fn target_dir(self) -> PathBuf {
        repo_root().join("target").join("boards").join(self.name())
    }

    /// The default work folder, `<repo>/target/boards/<name>/model`: where the
    /// `boards` test leaves the model it ran, which `cargo xtask boards` and
    /// the boards' clippy step reuse.
    pub fn work_dir(self) -> PathBuf {
        self.model_dir("model")
    }

    /// The work folder of a named model, `<repo>/target/boards/<name>/<model>`.
    pub fn model_dir(self, model: &str) -> PathBuf {
        self.target_dir().join(model)
    }

    /// Every work folder under `target/boards/<name>/` that holds a model
    /// (`model.emb`, `model.rs`, `inputs.bin`), sorted; not [`SCRATCH_DIR`].
    pub fn model_dirs(self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = fs::read_dir(self.target_dir())
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        dirs.retain(|d| {
            !d.ends_with(SCRATCH_DIR) && ["model.emb", "model.rs", "inputs.bin"].iter().all(|f| d.join(f).is_file())
        });
        dirs.sort();
        dirs
    }

    /// The built firmware.
    pub fn elf(self) -> PathBuf {
        self.target_dir().join(self.target()).join("release").join(self.binary())
    }

    /// The QEMU command line from the board's `.cargo/config.toml` runner
    /// (the single place it is written down), without the ELF.
    pub fn runner(self) -> Result<Vec<String>> {
        let path = self.dir().join(".cargo/config.toml");
        let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("runner"))
            .ok_or_else(|| anyhow!("{} has no `runner = \"...\"` line", path.display()))?;
        let quoted = line.split_once('=').map(|(_, v)| v.trim().trim_matches('"')).unwrap_or_default();
        let args: Vec<String> = quoted.split_whitespace().map(String::from).collect();
        if args.first().map(String::as_str) != Some(self.qemu()) {
            bail!("{}: the runner should start with {}: {line}", path.display(), self.qemu());
        }
        Ok(args)
    }
}

/// Section sizes of a firmware ELF, in bytes (from `llvm-size -A`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Code: `.text`, plus `.vector_table` (Cortex-M) and `.init*`/`.trap` (RISC-V).
    pub text: u64,
    /// Read-only data, the model blob included: `.rodata`, `.srodata`, `.eh_frame`.
    pub rodata: u64,
    /// Initialised data (in flash and copied to RAM): `.data`, `.sdata`.
    pub data: u64,
    /// Zeroed and uninitialised RAM: `.bss`, `.sbss`, `.uninit`.
    pub bss: u64,
}

impl Sizes {
    /// Flash: text + rodata + data.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }

    /// Static RAM: data + bss (the stack, which holds the activations, is extra).
    pub fn static_ram(&self) -> u64 {
        self.data + self.bss
    }
}

/// What one firmware run reported.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardRun {
    /// One output vector per input sample, exactly as the board computed it.
    pub outputs: Vec<Vec<f32>>,
    /// Instructions per inference, one per sample (see [`Board::counter`]).
    pub instructions: Vec<u64>,
    /// The model type's `ACTIVATION_BYTES` (activation RAM known at compile time).
    pub activation_bytes: usize,
    /// Section sizes of the firmware.
    pub sizes: Sizes,
    /// The firmware that ran.
    pub elf: PathBuf,
    /// One result per raw text, tokenized and classified on the board.
    pub texts: Vec<TextRun>,
    /// One answer per similarity query, computed on the board.
    pub queries: Vec<QueryRun>,
}

/// One similarity query answered on the board.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryRun {
    /// The nearest rows, best first: global table row and exact cosine score
    /// (at most [`QUERY_NEIGHBOURS`]).
    pub neighbours: Vec<(u32, f32)>,
    /// Instructions for the whole query: name lookups, the sum and the search.
    pub instructions: u64,
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

pub use ember_board_common::protocol::query_terms;

/// Checks every query answer of `run` against `host`'s answer to the same
/// query text (its `(row, score)` list, best first, as
/// `ember_runtime::search::nearest::<`[`QUERY_NEIGHBOURS`]`>` gives it):
/// the same rows in the same order with bit-identical scores.
pub fn check_queries(
    run: &BoardRun,
    queries: &[String],
    mut host: impl FnMut(&str) -> Result<Vec<(u32, f32)>>,
) -> Result<()> {
    if run.queries.len() != queries.len() {
        bail!("{} query answers for {} queries", run.queries.len(), queries.len());
    }
    for (k, (got, query)) in run.queries.iter().zip(queries).enumerate() {
        let want = host(query).with_context(|| format!("the host cannot answer query {k} `{query}`"))?;
        let bits = |v: &[(u32, f32)]| v.iter().map(|&(r, s)| (r, s.to_bits())).collect::<Vec<_>>();
        if bits(&got.neighbours) != bits(&want) {
            bail!("query {k} `{query}`: the board answers {:?}, the host {:?}", got.neighbours, want);
        }
    }
    Ok(())
}

/// One raw text tokenized and run on the board.
#[derive(Clone, Debug, PartialEq)]
pub struct TextRun {
    /// The ids the board's tokenizer produced.
    pub ids: Vec<u32>,
    /// The model output, exactly as the board computed it.
    pub output: Vec<f32>,
    /// Instructions to tokenize the text.
    pub tokenize_instructions: u64,
    /// Instructions for the inference.
    pub instructions: u64,
}

/// The repository root (two levels above this crate: `crates/board-host`).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.parent().and_then(Path::parent).unwrap_or(here);
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

/// `Ok` if the board's QEMU runs; otherwise `Err` with how to install it.
pub fn qemu_available(board: Board) -> Result<(), String> {
    let qemu = board.qemu();
    match Command::new(qemu).arg("--version").stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(format!(
            "{qemu} is not installed; run `cargo xtask setup` as root (it installs QEMU 10 from \
             bookworm-backports: qemu-system-arm qemu-system-misc)"
        )),
    }
}

/// A `cargo` command for a board build: the same cargo as the caller's, with
/// the parent cargo's leaked flags and target removed.
pub fn board_cargo(board: Board) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if LEAKED_ENV.contains(&key.as_ref()) || LEAKED_ENV_PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.current_dir(board.dir()).env("CARGO_TARGET_DIR", board.target_dir());
    cmd
}

/// Points a command at the model files of `work_dir` (`model.emb`,
/// `model.rs`, `inputs.bin`, and `texts.txt`, `queries.txt` where present)
/// through `EMBER_BLOB`, `EMBER_MODEL_RS`, `EMBER_INPUTS`, `EMBER_TEXTS`,
/// `EMBER_QUERIES`, as absolute paths (board builds run in the board's folder).
pub fn set_model_env(cmd: &mut Command, work_dir: &Path) {
    let work_dir = &std::path::absolute(work_dir).unwrap_or_else(|_| work_dir.to_path_buf());
    cmd.env("EMBER_BLOB", work_dir.join("model.emb"))
        .env("EMBER_MODEL_RS", work_dir.join("model.rs"))
        .env("EMBER_INPUTS", work_dir.join("inputs.bin"));
    for (var, file) in [("EMBER_TEXTS", "texts.txt"), ("EMBER_QUERIES", "queries.txt")] {
        let path = work_dir.join(file);
        if path.is_file() {
            cmd.env(var, path);
        } else {
            cmd.env_remove(var);
        }
    }
}

/// Builds the board's firmware with the model in `work_dir`
/// ([`set_model_env`]); returns the ELF.
pub fn build_board(board: Board, work_dir: &Path) -> Result<PathBuf> {
    let mut cmd = board_cargo(board);
    cmd.args(["build", "--release"]);
    set_model_env(&mut cmd, work_dir);
    let out = cmd.stdin(Stdio::null()).output().with_context(|| format!("cannot run cargo for {}", board.name()))?;
    if !out.status.success() {
        bail!(
            "building {} failed ({}; `cargo xtask setup` installs the target {}):\n{}{}",
            board.name(),
            out.status,
            board.target(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let elf = board.elf();
    if !elf.is_file() {
        bail!("{} built, but {} is missing", board.name(), elf.display());
    }
    Ok(elf)
}

/// Copies `src` to `dst` unless they are the same file or `dst` already holds
/// the same bytes (keeps its mtime, so cargo does not rebuild).
fn copy_if_changed(src: &Path, dst: &Path) -> Result<()> {
    let bytes = fs::read(src).with_context(|| format!("cannot read {}", src.display()))?;
    write_if_changed(dst, &bytes)
}

fn write_if_changed(dst: &Path, bytes: &[u8]) -> Result<()> {
    if fs::read(dst).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    let tmp = dst.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, dst).with_context(|| format!("cannot write {}", dst.display()))
}

/// Reads `pub const INPUT_LEN: usize = N;` from a generated `model.rs`.
pub fn input_len_of(model_rs: &str) -> Result<usize> {
    let line = model_rs
        .lines()
        .find(|l| l.contains("const INPUT_LEN"))
        .ok_or_else(|| anyhow!("model.rs has no `pub const INPUT_LEN: usize = ...;`"))?;
    let value = line.split_once('=').map(|(_, v)| v.trim().trim_end_matches(';').replace('_', "")).unwrap_or_default();
    value.trim().parse().with_context(|| format!("cannot read INPUT_LEN from `{}`", line.trim()))
}

/// Builds `board` with the given model and runs it on `inputs` (whole
/// samples of `INPUT_LEN` values, read from `model_rs`) under QEMU.
///
/// `blob` and `model_rs` are copied, and `inputs` written, into `work_dir`
/// as `model.emb`, `model.rs`, `inputs.bin` (unchanged files are left alone).
/// Fails if QEMU is missing, the build fails, QEMU runs longer than
/// [`RUN_TIMEOUT`], or the output is not exactly what the firmware prints on
/// success (any `error:` line, a missing `done`, a wrong sample count); the
/// error then holds the whole output.
pub fn run_board(board: Board, blob: &Path, model_rs: &Path, inputs: &[f32], work_dir: &Path) -> Result<BoardRun> {
    run_board_workload(board, blob, model_rs, &Workload { inputs, ..Workload::default() }, work_dir)
}

/// [`run_board`], then also each of `texts` tokenized on the board by the
/// blob's own tokenizer and run through the model (`texts.txt` in
/// `work_dir`, one per line). `inputs` may be empty when `texts` is not.
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
/// `vocab` names, see the module docs). Any query the firmware cannot
/// answer (an unknown name, ...) fails the run with its `error:` line.
pub fn run_board_workload(
    board: Board,
    blob: &Path,
    model_rs: &Path,
    work: &Workload<'_>,
    work_dir: &Path,
) -> Result<BoardRun> {
    let Workload { inputs, texts, queries } = *work;
    qemu_available(board).map_err(|e| anyhow!(e))?;
    let model_text = fs::read_to_string(model_rs).with_context(|| format!("cannot read {}", model_rs.display()))?;
    let input_len = input_len_of(&model_text)?;
    let samples = inputs.len().checked_div(input_len).unwrap_or(0);
    if samples * input_len != inputs.len() || samples + texts.len() + queries.len() == 0 {
        bail!("{} input values are not a whole number of samples of {input_len}, or nothing to run", inputs.len());
    }
    if let Some(t) = texts.iter().chain(queries).find(|t| t.contains('\n') || t.contains('\r')) {
        bail!("a text or query for the board must be one line: {t:?}");
    }
    if let Some(q) = queries.iter().find(|q| q.trim().is_empty()) {
        bail!("a similarity query must name at least one row: {q:?}");
    }
    fs::create_dir_all(work_dir).with_context(|| format!("cannot create {}", work_dir.display()))?;
    // The build runs in the board's folder: hand it absolute paths.
    let work_dir = &work_dir.canonicalize().with_context(|| format!("cannot resolve {}", work_dir.display()))?;
    copy_if_changed(blob, &work_dir.join("model.emb"))?;
    copy_if_changed(model_rs, &work_dir.join("model.rs"))?;
    let bytes: Vec<u8> = inputs.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_if_changed(&work_dir.join("inputs.bin"), &bytes)?;
    write_if_changed(&work_dir.join("texts.txt"), texts.join("\n").as_bytes())?;
    write_if_changed(&work_dir.join("queries.txt"), queries.join("\n").as_bytes())?;

    let elf = build_board(board, work_dir)?;
    let (status, stdout, stderr) = run_qemu(board, &elf)?;
    let whole = || format!("--- stdout ---\n{stdout}--- stderr ---\n{stderr}");
    let parsed = parse_output(&stdout, samples, texts.len(), queries.len())
        .map_err(|e| anyhow!("{} run failed: {e:#}\n{}", board.name(), whole()))?;
    if !status.success() {
        bail!("{} exited with {status}\n{}", board.name(), whole());
    }
    let sizes = measure_sizes(&elf)?;
    Ok(BoardRun {
        outputs: parsed.outputs,
        instructions: parsed.instructions,
        activation_bytes: parsed.activation_bytes,
        sizes,
        elf,
        texts: parsed.texts,
        queries: parsed.queries,
    })
}

/// Runs the ELF under the board's QEMU with a [`RUN_TIMEOUT`]; returns the
/// exit status, stdout and stderr.
pub fn run_qemu(board: Board, elf: &Path) -> Result<(ExitStatus, String, String)> {
    let args = board.runner()?;
    let mut child = Command::new(&args[0])
        .args(&args[1..])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", args[0]))?;
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
        if let Some(status) = child.try_wait()? {
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
        None => bail!(
            "{} did not finish within {} s (killed)\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}",
            board.name(),
            RUN_TIMEOUT.as_secs()
        ),
    }
}

/// What the firmware printed, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedOutput {
    /// One output vector per sample.
    pub outputs: Vec<Vec<f32>>,
    /// Instructions per inference, one per sample.
    pub instructions: Vec<u64>,
    /// `ram_activation_bytes`.
    pub activation_bytes: usize,
    /// One result per text line.
    pub texts: Vec<TextRun>,
    /// One answer per similarity query.
    pub queries: Vec<QueryRun>,
}

/// Parses the firmware's output strictly: samples in order `0..samples`,
/// each an `out` line then an `instret` line, outputs of one length, then
/// per text `text_ids`, `text_out` and `text_instret` lines, then per query
/// a `similar` line (row and score pairs, at most [`QUERY_NEIGHBOURS`]) and
/// a `similar_instret` line, then `ram_activation_bytes` and `done` as the
/// last line. Anything else, including any `error:` line, is an error.
pub fn parse_output(text: &str, samples: usize, n_texts: usize, n_queries: usize) -> Result<ParsedOutput> {
    if let Some(line) = text.lines().find(|l| l.trim_start().starts_with("error:")) {
        bail!("the firmware reported `{}`", line.trim());
    }
    let mut outputs: Vec<Vec<f32>> = Vec::new();
    let mut instructions = Vec::new();
    let mut activation_bytes = None;
    let mut texts: Vec<TextRun> = Vec::new();
    let mut queries: Vec<QueryRun> = Vec::new();
    // Whether the last query still waits for its `similar_instret` line.
    let mut open_query = false;
    let mut done = false;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |why: &str| anyhow!("line {}: {why}: `{line}`", n + 1);
        if done {
            return Err(bad("output after `done`"));
        }
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or_default();
        let mut number = |what: &str| -> Result<u64> {
            words.next().and_then(|w| w.parse().ok()).ok_or_else(|| bad(&format!("expected {what}")))
        };
        match key {
            "out" => {
                if number("a sample index")? != outputs.len() as u64 || instructions.len() != outputs.len() {
                    return Err(bad("sample out of order"));
                }
                let values = words
                    .by_ref()
                    .map(|w| u32::from_str_radix(w, 16).map(f32::from_bits).map_err(|_| bad("bad hex value")))
                    .collect::<Result<Vec<f32>>>()?;
                if values.is_empty() || outputs.first().is_some_and(|o| o.len() != values.len()) {
                    return Err(bad("wrong number of output values"));
                }
                outputs.push(values);
            }
            "instret" => {
                if number("a sample index")? != instructions.len() as u64 || instructions.len() + 1 != outputs.len() {
                    return Err(bad("instret out of order"));
                }
                instructions.push(number("an instruction count")?);
            }
            "text_ids" => {
                if number("a text index")? != texts.len() as u64 {
                    return Err(bad("text out of order"));
                }
                let ids = words.by_ref().map(|w| w.parse().map_err(|_| bad("bad id"))).collect::<Result<Vec<u32>>>()?;
                texts.push(TextRun { ids, output: Vec::new(), tokenize_instructions: 0, instructions: 0 });
            }
            "text_out" => {
                let k = number("a text index")?;
                let n = texts.len() as u64;
                let last = texts.last_mut().filter(|t| k + 1 == n && t.output.is_empty());
                let values = words
                    .by_ref()
                    .map(|w| u32::from_str_radix(w, 16).map(f32::from_bits).map_err(|_| bad("bad hex value")))
                    .collect::<Result<Vec<f32>>>()?;
                match last {
                    Some(t) if !values.is_empty() => t.output = values,
                    _ => return Err(bad("text output out of order")),
                }
            }
            "text_instret" => {
                let k = number("a text index")?;
                let (tok, inf) = (number("an instruction count")?, number("an instruction count")?);
                let n = texts.len() as u64;
                match texts.last_mut() {
                    Some(t) if k + 1 == n && !t.output.is_empty() => {
                        t.tokenize_instructions = tok;
                        t.instructions = inf;
                    }
                    _ => return Err(bad("text_instret out of order")),
                }
            }
            "similar" => {
                if number("a query index")? != queries.len() as u64 || open_query {
                    return Err(bad("query out of order"));
                }
                let rest: Vec<&str> = words.by_ref().collect();
                if rest.len() % 2 != 0 || rest.len() / 2 > QUERY_NEIGHBOURS {
                    return Err(bad(&format!("expected up to {QUERY_NEIGHBOURS} row and score pairs")));
                }
                let neighbours = rest
                    .chunks_exact(2)
                    .map(|p| match (p[0].parse::<u32>(), u32::from_str_radix(p[1], 16)) {
                        (Ok(row), Ok(bits)) if p[1].len() == 8 => Ok((row, f32::from_bits(bits))),
                        _ => Err(bad("bad row or score")),
                    })
                    .collect::<Result<Vec<_>>>()?;
                queries.push(QueryRun { neighbours, instructions: 0 });
                open_query = true;
            }
            "similar_instret" => {
                if number("a query index")? + 1 != queries.len() as u64 || !open_query {
                    return Err(bad("similar_instret out of order"));
                }
                let count = number("an instruction count")?;
                if let Some(q) = queries.last_mut() {
                    q.instructions = count;
                }
                open_query = false;
            }
            "ram_activation_bytes" => activation_bytes = Some(number("a byte count")? as usize),
            "done" => done = true,
            _ => return Err(bad("unexpected line")),
        }
        if words.next().is_some() && !matches!(key, "out" | "text_ids" | "text_out") {
            return Err(bad("trailing words"));
        }
    }
    if !done {
        bail!("the firmware did not print `done`");
    }
    if outputs.len() != samples || instructions.len() != samples {
        bail!("{} outputs and {} counts for {samples} samples", outputs.len(), instructions.len());
    }
    if texts.len() != n_texts || texts.iter().any(|t| t.output.is_empty()) {
        bail!("{} complete text results for {n_texts} texts", texts.iter().filter(|t| !t.output.is_empty()).count());
    }
    if queries.len() != n_queries || open_query {
        bail!("{} complete query answers for {n_queries} queries", queries.len() - usize::from(open_query));
    }
    let activation_bytes = activation_bytes.ok_or_else(|| anyhow!("no `ram_activation_bytes` line"))?;
    Ok(ParsedOutput { outputs, instructions, activation_bytes, texts, queries })
}

/// Path of an LLVM tool from the `llvm-tools` rustup component (`llvm-size`, ...).
pub fn llvm_tool(name: &str) -> Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let text = |args: &[&str]| -> Result<String> {
        let out = Command::new(&rustc).args(args).output().context("cannot run rustc")?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let sysroot = text(&["--print", "sysroot"])?.trim().to_string();
    let host = text(&["-vV"])?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| anyhow!("rustc -vV names no host"))?;
    let path = Path::new(&sysroot).join("lib/rustlib").join(host).join("bin").join(name);
    if !path.is_file() {
        bail!("{} not found: run `rustup component add llvm-tools` (or `cargo xtask setup`)", path.display());
    }
    Ok(path)
}

/// Section sizes of an ELF, from `llvm-size -A`.
pub fn measure_sizes(elf: &Path) -> Result<Sizes> {
    let out = Command::new(llvm_tool("llvm-size")?).arg("-A").arg(elf).output().context("cannot run llvm-size")?;
    if !out.status.success() {
        bail!("llvm-size -A {} failed: {}", elf.display(), String::from_utf8_lossy(&out.stderr));
    }
    let mut sizes = Sizes::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(size)) = (words.next(), words.next().and_then(|s| s.parse::<u64>().ok())) else {
            continue;
        };
        let slot = match name {
            ".vector_table" | ".text" | ".trap" => &mut sizes.text,
            n if n.starts_with(".text.") || n.starts_with(".init") => &mut sizes.text,
            ".rodata" | ".srodata" | ".eh_frame" => &mut sizes.rodata,
            ".data" | ".sdata" => &mut sizes.data,
            ".bss" | ".sbss" | ".uninit" => &mut sizes.bss,
            _ => continue,
        };
        *slot += size;
    }
    if sizes.text == 0 {
        bail!("llvm-size found no .text in {}", elf.display());
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "out 0 3f800000 00000000\ninstret 0 1234\nout 1 bf800000 7f800000\ninstret 1 1230\n\
                        ram_activation_bytes 3648\ndone\n";

    #[test]
    fn parses_what_the_firmware_prints() {
        let p = parse_output(GOOD, 2, 0, 0).unwrap();
        assert_eq!(p.outputs, vec![vec![1.0, 0.0], vec![-1.0, f32::INFINITY]]);
        assert_eq!(p.instructions, vec![1234, 1230]);
        assert_eq!(p.activation_bytes, 3648);
    }

    #[test]
    fn rejects_errors_missing_done_and_wrong_counts() {
        assert!(parse_output("error: CRC-32 mismatch (corrupt blob)\n", 0, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("done\n", ""), 2, 0, 0).is_err());
        assert!(parse_output(GOOD, 3, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("out 1", "out 2"), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("bf800000 7f800000", "bf800000"), 2, 0, 0).is_err());
        assert!(parse_output(&format!("{GOOD}out 2 0\n"), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("instret 0 1234\n", ""), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("1234", "x"), 2, 0, 0).is_err());
        let texts = GOOD
            .replace("ram_activation", "text_ids 0 0 1 7\ntext_out 0 3f800000\ntext_instret 0 90 1234\nram_activation");
        let p = parse_output(&texts, 2, 1, 0).unwrap();
        assert_eq!(
            p.texts,
            vec![TextRun { ids: vec![0, 1, 7], output: vec![1.0], tokenize_instructions: 90, instructions: 1234 }]
        );
        assert!(parse_output(&texts, 2, 0, 0).is_err());
        assert!(parse_output(&texts.replace("text_out 0 3f800000\n", ""), 2, 1, 0).is_err());
        assert!(parse_output(&texts.replace("text_instret 0", "text_instret 1"), 2, 1, 0).is_err());
    }

    #[test]
    fn parses_query_answers() {
        let queries = GOOD.replace(
            "ram_activation",
            "similar 0 7 3f800000 2 3f000000\nsimilar_instret 0 5000\nsimilar 1\nsimilar_instret 1 40\nram_activation",
        );
        let p = parse_output(&queries, 2, 0, 2).unwrap();
        assert_eq!(
            p.queries,
            vec![
                QueryRun { neighbours: vec![(7, 1.0), (2, 0.5)], instructions: 5000 },
                QueryRun { neighbours: vec![], instructions: 40 },
            ]
        );
        assert!(parse_output(&queries, 2, 0, 1).is_err());
        assert!(parse_output(&queries, 2, 0, 3).is_err());
        assert!(parse_output(&queries.replace(" 2 3f000000", " 2"), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("3f000000", "3f00"), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar 1", "similar 2"), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar_instret 0 5000\n", ""), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar_instret 1 40\n", ""), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar_instret 1 40", "similar_instret 1 40 2"), 2, 0, 2).is_err());
        let eleven: String = (0..11).map(|r| format!(" {r} 3f800000")).collect();
        assert!(parse_output(&queries.replace("similar 1", &format!("similar 1{eleven}")), 2, 0, 2).is_err());
        let error = "similar 0 7 3f800000\nerror: query 1: unknown name `xyz`\n";
        let e = parse_output(error, 0, 0, 2).unwrap_err();
        assert!(format!("{e:#}").contains("unknown name `xyz`"), "{e:#}");
    }

    #[test]
    fn query_terms_follow_the_firmware() {
        let terms = |line| query_terms(line).collect::<Vec<_>>();
        assert_eq!(terms("king -man  woman"), vec![("king", 1.0), ("man", -1.0), ("woman", 1.0)]);
        assert_eq!(terms("- species=Adelie"), vec![("-", 1.0), ("species=Adelie", 1.0)]);
        assert!(terms("  ").is_empty());
    }

    #[test]
    fn reads_input_len() {
        assert_eq!(input_len_of("pub type Model = X;\npub const INPUT_LEN: usize = 784;\n").unwrap(), 784);
        assert_eq!(input_len_of("pub const INPUT_LEN: usize = 1_024;").unwrap(), 1024);
        assert!(input_len_of("pub const OUTPUT_LEN: usize = 3;").is_err());
    }

    #[test]
    fn runners_come_from_the_board_configs() {
        for b in Board::ALL {
            let args = b.runner().unwrap();
            assert!(args.iter().any(|a| a == "shift=0"), "{args:?}");
            assert_eq!(args.last().map(String::as_str), Some("-kernel"));
        }
    }
}
