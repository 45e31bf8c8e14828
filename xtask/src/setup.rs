//! `cargo xtask setup`: installs what the checks need, idempotently.
//!
//! * rustup targets for the no_std builds and the boards, and `llvm-tools`
//!   (for `llvm-size`);
//! * QEMU 10 (`qemu-system-arm`, `qemu-system-riscv32`) from
//!   bookworm-backports (a plain `apt-get install` fails on a bookworm image:
//!   its qemu-utils comes from backports and conflicts with bookworm's
//!   qemu-system-common 7.2); needs root;
//! * a Python virtual environment at `<repo>/.venv` with `onnxruntime onnx
//!   numpy`: the ONNX Runtime shared library the tests load comes from it;
//! * (not for `quickstart`) a second one at `<repo>/.venv-frameworks` with
//!   the other frameworks whose exporters write the ONNX models of the
//!   `ember import` tests: TensorFlow (CPU) with Keras 2 (`tf_keras`) and
//!   `tf2onnx`, and PyTorch with `onnxscript` (see `docs/IMPORT_FRAMEWORKS.md`:
//!   pinned versions, about 7.5 GB, 2 to 4 minutes to install). It is
//!   apart so that TensorFlow's and PyTorch's pins never move the main venv's
//!   `onnx`/`onnxruntime`.
//!
//! When everything is present this takes well under a second.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{self, has_program, output, run};

/// Targets: the runtime's no_std builds and the QEMU boards (`thumbv6m` is
/// also the Cortex-M0's, `thumbv8m.main-none-eabihf` the Cortex-M33's).
pub const TARGETS: &[&str] = &[
    "thumbv7em-none-eabihf",
    "thumbv6m-none-eabi",
    "riscv32imc-unknown-none-elf",
    "riscv32imafc-unknown-none-elf",
    "thumbv8m.main-none-eabihf",
];
/// Targets of the real-board packages (`cargo xtask board-packages`) that
/// [`TARGETS`] does not list (duplicates are installed once).
pub const PACKAGE_TARGETS: &[&str] =
    &["thumbv7em-none-eabihf", "thumbv6m-none-eabi", "riscv32imc-unknown-none-elf", "thumbv8m.main-none-eabihf"];
/// The QEMU system emulators the boards run on.
pub const QEMU_BINARIES: &[&str] = &["qemu-system-arm", "qemu-system-riscv32"];
/// The Debian sources file whose `Suites:` line gets `bookworm-backports`.
const DEBIAN_SOURCES: &str = "/etc/apt/sources.list.d/debian.sources";
/// Python packages of the virtual environment.
const PY_PACKAGES: &[&str] = &["onnxruntime", "onnx", "numpy", "scipy"];

/// The frameworks' virtual environment, relative to the repository root.
pub const FRAMEWORKS_VENV: &str = ".venv-frameworks";
/// Its packages, pinned: the versions the import tests were written against
/// (a new exporter release may write different graphs). PyPI's Linux `torch`
/// is the CUDA build (it pulls the nvidia-* and triton wheels, about 4.5 GB
/// of the 7.5 GB); it runs on the CPU without a GPU. PyTorch's CPU-only wheels
/// live on download.pytorch.org, which CI may not reach.
pub const FRAMEWORK_PACKAGES: &[&str] = &[
    "tensorflow-cpu==2.21.0",
    "tf-keras==2.21.0",
    "tf2onnx==1.17.0",
    "torch==2.15.0",
    "onnxscript==0.7.2",
    "onnx==1.23.2",
    "onnxruntime==1.32.0",
];

/// Whether QEMU must be installed or may be missing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Qemu {
    /// Missing QEMU is an error (`setup`, `test`, `boards`).
    Required,
    /// Missing QEMU is reported and tolerated (`quickstart`).
    Optional,
}

/// What the later steps need to know after setup.
pub struct Setup {
    /// The ONNX Runtime shared library inside the virtual environment.
    pub ort_dylib: PathBuf,
    /// The virtual environment's Python.
    pub python: PathBuf,
    /// `Err(reason)` when QEMU is missing and could not be installed.
    pub qemu: Result<(), String>,
    /// The frameworks' venv Python (`None` for `quickstart`, which does not install it).
    pub frameworks_python: Option<PathBuf>,
}

