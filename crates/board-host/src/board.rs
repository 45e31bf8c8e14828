//! The emulated boards, where their packages live (the ember checkout), and
//! the `cargo` command that builds them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ember_board_common::protocol::{OPTIONAL_FILES, REQUIRED_FILES};

use crate::SCRATCH_DIR;
use crate::error::{BoardError, Result, io};

/// Environment variable naming the ember source checkout whose `boards/`
/// folder holds the board packages (the default is the checkout this crate
/// was built from).
pub const CHECKOUT_ENV: &str = "EMBER_CHECKOUT";

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
    /// Cortex-M0 without FPU (`f32` in soft float) on QEMU's `microbit`
    /// (nRF51822; its SRAM raised to the RP2040's 264 KiB, see
    /// `boards/qemu-cortex-m0/memory.x`); counts instructions with SysTick
    /// at 16 MHz (62.5 instructions per tick).
    CortexM0,
    /// Cortex-M33 with FPU, in the secure state, on QEMU's `mps2-an505`;
    /// counts instructions with SysTick at 20 MHz (50 instructions per tick).
    CortexM33,
}

impl Board {
    /// Every board.
    pub const ALL: [Board; 4] = [Board::CortexM4, Board::Riscv32, Board::CortexM0, Board::CortexM33];

    /// The board's name, which is also its folder under `boards/`.
    pub fn name(self) -> &'static str {
        match self {
            Board::CortexM4 => "qemu-cortex-m4",
            Board::Riscv32 => "qemu-riscv32",
            Board::CortexM0 => "qemu-cortex-m0",
            Board::CortexM33 => "qemu-cortex-m33",
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
            Board::CortexM0 => "thumbv6m-none-eabi",
            Board::CortexM33 => "thumbv8m.main-none-eabihf",
        }
    }

    /// The QEMU system emulator that runs it.
    pub fn qemu(self) -> &'static str {
        match self {
            Board::CortexM4 | Board::CortexM0 | Board::CortexM33 => "qemu-system-arm",
            Board::Riscv32 => "qemu-system-riscv32",
        }
    }

    /// The firmware's binary (and package) name.
    pub fn binary(self) -> &'static str {
        match self {
            Board::CortexM4 => "ember-board-qemu-cortex-m4",
            Board::Riscv32 => "ember-board-qemu-riscv32",
            Board::CortexM0 => "ember-board-qemu-cortex-m0",
            Board::CortexM33 => "ember-board-qemu-cortex-m33",
        }
    }

    /// How the instruction count is taken, for reports.
    pub fn counter(self) -> &'static str {
        match self {
            Board::CortexM4 => "SysTick x 40 under -icount shift=0 (repeatable, +-40 instructions)",
            Board::Riscv32 => "minstret under -icount shift=0 (exact)",
            Board::CortexM0 => "SysTick x 62.5 under -icount shift=0 (repeatable, rounded down, +-63 instructions)",
            Board::CortexM33 => "SysTick x 50 under -icount shift=0 (repeatable, +-50 instructions)",
        }
    }

    /// Cargo's target folder for this board, `<repo>/target/boards/<name>`,
    /// apart from the workspace's so that neither clobbers the other.
    pub fn target_dir(self) -> PathBuf {
        repo_root().join("target").join("boards").join(self.name())
    }

    /// Cargo's target folder for the board's quiet firmware (feature
    /// `quiet`, see `ember_board_common::quiet`), `<repo>/target/boards/<name>-quiet`,
    /// so that switching between the two builds rebuilds neither.
    pub fn quiet_target_dir(self) -> PathBuf {
        repo_root().join("target").join("boards").join(format!("{}-quiet", self.name()))
    }

    /// The built quiet firmware.
    pub fn quiet_elf(self) -> PathBuf {
        self.quiet_target_dir().join(self.target()).join("release").join(self.binary())
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
    /// (the protocol's required files: `model.emb`, `model.rs`,
    /// `inputs.bin`), sorted; not [`SCRATCH_DIR`].
    pub fn model_dirs(self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = fs::read_dir(self.target_dir())
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        dirs.retain(|d| !d.ends_with(SCRATCH_DIR) && REQUIRED_FILES.iter().all(|(_, f)| d.join(f).is_file()));
        dirs.sort();
        dirs
    }

    /// The built firmware.
    pub fn elf(self) -> PathBuf {
        self.target_dir().join(self.target()).join("release").join(self.binary())
    }

    /// The QEMU command line from the board's `.cargo/config.toml` runner
    /// (the single place it is written down), without the ELF.
    ///
    /// # Errors
    /// If the checkout is missing ([`checkout_available`]), the file cannot be
    /// read or has no runner line starting with the board's QEMU.
    pub fn runner(self) -> Result<Vec<String>> {
        checkout_available()?;
        let config = self.dir().join(".cargo/config.toml");
        let text = fs::read_to_string(&config).map_err(io("read", &config))?;
        let Some(line) = text.lines().map(str::trim).find(|l| l.starts_with("runner")) else {
            return Err(BoardError::Runner { config, why: "no `runner = \"...\"` line".into() });
        };
        let quoted = line.split_once('=').map(|(_, v)| v.trim().trim_matches('"')).unwrap_or_default();
        let args: Vec<String> = quoted.split_whitespace().map(String::from).collect();
        if args.first().map(String::as_str) != Some(self.qemu()) {
            let why = format!("the runner should start with {}: {line}", self.qemu());
            return Err(BoardError::Runner { config, why });
        }
        Ok(args)
    }
}

