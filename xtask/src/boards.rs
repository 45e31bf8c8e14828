//! `cargo xtask boards`: builds every QEMU board with the current model, runs
//! them and prints their sizes, activation RAM and peak stack, instructions per inference, per
//! multiply-accumulate and per similarity query; then builds and runs each
//! board's quiet firmware (results only, no formatting: feature `quiet`),
//! checks that it computes the same bits, and prints its `.text` by owner
//! (the runtime's functions, the blob header's decoder, libm and
//! compiler-builtins, the rest) from `llvm-nm --size-sort` (`--no-quiet`
//! skips the quiet builds, `--quiet NAME,NAME` keeps them for those models:
//! about a minute per model).
//!
//! The models are the one in `--model DIR` (files `model.emb`, `model.rs`,
//! `inputs.bin`, optionally `texts.txt` and `queries.txt`), else those the `boards` test last
//! ran (in `target/boards/<board>/<model>/`; the test is run first if there
//! is none).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::setup::test_env;
use crate::setup::{self, Qemu};
use crate::util::{self, cargo, run};
use ember_board_host::protocol::{FILE_BLOB, FILE_INPUTS, FILE_MODEL_RS, FILE_QUERIES, FILE_TEXTS, REQUIRED_FILES};
use ember_board_host::{self as board, Board, BoardRun, QuietRun};

/// One model run on one board, with its quiet firmware.
struct Run {
    board: Board,
    name: String,
    run: BoardRun,
    queries: Vec<String>,
    /// Multiply-accumulates per inference (`None`: a layer kind the count does not know).
    macs: Option<u64>,
    /// The quiet firmware's run (`None` with `--no-quiet`).
    quiet: Option<QuietRun>,
}

fn has_model(dir: &Path) -> bool {
    REQUIRED_FILES.iter().all(|(_, f)| dir.join(f).is_file())
}

/// Which models get a quiet build.
enum QuietSet {
    /// Every model.
    All,
    /// None (`--no-quiet`).
    None,
    /// The models of these folder names (`--quiet NAME,NAME`).
    Named(Vec<String>),
}

impl QuietSet {
    fn wants(&self, name: &str) -> bool {
        match self {
            QuietSet::All => true,
            QuietSet::None => false,
            QuietSet::Named(names) => names.iter().any(|n| n == name),
        }
    }
}

/// Runs `cargo xtask boards [--model DIR] [--no-quiet | --quiet NAME,NAME]`.
pub fn boards(args: &[String]) -> Result<()> {
    const USAGE: &str = "usage: cargo xtask boards [--model DIR] [--no-quiet | --quiet NAME,NAME]";
    let (mut model_dir, mut quiet_set) = (None, QuietSet::All);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--model" => model_dir = Some(PathBuf::from(rest.next().context(USAGE)?)),
            "--no-quiet" => quiet_set = QuietSet::None,
            "--quiet" => {
                let names = rest.next().context(USAGE)?;
                quiet_set = QuietSet::Named(names.split(',').map(str::to_string).collect());
            }
            _ => bail!(USAGE),
        }
    }
    let setup = setup::setup(Qemu::Required)?;
    if let Some(dir) = &model_dir {
        if !has_model(dir) {
            let files: Vec<&str> = REQUIRED_FILES.iter().map(|(_, f)| *f).collect();
            bail!("{} must hold {}", dir.display(), files.join(", "));
        }
    } else if Board::ALL.iter().any(|b| b.model_dirs().is_empty()) {
        println!("boards: no current model yet; running the boards test to make one");
        let mut cmd = cargo();
        cmd.current_dir(util::repo_root()).args(["test", "-p", "ember-conformance", "--test", "boards"]);
        run(test_env(&mut cmd, &setup))?;
    }
    let mut runs = Vec::new();
    for b in Board::ALL {
        let dirs = model_dir.clone().map_or_else(|| b.model_dirs(), |d| vec![d]);
        for dir in dirs {
            println!("boards: building and running {} with {}", b.name(), dir.display());
            let bytes = fs::read(dir.join(FILE_INPUTS)).with_context(|| format!("cannot read {FILE_INPUTS}"))?;
            if bytes.len() % 4 != 0 {
                bail!("{}: not a whole number of f32", dir.join(FILE_INPUTS).display());
            }
            let inputs: Vec<f32> =
                bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            let lines = |file: &str| -> Vec<String> {
                match fs::read_to_string(dir.join(file)) {
                    Ok(t) => t.lines().filter(|l| !l.is_empty()).map(str::to_string).collect(),
                    Err(_) => Vec::new(),
                }
            };
            let (texts, queries) = (lines(FILE_TEXTS), lines(FILE_QUERIES));
            let name = dir.file_name().map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
            // Run in a scratch copy so that `--model DIR` is never written to.
            let work = b.target_dir().join(board::SCRATCH_DIR);
            let job = board::Workload { inputs: &inputs, texts: &texts, queries: &queries };
            let r = board::run_board_workload(b, &dir.join(FILE_BLOB), &dir.join(FILE_MODEL_RS), &job, &work)?;
            let macs = board::model_macs(&fs::read(dir.join(FILE_BLOB)).context("cannot read the blob")?);
            let quiet = if quiet_set.wants(&name) {
                println!("boards: building and running the quiet firmware of {}", b.name());
                let quiet = board::run_board_quiet(b, &work, r.outputs.len())?;
                let bits = |o: &[Vec<f32>]| o.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
                if bits(&quiet.outputs) != bits(&r.outputs) {
                    bail!("{} {name}: the quiet firmware's outputs differ from the firmware's", b.name());
                }
                Some(quiet)
            } else {
                None
            };
            runs.push(Run { board: b, name, run: r, queries, macs, quiet });
        }
    }
    report(&runs);
    Ok(())
}

