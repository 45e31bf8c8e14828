//! The `ember` command line, run as a process: every command's outputs, and
//! bad input giving a clear message, a non-zero exit and no partial file.
//!
//! `ember verify` needs the ONNX Runtime library (`ORT_DYLIB_PATH` or the
//! workspace's `.venv`); without it that test fails with the install hint.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use ember_export::{AlignedBytes, Model};
use ember_runtime::{Blob, dynamic};

mod conv;
mod embed;
mod evaluate;
mod evaluate_presets;
mod evaluate_sequences;
mod evaluate_tasks;
mod fit;
mod import;
mod import_frameworks;
mod predict;
mod presets;
mod quantize;
mod text;

/// Runs `ember` with `args`.
fn ember(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ember")).args(args).output().expect("the ember binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts success; returns stdout.
fn succeeds(args: &[&str]) -> String {
    let out = ember(args);
    assert!(out.status.success(), "ember {args:?} failed: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Asserts a non-zero exit (not a crash) whose stderr contains every one of
/// `needles`; returns stderr.
fn fails(args: &[&str], needles: &[&str]) -> String {
    let out = ember(args);
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "ember {args:?} should fail cleanly; stdout {}, stderr {err}",
        text(&out.stdout)
    );
    assert!(err.starts_with("error: "), "ember {args:?}: message {err:?}");
    assert!(!err.contains("panicked"), "ember {args:?} panicked: {err}");
    for n in needles {
        assert!(err.contains(n), "ember {args:?}: message {err:?} does not mention {n:?}");
    }
    err
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// File names in `dir`, sorted (none if it does not exist).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn assert_no_temp_files(dir: &Path) {
    let stray: Vec<String> = listing(dir).into_iter().filter(|n| n.contains("tmp") || n.starts_with('.')).collect();
    assert!(stray.is_empty(), "stray temporary files in {}: {stray:?}", dir.display());
}

/// A blobs-ae model trained once for 3 epochs, shared by the tests that
/// only read it.
fn trained() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("trained");
        succeeds(&["train", "blobs-ae", "--out", s(&dir), "--epochs", "3", "-q"]);
        dir
    })
}

const TRAIN_OUTPUTS: [&str; 10] = [
    "blobs_ae.emb",
    "blobs_ae.onnx",
    "blobs_ae_encoder.emb",
    "blobs_ae_encoder.onnx",
    "checkpoint.bin",
    "history.json",
    "history.csv",
    "loss.png",
    "report.md",
    "codes.png",
];

fn history_losses(dir: &Path) -> Vec<f64> {
    let h: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("history.json")).unwrap()).unwrap();
    h["epochs"].as_array().expect("epochs").iter().map(|e| e["loss"].as_f64().expect("loss")).collect()
}

