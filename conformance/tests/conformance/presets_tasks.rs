//! Classifiers and regressors of features, images and time series, and the
//! presets built on them: `sine` (regression) and `digits-dense`
//! (classification) train to a sane metric and their trained models give the
//! same outputs on the trainer, the runtime, a blob round trip, tract and
//! ONNX Runtime; `sensor-ae` reports an anomaly threshold that separates
//! planted anomalies; the loaders reach the tasks (CSV label column, folder
//! per class, IDX) and bad input is a clear error.

use std::path::{Path, PathBuf};

use ember_conformance::support;
use ember_data::npy::write_npy;
use ember_export::Model;
use ember_train::config::ModelConfig;
use ember_train::presets;
use ember_train::train::{TrainOptions, TrainSummary, train};
use ember_verify::{format_report, sample_inputs, verify};

fn dir(name: &str) -> PathBuf {
    support::scratch_dir("presets-tasks", name)
}

fn run(cfg: &ModelConfig, data: Option<&Path>, out: &Path) -> anyhow::Result<TrainSummary> {
    let opts = TrainOptions { data: data.map(Path::to_path_buf), out: out.to_path_buf(), ..Default::default() };
    Ok(train(cfg, &opts)?)
}

/// The trained model in `out` agrees on every backend (within `F32_PARITY`).
fn assert_backends_agree(out: &Path, name: &str, x: &[f32]) {
    let blob = std::fs::read(out.join(format!("{name}.emb"))).expect("blob written");
    let onnx = std::fs::read(out.join(format!("{name}.onnx"))).expect("onnx written");
    let report = verify(&blob, &onnx, x).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    println!("{}", format_report(&report));
    assert!(report.ok(), "{name}:\n{}", format_report(&report));
    assert_eq!(report.comparisons.len(), 4, "{name}: trainer, round trip, tract, ORT");
}

#[test]
fn sine_learns_sin_and_agrees_on_every_backend() {
    let mut cfg = presets::preset("sine").expect("preset");
    cfg.train.epochs = 60;
    let out = dir("sine");
    let s = run(&cfg, None, &out).expect("trains");
    // Var(sin x) on [0, 2π) is 1/2, and the noise alone has variance 0.01:
    // a model that learned the curve lands near the noise.
    assert!(s.val_mse < 0.05, "validation MSE {} (variance of sin(x): 0.5)", s.val_mse);
    assert_eq!(s.model.meta("task"), Some("regress"));
    // The exported model outputs sin(x) in its own units (the scale folded in).
    let xs: Vec<f32> = (0..16).map(|i| i as f32 * 0.39 + 0.1).collect();
    let mut net = ember_nn::network::Network::from_model(&s.model);
    let pred = net.predict(&xs);
    let mae: f32 = pred.iter().zip(&xs).map(|(p, x)| (p - x.sin()).abs()).sum::<f32>() / xs.len() as f32;
    assert!(mae < 0.2, "mean |f(x) - sin(x)| = {mae}: {pred:?}");
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("| sine |") && report.contains("the training mean"), "{report}");
    assert_backends_agree(&out, "sine", &xs);
}

#[test]
fn digits_dense_classifies_digits_and_agrees_on_every_backend() {
    let mut cfg = presets::preset("digits-dense").expect("preset");
    cfg.train.epochs = 3;
    cfg.train.max_samples = Some(2000);
    let out = dir("digits");
    let s = run(&cfg, None, &out).expect("trains");
    let c = s.classification.as_ref().expect("a classification report");
    assert!(c.accuracy > 0.8, "validation accuracy {} (chance: 0.1)", c.accuracy);
    assert_eq!((c.classes.len(), c.samples), (10, 200));
    assert!(c.classes.iter().all(|k| k.f1 > 0.3), "{c}");
    let classes: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    assert_eq!(s.model.meta("classes"), Some(classes.join("\n").as_str()));
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("precision") && report.contains("weighted avg"), "{report}");
    let x = sample_inputs(&s.model, 4, 3);
    assert_backends_agree(&out, "digits_dense", &x);
}