fn report(runs: &[Run]) {
    println!(
        "\n{:<16} {:<22} {:>8} {:>9} {:>6} {:>6} {:>9} {:>10} {:>11} {:>14} {:>12} {:>9}",
        "board",
        "model",
        ".text",
        ".rodata",
        ".data",
        ".bss",
        "flash",
        "act. RAM",
        "peak stack",
        "instr/infer.",
        "MACs",
        "instr/MAC"
    );
    for Run { board: b, name, run: r, macs, .. } in runs {
        let s = r.sizes;
        let counts: Vec<u64> = r.instructions.iter().copied().chain(r.texts.iter().map(|t| t.instructions)).collect();
        let mean = counts.iter().sum::<u64>() / counts.len().max(1) as u64;
        let per_mac = match macs {
            Some(m) if *m > 0 => format!("{:.2}", mean as f64 / *m as f64),
            _ => "-".into(),
        };
        let macs = macs.map_or_else(|| "-".into(), |m| m.to_string());
        println!(
            "{:<16} {:<22} {:>8} {:>9} {:>6} {:>6} {:>9} {:>10} {:>11} {:>14} {:>12} {:>9}",
            b.name(),
            name,
            s.text,
            s.rodata,
            s.data,
            s.bss,
            s.flash(),
            r.activation_bytes,
            r.stack.peak,
            mean,
            macs,
            per_mac
        );
    }
    report_quiet(runs);
    println!();
    for Run { board: b, name, run: r, queries, .. } in runs {
        println!("{} {name}: per sample {:?}; counted with {}", b.name(), r.instructions, b.counter());
        println!(
            "{} {name}: peak stack {} of {} bytes (activations {} bytes)",
            b.name(),
            r.stack.peak,
            r.stack.size,
            r.activation_bytes
        );
        for (k, t) in r.texts.iter().enumerate() {
            println!(
                "{} {name}: text {k}: {} instructions to tokenize, {} for the inference",
                b.name(),
                t.tokenize_instructions,
                t.instructions
            );
        }
        for (q, text) in r.queries.iter().zip(queries) {
            println!(
                "{} {name}: similarity query `{text}`: {} instructions ({} neighbours)",
                b.name(),
                q.instructions,
                q.neighbours.len()
            );
        }
    }
}

/// The quiet firmware's `.text` by owner, for the runs that built it.
fn report_quiet(runs: &[Run]) {
    if runs.iter().all(|r| r.quiet.is_none()) {
        return;
    }
    println!(
        "\nquiet firmware (results only): .text by owner, from llvm-nm --size-sort (runtime code inlined into \
         main counts as `other`)"
    );
    println!(
        "{:<16} {:<22} {:>8} {:>9} {:>9} {:>10} {:>8}",
        "board", "model", ".text", "runtime", "decoder", "libm+rt", "other"
    );
    for Run { board: b, name, quiet, .. } in runs {
        let Some(q) = quiet else { continue };
        let c = q.code;
        println!(
            "{:<16} {:<22} {:>8} {:>9} {:>9} {:>10} {:>8}",
            b.name(),
            name,
            q.sizes.text,
            c.runtime,
            c.decoder,
            c.builtins,
            c.other
        );
    }
}
