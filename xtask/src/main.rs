//! `cargo xtask <command>`: installs what the checks need and runs them.
//!
//! * `setup`: rustup targets and `llvm-tools`, QEMU 10 (as root), the Python
//!   venv with ONNX Runtime (`.venv`); quick and silent when all is present.
//! * `test [--keep-going]`: setup, then every check in CI order (what
//!   `.ci/run` runs), including a build with the workspace's `rust-version`
//!   toolchain (the MSRV); stops at the first failure unless `--keep-going`.
//! * `msrv`: only the MSRV step of `test` (installs the toolchain if missing).
//! * `boards [--model DIR] [--no-quiet]`: builds every QEMU board with the
//!   current model, runs them and prints sizes, instructions per inference
//!   and per multiply-accumulate; then (unless `--no-quiet`) the `.text` of
//!   each board's quiet firmware by owner.
//! * `quickstart [ARGS]`: setup (QEMU optional), then `ember quickstart`.
//! * `board-packages [--skip-models]`: the models of the real-board packages
//!   (trained briefly, int8), then fmt, clippy and a release build of each
//!   package for its target, and the size table of `boards/README.md`.

mod board_models;
mod board_packages;
mod board_stack;
mod board_table;
mod boards;
mod msrv;
mod setup;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup               install what is missing: rustup targets and llvm-tools, QEMU (root), the .venv with onnxruntime
  test [--keep-going] setup, then fmt, clippy, MSRV check (the rust-version toolchain), no_std builds, cargo test,
                      board clippy (what .ci/run runs);
                      stops at the first failure unless --keep-going
  msrv                cargo check --workspace --locked with the root Cargo.toml's rust-version toolchain (installed
                      if missing), into target/msrv
  boards [--model D] [--no-quiet]
                      build and run every QEMU board with the current model (or model.emb, model.rs, inputs.bin
                      from folder D); print sizes, instructions per inference and per MAC, and (unless
                      --no-quiet) the .text of the quiet firmware (results only) by owner
  quickstart [ARGS]   setup (QEMU optional), then `cargo run --release -p ember-cli -- quickstart --out
                      out/quickstart ARGS`
  board-packages [--skip-models]
                      write the models of the real-board packages (boards/nrf52840-dk, rp-pico, rp-pico2, esp32-c3,
                      stm32f411-blackpill) into their model/ folders (unless --skip-models), then fmt --check, clippy
                      and build --release each for its target; write the size table into boards/README.md";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("setup") if rest.is_empty() => setup::setup(setup::Qemu::Required).map(drop),
        Some("test") if rest.is_empty() => test::test(false),
        Some("test") if rest == ["--keep-going"] => test::test(true),
        Some("msrv") if rest.is_empty() => msrv::check(&util::repo_root()),
        Some("boards") => boards::boards(rest),
        Some("quickstart") => test::quickstart(rest),
        Some("board-packages") => board_packages::board_packages(rest),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