#[test]
fn sensor_ae_reports_a_threshold_that_catches_planted_anomalies() {
    let mut cfg = presets::preset("sensor-ae").expect("preset");
    cfg.train.epochs = 15;
    cfg.train.max_samples = Some(1000);
    let out = dir("sensor-ae");
    let s = run(&cfg, None, &out).expect("trains");
    let line = |what: &str| -> f64 {
        let l = s.summary.iter().find(|l| l.starts_with(what)).unwrap_or_else(|| panic!("{what}: {:?}", s.summary));
        l[what.len()..].split_whitespace().next().and_then(|v| v.parse().ok()).expect("a number")
    };
    let (threshold, detection, fpr) = (line("threshold "), line("detection rate "), line("false-positive rate "));
    assert!(threshold > 0.0 && threshold < 0.5, "threshold {threshold}");
    // The threshold travels in the blob for `ember evaluate` and `ember predict`.
    let kept: f64 = s.model.meta("anomaly_threshold").expect("anomaly_threshold metadata").parse().expect("a number");
    assert!((kept - threshold).abs() <= 5e-7, "blob {kept}, report {threshold}");
    assert!(detection > 0.5 && fpr < 0.1, "detection {detection}, false positives {fpr}: {:?}", s.summary);
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("## Anomaly detection") && report.contains("detection rate of spike"), "{report}");
}

/// A classifier of `[4]` features (or another input), three classes.
fn feature_classifier(input: &[u32], units: u32, loss: &str) -> ModelConfig {
    let text = format!(
        r#"
name = "feat"
task = "classify"
input = {input:?}
layers = [{{ type = "flatten" }}, {{ type = "dense", units = {units}, activation = "{act}" }}]
[train]
epochs = 40
batch_size = 8
validation_split = 0.25
loss = "{loss}"
learning_rate = 0.05
"#,
        act = if units == 1 { "sigmoid" } else { "softmax" }
    );
    ModelConfig::from_toml(&text).expect("valid config")
}

/// Three separable classes of 4 features: class `k` sits near `2k` on feature `k`.
fn iris_like(rows: usize) -> String {
    let names = ["setosa", "versicolor", "virginica"];
    let mut s = String::from("a,b,c,d,species\n");
    for i in 0..rows {
        let k = i % 3;
        let f: Vec<String> = (0..4)
            .map(|j| format!("{}", if j == k { 2.0 } else { 0.0 } + ((i * 7 + j * 3) % 5) as f32 * 0.1))
            .collect();
        s += &format!("{},{}\n", f.join(","), names[k]);
    }
    s
}

#[test]
fn csv_label_column_trains_a_classifier_that_names_its_classes() {
    let d = dir("csv-classify");
    let csv = d.join("iris.csv");
    support::write(&csv, iris_like(60).as_bytes());
    for loss in ["sparse_cce", "cce"] {
        let s = run(&feature_classifier(&[4], 3, loss), Some(&csv), &d.join(loss)).expect("trains");
        let c = s.classification.expect("report");
        assert!(c.accuracy > 0.9, "{loss}: accuracy {}", c.accuracy);
        assert_eq!(s.model.meta("classes"), Some("setosa\nversicolor\nvirginica"));
    }
    // Labels outside the class count: 3 classes, 2 output units.
    let err = run(&feature_classifier(&[4], 2, "sparse_cce"), Some(&csv), &d.join("two")).expect_err("3 classes");
    assert!(err.to_string().contains("outside the model's 2 classes"), "{err}");
    let err = run(&feature_classifier(&[4], 1, "bce"), Some(&csv), &d.join("one")).expect_err("3 classes");
    assert!(err.to_string().contains("one sigmoid unit classifies 2 classes"), "{err}");
    let err = run(&feature_classifier(&[4], 3, "mse"), Some(&csv), &d.join("mse")).expect_err("mse");
    assert!(err.to_string().contains("sparse_cce"), "{err}");
    // Features of the wrong size for the model.
    let err = run(&feature_classifier(&[5], 3, "sparse_cce"), Some(&csv), &d.join("five")).expect_err("4 values");
    assert!(err.to_string().contains("shape [4] (4 values) but model feat takes input [5]"), "{err}");
    // A ragged time series row.
    let ragged = d.join("ragged.csv");
    support::write(&ragged, b"t0,t1,t2,t3,label\n1,2,3,4,a\n1,2,3,b\n");
    let err = run(&feature_classifier(&[2, 2], 3, "sparse_cce"), Some(&ragged), &d.join("r")).expect_err("ragged");
    assert!(err.to_string().contains("line 3") && err.to_string().contains("ragged"), "{err}");
    assert!(!d.join("r").join("feat.emb").exists(), "no model after an error");
}

