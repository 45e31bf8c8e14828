//! `ember import` on models written by other frameworks' own ONNX exporters
//! (black box, through the `ember` binary): Keras 2 (`tf_keras`) through
//! `tf2onnx.convert.from_keras`, Keras 3 through `Model.export(format="onnx")`
//! and PyTorch through `torch.onnx.export`.
//!
//! The scripts in `conformance/frameworks/` build small seeded models (one
//! per op family the runtime runs), export them, and write a seeded input
//! and ONNX Runtime's output for it, plus a manifest. For every model the
//! test runs `ember import MODEL.onnx --out DIR`, then `ember run` on the
//! blob, and holds the result to ONNX Runtime's within [`F32_PARITY`]. A
//! model the manifest marks `unsupported:OP` (an op outside the runtime's
//! set, e.g. the `Loop` tf2onnx writes for a Keras `SimpleRNN`) must fail
//! with a message naming the node and the op, and leave DIR empty. A QDQ
//! int8 model (ONNX Runtime's `quantize_static` on a PyTorch export) must
//! agree within one step of its quantized output.
//!
//! Each framework's table (model, ONNX ops, result) is printed and gathered
//! into `target/import-frameworks-summary.txt`.
//!
//! The frameworks live in their own venv (`cargo xtask setup` installs
//! `.venv-frameworks`, see `docs/IMPORT_FRAMEWORKS.md`), named by
//! `EMBER_FRAMEWORKS_PYTHON`; without it the tests fail with the install hint.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use ember_data::npy::read_npy;
use ember_verify::{F32_PARITY, compare};

use super::{listing, text};

/// The repository root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The frameworks' venv Python: `EMBER_FRAMEWORKS_PYTHON`, else `<repo>/.venv-frameworks`.
fn frameworks_python() -> PathBuf {
    let p = std::env::var_os("EMBER_FRAMEWORKS_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-frameworks/bin/python"));
    assert!(
        p.exists(),
        "{} not found: the import tests need TensorFlow, tf_keras, tf2onnx, PyTorch and onnxscript in their own venv; \
         run `cargo xtask setup` (creates .venv-frameworks, see docs/IMPORT_FRAMEWORKS.md) or set \
         EMBER_FRAMEWORKS_PYTHON to a Python that has them",
        p.display()
    );
    p
}

/// Where the scripts write (once per test run).
fn work() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("import-frameworks")
}

/// Runs `conformance/frameworks/<script>` once into `work()/models`; panics
/// with its output if it fails.
fn run_script(script: &str) -> PathBuf {
    let out = work().join("models");
    std::fs::create_dir_all(&out).unwrap();
    let path = repo().join("conformance/frameworks").join(script);
    let o = Command::new(frameworks_python()).arg(&path).arg(&out).output().expect("the frameworks' Python runs");
    assert!(
        o.status.success(),
        "{} failed (is .venv-frameworks complete? `cargo xtask setup`):\n{}\n{}",
        path.display(),
        text(&o.stdout),
        text(&o.stderr)
    );
    out
}

/// The exported models of `framework` (`keras`, `keras3` or `torch`).
fn exported(framework: &str) -> PathBuf {
    static KERAS: OnceLock<PathBuf> = OnceLock::new();
    static TORCH: OnceLock<PathBuf> = OnceLock::new();
    let root = match framework {
        "keras" | "keras3" => KERAS.get_or_init(|| run_script("keras_models.py")),
        _ => TORCH.get_or_init(|| run_script("torch_models.py")),
    };
    root.join(framework)
}

/// One manifest line.
struct Case {
    model: String,
    /// `None`: must round-trip; `Some(op)`: must be refused naming `node` and `op`.
    unsupported: Option<String>,
    /// A QDQ int8 model: one step of its quantized output (the tolerance).
    int8_step: Option<f64>,
    ops: String,
    versions: String,
    node: String,
}

fn manifest(dir: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join("manifest.tsv")).expect("the script writes manifest.tsv");
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "manifest line {l:?}");
            Case {
                model: f[0].into(),
                unsupported: f[1].strip_prefix("unsupported:").map(String::from),
                int8_step: f[1].strip_prefix("int8:").map(|s| s.parse().expect("int8:STEP")),
                ops: f[2].replace(',', " "),
                versions: f[3].into(),
                node: f[4].into(),
            }
        })
        .collect()
}

fn ember(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ember")).args(args).output().expect("the ember binary runs")
}

