//! `ember evaluate` and `ember predict` on the models of the classify (any
//! input) and regress tasks, each trained small here: the `sine` regressor
//! (its MSE recomputed from the predictions against sin(x) of the inputs),
//! `digits-dense` on a folder per class and a CSV with a named label column,
//! a classifier of features that keeps its `[columns] label`; every score
//! recomputed here from the predictions file and the labels the test wrote.
//! Bad input (an image of the wrong size, a label outside the model's
//! classes, an unknown class, regression data without targets) gives a
//! clear error, a non-zero exit and no file. Sequence models are in
//! `evaluate_sequences.rs`.

use std::path::Path;

use super::evaluate::{score, write};
use super::predict::csv_cells;
use super::{assert_no_temp_files, fails, npy_f32, read_npy_f32, runtime_outputs, s, scratch, succeeds};

/// Predicts `data` with `blob` into `out` (extra arguments after); the CSV cells.
pub(super) fn predict(blob: &Path, data: &Path, out: &Path, extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec!["predict", s(blob), "--data", s(data), "--out", s(out)];
    args.extend(extra);
    succeeds(&args);
    csv_cells(out)
}

/// The fraction of rows whose cell `col` equals the truth.
pub(super) fn accuracy(cells: &[Vec<String>], col: usize, truth: &[String]) -> f64 {
    assert_eq!(cells.len(), truth.len());
    cells.iter().zip(truth).filter(|(r, t)| r[col] == **t).count() as f64 / truth.len() as f64
}

#[test]
fn sine_regressor_scores_in_its_own_units() {
    let dir = scratch("tasks_sine");
    let model = dir.join("model");
    succeeds(&["train", "sine", "--out", s(&model), "--epochs", "40", "-q"]);
    let blob = model.join("sine.emb");
    // `--data sine` names the generated set: the same model as the preset's default data.
    let named = dir.join("named");
    succeeds(&["train", "sine", "--data", "sine", "--out", s(&named), "--epochs", "40", "-q"]);
    assert_eq!(std::fs::read(named.join("sine.emb")).unwrap(), std::fs::read(&blob).unwrap());
    let xs: Vec<f64> = (0..40).map(|i| f64::from(i) * 0.157).collect();
    let mut csv = "x,sin(x)\n".to_string();
    for x in &xs {
        csv += &format!("{x},{}\n", x.sin());
    }
    let data = write(&dir, "sine.csv", &csv);
    let (header, cells) = predict(&blob, &data, &dir.join("pred.csv"), &[]);
    assert_eq!(header, ["sample", "sin(x)"], "the target's name from the model");
    let pred: Vec<f64> = cells.iter().map(|r| r[1].parse().unwrap()).collect();
    let mse = pred.iter().zip(&xs).map(|(p, x)| (p - x.sin()).powi(2)).sum::<f64>() / 40.0;
    let mae = pred.iter().zip(&xs).map(|(p, x)| (p - x.sin()).abs()).sum::<f64>() / 40.0;
    let eval = succeeds(&["evaluate", s(&blob), "--data", s(&data)]);
    assert!((score(&eval, "MSE") - mse).abs() < 2e-6, "MSE {mse}: {eval}");
    assert!((score(&eval, "MAE") - mae).abs() < 2e-6, "MAE {mae}: {eval}");
    assert!(mse < 0.5, "40 epochs learn something of sin(x): MSE {mse}");
    // Inputs alone (no target column) predict the same; the .npy holds the runtime's outputs.
    let inputs = write(&dir, "x.csv", &xs.iter().map(|x| format!("{x}\n")).collect::<String>());
    let npy = dir.join("pred.npy");
    succeeds(&["predict", s(&blob), "--data", s(&inputs), "--out", s(&npy)]);
    let x32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x32);
    assert_eq!(read_npy_f32(&npy), (vec![40, 1], want.clone()));
    for (c, w) in cells.iter().zip(&want) {
        assert_eq!(c[1].parse::<f32>().unwrap().to_bits(), w.to_bits());
    }
    // Targets named by --target-column, in another place and under another name.
    let mut swapped = "y,x\n".to_string();
    for x in &xs {
        swapped += &format!("{},{x}\n", x.sin());
    }
    let swapped = write(&dir, "swapped.csv", &swapped);
    let eval2 = succeeds(&["evaluate", s(&blob), "--data", s(&swapped), "--target-column", "y"]);
    assert!((score(&eval2, "MSE") - mse).abs() < 2e-6, "{eval2}");
    // Nothing to score against.
    let report = dir.join("report");
    fails(&["evaluate", s(&blob), "--data", s(&inputs), "--out", s(&report)], &["no targets", "sin(x)"]);
    assert!(!report.exists());
    assert_no_temp_files(&dir);
}