#[test]
fn folder_per_class_of_time_series_trains_a_binary_classifier() {
    let d = dir("folders");
    for (class, level) in [("flat", 0.0f32), ("rising", 1.0)] {
        std::fs::create_dir_all(d.join("data").join(class)).expect("mkdir");
        for i in 0..12 {
            // [steps = 4, channels = 2], time-major.
            let v: Vec<f32> = (0..8).map(|j| level * (j / 2) as f32 + (i % 3) as f32 * 0.05).collect();
            write_npy(&d.join(format!("data/{class}/{i:02}.npy")), &[4, 2], &v).expect("npy");
        }
    }
    let s = run(&feature_classifier(&[4, 2], 1, "bce"), Some(&d.join("data")), &d.join("out")).expect("trains");
    assert!(s.classification.expect("report").accuracy > 0.9);
    assert_eq!(s.model.meta("classes"), Some("flat\nrising"));
    // An image of the wrong size among them.
    write_npy(&d.join("data/flat/99.npy"), &[3, 2], &[0.0; 6]).expect("npy");
    let err = run(&feature_classifier(&[4, 2], 1, "bce"), Some(&d.join("data")), &d.join("bad")).expect_err("3x2");
    assert!(err.to_string().contains("99.npy") && err.to_string().contains("[3, 2]"), "{err}");
}

/// An IDX file per the format on yann.lecun.com.
fn idx(ndims: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, ndims];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[test]
fn idx_images_with_labels_train_a_classifier() {
    let d = dir("idx");
    let n = 40;
    // 2x2 images: class k lights pixel k.
    let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
    let pixels: Vec<u8> = labels.iter().flat_map(|&k| (0..4u8).map(move |p| if p == k { 250 } else { 10 })).collect();
    support::write(&d.join("train-images-idx3-ubyte"), idx(3, &[n as u32, 2, 2], &pixels));
    support::write(&d.join("train-labels-idx1-ubyte"), idx(1, &[n as u32], &labels));
    let cfg = feature_classifier(&[2, 2], 3, "sparse_cce");
    let s = run(&cfg, Some(&d.join("train-images-idx3-ubyte")), &d.join("out")).expect("trains");
    assert!(s.classification.expect("report").accuracy > 0.9);
    assert_eq!(s.model.meta("classes"), Some("0\n1\n2"));
    // Labels beyond the model's classes.
    let bad: Vec<u8> = labels.iter().map(|&l| if l == 2 { 7 } else { l }).collect();
    support::write(&d.join("train-labels-idx1-ubyte"), idx(1, &[n as u32], &bad));
    let err = run(&cfg, Some(&d.join("train-images-idx3-ubyte")), &d.join("bad")).expect_err("label 7");
    assert!(err.to_string().contains("sample 2 has label 7"), "{err}");
}