/// Installs whatever is missing and prints what it did.
pub fn setup(qemu: Qemu) -> Result<Setup> {
    let root = util::repo_root();
    // The CI commands (QEMU required) also get the frameworks for the import tests.
    let frameworks = qemu == Qemu::Required;
    let mut installed = Vec::new();
    rust_parts(&mut installed).with_context(rust_recipe)?;
    let qemu = match install_qemu(&mut installed) {
        Ok(()) => Ok(()),
        Err(e) if qemu == Qemu::Optional => {
            let reason = format!("{e:#}");
            println!("setup: QEMU is not available, continuing without it: {reason}");
            Err(reason)
        }
        Err(e) => return Err(e),
    };
    let (python, ort_dylib) = venv(&root, &mut installed).with_context(|| {
        format!(
            "setting up the Python environment failed; by hand: python3 -m venv {0} && {0}/bin/pip install {1}",
            root.join(".venv").display(),
            PY_PACKAGES.join(" ")
        )
    })?;
    let frameworks_python = if frameworks {
        Some(frameworks_venv(&root, &mut installed).with_context(|| {
            format!(
                "installing the frameworks for the import tests failed; by hand: python3 -m venv {0} && \
                 {0}/bin/pip install {1}",
                root.join(FRAMEWORKS_VENV).display(),
                FRAMEWORK_PACKAGES.join(" ")
            )
        })?)
    } else {
        None
    };
    if installed.is_empty() {
        println!("setup: everything already present");
    } else {
        println!("setup: installed {}", installed.join(", "));
    }
    println!("setup: ORT_DYLIB_PATH={}", ort_dylib.display());
    Ok(Setup { ort_dylib, python, qemu, frameworks_python })
}

/// Every rustup target to install, each once.
fn all_targets() -> Vec<&'static str> {
    let mut all: Vec<&str> = TARGETS.to_vec();
    all.extend(PACKAGE_TARGETS.iter().filter(|t| !TARGETS.contains(t)));
    all
}

/// The manual recipe for the Rust parts, for error messages.
fn rust_recipe() -> String {
    format!(
        "installing the Rust targets failed; by hand: rustup target add {} && rustup component add llvm-tools",
        all_targets().join(" ")
    )
}

/// Installs only the missing rustup targets and `llvm-tools` (what the
/// board packages need), printing what it installed.
pub fn rust_targets() -> Result<()> {
    let mut installed = Vec::new();
    rust_parts(&mut installed).with_context(rust_recipe)?;
    if !installed.is_empty() {
        println!("setup: installed {}", installed.join(", "));
    }
    Ok(())
}

fn rust_parts(installed: &mut Vec<String>) -> Result<()> {
    let have = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("`rustup` is not available (https://rustup.rs)")?;
    let missing: Vec<&str> = all_targets().into_iter().filter(|t| !have.lines().any(|l| l.trim() == *t)).collect();
    if !missing.is_empty() {
        run(Command::new("rustup").args(["target", "add"]).args(&missing))?;
        installed.extend(missing.iter().map(|t| format!("target {t}")));
    }
    let components = output(Command::new("rustup").args(["component", "list", "--installed"])).unwrap_or_default();
    if !components.lines().any(|l| l.starts_with("llvm-tools")) {
        run(Command::new("rustup").args(["component", "add", "llvm-tools"]))?;
        installed.push("component llvm-tools".into());
    }
    Ok(())
}

/// The manual recipe, for error messages.
fn qemu_recipe() -> String {
    format!(
        "as root: add `bookworm-backports` to the `Suites:` line of {DEBIAN_SOURCES} \
         (it becomes `Suites: bookworm bookworm-updates bookworm-backports`), then `apt-get update && \
         apt-get install -y --no-install-recommends -t bookworm-backports qemu-system-arm qemu-system-misc` \
         (or run `cargo xtask setup` as root)"
    )
}

fn install_qemu(installed: &mut Vec<String>) -> Result<()> {
    if QEMU_BINARIES.iter().all(has_program) {
        return Ok(());
    }
    if !util::is_root() {
        bail!("QEMU ({}) is missing and installing it needs root; {}", QEMU_BINARIES.join(", "), qemu_recipe());
    }
    let result = (|| -> Result<()> {
        add_backports()?;
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends", "-t", "bookworm-backports"])
            .args(["qemu-system-arm", "qemu-system-misc"]))?;
        if let Some(missing) = QEMU_BINARIES.iter().find(|b| !has_program(b)) {
            bail!("{missing} is still missing after apt-get install");
        }
        Ok(())
    })();
    result.with_context(|| format!("installing QEMU failed; by hand, {}", qemu_recipe()))?;
    let version = output(Command::new("qemu-system-arm").arg("--version")).unwrap_or_default();
    installed.push(format!("QEMU ({})", version.lines().next().unwrap_or("?").trim()));
    Ok(())
}

/// The suites of a deb822 `Suites:` line, `None` for other lines.
fn suites(line: &str) -> Option<Vec<&str>> {
    line.strip_prefix("Suites:").map(|s| s.split_whitespace().collect())
}

