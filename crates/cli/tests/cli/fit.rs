//! `ember train`'s Keras `fit` extras on the command line: the model
//! summary before the first epoch, each epoch's learning rate,
//! `history.csv`, and bad `[train]` settings.

use super::{fails, s, scratch, succeeds};

#[test]
fn train_prints_the_model_summary_and_each_epochs_rate() {
    let dir = scratch("summary");
    let out = succeeds(&["train", "blobs-ae", "--out", s(&dir), "--epochs", "2"]);
    // blobs-ae: dense 3 → 2 (6 + 2 parameters), dense 2 → 3 (6 + 3).
    for needle in
        ["Model: blobs_ae", "dense 0  (2)", "dense 1  (3)", "Total params: 17", "Activation RAM on a board: 20 bytes"]
    {
        assert!(out.contains(needle), "{needle:?} missing from:\n{out}");
    }
    let summary_at = out.find("Total params").unwrap();
    let first_epoch = out.find("epoch 1/2").expect("an epoch line");
    assert!(summary_at < first_epoch, "the summary comes before training:\n{out}");
    assert!(out.contains("lr 1.000e-2"), "the epoch line gives the rate:\n{out}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("## Model summary") && report.contains("Total params: 17"), "{report}");
    let csv = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "a header and two epochs: {csv}");
}

#[test]
fn train_rejects_bad_fit_settings_without_leaving_files() {
    let dir = scratch("bad-fit-settings");
    let preset = succeeds(&["presets", "blobs-ae"]);
    for (extra, needle) in [
        ("lr_schedule = { kind = \"cosine\" }", "unknown lr_schedule kind"),
        ("lr_schedule = { kind = \"plateau\", factor = -0.5 }", "plateau factor must be in (0, 1)"),
        ("class_weights = \"balanced\"", "class_weights apply to classifiers"),
    ] {
        let file = dir.join("model.toml");
        std::fs::write(&file, format!("{preset}{extra}\n")).unwrap();
        let out = dir.join("out");
        fails(&["train", s(&file), "--out", s(&out), "--epochs", "1", "-q"], &[needle]);
        assert!(!out.exists(), "no output folder for {extra}");
    }
}
