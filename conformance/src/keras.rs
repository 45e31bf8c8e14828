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

/// Runs `scripts/<name> <args>` with `$EMBER_KERAS_PYTHON`, echoes its
/// summary lines (those starting `keras `, `final loss` or `validation
/// accuracy`) and returns the `key=value` figures it prints, or
/// `None` when the variable is unset.
///
/// # Errors
/// The interpreter fails to start, the script fails, or a figure is not a number.
pub fn figures(name: &str, args: &[&str]) -> Result<Option<Vec<(String, f64)>>> {
    let Some(python) = std::env::var_os(KERAS_PYTHON) else {
        return Ok(None);
    };
    let out = Command::new(&python)
        .arg(script(name))
        .args(args)
        .env("TF_CPP_MIN_LOG_LEVEL", "2")
        .output()
        .with_context(|| format!("running {} {name}", python.to_string_lossy()))?;
    if !out.status.success() {
        bail!("{name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim_end());
    }
    let mut figures = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        match line.split_once('=') {
            Some((key, value)) if !key.contains(' ') => {
                let v = value.trim().parse().with_context(|| format!("{name}: bad figure {line:?}"))?;
                figures.push((key.to_string(), v));
            }
            // The scripts' own summary lines; TensorFlow's chatter is dropped.
            _ if ["keras ", "final loss", "validation accuracy"].iter().any(|p| line.starts_with(p)) => {
                println!("  {line}");
            }
            _ => {}
        }
    }
    Ok(Some(figures))
}

/// The figure `key` of a [`figures`] answer.
///
/// # Errors
/// The script did not print it.
pub fn figure(figures: &[(String, f64)], key: &str) -> Result<f64> {
    figures.iter().find(|(k, _)| k == key).map(|&(_, v)| v).with_context(|| format!("no {key}= line"))
}

/// The `seconds_per_epoch=<s>` that `scripts/<name> <args>` reports, or
/// `None` when `EMBER_KERAS_PYTHON` is unset.
///
/// # Errors
/// As [`figures`], or the script printed no such line.
pub fn seconds_per_epoch(name: &str, args: &[&str]) -> Result<Option<f64>> {
    figures(name, args)?.map(|f| figure(&f, "seconds_per_epoch")).transpose()
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
