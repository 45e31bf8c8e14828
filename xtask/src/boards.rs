//! `cargo xtask boards`: builds both QEMU boards with the current model, runs
//! them and prints their sizes and instructions per inference.
//!
//! The current model is the one in `--model DIR` (files `model.emb`,
//! `model.rs`, `inputs.bin`), else the one the `boards` test last ran (in
//! `target/boards/<board>/model`; the test is run first if there is none).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::board::{self, Board, BoardRun};
use crate::setup::{self, Qemu};
use crate::test::test_env;
use crate::util::{self, cargo, run};

const FILES: [&str; 3] = ["model.emb", "model.rs", "inputs.bin"];

fn has_model(dir: &Path) -> bool {
    FILES.iter().all(|f| dir.join(f).is_file())
}

/// Runs `cargo xtask boards [--model DIR]`.
pub fn boards(args: &[String]) -> Result<()> {
    let model_dir: Option<PathBuf> = match args {
        [] => None,
        [flag, dir] if flag == "--model" => Some(PathBuf::from(dir)),
        _ => bail!("usage: cargo xtask boards [--model DIR]"),
    };
    let setup = setup::setup(Qemu::Required)?;
    if let Some(dir) = &model_dir {
        if !has_model(dir) {
            bail!("{} must hold {}", dir.display(), FILES.join(", "));
        }
    } else if !Board::ALL.iter().all(|b| has_model(&b.work_dir())) {
        println!("boards: no current model yet; running the boards test to make one");
        let mut cmd = cargo();
        cmd.current_dir(util::repo_root()).args(["test", "-p", "ember-tests", "--test", "boards"]);
        run(test_env(&mut cmd, &setup))?;
    }
    let mut runs = Vec::new();
    for b in Board::ALL {
        let dir = model_dir.clone().unwrap_or_else(|| b.work_dir());
        println!("boards: building and running {} with {}", b.name(), dir.display());
        let bytes = fs::read(dir.join("inputs.bin")).context("cannot read inputs.bin")?;
        if bytes.len() % 4 != 0 {
            bail!("{}: not a whole number of f32", dir.join("inputs.bin").display());
        }
        let inputs: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let r = board::run_board(b, &dir.join("model.emb"), &dir.join("model.rs"), &inputs, &b.work_dir())?;
        runs.push((b, r));
    }
    report(&runs);
    Ok(())
}

fn report(runs: &[(Board, BoardRun)]) {
    println!(
        "\n{:<16} {:>8} {:>9} {:>6} {:>6} {:>9} {:>10} {:>14}",
        "board", ".text", ".rodata", ".data", ".bss", "flash", "act. RAM", "instr/infer."
    );
    for (b, r) in runs {
        let s = r.sizes;
        let mean = r.instructions.iter().sum::<u64>() / r.instructions.len().max(1) as u64;
        println!(
            "{:<16} {:>8} {:>9} {:>6} {:>6} {:>9} {:>10} {:>14}",
            b.name(),
            s.text,
            s.rodata,
            s.data,
            s.bss,
            s.flash(),
            r.activation_bytes,
            mean
        );
    }
    println!();
    for (b, r) in runs {
        println!("{}: per sample {:?}; counted with {}", b.name(), r.instructions, b.counter());
        println!("{}: {}", b.name(), r.elf.display());
    }
}