/// The ember checkout whose `boards/` folder holds the board packages:
/// `EMBER_CHECKOUT` when set and non-empty, else the source tree this crate
/// was built from (two levels above `crates/board-host`).
pub fn repo_root() -> PathBuf {
    let root = match std::env::var_os(CHECKOUT_ENV).filter(|v| !v.is_empty()) {
        Some(root) => PathBuf::from(root),
        None => {
            let here = Path::new(env!("CARGO_MANIFEST_DIR"));
            here.parent().and_then(Path::parent).unwrap_or(here).to_path_buf()
        }
    };
    root.canonicalize().unwrap_or(root)
}

/// `Ok` if the board packages are there (`<checkout>/boards/`, see
/// [`repo_root`]).
///
/// # Errors
/// [`BoardError::NoCheckout`], which says how to point at a checkout.
pub fn checkout_available() -> Result<()> {
    let boards = repo_root().join("boards");
    if Board::ALL.iter().all(|b| boards.join(b.name()).join("Cargo.toml").is_file()) {
        Ok(())
    } else {
        Err(BoardError::NoCheckout { boards })
    }
}

/// `Ok` if the board's QEMU runs.
///
/// # Errors
/// [`BoardError::QemuMissing`], which says how to install it.
pub fn qemu_available(board: Board) -> Result<()> {
    let qemu = board.qemu();
    match Command::new(qemu).arg("--version").stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(BoardError::QemuMissing { qemu }),
    }
}

/// `Ok` if `board` can be built and run here: the checkout's board packages
/// are there ([`checkout_available`]) and its QEMU runs ([`qemu_available`]).
///
/// # Errors
/// The first of those that fails.
pub fn board_available(board: Board) -> Result<()> {
    checkout_available()?;
    qemu_available(board)
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

/// Points a command at the model files of `work_dir` through the protocol's
/// environment variables, as absolute paths (board builds run in the
/// board's folder): the required files (`EMBER_BLOB` = `model.emb`,
/// `EMBER_MODEL_RS` = `model.rs`, `EMBER_INPUTS` = `inputs.bin`) always, the
/// optional ones (`EMBER_TEXTS` = `texts.txt`, `EMBER_QUERIES` =
/// `queries.txt`) where present.
pub fn set_model_env(cmd: &mut Command, work_dir: &Path) {
    let work_dir = &std::path::absolute(work_dir).unwrap_or_else(|_| work_dir.to_path_buf());
    for (var, file) in REQUIRED_FILES {
        cmd.env(var, work_dir.join(file));
    }
    for (var, file) in OPTIONAL_FILES {
        let path = work_dir.join(file);
        if path.is_file() {
            cmd.env(var, path);
        } else {
            cmd.env_remove(var);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runners_come_from_the_board_configs() {
        for b in Board::ALL {
            let args = b.runner().unwrap();
            assert!(args.iter().any(|a| a == "shift=0"), "{args:?}");
            assert_eq!(args.last().map(String::as_str), Some("-kernel"));
        }
    }

    #[test]
    fn model_env_names_the_protocol_files() {
        let dir = std::env::temp_dir().join(format!("ember-board-env-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("texts.txt"), "hi").unwrap();
        let mut cmd = Command::new("true");
        set_model_env(&mut cmd, &dir);
        let envs: Vec<(String, Option<PathBuf>)> =
            cmd.get_envs().map(|(k, v)| (k.to_string_lossy().into_owned(), v.map(PathBuf::from))).collect();
        assert!(envs.contains(&("EMBER_BLOB".into(), Some(dir.join("model.emb")))), "{envs:?}");
        assert!(envs.contains(&("EMBER_TEXTS".into(), Some(dir.join("texts.txt")))), "{envs:?}");
        assert!(envs.contains(&("EMBER_QUERIES".into(), None)), "{envs:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