#[test]
fn train_writes_every_output() {
    let dir = trained();
    let names = listing(dir);
    for f in TRAIN_OUTPUTS {
        assert!(names.contains(&f.to_string()), "{f} missing from {names:?}");
        assert!(std::fs::metadata(dir.join(f)).unwrap().len() > 0, "{f} is empty");
    }
    assert_no_temp_files(dir);
    assert_eq!(history_losses(dir).len(), 3);
    let png = std::fs::read(dir.join("loss.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "loss.png is a PNG");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("PCA"), "the report compares with PCA: {report}");
    // The blobs parse; the encoder is the first layer of the model.
    let model = Model::from_blob(&std::fs::read(dir.join("blobs_ae.emb")).unwrap()).unwrap();
    let encoder = Model::from_blob(&std::fs::read(dir.join("blobs_ae_encoder.emb")).unwrap()).unwrap();
    assert_eq!(model.layers.len(), 2);
    assert_eq!(encoder.layers, model.layers[..1]);
    assert_eq!(encoder.params, model.params[..2]);
}

#[test]
fn train_resume_continues_exactly() {
    let resumed = scratch("resumed");
    succeeds(&["train", "blobs-ae", "--out", s(&resumed), "--epochs", "3", "-q"]);
    let first = history_losses(&resumed);
    succeeds(&["train", "blobs-ae", "--out", s(&resumed), "--epochs", "5", "--resume", "-q"]);
    let after = history_losses(&resumed);
    assert_eq!(after.len(), 5, "resume runs the remaining epochs");
    assert_eq!(after[..3], first[..], "the first epochs are kept");
    // The same as an uninterrupted 5-epoch run, byte for byte.
    let straight = scratch("straight");
    succeeds(&["train", "blobs-ae", "--out", s(&straight), "--epochs", "5", "-q"]);
    assert_eq!(history_losses(&straight), after);
    for f in ["blobs_ae.emb", "blobs_ae_encoder.emb"] {
        assert_eq!(std::fs::read(resumed.join(f)).unwrap(), std::fs::read(straight.join(f)).unwrap(), "{f}");
    }
    assert_no_temp_files(&resumed);
}

#[test]
fn train_resume_needs_a_checkpoint() {
    let dir = scratch("no-checkpoint");
    fails(&["train", "blobs-ae", "--out", s(&dir), "--epochs", "2", "--resume", "-q"], &["checkpoint"]);
    assert!(listing(&dir).is_empty(), "no output: {:?}", listing(&dir));
}

#[test]
fn inspect_accepts_a_good_blob_and_rejects_corrupt_ones() {
    let blob = trained().join("blobs_ae.emb");
    let out = succeeds(&["inspect", s(&blob)]);
    assert!(out.contains("blobs_ae") && out.contains("dense_0.weight") && out.contains("CRC-32"), "{out}");

    let dir = scratch("inspect");
    let good = std::fs::read(&blob).unwrap();
    let flipped = dir.join("flipped.emb");
    let mut b = good.clone();
    b[good.len() / 2] ^= 0x10;
    std::fs::write(&flipped, &b).unwrap();
    fails(&["inspect", s(&flipped)], &["flipped.emb", "CRC-32 mismatch"]);

    let truncated = dir.join("truncated.emb");
    std::fs::write(&truncated, &good[..good.len() - 7]).unwrap();
    fails(&["inspect", s(&truncated)], &["truncated.emb", "length"]);

    let empty = dir.join("empty.emb");
    std::fs::write(&empty, b"").unwrap();
    fails(&["inspect", s(&empty)], &["shorter"]);

    fails(&["inspect", s(&dir.join("missing.emb"))], &["missing.emb"]);
}

// ---------------------------------------------------------------------------
// .npy files, written and read here from the format description (NEP 1).
// ---------------------------------------------------------------------------

fn npy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape = if shape.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    npy_bytes("<f4", shape, &data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>())
}

/// Reads a `<f4` .npy: its shape and values.
fn read_npy_f32(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let b = std::fs::read(path).unwrap();
    assert!(b.starts_with(b"\x93NUMPY"), "not a .npy file");
    let (len, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        _ => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
    };
    let header = std::str::from_utf8(&b[start..start + len]).unwrap();
    assert!(header.contains("'descr': '<f4'"), "{header}");
    assert!(header.contains("'fortran_order': False"), "{header}");
    let shape_text = header.split("'shape': (").nth(1).unwrap().split(')').next().unwrap();
    let shape = shape_text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| t.parse().unwrap()).collect();
    let data = b[start + len..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    (shape, data)
}

/// The host runtime's outputs for `x`, sample by sample.
fn runtime_outputs(blob: &[u8], x: &[f32]) -> Vec<f32> {
    let aligned = AlignedBytes::new(blob);
    let blob = Blob::parse(&aligned).unwrap();
    let (n_in, n_out) = (blob.header().input.dims.elements(), blob.header().output.dims.elements());
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut out = vec![0.0; x.len() / n_in * n_out];
    for (xs, ys) in x.chunks(n_in).zip(out.chunks_mut(n_out)) {
        dynamic::forward(&blob, xs, &mut scratch, ys).unwrap();
    }
    out
}

#[test]
fn run_writes_the_runtime_outputs() {
    let dir = scratch("run");
    for (name, input) in [("blobs_ae", 3), ("blobs_ae_encoder", 3)] {
        let blob_path = trained().join(format!("{name}.emb"));
        let x: Vec<f32> = (0..4 * input).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
        let in_path = dir.join(format!("{name}_in.npy"));
        std::fs::write(&in_path, npy_f32(&[4, input], &x)).unwrap();
        let out_path = dir.join(format!("{name}_out.npy"));
        succeeds(&["run", s(&blob_path), "--input", s(&in_path), "--output", s(&out_path)]);
        let (shape, got) = read_npy_f32(&out_path);
        let want = runtime_outputs(&std::fs::read(&blob_path).unwrap(), &x);
        assert_eq!(shape, vec![4, want.len() / 4]);
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // The same values as <f8.
        let f8: Vec<u8> = x.iter().flat_map(|&v| (v as f64).to_le_bytes()).collect();
        let in64 = dir.join(format!("{name}_in64.npy"));
        std::fs::write(&in64, npy_bytes("<f8", &[4, input], &f8)).unwrap();
        let out64 = dir.join(format!("{name}_out64.npy"));
        succeeds(&["run", s(&blob_path), "--input", s(&in64), "--output", s(&out64)]);
        assert_eq!(read_npy_f32(&out64).1, got);
    }
    assert_no_temp_files(&dir);
}

#[test]
fn run_rejects_bad_input_without_leaving_files() {
    let blob = trained().join("blobs_ae.emb");
    let dir = scratch("run-bad");
    let out = dir.join("out.npy");
    let write = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (write("wide.npy", npy_f32(&[2, 4], &[0.5; 8])), vec!["shape", "[2, 4]"]),
        (write("flat.npy", npy_f32(&[6], &[0.5; 6])), vec!["shape"]),
        (write("nan.npy", npy_f32(&[2, 3], &[0.5, 0.5, f32::NAN, 0.5, 0.5, 0.5])), vec!["NaN"]),
        (write("inf.npy", npy_f32(&[1, 3], &[0.5, f32::INFINITY, 0.5])), vec!["inf"]),
        (write("truncated.npy", npy_f32(&[2, 3], &[0.5; 6])[..70].to_vec()), vec!["truncated.npy"]),
        (
            write("short_data.npy", {
                let mut b = npy_f32(&[2, 3], &[0.5; 6]);
                b.truncate(b.len() - 4);
                b
            }),
            vec!["short_data.npy"],
        ),
        (write("garbage.npy", b"this is not numpy".to_vec()), vec!["garbage.npy"]),
        (dir.join("missing.npy"), vec!["missing.npy"]),
    ];
    for (input, needles) in cases {
        fails(&["run", s(&blob), "--input", s(&input), "--output", s(&out)], &needles);
        assert!(!out.exists(), "{} left an output file", input.display());
        assert_no_temp_files(&dir);
    }
    // A bad model with a good input.
    let good = write("good.npy", npy_f32(&[1, 3], &[0.5; 3]));
    let bad_blob = write("bad.emb", std::fs::read(&blob).unwrap()[..40].to_vec());
    fails(&["run", s(&bad_blob), "--input", s(&good), "--output", s(&out)], &["bad.emb"]);
    assert!(!out.exists());
    assert_no_temp_files(&dir);
}