#[test]
fn regressor_predicts_several_targets_in_their_own_units() {
    let d = dir("regress");
    // y1 = 1000 + 500·a - 200·b, y2 = 0.001·(a + b): scales far from 1.
    let mut csv = String::from("a,y1,b,y2\n");
    for i in 0..80 {
        let (a, b) = ((i % 9) as f32 / 4.0 - 1.0, (i % 7) as f32 / 3.0 - 1.0);
        csv += &format!("{a},{},{b},{}\n", 1000.0 + 500.0 * a - 200.0 * b, 0.001 * (a + b));
    }
    support::write(&d.join("t.csv"), csv.as_bytes());
    let text = r#"
name = "two"
task = "regress"
input = [2]
layers = [{ type = "dense", units = 2, activation = "linear" }]
[columns]
targets = ["y1", "y2"]
[train]
epochs = 200
batch_size = 8
loss = "huber"
learning_rate = 0.05
"#;
    let cfg = ModelConfig::from_toml(text).expect("valid");
    assert_eq!(ModelConfig::from_toml(&cfg.to_toml()).expect("round trip"), cfg);
    let s = run(&cfg, Some(&d.join("t.csv")), &d.join("out")).expect("trains");
    let model = Model::from_blob(&std::fs::read(d.join("out/two.emb")).expect("blob")).expect("loads");
    let mut net = ember_nn::network::Network::from_model(&model);
    let p = net.predict(&[0.5, -0.5]);
    assert!((p[0] - 1350.0).abs() < 5.0 && p[1].abs() < 1e-4, "{p:?}");
    assert!(s.summary[0].contains("MSE"), "{:?}", s.summary);
    // A non-linear last layer cannot hold the scale.
    let relu = text.replace("\"linear\"", "\"relu\"");
    let err = ModelConfig::from_toml(&relu).expect_err("relu output");
    assert!(err.to_string().contains("linear dense layer"), "{err}");
}

/// A softmax classifier of the generated `data` (flattened `input`), `classes` classes.
fn generated_classifier(data: &str, input: &[u32], classes: u32) -> ModelConfig {
    let text = format!(
        r#"
name = "gen"
task = "classify"
input = {input:?}
data = "{data}"
layers = [{{ type = "flatten" }}, {{ type = "dense", units = 32, activation = "relu" }},
          {{ type = "dense", units = {classes}, activation = "softmax" }}]
[train]
epochs = 8
batch_size = 32
validation_split = 0.2
loss = "sparse_cce"
learning_rate = 0.003
max_samples = 600
"#
    );
    ModelConfig::from_toml(&text).expect("valid config")
}

#[test]
fn generated_kws_gesture_and_mnist_images_are_learnable_classes() {
    // The data of the convolutional presets, through the classify task with a
    // dense network: far above chance (1/6, 1/5, 1/10).
    for (data, input, classes, names) in [
        ("kws", vec![49, 10, 1], 6, "silence\nrise\nfall\nlow\nhigh\nburst"),
        ("gestures", vec![64, 3], 5, "idle\nshake\ncircle\ntap\nswipe"),
        ("mnist", vec![28, 28, 1], 10, "0\n1\n2\n3\n4\n5\n6\n7\n8\n9"),
    ] {
        let out = dir(&format!("generated-{data}"));
        let s = run(&generated_classifier(data, &input, classes), None, &out).expect("trains");
        let acc = s.classification.expect("report").accuracy;
        assert!(acc > 0.7, "{data}: validation accuracy {acc}");
        assert_eq!(s.model.meta("classes"), Some(names), "{data}");
    }
    // The wrong input shape for a generated set names the set's shape.
    let Err(err) = run(&generated_classifier("kws", &[49, 9], 6), None, &dir("kws-shape")) else {
        panic!("49x9 inputs cannot take 49x10 maps");
    };
    assert!(err.to_string().contains("kws maps are [49, 10, 1]"), "{err}");
}
