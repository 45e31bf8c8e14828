//! `cargo xtask board-packages`: the real-board packages (`boards/<board>`,
//! standalone firmware for the nRF52840-DK, the Raspberry Pi Pico and Pico 2,
//! an ESP32-C3 board and an STM32F411 "Black Pill") built for their targets
//! with their models, as CI does (no hardware needed).
//!
//! 1. each preset a package runs is trained briefly and its models written
//!    into the packages' `model/` folders ([`crate::board_models`]);
//! 2. each package is checked (`cargo fmt --check`, `cargo clippy --release
//!    -- -D warnings`) and built (`cargo build --release`) in its own folder,
//!    into `target/board-packages` (one folder for all: what they share
//!    builds once);
//! 3. the sizes of each release ELF and the activation RAM of each model
//!    (`ACTIVATION_BYTES`, which the firmware exports) go into the table of
//!    `boards/README.md` and each package's README ([`crate::board_table`]),
//!    and are printed; the nRF52840-DK's and the STM32F411's firmware also
//!    run unchanged on QEMU machines with their core and memory map, which
//!    gives their peak stack ([`crate::board_stack`]).
//!
//! `--skip-models` keeps the models already in `model/` (for example your
//! own); the table then names them as they are.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::board_models::{self, PackageModel, Part, Trained, Training};
use crate::board_table::{self, Row};
use crate::util::{self, run};

/// A real board's package.
pub struct Package {
    /// Folder under `boards/`.
    pub dir: &'static str,
    /// The board and its chip, for the table.
    pub board: &'static str,
    /// The Rust target it builds for.
    pub target: &'static str,
    /// The release ELF's name (the package name).
    pub bin: &'static str,
    /// Flash and RAM of the chip (or the board's flash chip), in KiB.
    pub flash_kib: u64,
    /// RAM available to the firmware, in KiB.
    pub ram_kib: u64,
    /// Its models, in the order the firmware runs them.
    pub models: &'static [PackageModel],
    /// The emulated core whose peak stack stands for this one.
    pub emulated: &'static str,
    /// A QEMU machine with this chip's core and memory map, which runs the
    /// release ELF unchanged to measure its peak stack ([`crate::board_stack`]).
    pub qemu: Option<&'static str>,
}

const LSTM: Training = Training { preset: "lstm", epochs: 1, max_samples: 600 };
const KWS: Training = Training { preset: "kws-dscnn", epochs: 1, max_samples: 600 };
const SINE: Training = Training { preset: "sine", epochs: 20, max_samples: 1000 };
const GESTURE: Training = Training { preset: "gesture-conv1d", epochs: 2, max_samples: 600 };
const CONV_AE: Training = Training { preset: "conv-ae", epochs: 1, max_samples: 300 };

const fn int8(file: &'static str, training: Training) -> PackageModel {
    PackageModel { file, training, part: Part::Whole, int8: true }
}

const KWS_AND_SINE: &[PackageModel] = &[int8("kws_dscnn", KWS), int8("sine", SINE)];

/// Every package.
pub const PACKAGES: &[Package] = &[
    Package {
        dir: "nrf52840-dk",
        board: "nRF52840-DK (nRF52840, Cortex-M4F)",
        target: "thumbv7em-none-eabihf",
        bin: "ember-board-nrf52840-dk",
        flash_kib: 1024,
        ram_kib: 256,
        models: &[int8("lstm", LSTM)],
        emulated: "qemu-cortex-m4",
        qemu: Some("mps2-an386"),
    },
    Package {
        dir: "rp-pico",
        board: "Raspberry Pi Pico (RP2040, Cortex-M0+)",
        target: "thumbv6m-none-eabi",
        bin: "ember-board-rp-pico",
        flash_kib: 2048,
        ram_kib: 256,
        models: KWS_AND_SINE,
        emulated: "QEMU Cortex-M0 (microbit)",
        qemu: None,
    },
    Package {
        dir: "rp-pico2",
        board: "Raspberry Pi Pico 2 (RP2350, Cortex-M33)",
        target: "thumbv8m.main-none-eabihf",
        bin: "ember-board-rp-pico2",
        flash_kib: 4096,
        ram_kib: 512,
        models: KWS_AND_SINE,
        emulated: "QEMU Cortex-M33 (mps2-an505)",
        qemu: None,
    },
    Package {
        dir: "esp32-c3",
        board: "ESP32-C3 (RV32IMC)",
        target: "riscv32imc-unknown-none-elf",
        bin: "ember-board-esp32-c3",
        flash_kib: 4096,
        ram_kib: 313,
        models: &[int8("gesture_conv1d", GESTURE)],
        emulated: "qemu-riscv32 (RV32IMAFC)",
        qemu: None,
    },
    Package {
        dir: "stm32f411-blackpill",
        board: "STM32F411 Black Pill (STM32F411CE, Cortex-M4F)",
        target: "thumbv7em-none-eabihf",
        bin: "ember-board-stm32f411-blackpill",
        flash_kib: 512,
        ram_kib: 128,
        models: &[
            PackageModel { file: "conv_ae_encoder", training: CONV_AE, part: Part::Encoder, int8: false },
            PackageModel { file: "conv_ae_encoder_int8", training: CONV_AE, part: Part::Encoder, int8: true },
        ],
        emulated: "qemu-cortex-m4",
        qemu: Some("netduinoplus2"),
    },
];

