//! Small helpers shared by the commands: the repository root, running a
//! command with inherited stdio, and the tool paths the steps need.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

/// The repository root (the parent of `xtask/`).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.parent().unwrap_or(here);
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

/// The `cargo` to call: the one that started us (`$CARGO`), else `cargo` on `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

static LEAN: AtomicBool = AtomicBool::new(false);

/// From now on, every command [`run`] starts gets `CARGO_INCREMENTAL=0`:
/// a one-off build (CI) gains nothing from incremental caches, which are
/// several gigabytes for this workspace and filled a CI disk.
pub fn lean_builds() {
    LEAN.store(true, Ordering::Relaxed);
}

/// Free space on the file system holding `path`, as `df -h` prints it.
pub fn free_space(path: &Path) -> String {
    output(Command::new("df").args(["-h", "--output=avail"]).arg(path))
        .and_then(|s| s.lines().nth(1).map(|l| l.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

/// Runs `cmd` with inherited stdio; a non-zero exit is an error that names the command.
pub fn run(cmd: &mut Command) -> Result<()> {
    if LEAN.load(Ordering::Relaxed) {
        cmd.env("CARGO_INCREMENTAL", "0");
    }
    let shown = show(cmd);
    println!("$ {shown}");
    let status = cmd.status().with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` quietly and returns its stdout if it succeeds, `None` if it
/// fails or cannot be started.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `program --version` runs successfully.
pub fn has_program(program: impl AsRef<OsStr>) -> bool {
    output(Command::new(program).arg("--version")).is_some()
}

/// A command line as text, for banners and error messages.
pub fn show(cmd: &Command) -> String {
    let mut s = String::new();
    if let Some(dir) = cmd.get_current_dir() {
        s.push_str(&format!("(cd {}) ", dir.display()));
    }
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}