#[test]
fn train_rejects_corrupt_data_without_leaving_files() {
    let dir = scratch("bad-data");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // IDX images: magic 0x00000803, 10 images of 1 x 3 bytes = 30 data bytes; give 20.
    let mut idx = vec![0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 3];
    idx.extend(vec![7u8; 20]);
    let cases = [
        (write("nan.csv", b"1,2,3\n4,NaN,6\n7,8,9\n"), vec!["nan.csv", "NaN"]),
        (write("text.csv", b"1,2,3\n4,x,6\n"), vec!["text.csv", "line 2"]),
        (write("ragged.csv", b"1,2,3\n4,5\n"), vec!["ragged.csv"]),
        (write("wide.csv", b"1,2,3,4\n5,6,7,8\n"), vec!["4 values per sample", "3"]),
        (write("images-idx3-ubyte", &idx), vec!["images-idx3-ubyte", "30"]),
        (write("empty.csv", b""), vec!["empty.csv"]),
        (dir.join("missing.csv"), vec!["missing.csv"]),
    ];
    for (i, (data, needles)) in cases.iter().enumerate() {
        let out = dir.join(format!("out{i}"));
        fails(&["train", "blobs-ae", "--data", s(data), "--out", s(&out), "--epochs", "2", "-q"], needles);
        assert!(listing(&out).is_empty(), "{}: partial output {:?}", data.display(), listing(&out));
    }
    assert_no_temp_files(&dir);
    // Bad options are refused before anything is written.
    let out = dir.join("opts");
    fails(&["train", "blobs-ae", "--out", s(&out), "--optimizer", "sgdd", "-q"], &["sgdd"]);
    fails(&["train", "no-such-preset", "--out", s(&out), "-q"], &["no-such-preset"]);
    assert!(listing(&out).is_empty());
}

