//! `ember evaluate` and `ember predict` on sequence models trained small
//! here: a classifier of time series `[steps, channels]` trained from a
//! folder per class, the `sensor-ae` anomaly autoencoder with the threshold
//! it keeps in its blob, and the `gru` text classifier; every score
//! recomputed here from the predictions and the labels the test wrote. A
//! ragged series or one of another length gives a clear error naming the
//! file, a non-zero exit and no file.

use std::path::{Path, PathBuf};

use ember_export::Model;

use super::evaluate::{score, write};
use super::evaluate_tasks::{accuracy, predict};
use super::{assert_no_temp_files, fails, npy_f32, read_npy_f32, runtime_outputs, s, scratch, succeeds};

/// A series of 16 steps of 2 channels: a ramp down, flat or up (class 0, 1,
/// 2), one step per line.
fn ramp(class: usize, j: usize) -> String {
    (0..16)
        .map(|t| {
            let slope = (class as f64 - 1.0) * t as f64 / 16.0;
            format!("{:.4},{:.4}\n", slope + 0.02 * ((j * 7 + t * 3) % 5) as f64, 0.5 + 0.05 * ((j + t) % 3) as f64)
        })
        .collect()
}

const RAMPS: &str = r#"name = "ramps"
task = "classify"
input = [16, 2]
layers = [
    { type = "conv1d", filters = 4, kernel = 3, activation = "relu" },
    { type = "flatten" },
    { type = "dense", units = 3, activation = "softmax" },
]

[train]
epochs = 30
batch_size = 8
validation_split = 0.0
loss = "sparse_cce"
optimizer = "adam"
learning_rate = 0.01
seed = 1
"#;

/// Writes a folder per class of ramps (`classes` of down, flat, up); the
/// class name of each sample in folder order.
fn ramp_folder(dir: &Path, classes: &[usize], n: usize, offset: usize) -> (PathBuf, Vec<String>) {
    let names = ["down", "flat", "up"];
    let mut truth = Vec::new();
    for &c in classes {
        std::fs::create_dir_all(dir.join(names[c])).unwrap();
        for i in 0..n {
            std::fs::write(dir.join(format!("{}/s{i:02}.csv", names[c])), ramp(c, i + offset)).unwrap();
            truth.push(names[c].to_string());
        }
    }
    (dir.to_path_buf(), truth)
}

#[test]
fn time_series_classifier_from_a_folder_per_class() {
    let dir = scratch("tasks_ramps");
    let config = write(&dir, "ramps.toml", RAMPS);
    let (train, _) = ramp_folder(&dir.join("train"), &[0, 1, 2], 10, 0);
    let model = dir.join("model");
    succeeds(&["train", s(&config), "--data", s(&train), "--out", s(&model), "-q"]);
    let blob = model.join("ramps.emb");
    // Held-out series of two of the three classes: mapped by name.
    let (test, truth) = ramp_folder(&dir.join("test"), &[0, 2], 4, 100);
    let (header, cells) = predict(&blob, &test, &dir.join("pred.csv"), &[]);
    assert_eq!(header, ["sample", "class", "class_name", "p_down", "p_flat", "p_up"]);
    let acc = accuracy(&cells, 2, &truth);
    let eval = succeeds(&["evaluate", s(&blob), "--data", s(&test)]);
    assert!((score(&eval, "accuracy") - acc).abs() < 5e-5, "{acc}: {eval}");
    assert!(acc > 0.7, "ramps up and down are told apart: {eval}");
    // The probabilities are the runtime's on the time-major series.
    let x: Vec<f32> = ramp(2, 100).split([',', '\n']).filter(|c| !c.is_empty()).map(|c| c.parse().unwrap()).collect();
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    assert_eq!(cells[4][5].parse::<f32>().unwrap().to_bits(), want[2].to_bits());
    // A ragged series, a series of 15 steps: errors naming the file, no files.
    let (report, out) = (dir.join("report"), dir.join("out.npy"));
    let ragged = ramp(0, 1).replacen("\n", ",0.1\n", 3).replacen(",0.1\n", "\n", 1);
    std::fs::write(test.join("up/ragged.csv"), ragged).unwrap();
    fails(&["evaluate", s(&blob), "--data", s(&test), "--out", s(&report)], &["ragged.csv", "ragged"]);
    fails(&["predict", s(&blob), "--data", s(&test), "--out", s(&out)], &["ragged.csv", "ragged"]);
    std::fs::remove_file(test.join("up/ragged.csv")).unwrap();
    let short: String = ramp(0, 1).lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(test.join("down/short.csv"), short).unwrap();
    fails(&["evaluate", s(&blob), "--data", s(&test), "--out", s(&report)], &["short.csv", "[15, 2]"]);
    assert!(!report.exists() && !out.exists());
    assert_no_temp_files(&dir);
}

