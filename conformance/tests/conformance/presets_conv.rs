//! The convolutional classifier presets — `mnist-cnn` (Conv2d, MaxPool2d on
//! the bundled digits), `kws-dscnn` (strided Conv2d, DepthwiseConv2d, 1x1
//! Conv2d, GlobalAveragePool on generated keyword-spotting maps) and
//! `gesture-conv1d` (Conv1d, MaxPool1d, GlobalAveragePool on generated
//! accelerometer windows) — train briefly to an accuracy far above chance,
//! and their trained models give the same outputs on the trainer, the
//! runtime, a blob round trip, tract and ONNX Runtime.

use std::path::Path;

use ember_conformance::support;
use ember_train::presets;
use ember_train::train::{TrainOptions, TrainSummary, train};
use ember_verify::{format_report, sample_inputs, verify};

/// The preset `name` trained for `epochs` on at most `max_samples` of its
/// data, into a scratch folder; the summary and that folder.
fn trained(name: &str, epochs: usize, max_samples: usize) -> (TrainSummary, std::path::PathBuf) {
    let mut cfg = presets::preset(name).expect("preset");
    cfg.train.epochs = epochs;
    cfg.train.max_samples = Some(max_samples);
    let out = support::scratch_dir("presets-conv", name);
    let opts = TrainOptions { out: out.clone(), ..Default::default() };
    (train(&cfg, &opts).unwrap_or_else(|e| panic!("{name}: {e}")), out)
}

/// The trained model in `out` agrees on every backend (within `F32_PARITY`).
fn assert_backends_agree(out: &Path, file: &str, x: &[f32]) {
    let blob = std::fs::read(out.join(format!("{file}.emb"))).expect("blob written");
    let onnx = std::fs::read(out.join(format!("{file}.onnx"))).expect("onnx written");
    let report = verify(&blob, &onnx, x).unwrap_or_else(|e| panic!("{file}: {e:#}"));
    println!("{}", format_report(&report));
    assert!(report.ok(), "{file}:\n{}", format_report(&report));
    assert_eq!(report.comparisons.len(), 4, "{file}: trainer, round trip, tract, ORT");
}

/// Trains `name` briefly: validation accuracy above `floor`, `classes`
/// named classes, and agreement on every backend.
fn check(name: &str, epochs: usize, max_samples: usize, floor: f64, classes: &str) {
    let (s, out) = trained(name, epochs, max_samples);
    let c = s.classification.as_ref().expect("a classification report");
    println!("{name}: validation accuracy {:.3} on {} samples", c.accuracy, c.samples);
    assert!(c.accuracy > floor, "{name}: validation accuracy {} (floor {floor})", c.accuracy);
    assert_eq!(s.model.meta("task"), Some("classify"), "{name}");
    assert_eq!(s.model.meta("classes"), Some(classes), "{name}");
    let x = sample_inputs(&s.model, 3, 5);
    assert_backends_agree(&out, &name.replace('-', "_"), &x);
}

#[test]
fn mnist_cnn_classifies_digits_and_agrees_on_every_backend() {
    // Chance is 0.1.
    check("mnist-cnn", 2, 1500, 0.6, "0\n1\n2\n3\n4\n5\n6\n7\n8\n9");
}

#[test]
fn kws_dscnn_classifies_keyword_maps_and_agrees_on_every_backend() {
    // Chance is 1/6.
    check("kws-dscnn", 4, 600, 0.6, "silence\nrise\nfall\nlow\nhigh\nburst");
}

#[test]
fn gesture_conv1d_classifies_gestures_and_agrees_on_every_backend() {
    // Chance is 0.2.
    check("gesture-conv1d", 6, 500, 0.6, "idle\nshake\ncircle\ntap\nswipe");
}