/// Adds `bookworm-backports` to the `Suites:` line that lists `bookworm`.
fn add_backports() -> Result<()> {
    let path = Path::new(DEBIAN_SOURCES);
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {DEBIAN_SOURCES}"))?;
    if text.lines().filter_map(suites).any(|s| s.contains(&"bookworm-backports")) {
        return Ok(());
    }
    let mut changed = false;
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        if suites(line).is_some_and(|s| s.contains(&"bookworm")) && !changed {
            out.push_str(" bookworm-backports");
            changed = true;
        }
        out.push('\n');
    }
    if !changed {
        bail!("{DEBIAN_SOURCES} has no `Suites:` line listing `bookworm`");
    }
    let tmp = path.with_extension("sources.tmp");
    fs::write(&tmp, out).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {DEBIAN_SOURCES}"))?;
    println!("setup: added bookworm-backports to {DEBIAN_SOURCES}");
    Ok(())
}

/// The ONNX Runtime library inside a virtual environment, if installed.
pub fn find_ort_dylib(venv: &Path) -> Option<PathBuf> {
    let mut found = Vec::new();
    for lib in fs::read_dir(venv.join("lib")).ok()?.flatten() {
        let capi = lib.path().join("site-packages/onnxruntime/capi");
        for f in fs::read_dir(capi).into_iter().flatten().flatten() {
            if f.file_name().to_string_lossy().starts_with("libonnxruntime.so.") {
                found.push(f.path());
            }
        }
    }
    found.sort();
    found.pop()
}

fn venv(root: &Path, installed: &mut Vec<String>) -> Result<(PathBuf, PathBuf)> {
    let venv = root.join(".venv");
    let python = venv.join("bin/python");
    let imports = format!("import {}", PY_PACKAGES.join(", "));
    let ready = || output(Command::new(&python).args(["-c", &imports])).is_some();
    if !(ready() && find_ort_dylib(&venv).is_some()) {
        if !python.exists() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(PY_PACKAGES))?;
        if !ready() {
            bail!("the virtual environment still cannot `{imports}`");
        }
        installed.push(format!("Python venv {} ({})", venv.display(), PY_PACKAGES.join(" ")));
    }
    let dylib = find_ort_dylib(&venv).context("libonnxruntime.so.* not found inside the onnxruntime package")?;
    Ok((python, dylib))
}

/// Python code that exits 0 when every package of `pins` (`name==version`)
/// is installed at that version; quick, it imports none of them.
fn pins_check(pins: &[&str]) -> String {
    let pairs: Vec<String> = pins
        .iter()
        .filter_map(|p| p.split_once("=="))
        .map(|(name, version)| format!("({name:?}, {version:?})"))
        .collect();
    format!(
        "import sys, importlib.metadata as m\n\
         def v(n):\n    try:\n        return m.version(n)\n    except m.PackageNotFoundError:\n        return None\n\
         sys.exit(any(v(n) != want for n, want in [{}]))",
        pairs.join(", ")
    )
}

/// The frameworks' venv (`.venv-frameworks`), with [`FRAMEWORK_PACKAGES`]
/// at their pinned versions; returns its Python.
fn frameworks_venv(root: &Path, installed: &mut Vec<String>) -> Result<PathBuf> {
    let venv = root.join(FRAMEWORKS_VENV);
    let python = venv.join("bin/python");
    let check = pins_check(FRAMEWORK_PACKAGES);
    let ready = || output(Command::new(&python).args(["-c", &check])).is_some();
    if !ready() {
        if !python.exists() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        println!("setup: installing {} into {} (about 7.5 GB)", FRAMEWORK_PACKAGES.join(" "), venv.display());
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(FRAMEWORK_PACKAGES))?;
        if !ready() {
            bail!("{} still lacks one of {}", venv.display(), FRAMEWORK_PACKAGES.join(" "));
        }
        installed.push(format!("frameworks venv {} ({})", venv.display(), FRAMEWORK_PACKAGES.join(" ")));
    }
    Ok(python)
}

/// Sets the variables the tests need: `ORT_DYLIB_PATH` (the venv's ONNX
/// Runtime), `EMBER_PYTHON` (the venv's Python) and, when installed,
/// `EMBER_FRAMEWORKS_PYTHON` (the frameworks' venv Python, for the import tests).
pub fn test_env<'a>(cmd: &'a mut Command, setup: &Setup) -> &'a mut Command {
    cmd.env("ORT_DYLIB_PATH", &setup.ort_dylib).env("EMBER_PYTHON", &setup.python);
    if let Some(p) = &setup.frameworks_python {
        cmd.env("EMBER_FRAMEWORKS_PYTHON", p);
    }
    cmd
}
