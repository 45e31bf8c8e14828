//! Keras in the same benchmark run: the trainer benches run the matching
//! `scripts/keras_*.py` with the Python named by `EMBER_KERAS_PYTHON` (one
//! with `tensorflow-cpu` installed) and print ember's time as a ratio of
//! Keras's, measured on the same machine minutes apart.
//!
//! TensorFlow is not installed by `cargo xtask test` (it is a benchmark
//! comparison, not a test), so without the variable a bench prints how to
//! get the ratio instead.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The variable naming a Python interpreter with TensorFlow.
pub const KERAS_PYTHON: &str = "EMBER_KERAS_PYTHON";

/// The checkout's `scripts/<name>`.
fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("scripts").join(name)
}

/// Runs `scripts/<name> <args>` with `$EMBER_KERAS_PYTHON` and returns the
/// `seconds_per_epoch=<s>` its last line reports, or `None` when the
/// variable is unset.
///
/// # Errors
/// The interpreter fails to start, the script fails, or prints no figure.
pub fn seconds_per_epoch(name: &str, args: &[&str]) -> Result<Option<f64>> {
    let Some(python) = std::env::var_os(KERAS_PYTHON) else {
        return Ok(None);
    };
    let out = Command::new(&python)
        .arg(script(name))
        .args(args)
        .env("TF_CPP_MIN_LOG_LEVEL", "2")
        .output()
        .with_context(|| format!("running {} {name}", python.to_string_lossy()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("{name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim_end());
    }
    for line in stdout.lines().filter(|l| !l.starts_with("seconds_per_epoch=")) {
        println!("  {line}");
    }
    let figure = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("seconds_per_epoch="))
        .with_context(|| format!("{name} printed no seconds_per_epoch= line"))?;
    Ok(Some(figure.trim().parse().with_context(|| format!("{name}: bad figure {figure:?}"))?))
}

/// Prints ember's seconds per epoch beside Keras's (`scripts/<name> <args>`).
pub fn print_ratio(what: &str, ember: f64, name: &str, args: &[&str]) {
    match seconds_per_epoch(name, args) {
        Ok(Some(keras)) => println!(
            "{what}: ember {ember:.3} s, keras {keras:.3} s per epoch: ember takes {:.2}x Keras's time",
            ember / keras
        ),
        Ok(None) => println!(
            "{what}: ember {ember:.3} s per epoch; for the Keras ratio in this run set {KERAS_PYTHON} to a Python \
             with tensorflow-cpu (python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu)"
        ),
        Err(e) => println!("{what}: ember {ember:.3} s per epoch; Keras failed: {e:#}"),
    }
}