/// A 28x28 image in [0, 1] of class `c`, variant `v`.
fn digit_image(c: usize, v: usize) -> Vec<f32> {
    (0..784)
        .map(|i| (((i * (c + 3) + v * 11) % 17) as f32 / 16.0) * f32::from(u8::from(!(i / 28 + c).is_multiple_of(3))))
        .collect()
}

#[test]
fn digits_dense_on_a_folder_per_class_and_a_named_label_column() {
    let dir = scratch("tasks_digits");
    let model = dir.join("model");
    succeeds(&["train", "digits-dense", "--out", s(&model), "--epochs", "1", "--max-samples", "300", "-q"]);
    let blob = model.join("digits_dense.emb");
    // Folders named by the model's classes "2", "5", "7": labels by name.
    let folder = dir.join("digits");
    let mut truth = Vec::new();
    for c in [2usize, 5, 7] {
        std::fs::create_dir_all(folder.join(c.to_string())).unwrap();
        for v in 0..3 {
            std::fs::write(folder.join(format!("{c}/{v}.npy")), npy_f32(&[28, 28], &digit_image(c, v))).unwrap();
            truth.push(c.to_string());
        }
    }
    let (header, cells) = predict(&blob, &folder, &dir.join("pred.csv"), &[]);
    assert_eq!(header[..3], ["sample", "class", "class_name"]);
    let acc = accuracy(&cells, 1, &truth);
    let eval = succeeds(&["evaluate", s(&blob), "--data", s(&folder)]);
    assert!((score(&eval, "accuracy") - acc).abs() < 5e-5, "{acc}: {eval}");
    assert!(eval.contains("9 samples"), "{eval}");
    // A CSV with the label in a column named "digit" (the first).
    let mut csv = "digit".to_string() + &(0..784).map(|i| format!(",p{i}")).collect::<String>() + "\n";
    let mut truth = Vec::new();
    for i in 0..8 {
        let c = (i * 3) % 10;
        let img = digit_image(c, i);
        csv += &format!("{c},{}\n", img.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","));
        truth.push(c.to_string());
    }
    let data = write(&dir, "digits.csv", &csv);
    let col = ["--label-column", "digit"];
    let (_, cells) = predict(&blob, &data, &dir.join("pred2.csv"), &col);
    let acc = accuracy(&cells, 1, &truth);
    let mut args = vec!["evaluate", s(&blob), "--data", s(&data)];
    args.extend(col);
    let eval = succeeds(&args);
    assert!((score(&eval, "accuracy") - acc).abs() < 5e-5, "{acc}: {eval}");
    // The same images' outputs are the runtime's.
    let x: Vec<f32> = (0..8).flat_map(|i| digit_image((i * 3) % 10, i)).collect();
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    assert_eq!(cells[7][3 + 9].parse::<f32>().unwrap().to_bits(), want[7 * 10 + 9].to_bits());
    // A label outside the 10 classes, an image of the wrong size: errors, no files.
    let bad = write(&dir, "bad.csv", &csv.replacen("\n3,", "\n12,", 1));
    let report = dir.join("report");
    let mut args = vec!["evaluate", s(&blob), "--data", s(&bad), "--out", s(&report)];
    args.extend(col);
    fails(&args, &["sample 2", "label 12", "10 classes"]);
    let small = dir.join("small");
    std::fs::create_dir_all(small.join("3")).unwrap();
    std::fs::write(small.join("3/a.npy"), npy_f32(&[27, 27], &[0.5; 729])).unwrap();
    fails(&["evaluate", s(&blob), "--data", s(&small), "--out", s(&report)], &["729 values", "[27, 27]", "784"]);
    let out = dir.join("out.csv");
    fails(&["predict", s(&blob), "--data", s(&small), "--out", s(&out)], &["729 values", "784"]);
    // One image of another size among the others.
    std::fs::write(folder.join("5/small.npy"), npy_f32(&[27, 27], &[0.5; 729])).unwrap();
    fails(&["predict", s(&blob), "--data", s(&folder), "--out", s(&out)], &["small.npy", "[27, 27]"]);
    assert!(!report.exists() && !out.exists());
    assert_no_temp_files(&dir);
}

