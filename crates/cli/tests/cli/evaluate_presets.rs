//! `ember evaluate` and `ember predict` on more presets: the convolutional
//! autoencoder on IDX images (written here), an RNN text classifier on a CSV
//! of reviews, a word model on `.npy` windows; each score recomputed here
//! from the predictions file or the host runtime's outputs.

use super::evaluate::{ngram, score, write};
use super::predict::csv_cells;
use super::{assert_no_temp_files, fails, npy_f32, read_npy_f32, runtime_outputs, s, scratch, succeeds};

/// An IDX images file of `n` 28x28 images and its labels file.
fn idx_pair(dir: &std::path::Path, n: usize) -> (std::path::PathBuf, Vec<f32>) {
    let mut images = vec![0, 0, 8, 3];
    for d in [n as u32, 28, 28] {
        images.extend(d.to_be_bytes());
    }
    let mut x = Vec::new();
    for i in 0..n * 784 {
        let v = if (i % 784) / 28 > 6 && (i % 784) / 28 < 21 && (i + i / 784 * 5) % 28 > 9 { 200u8 } else { 0 };
        images.push(v);
        x.push(f32::from(v) / 255.0);
    }
    let mut labels = vec![0, 0, 8, 1];
    labels.extend((n as u32).to_be_bytes());
    labels.extend((0..n).map(|i| (i % 10) as u8));
    let path = dir.join("t10k-images-idx3-ubyte");
    std::fs::write(&path, images).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), labels).unwrap();
    (path, x)
}

#[test]
fn conv_autoencoder_on_idx_images() {
    let dir = scratch("eval_conv");
    let model = dir.join("model");
    succeeds(&["train", "conv-ae", "--out", s(&model), "--epochs", "1", "--max-samples", "64", "-q"]);
    let blob = model.join("conv_ae.emb");
    let (images, x) = idx_pair(&dir, 6);
    let (recon, codes) = (dir.join("recon.npy"), dir.join("codes.npy"));
    succeeds(&["predict", s(&blob), "--data", s(&images), "--out", s(&recon)]);
    succeeds(&["predict", s(&blob), "--data", s(&images), "--out", s(&codes), "--codes"]);
    let (shape, got) = read_npy_f32(&recon);
    assert_eq!(shape, [6, 28, 28, 1]);
    assert_eq!(got, runtime_outputs(&std::fs::read(&blob).unwrap(), &x));
    let enc = runtime_outputs(&std::fs::read(model.join("conv_ae_encoder.emb")).unwrap(), &x);
    assert_eq!(read_npy_f32(&codes), (vec![6, 4, 4, 8], enc));
    let mse = x.iter().zip(&got).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum::<f64>() / x.len() as f64;
    let out = succeeds(&["evaluate", s(&blob), "--data", s(&images)]);
    assert!((score(&out, "reconstruction MSE") - mse).abs() < 1e-6, "MSE {mse}: {out}");
    // Pixels of 0-255 are outside the model's declared range.
    let raw = dir.join("raw.npy");
    std::fs::write(&raw, npy_f32(&[1, 784], &[255.0; 784])).unwrap();
    fails(&["evaluate", s(&blob), "--data", s(&raw)], &["outside the range", "[0, 1]"]);
    assert_no_temp_files(&dir);
}

#[test]
fn rnn_text_classifier_on_a_csv_of_reviews() {
    let dir = scratch("eval_rnn");
    let model = dir.join("model");
    succeeds(&["train", "rnn", "--out", s(&model), "--epochs", "1", "--max-samples", "64", "-q"]);
    let blob = model.join("rnn.emb");
    // Reviews in the generated data's words (w3, w4, ...), labelled by name.
    let mut csv = "review,sentiment\n".to_string();
    let mut labels = Vec::new();
    for i in 0..24usize {
        let words: Vec<String> = (0..30 + i * 7).map(|j| format!("w{}", 3 + (i * 31 + j * 17) % 900)).collect();
        let label = if i % 3 == 0 { "neg" } else { "pos" };
        csv += &format!("{},{label}\n", words.join(" "));
        labels.push(usize::from(label == "pos"));
    }
    let data = write(&dir, "reviews.csv", &csv);
    let cols = ["--text-column", "review", "--label-column", "sentiment"];
    let mut args = vec!["evaluate", s(&blob), "--data", s(&data)];
    args.extend(cols);
    let eval = succeeds(&args);
    let pred = dir.join("pred.csv");
    let mut args = vec!["predict", s(&blob), "--data", s(&data), "--out", s(&pred)];
    args.extend(cols);
    succeeds(&args);
    let (header, cells) = csv_cells(&pred);
    assert_eq!(header, ["sample", "line", "class", "class_name", "p_neg", "p_pos"]);
    let correct = cells.iter().zip(&labels).filter(|(r, l)| r[2] == l.to_string()).count();
    assert!((score(&eval, "accuracy") - correct as f64 / 24.0).abs() < 5e-5, "{correct} of 24: {eval}");
    // Cross-entropy from the written probabilities.
    let ce = cells.iter().zip(&labels).map(|(r, &l)| -f64::from(r[4 + l].parse::<f32>().unwrap()).max(1e-7).ln());
    let ce = ce.sum::<f64>() / 24.0;
    assert!((score(&eval, "cross-entropy") - ce).abs() < 1e-3, "{ce}: {eval}");
    // A label that is not a class of the model.
    let bad = write(&dir, "bad.csv", "review,sentiment\nw3 w4,neutral\n");
    let mut args = vec!["evaluate", s(&blob), "--data", s(&bad)];
    args.extend(cols);
    fails(&args, &["neutral", "neg, pos"]);
}

#[test]
fn word_model_on_npy_windows() {
    let blob = ngram().join("ngram_embedding.emb");
    let dir = scratch("eval_ngram_npy");
    let windows: Vec<f32> = (0..40).map(|i| ((i * 7 + i / 4) % 30) as f32).collect();
    let npy = dir.join("windows.npy");
    std::fs::write(&npy, npy_f32(&[10, 4], &windows)).unwrap();
    let out = succeeds(&["evaluate", s(&blob), "--data", s(&npy)]);
    let x: Vec<f32> = windows.chunks(4).flat_map(|w| w[..3].to_vec()).collect();
    let p = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    let width = p.len() / 10;
    let ce = p
        .chunks(width)
        .zip(windows.chunks(4))
        .map(|(row, w)| -f64::from(row[w[3] as usize]).clamp(1e-7, 1.0 - 1e-7).ln())
        .sum::<f64>()
        / 10.0;
    assert!((score(&out, "cross-entropy") - ce).abs() < 1e-4, "{ce}: {out}");
    assert!(out.contains("10 samples"), "{out}");
    let wide = dir.join("big.npy");
    std::fs::write(&wide, npy_f32(&[1, 4], &[0.0, 1.0, 2.0, 100_000.0])).unwrap();
    fails(&["evaluate", s(&blob), "--data", s(&wide)], &["100000", "not below"]);
}
