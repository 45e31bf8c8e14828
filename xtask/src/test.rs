//! `cargo xtask test` (every check, in CI order) and `cargo xtask quickstart`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::setup::{self, Qemu, test_env};
use crate::util::{self, cargo, run};
use ember_board_host::{self as board, Board};

/// Targets the no_std runtime must build for (no atomics/FPU, FPU, RISC-V).
const NO_STD_TARGETS: &[&str] = &["thumbv6m-none-eabi", "thumbv7em-none-eabihf", "riscv32imc-unknown-none-elf"];

/// A named check.
type Step<'a> = (String, Box<dyn FnOnce() -> Result<()> + 'a>);

fn cargo_in(root: &Path, args: &[&str]) -> Command {
    let mut cmd = cargo();
    cmd.current_dir(root).args(args);
    cmd
}

/// Runs every check in order; stops at the first failure, or with
/// `keep_going` runs them all and fails at the end if any failed.
pub fn test(keep_going: bool) -> Result<()> {
    let root = util::repo_root();
    util::lean_builds();
    println!("free disk space at the start: {}", util::free_space(&root));
    // setup, fmt, clippy, MSRV, the no_std builds, cargo test, one clippy per board, the boards report,
    // the real-board packages.
    let total = 7 + NO_STD_TARGETS.len() + Board::ALL.len();
    let mut done: Vec<(String, f64, bool)> = Vec::new();
    println!("==== [1/{total}] setup ====");
    let started = Instant::now();
    let setup = setup::setup(Qemu::Required);
    done.push(("setup".into(), started.elapsed().as_secs_f64(), setup.is_ok()));
    let setup = match setup {
        Ok(s) => s,
        Err(e) => return finish(&done, Err(e.context("step `setup` failed"))),
    };

    let mut steps: Vec<Step> = Vec::new();
    let r = &root;
    steps.push((
        "fmt".into(),
        Box::new(move || {
            run(&mut cargo_in(r, &["fmt", "--all", "--", "--check"]))?;
            for b in Board::ALL {
                run(board::board_cargo(b).args(["fmt", "--", "--check"]))?;
            }
            Ok(())
        }),
    ));
    steps.push((
        "clippy (workspace)".into(),
        Box::new(move || run(&mut cargo_in(r, &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))),
    ));
    let msrv = crate::msrv::rust_version(r).unwrap_or_else(|_| "rust-version".into());
    steps.push((format!("MSRV check (Rust {msrv})"), Box::new(move || crate::msrv::check(r))));
    for &t in NO_STD_TARGETS {
        steps.push((
            format!("no_std build ({t})"),
            Box::new(move || run(&mut cargo_in(r, &["build", "-p", "ember-runtime", "--target", t]))),
        ));
    }
    let s = &setup;
    // With --keep-going, every test binary runs even after one fails.
    let test_args: &[&str] =
        if keep_going { &["test", "--workspace", "--no-fail-fast"] } else { &["test", "--workspace"] };
    steps.push((
        "cargo test --workspace".into(),
        Box::new(move || {
            let result = run(test_env(&mut cargo_in(r, test_args), s));
            print_node_summary(r);
            result
        }),
    ));
    for b in Board::ALL {
        steps.push((format!("clippy ({})", b.name()), Box::new(move || board_clippy(b))));
    }
    // Sizes and instructions per inference of the models the boards test ran;
    // the runtime's own code (the quiet firmware, about a minute per model)
    // for a dense, a recurrent and a convolutional one.
    let quiet = ["--quiet".to_string(), "mnist_encoder,lstm,conv_ae_encoder".to_string()];
    steps.push(("boards report".into(), Box::new(move || crate::boards::boards(&quiet))));
    // The real-board packages: their models, fmt, clippy and a release build
    // each, and the size table of boards/README.md.
    steps.push(("board packages".into(), Box::new(move || crate::board_packages::build_all(r, false))));

    debug_assert_eq!(total, steps.len() + 1);
    let mut failed = Vec::new();
    for (i, (name, f)) in steps.into_iter().enumerate() {
        println!("\n==== [{}/{total}] {name} ====", i + 2);
        let t = Instant::now();
        let result = f();
        done.push((name.clone(), t.elapsed().as_secs_f64(), result.is_ok()));
        if let Err(e) = result {
            let e = e.context(format!("step `{name}` failed"));
            if !keep_going {
                return finish(&done, Err(e));
            }
            eprintln!("error: {e:#}");
            failed.push(name);
        }
    }
    match failed.as_slice() {
        [] => finish(&done, Ok(())),
        names => finish(&done, Err(anyhow!("steps failed: {}", names.join(", ")))),
    }
}

/// `cargo clippy --release -- -D warnings` in the board's folder, with the
/// first model the `boards` test left in `target/boards/<board>/`; then the
/// same for the quiet firmware (`--features quiet`, in its own target folder).
fn board_clippy(b: Board) -> Result<()> {
    let Some(dir) = b.model_dirs().into_iter().next() else {
        bail!(
            "{} holds no model: the `boards` test (cargo test -p ember-conformance --test boards) writes one",
            b.target_dir().display()
        );
    };
    let mut cmd = board::board_cargo(b);
    cmd.args(["clippy", "--release", "--", "-D", "warnings"]);
    board::set_model_env(&mut cmd, &dir);
    run(&mut cmd)?;
    let mut quiet = board::board_cargo(b);
    quiet.args(["clippy", "--release", "--features", "quiet", "--", "-D", "warnings"]);
    quiet.env("CARGO_TARGET_DIR", b.quiet_target_dir());
    board::set_model_env(&mut quiet, &dir);
    run(&mut quiet)
}

/// Prints the summary table, then passes `result` on.
fn finish(done: &[(String, f64, bool)], result: Result<()>) -> Result<()> {
    let width = done.iter().map(|(n, _, _)| n.len()).max().unwrap_or(4).max(4);
    println!("\n{:<width$}  {:>9}  result", "step", "seconds");
    for (name, secs, ok) in done {
        println!("{name:<width$}  {secs:>9.1}  {}", if *ok { "ok" } else { "FAILED" });
    }
    let total: f64 = done.iter().map(|d| d.1).sum();
    println!("{:<width$}  {total:>9.1}", "total");
    println!("free disk space at the end: {}", util::free_space(&util::repo_root()));
    result
}

/// Setup without requiring QEMU, then `ember quickstart --out out/quickstart`.
pub fn quickstart(args: &[String]) -> Result<()> {
    let root = util::repo_root();
    let setup = setup::setup(Qemu::Optional)?;
    if let Err(reason) = &setup.qemu {
        println!("quickstart: the board step will be skipped: {reason}");
    }
    let mut cmd =
        cargo_in(&root, &["run", "--release", "-p", "ember-cli", "--", "quickstart", "--out", "out/quickstart"]);
    cmd.args(args);
    run(test_env(&mut cmd, &setup)).context("ember quickstart failed")
}

/// Prints the ONNX node-test counts that `conformance/tests/onnx_node.rs`
/// leaves in the target folder.
fn print_node_summary(root: &std::path::Path) {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d));
    match std::fs::read_to_string(target.join("onnx-node-summary.txt")) {
        Ok(summary) => print!("\n{summary}"),
        Err(_) => println!("\n(no ONNX node-test summary in {}: the onnx_node test did not run)", target.display()),
    }
}