const KINDS: &str = r#"name = "kinds"
task = "classify"
input = [4]
layers = [{ type = "dense", units = 3, activation = "softmax" }]

[columns]
label = "kind"

[train]
epochs = 60
batch_size = 8
validation_split = 0.0
loss = "sparse_cce"
learning_rate = 0.05
seed = 3
"#;

/// Rows of 4 features and their kind (`a`, `b`, `c`: the largest of the first three).
fn kinds(n: usize, offset: usize) -> Vec<(Vec<f32>, &'static str)> {
    (offset..offset + n)
        .map(|i| {
            let f = i as f32;
            let r = vec![(f * 0.7).sin(), (f * 1.3).cos(), (f * 0.29).sin(), f * 0.01];
            let k = (0..3).fold(0, |b, j| if r[j] > r[b] { j } else { b });
            (r, ["a", "b", "c"][k])
        })
        .collect()
}

#[test]
fn a_features_classifier_reads_its_own_label_column() {
    let dir = scratch("tasks_kinds");
    let config = write(&dir, "kinds.toml", KINDS);
    let mut csv = "kind,f0,f1,f2,f3\n".to_string();
    for (r, k) in kinds(60, 0) {
        csv += &format!("{k},{},{},{},{}\n", r[0], r[1], r[2], r[3]);
    }
    let train = write(&dir, "train.csv", &csv);
    let model = dir.join("model");
    succeeds(&["train", s(&config), "--data", s(&train), "--out", s(&model), "-q"]);
    let blob = model.join("kinds.emb");
    // Held-out rows with the label column elsewhere: found by the name the model keeps.
    let mut csv = "f0,f1,kind,f2,f3\n".to_string();
    let mut truth = Vec::new();
    let mut x = Vec::new();
    for (r, k) in kinds(12, 500) {
        csv += &format!("{},{},{k},{},{}\n", r[0], r[1], r[2], r[3]);
        truth.push(k.to_string());
        x.extend(r);
    }
    let data = write(&dir, "test.csv", &csv);
    let (header, cells) = predict(&blob, &data, &dir.join("pred.csv"), &[]);
    assert_eq!(header, ["sample", "class", "class_name", "p_a", "p_b", "p_c"]);
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    assert_eq!(cells[3][4].parse::<f32>().unwrap().to_bits(), want[3 * 3 + 1].to_bits(), "the label column left out");
    let acc = accuracy(&cells, 2, &truth);
    let eval = succeeds(&["evaluate", s(&blob), "--data", s(&data)]);
    assert!((score(&eval, "accuracy") - acc).abs() < 5e-5, "{acc}: {eval}");
    // A kind the model does not know.
    let bad = write(&dir, "bad.csv", &csv.replacen(",a,", ",d,", 1));
    fails(&["evaluate", s(&blob), "--data", s(&bad)], &["class \"d\"", "a, b, c"]);
    assert_no_temp_files(&dir);
}