#[test]
fn export_encoder_writes_onnx_rust_and_blob() {
    let dir = scratch("export");
    let (onnx, rust, blob) = (dir.join("enc.onnx"), dir.join("enc.rs"), dir.join("enc.emb"));
    let model = trained().join("blobs_ae.emb");
    succeeds(&["export", s(&model), "--encoder", "--onnx", s(&onnx), "--rust", s(&rust), "--blob", s(&blob)]);
    let enc = Model::from_blob(&std::fs::read(&blob).unwrap()).unwrap();
    let full = Model::from_blob(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(enc.layers, full.layers[..1]);
    assert_eq!(enc.params, full.params[..2]);
    let src = std::fs::read_to_string(&rust).unwrap();
    assert!(src.contains("pub type BlobsAeEncoder = ember_runtime::Dense<3, 2, ember_runtime::Linear>;"), "{src}");
    assert!(src.contains("\"enc.emb\""), "{src}");
    // The ONNX file runs on tract and gives the runtime's outputs.
    let x: Vec<f32> = (0..15).map(|i| i as f32 * 0.3 - 2.0).collect();
    let got = ember_verify::backends::run_tract(&std::fs::read(&onnx).unwrap(), &[3], 5, &x).unwrap();
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    let cmp = ember_verify::compare("tract", &got, &want);
    assert!(cmp.ok, "{cmp:?}");
    assert_no_temp_files(&dir);

    // Layer ranges, and refusals.
    let second = dir.join("second.emb");
    succeeds(&["export", s(&model), "--layers", "1..2", "--blob", s(&second)]);
    assert_eq!(Model::from_blob(&std::fs::read(&second).unwrap()).unwrap().layers, full.layers[1..]);
    fails(&["export", s(&model), "--encoder"], &["nothing to write"]);
    fails(&["export", s(&model), "--layers", "1..3", "--blob", s(&dir.join("x.emb"))], &["1..3"]);
    fails(&["export", s(&blob), "--encoder", "--blob", s(&dir.join("y.emb"))], &["encoder"]);
    assert!(!dir.join("x.emb").exists() && !dir.join("y.emb").exists());
    assert_no_temp_files(&dir);
}

#[test]
fn verify_passes_on_a_trained_folder() {
    if let Err(e) = ember_verify::backends::ort_dylib_path() {
        panic!("ONNX Runtime is required for `ember verify`: {e:#}");
    }
    let out = succeeds(&["verify", s(trained())]);
    for needle in ["blobs_ae", "blobs_ae_encoder", "tract", "onnxruntime", "trainer", "blob round trip"] {
        assert!(out.contains(needle), "verify output lacks {needle}: {out}");
    }
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn verify_fails_when_the_onnx_and_blob_disagree() {
    if let Err(e) = ember_verify::backends::ort_dylib_path() {
        panic!("ONNX Runtime is required for `ember verify`: {e:#}");
    }
    let dir = scratch("verify-mismatch");
    let mut model = Model::from_blob(&std::fs::read(trained().join("blobs_ae.emb")).unwrap()).unwrap();
    model.params[0].data[0] += 0.01;
    std::fs::write(dir.join("m.emb"), model.to_blob().unwrap()).unwrap();
    std::fs::copy(trained().join("blobs_ae.onnx"), dir.join("m.onnx")).unwrap();
    let out = ember(&["verify", s(&dir)]);
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("FAIL"), "{}", text(&out.stdout));
    fails(&["verify", s(&scratch("verify-empty"))], &["no NAME.onnx"]);
}

#[test]
fn verify_finds_models_one_folder_down() {
    if let Err(e) = ember_verify::backends::ort_dylib_path() {
        panic!("ONNX Runtime is required for `ember verify`: {e:#}");
    }
    // As `ember quickstart` leaves them: one subfolder per model.
    let dir = scratch("verify-nested");
    let sub = dir.join("blobs-ae");
    std::fs::create_dir_all(&sub).unwrap();
    for file in ["blobs_ae.emb", "blobs_ae.onnx"] {
        std::fs::copy(trained().join(file), sub.join(file)).unwrap();
    }
    let out = succeeds(&["verify", s(&dir)]);
    assert!(out.contains("blobs_ae") && !out.contains("FAIL"), "{out}");
    // Two levels down is not searched.
    let deeper = scratch("verify-two-down");
    std::fs::create_dir_all(deeper.join("a/b")).unwrap();
    std::fs::copy(trained().join("blobs_ae.emb"), deeper.join("a/b/blobs_ae.emb")).unwrap();
    std::fs::copy(trained().join("blobs_ae.onnx"), deeper.join("a/b/blobs_ae.onnx")).unwrap();
    fails(&["verify", s(&deeper)], &["no NAME.onnx"]);
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    // `ember presets | head -0`: the reader is gone before the first line.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_ember"))
        .arg("presets")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("the ember binary runs");
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "ember panicked on a closed pipe: {err}");
    assert_eq!(out.status.code(), Some(141), "stderr: {err}");
}
