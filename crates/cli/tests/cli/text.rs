//! `ember` on text models: train the `bag-of-embeddings`
//! preset, classify raw text with the blob's own tokenizer (the ids checked
//! against golden FNV-1a ids computed here), verify on every backend, and bad
//! input (empty text, a model without a tokenizer, corrupt text data, a
//! non-text model) giving a clear message and a non-zero exit.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{fails, s, scratch, succeeds};

/// The trained bag-of-embeddings folder (trained once per test binary).
fn trained() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("text_bag");
        succeeds(&["train", "bag-of-embeddings", "--out", s(&dir), "--quiet"]);
        dir
    })
}

/// FNV-1a 32 from its definition, and the preset's id rule: 3 + h % 47.
fn golden_id(word: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in word.to_lowercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    3 + h % 47
}

#[test]
fn train_writes_the_report_and_classify_uses_the_blob_tokenizer() {
    let dir = trained();
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("precision") && report.contains("weighted avg"), "{report}");
    for f in ["bag_of_embeddings.emb", "bag_of_embeddings.onnx", "loss.png", "accuracy.png", "history.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let blob = dir.join("bag_of_embeddings.emb");
    let out = succeeds(&["classify", s(&blob), "Good work!", "could have done BETTER", "--ids"]);
    let want = format!("[{}, {}, 0, 0]", golden_id("good"), golden_id("work"));
    assert!(out.contains(&want), "ids {want} not in {out}");
    // Post-truncation keeps the first 4 words.
    let want =
        format!("[{}, {}, {}, {}]", golden_id("could"), golden_id("have"), golden_id("done"), golden_id("better"));
    assert!(out.contains(&want), "ids {want} not in {out}");
    assert_eq!(out.lines().filter(|l| l.contains("positive") || l.contains("negative")).count(), 2, "{out}");
}

#[test]
fn verify_passes_on_the_text_model() {
    let out = succeeds(&["verify", s(trained())]);
    assert!(out.contains("onnxruntime") && !out.contains("FAIL"), "{out}");
}

#[test]
fn classify_rejects_bad_input() {
    let blob = trained().join("bag_of_embeddings.emb");
    fails(&["classify", s(&blob), "  ,.! "], &["text 1", "no word"]);
    fails(&["classify", s(&blob), "fine", ""], &["text 2", "no word"]);
    fails(&["classify", s(&trained().join("missing.emb")), "good"], &["missing.emb"]);
    let dir = scratch("text_classify_bad");
    let corrupt = dir.join("corrupt.emb");
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&corrupt, bytes).unwrap();
    fails(&["classify", s(&corrupt), "good"], &["CRC-32"]);
}

#[test]
fn a_model_without_a_tokenizer_cannot_classify_text() {
    let dir = scratch("text_no_tokenizer");
    succeeds(&["train", "blobs-ae", "--out", s(&dir), "--epochs", "1", "--quiet"]);
    fails(&["classify", s(&dir.join("blobs_ae.emb")), "good work"], &["tokenizer"]);
}

#[test]
fn train_rejects_corrupt_text_data_without_leaving_files() {
    let dir = scratch("text_bad_data");
    let npz = dir.join("imdb.npz");
    std::fs::write(&npz, b"PK\x03\x04 not really a zip").unwrap();
    let out = dir.join("out");
    fails(&["train", "lstm", "--data", s(&npz), "--out", s(&out)], &["imdb.npz"]);
    let csv = dir.join("reviews.csv");
    std::fs::write(&csv, "text,stars\ngood,1\n").unwrap();
    fails(&["train", "lstm", "--data", s(&csv), "--out", s(&out)], &["label"]);
    let empty = dir.join("empty");
    std::fs::create_dir_all(empty.join("train/pos")).unwrap();
    fails(&["train", "lstm", "--data", s(&empty), "--out", s(&out)], &["empty"]);
    assert!(!out.join("lstm.emb").exists(), "no model from bad data");
}
