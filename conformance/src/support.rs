//! Helpers shared by the trainer's test files (`mod support;`): seeded
//! values and the Python of the workspace's venv for reference data.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty directory for one test: `<target tmp>/<suite>/<name>-<pid>-<n>`.
#[allow(dead_code)]
pub fn scratch_dir(suite: &str, name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join("ember-conformance").join(suite).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes `bytes` to `path`, creating parent folders.
#[allow(dead_code)]
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent dir");
    }
    std::fs::write(path, bytes).expect("write test file");
}

/// Deterministic values in [-scale, scale) (xorshift64*).
#[allow(dead_code)]
pub fn values(seed: u64, n: usize, scale: f64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let r = (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f64 / (1u64 << 24) as f64;
            ((r * 2.0 - 1.0) * scale) as f32
        })
        .collect()
}

/// The venv's Python that can `import {imports}` (for example
/// `"numpy, scipy.io"`): `EMBER_PYTHON` (set by `cargo xtask test`), else
/// `.venv/bin/python` of the workspace. Fails (never skips) when neither can.
#[allow(dead_code)]
pub fn python(imports: &str) -> PathBuf {
    let fallback = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".venv").join("bin").join("python");
    let candidates: Vec<PathBuf> =
        std::env::var_os("EMBER_PYTHON").map(PathBuf::from).into_iter().chain([fallback]).collect();
    let check = format!("import {imports}");
    for p in &candidates {
        if Command::new(p).args(["-c", &check]).output().is_ok_and(|o| o.status.success()) {
            return p.clone();
        }
    }
    panic!(
        "no Python with {imports} found (tried EMBER_PYTHON and {}): run `cargo xtask setup` to create .venv",
        candidates.last().map_or(String::new(), |p| p.display().to_string())
    );
}

/// Writes `script` to `dir/script.py` and runs it there with `args` on the
/// Python of [`python`]`(imports)`; returns its standard output (a failing
/// script fails the test with its stderr).
#[allow(dead_code)]
pub fn run_python(imports: &str, dir: &Path, script: &str, args: &[&str]) -> Vec<u8> {
    let file = dir.join("script.py");
    write(&file, script);
    let out = Command::new(python(imports)).arg(&file).args(args).current_dir(dir).output().expect("run python");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}