impl Package {
    /// The package folder.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join("boards").join(self.dir)
    }

    /// Its build folder, shared by every package: their host-side
    /// dependencies (proc macros, build scripts) and the Cortex-M4F ones
    /// build once.
    pub fn target_dir(&self, root: &Path) -> PathBuf {
        root.join("target/board-packages")
    }

    /// The release ELF.
    pub fn elf(&self, root: &Path) -> PathBuf {
        self.target_dir(root).join(self.target).join("release").join(self.bin)
    }

    /// A `cargo` in the package folder, into its build folder, without the
    /// flags and target a parent cargo leaks into its children.
    fn cargo(&self, root: &Path, args: &[&str]) -> Command {
        let mut cmd = util::cargo();
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let leaked = ["CARGO_TARGET_", "CARGO_BUILD_", "CARGO_ENCODED_", "CARGO_PROFILE_"];
            if leaked.iter().any(|p| key.starts_with(p))
                || ["RUSTFLAGS", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "CARGO_MANIFEST_DIR", "OUT_DIR"]
                    .contains(&key.as_ref())
            {
                cmd.env_remove(key.as_ref());
            }
        }
        cmd.current_dir(self.path(root)).env("CARGO_TARGET_DIR", self.target_dir(root)).args(args);
        cmd
    }
}

/// Trains every preset the packages use (once each) and writes each
/// package's `model/` folder.
fn write_models(root: &Path) -> Result<()> {
    let work = root.join("target/board-models");
    let mut trained: Vec<Trained> = Vec::new();
    for p in PACKAGES {
        for m in p.models {
            if !trained.iter().any(|t| t.preset == m.training.preset) {
                let t = m.training;
                println!("board-packages: training {} ({} epochs, {} samples)", t.preset, t.epochs, t.max_samples);
                let done = board_models::train_preset(t, &work)?;
                println!("board-packages: {} trained in {:.1} s", t.preset, done.seconds);
                trained.push(done);
            }
            let Some(t) = trained.iter().find(|t| t.preset == m.training.preset) else {
                bail!("preset {} was not trained", m.training.preset);
            };
            let blob = board_models::write_model(m, t, &p.path(root))?;
            println!("board-packages: wrote {}", blob.display());
        }
    }
    Ok(())
}

/// Runs `cargo xtask board-packages [--skip-models]`.
pub fn board_packages(args: &[String]) -> Result<()> {
    let skip_models = match args {
        [] => false,
        [a] if a == "--skip-models" => true,
        _ => bail!("usage: cargo xtask board-packages [--skip-models]"),
    };
    crate::setup::rust_targets()?;
    build_all(&util::repo_root(), skip_models)
}

/// Writes the models (unless `skip_models`), checks and builds every
/// package, then measures and writes the table.
pub fn build_all(root: &Path, skip_models: bool) -> Result<()> {
    let started = Instant::now();
    if !skip_models {
        write_models(root)?;
        println!("board-packages: models written in {:.1} s", started.elapsed().as_secs_f64());
    }
    let mut rows = Vec::new();
    for p in PACKAGES {
        let t = Instant::now();
        run(&mut p.cargo(root, &["fmt", "--", "--check"]))?;
        run(&mut p.cargo(root, &["clippy", "--release", "--", "-D", "warnings"]))?;
        run(&mut p.cargo(root, &["build", "--release"]))?;
        println!("board-packages: {} checked and built in {:.1} s", p.dir, t.elapsed().as_secs_f64());
        let mut row = Row::measure(p, root).with_context(|| format!("measuring {}", p.elf(root).display()))?;
        if let Some(machine) = p.qemu {
            let scratch = p.target_dir(root).join("qemu").join(p.dir);
            let peak = crate::board_stack::peak_stack(machine, &p.elf(root), &scratch)?;
            println!("board-packages: {} peak stack {peak} bytes (its release ELF on QEMU {machine})", p.dir);
            row.peak = Some((peak, machine));
        }
        rows.push(row);
    }
    board_table::write(root, &rows)?;
    board_table::print(&rows);
    println!("board-packages: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
