//! `ember quantize` and `ember train --quantize`: the quantized blob and its
//! QDQ ONNX written side by side, the printed modes and sizes; calibration
//! data that is empty, wrong-shaped or holds NaN giving a clear error, a
//! non-zero exit and no output file.

use ember_export::Model;
use ember_runtime::qspec::QuantMode;

use super::evaluate::{csv_rows, feature_classifier, feature_rows, write};
use super::{assert_no_temp_files, ember, fails, listing, npy_f32, s, scratch, succeeds, text, trained};

/// Calibration inputs for the 3-input blobs-ae model.
fn blobs_inputs(n: usize) -> Vec<f32> {
    (0..n * 3).map(|i| ((i as f32) * 0.37).sin() * 4.0).collect()
}

#[test]
fn quantize_writes_the_blob_and_its_onnx() {
    let dir = scratch("quantize");
    let blob = trained().join("blobs_ae.emb");
    let cal = dir.join("cal.npy");
    std::fs::write(&cal, npy_f32(&[40, 3], &blob_inputs_checked(40))).unwrap();
    let out = dir.join("blobs_ae.int8.emb");
    let printed = succeeds(&["quantize", s(&blob), "--calibration", s(&cal), "--out", s(&out)]);
    assert!(printed.contains("dense_0") && printed.contains("Int8"), "{printed}");
    assert!(printed.contains("flash (blob): f32"), "{printed}");
    assert_eq!(listing(&dir), ["blobs_ae.int8.emb", "blobs_ae.int8.onnx", "cal.npy"]);
    let q = Model::from_blob(&std::fs::read(&out).unwrap()).expect("the quantized blob reads back");
    let modes: Vec<QuantMode> = q.quant.as_ref().expect("quantized").layers.iter().map(|l| l.mode).collect();
    assert_eq!(modes, [QuantMode::Int8, QuantMode::Int8]);
    let onnx = std::fs::read(dir.join("blobs_ae.int8.onnx")).unwrap();
    assert!(onnx.windows(14).any(|w| w == b"QuantizeLinear"), "QDQ ONNX");

    // weights-only, percentile ranges
    let out2 = dir.join("w8.emb");
    let args = ["quantize", s(&blob), "--calibration", s(&cal), "--out", s(&out2), "--mode", "weights-only"];
    let printed = succeeds(&args);
    assert!(printed.contains("WeightsOnly"), "{printed}");
    let out3 = dir.join("p.emb");
    succeeds(&["quantize", s(&blob), "--calibration", s(&cal), "--out", s(&out3), "--percentile", "99.9"]);
    assert_no_temp_files(&dir);
}

fn blob_inputs_checked(n: usize) -> Vec<f32> {
    let v = blobs_inputs(n);
    assert_eq!(v.len(), n * 3);
    v
}

#[test]
fn quantize_reads_csv_calibration_of_a_classifier() {
    let dir = scratch("quantize_csv");
    let blob = feature_classifier(&dir);
    let (rows, _) = feature_rows();
    let data = write(&dir, "rows.csv", &csv_rows(&rows));
    let out = dir.join("features3.int8.emb");
    let printed = succeeds(&["quantize", s(&blob), "--calibration", s(&data), "--out", s(&out)]);
    assert!(printed.contains("30 calibration samples"), "{printed}");
    assert!(out.exists() && dir.join("features3.int8.onnx").exists());
}

#[test]
fn quantize_rejects_bad_calibration_without_leaving_files() {
    let dir = scratch("quantize_bad");
    let blob = trained().join("blobs_ae.emb");
    let out = dir.join("out.emb");
    let run = |cal: &std::path::Path, needles: &[&str]| {
        fails(&["quantize", s(&blob), "--calibration", s(cal), "--out", s(&out)], needles);
        assert!(!out.exists() && !dir.join("out.onnx").exists(), "no output after a failure");
    };
    let empty = dir.join("empty.npy");
    std::fs::write(&empty, npy_f32(&[0, 3], &[])).unwrap();
    run(&empty, &["empty.npy"]);
    let wrong = dir.join("wrong.npy");
    std::fs::write(&wrong, npy_f32(&[4, 5], &[0.5; 20])).unwrap();
    run(&wrong, &["wrong.npy"]);
    let nan = dir.join("nan.npy");
    let mut v = blobs_inputs(4);
    v[7] = f32::NAN;
    std::fs::write(&nan, npy_f32(&[4, 3], &v)).unwrap();
    run(&nan, &["nan.npy"]);
    run(&dir.join("missing.npy"), &["missing.npy"]);
    let cal = dir.join("cal.npy");
    std::fs::write(&cal, npy_f32(&[4, 3], &blobs_inputs(4))).unwrap();
    fails(&["quantize", s(&blob), "--calibration", s(&cal), "--out", s(&out), "--percentile", "20"], &["percentile"]);
    let bad_mode = ember(&["quantize", s(&blob), "--calibration", s(&cal), "--out", s(&out), "--mode", "int4"]);
    assert!(!bad_mode.status.success() && text(&bad_mode.stderr).contains("int4"), "an unknown mode is refused");
    assert!(!out.exists());
    assert_no_temp_files(&dir);
}

#[test]
fn train_quantize_writes_the_int8_model_and_reports_both() {
    let dir = scratch("train_quantize");
    let printed = succeeds(&["train", "blobs-ae", "--out", s(&dir), "--epochs", "2", "-q", "--quantize", "int8"]);
    assert!(printed.contains("flash (blob): f32"), "{printed}");
    assert!(printed.contains("validation MSE"), "{printed}");
    let names = listing(&dir);
    for f in ["blobs_ae.int8.emb", "blobs_ae.int8.onnx", "blobs_ae.emb"] {
        assert!(names.contains(&f.to_string()), "{f} missing from {names:?}");
    }
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("## Quantized model") && report.contains("validation MSE"), "{report}");
    assert_no_temp_files(&dir);
    let bad = scratch("train_quantize_bad");
    let out = ember(&["train", "blobs-ae", "--out", s(&bad), "--epochs", "1", "-q", "--quantize", "int3"]);
    assert!(!out.status.success() && text(&out.stderr).contains("int3"), "an unknown mode is refused");
    assert!(listing(&bad).is_empty(), "nothing trained: {:?}", listing(&bad));
}