/// Imports and runs one model; `Ok(result cell)` or `Err(why)`.
fn check(dir: &Path, case: &Case, out: &Path) -> Result<String, String> {
    let onnx = dir.join(format!("{}.onnx", case.model));
    let import = Command::new(env!("CARGO_BIN_EXE_ember"))
        .arg("import")
        .arg(&onnx)
        .arg("--out")
        .arg(out)
        .output()
        .expect("the ember binary runs");
    let (stdout, stderr) = (text(&import.stdout), text(&import.stderr));
    if let Some(op) = &case.unsupported {
        if import.status.success() {
            return Err(format!("imported a model with {op} node {:?}:\n{stdout}", case.node));
        }
        if stderr.contains("panicked") || import.status.code() != Some(1) {
            return Err(format!("did not fail cleanly ({}): {stderr}", import.status));
        }
        if !stderr.contains(op.as_str()) || !stderr.contains(case.node.as_str()) {
            return Err(format!("the message does not name the {op} node {:?}: {stderr}", case.node));
        }
        let left = listing(out);
        if !left.is_empty() {
            return Err(format!("left files behind: {left:?}"));
        }
        return Ok(format!("refused, names {op} node `{}`", case.node));
    }
    if !import.status.success() {
        return Err(format!("`ember import` failed ({}): {stdout}{stderr}", import.status));
    }
    for ext in ["emb", "rs", "report.md"] {
        let f = out.join(format!("{}.{ext}", case.model));
        if !f.is_file() {
            return Err(format!("{} missing: {:?}", f.display(), listing(out)));
        }
    }
    let blob = out.join(format!("{}.emb", case.model));
    let y = out.join("y.npy");
    let input = dir.join(format!("{}.ember.npy", case.model));
    let run = ember(&[Path::new("run"), &blob, Path::new("--input"), &input, Path::new("--output"), &y]);
    if !run.status.success() {
        return Err(format!("`ember run` failed: {}{}", text(&run.stdout), text(&run.stderr)));
    }
    let (got_shape, got) = read_npy(&y).map_err(|e| e.to_string())?;
    let (want_shape, want) = read_npy(&dir.join(format!("{}.ort.npy", case.model))).map_err(|e| e.to_string())?;
    if got.len() != want.len() || got_shape.first() != want_shape.first() {
        return Err(format!("output shape {got_shape:?}, ONNX Runtime's {want_shape:?}"));
    }
    let c = compare("ember", &got, &want);
    if let Some(step) = case.int8_step {
        // Integer kernels may round differently from ORT's: one output step.
        if c.max_abs.is_nan() || c.max_abs > step * (1.0 + 1e-3) + F32_PARITY {
            return Err(format!(
                "differs from ONNX Runtime by {:.1e}, more than one output step {step:.1e}\nember {got:?}\nORT   {want:?}",
                c.max_abs
            ));
        }
        return Ok(format!("ok (int8), max abs diff {:.1e} (one step {step:.1e})", c.max_abs));
    }
    if !c.ok {
        return Err(format!(
            "differs from ONNX Runtime: max abs {:.1e}, max rel {:.1e} (F32_PARITY {F32_PARITY:e})\nember {got:?}\nORT   {want:?}",
            c.max_abs, c.max_rel
        ));
    }
    Ok(format!("ok, max abs diff {:.1e}", c.max_abs))
}

/// Every model of `framework`: import, run, compare; prints the table, adds
/// it to the summary, then asserts model by model.
fn round_trips(framework: &str) {
    let dir = exported(framework);
    let cases = manifest(&dir);
    assert!(!cases.is_empty(), "{framework}: the manifest lists no model");
    let results: Vec<Result<String, String>> = cases
        .iter()
        .map(|c| {
            let out = work().join("imported").join(framework).join(&c.model);
            let _ = std::fs::remove_dir_all(&out);
            check(&dir, c, &out)
        })
        .collect();
    let mut table =
        format!("### {framework} ({})\n\n| model | ONNX ops | result |\n|---|---|---|\n", cases[0].versions);
    for (c, r) in cases.iter().zip(&results) {
        let cell = match r {
            Ok(s) => s.clone(),
            Err(e) => {
                let first = e.lines().next().unwrap_or_default();
                let cut: String = first.chars().take(240).collect();
                format!("FAILED: {cut}{}", if cut.len() < first.len() { "…" } else { "" })
            }
        };
        writeln!(table, "| {} | {} | {} |", c.model, c.ops, cell.replace('|', "\\|")).unwrap();
    }
    println!("{table}");
    summarize(framework, &table);
    for (c, r) in cases.iter().zip(results) {
        if let Err(e) = r {
            panic!("{framework} model {}: {e}", c.model);
        }
    }
}

/// Writes every framework's table seen so far to `target/import-frameworks-summary.txt`.
fn summarize(framework: &str, table: &str) {
    static TABLES: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    tables.insert(framework.into(), table.into());
    let all: String = tables.values().map(|t| format!("{t}\n")).collect();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../import-frameworks-summary.txt");
    std::fs::write(&path, format!("# ember import: models from other frameworks\n\n{all}")).unwrap();
}

#[test]
fn keras2_models_import_and_match_onnx_runtime() {
    round_trips("keras");
}

#[test]
fn keras3_models_import_and_match_onnx_runtime() {
    round_trips("keras3");
}

#[test]
fn pytorch_models_import_and_match_onnx_runtime() {
    round_trips("torch");
}
