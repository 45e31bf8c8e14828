//! The MSRV step of `cargo xtask test`: builds the workspace (libraries and
//! binaries) with the toolchain that the root `Cargo.toml`'s `rust-version`
//! names, installing it when missing, so that the stated minimum stays true.
//!
//! It builds into `target/msrv` so that the main build is not invalidated.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{output, run};

/// Variables of the calling cargo and rustup that would pin the toolchain
/// (or its tools) to the caller's instead of the MSRV one.
const TOOLCHAIN_ENV: &[&str] = &["RUSTUP_TOOLCHAIN", "RUSTC", "RUSTDOC", "CARGO"];

/// The `rust-version` of `[workspace.package]` in `<root>/Cargo.toml`.
pub fn rust_version(root: &Path) -> Result<String> {
    let path = root.join("Cargo.toml");
    let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    workspace_rust_version(&text)
        .with_context(|| format!("{} has no rust-version in [workspace.package]", path.display()))
}

/// The `rust-version = "..."` line of the `[workspace.package]` table.
fn workspace_rust_version(manifest: &str) -> Option<String> {
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[workspace.package]";
        } else if in_table
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "rust-version"
        {
            return Some(value.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// Installs toolchain `version` (minimal profile) unless rustup has it.
fn ensure_toolchain(version: &str) -> Result<()> {
    let list = output(Command::new("rustup").args(["toolchain", "list"]))
        .context("`rustup` is not available (https://rustup.rs)")?;
    let prefix = format!("{version}-");
    if list.lines().any(|l| l.split_whitespace().next().is_some_and(|t| t == version || t.starts_with(&prefix))) {
        return Ok(());
    }
    run(Command::new("rustup").args(["toolchain", "install", version, "--profile", "minimal"]))
}

/// `cargo check --workspace --locked` with the MSRV toolchain, into `target/msrv`.
pub fn check(root: &Path) -> Result<()> {
    let version = rust_version(root)?;
    if version.split('.').any(|p| p.parse::<u32>().is_err()) {
        bail!("rust-version `{version}` is not a plain version number");
    }
    ensure_toolchain(&version)?;
    let mut cmd = Command::new("rustup");
    for var in TOOLCHAIN_ENV {
        cmd.env_remove(var);
    }
    cmd.current_dir(root).env("CARGO_TARGET_DIR", root.join("target").join("msrv")).args([
        "run",
        &version,
        "cargo",
        "check",
        "--workspace",
        "--locked",
    ]);
    run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_workspace_rust_version() {
        let manifest = "[package]\nrust-version = \"1.10\"\n[workspace.package]\nedition = \"2024\"\n\
                        rust-version = \"1.92\"\n[workspace.dependencies]\nrust-version = \"9\"\n";
        assert_eq!(workspace_rust_version(manifest).as_deref(), Some("1.92"));
        assert_eq!(workspace_rust_version("[workspace.package]\nedition = \"2024\"\n"), None);
    }
}