/// A window of 32 steps of 3 channels, time-major, with a spike at step 10 if `spike`.
fn window(j: usize, spike: bool) -> Vec<f32> {
    let mut w = Vec::new();
    for t in 0..32 {
        let s = t as f64 / 32.0;
        for (c, (f1, f2)) in [(1.0, 3.0), (2.0, 5.0), (1.5, 4.0)].into_iter().enumerate() {
            let p = (j * 3 + c) as f64 * 0.7;
            let v = (std::f64::consts::TAU * f1 * s + p).sin() + 0.5 * (std::f64::consts::TAU * f2 * s + 2.0 * p).sin();
            w.push((v + if spike && t == 10 { 5.0 } else { 0.0 }) as f32);
        }
    }
    w
}

#[test]
fn sensor_autoencoder_flags_windows_over_its_threshold() {
    let dir = scratch("tasks_sensor");
    let model = dir.join("model");
    succeeds(&["train", "sensor-ae", "--out", s(&model), "--epochs", "3", "--max-samples", "200", "-q"]);
    let blob = model.join("sensor_ae.emb");
    let m = Model::from_blob(&std::fs::read(&blob).unwrap()).unwrap();
    let threshold: f64 = m.meta("anomaly_threshold").expect("the threshold in the blob").parse().unwrap();
    let folder = dir.join("windows");
    let mut x = Vec::new();
    for (k, name) in ["normal", "spike"].iter().enumerate() {
        std::fs::create_dir_all(folder.join(name)).unwrap();
        for j in 0..4 {
            let w = window(j, k == 1);
            std::fs::write(folder.join(format!("{name}/{j}.npy")), npy_f32(&[32, 3], &w)).unwrap();
            x.extend(w);
        }
    }
    let npy = dir.join("recon.npy");
    succeeds(&["predict", s(&blob), "--data", s(&folder), "--out", s(&npy)]);
    let (shape, recon) = read_npy_f32(&npy);
    assert_eq!(shape, [8, 96], "the model outputs the window flattened");
    assert_eq!(recon, runtime_outputs(&std::fs::read(&blob).unwrap(), &x));
    let errors: Vec<f64> = x
        .chunks(96)
        .zip(recon.chunks(96))
        .map(|(a, b)| a.iter().zip(b).map(|(p, q)| (f64::from(*p) - f64::from(*q)).powi(2)).sum::<f64>() / 96.0)
        .collect();
    let flags: Vec<bool> = errors.iter().map(|&e| e > threshold).collect();
    let (header, cells) = predict(&blob, &folder, &dir.join("pred.csv"), &[]);
    assert_eq!(header[header.len() - 2..], ["mse", "anomaly"]);
    for ((r, e), f) in cells.iter().zip(&errors).zip(&flags) {
        assert!((r[97].parse::<f64>().unwrap() - e).abs() < 1e-6 * e.max(1.0), "{} vs {e}", r[97]);
        assert_eq!(r[98], if *f { "1" } else { "0" });
    }
    let eval = succeeds(&["evaluate", s(&blob), "--data", s(&folder)]);
    let mse = errors.iter().sum::<f64>() / 8.0;
    assert!((score(&eval, "reconstruction MSE") - mse).abs() < 1e-6 * mse.max(1.0), "{mse}: {eval}");
    let flagged = |r: std::ops::Range<usize>| flags[r].iter().filter(|&&f| f).count();
    assert!(eval.contains(&format!("flagged {} of 8", flagged(0..8))), "{eval}");
    assert!(eval.contains(&format!("flagged in class normal: {} of 4", flagged(0..4))), "{eval}");
    assert!(eval.contains(&format!("flagged in class spike: {} of 4", flagged(4..8))), "{eval}");
    assert!(flagged(4..8) > 0, "a spike of 5 stands out: {eval}");
    assert_no_temp_files(&dir);
}

#[test]
fn gru_text_classifier_on_a_csv_of_reviews() {
    let dir = scratch("tasks_gru");
    let model = dir.join("model");
    succeeds(&["train", "gru", "--out", s(&model), "--epochs", "1", "--max-samples", "64", "-q"]);
    let blob = model.join("gru.emb");
    let classes: Vec<String> = Model::from_blob(&std::fs::read(&blob).unwrap())
        .unwrap()
        .meta("classes")
        .expect("class names")
        .split('\n')
        .map(str::to_string)
        .collect();
    let mut csv = "review,sentiment\n".to_string();
    let mut truth = Vec::new();
    for i in 0..10usize {
        let words: Vec<String> = (0..20 + i * 9).map(|j| format!("w{}", 3 + (i * 13 + j * 29) % 700)).collect();
        let c = &classes[i % 2];
        csv += &format!("{},{c}\n", words.join(" "));
        truth.push(c.clone());
    }
    let data = write(&dir, "reviews.csv", &csv);
    let cols = ["--text-column", "review", "--label-column", "sentiment"];
    let (header, cells) = predict(&blob, &data, &dir.join("pred.csv"), &cols);
    assert_eq!(header[..4], ["sample", "line", "class", "class_name"]);
    let acc = accuracy(&cells, 3, &truth);
    let mut args = vec!["evaluate", s(&blob), "--data", s(&data)];
    args.extend(cols);
    let eval = succeeds(&args);
    assert!((score(&eval, "accuracy") - acc).abs() < 5e-5, "{acc}: {eval}");
    assert_no_temp_files(&dir);
}
