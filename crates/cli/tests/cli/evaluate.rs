//! `ember evaluate` and `ember train --test-data` on small trained models of
//! several kinds: each score printed is recomputed here from the host
//! runtime's outputs (or from hand-made weights whose answers are known),
//! never taken from the code under test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ember_export::Model;
use ember_runtime::spec::{Dims, IoSpec, LayerSpec, ValueKind};
use ember_runtime::{Activation, text::VOCAB_TENSOR};

use super::{assert_no_temp_files, fails, listing, runtime_outputs, s, scratch, succeeds, trained};

/// The number after `name` on a line of `out` (for example `accuracy 0.8000`).
pub(super) fn score(out: &str, name: &str) -> f64 {
    let at = out.find(&format!("{name} ")).unwrap_or_else(|| panic!("no {name:?} in {out}"));
    let rest = &out[at + name.len() + 1..];
    rest.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no number after {name}"))
}

/// Writes `text` to `dir/name`; returns the path.
pub(super) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Float rows as CSV lines.
pub(super) fn csv_rows(rows: &[Vec<f32>]) -> String {
    rows.iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",") + "\n").collect()
}

/// A hand-made feature classifier: 4 features, Dense(4 -> 3, softmax) with
/// weight `[[1,0,0,0],[0,1,0,0],[0,0,1,0]]` and no bias, so the predicted
/// class is the arg-max of the first three features; named classes.
pub(super) fn feature_classifier(dir: &Path) -> PathBuf {
    let dense = LayerSpec::Dense { inputs: 4, units: 3, activation: Activation::Softmax };
    let mut w = vec![0.0f32; 12];
    for c in 0..3 {
        w[c * 4 + c] = 1.0;
    }
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(4), range: None };
    let mut m = Model::new("features3", input, vec![dense], vec![w, vec![0.0; 3]]).unwrap();
    m.set_meta("task", "classify");
    m.set_meta("classes", "red\ngreen\nblue");
    let p = dir.join("features3.emb");
    std::fs::write(&p, m.to_blob().unwrap()).unwrap();
    p
}

/// Rows for [`feature_classifier`] and labels, some of them wrong on purpose.
pub(super) fn feature_rows() -> (Vec<Vec<f32>>, Vec<u32>) {
    let rows: Vec<Vec<f32>> = (0..30)
        .map(|i| {
            let f = i as f32;
            vec![(f * 0.7).sin(), (f * 1.3).cos(), (f * 0.29).sin() * 1.5, f * 0.1]
        })
        .collect();
    let argmax = |r: &Vec<f32>| (0..3).fold(0, |b, j| if r[j] > r[b] { j } else { b }) as u32;
    let labels =
        rows.iter().enumerate().map(|(i, r)| if i % 4 == 0 { (argmax(r) + 1) % 3 } else { argmax(r) }).collect();
    (rows, labels)
}

#[test]
fn evaluate_a_feature_classifier_from_its_known_weights() {
    let dir = scratch("eval_features");
    let blob = feature_classifier(&dir);
    let (rows, labels) = feature_rows();
    let argmax = |r: &Vec<f32>| (0..3).fold(0, |b, j| if r[j] > r[b] { j } else { b }) as u32;
    let correct = rows.iter().zip(&labels).filter(|(r, l)| argmax(r) == **l).count();
    let want = correct as f64 / rows.len() as f64;
    // The label as a named column, and as the last column of a header-less file.
    let mut named = "a,b,c,d,label\n".to_string();
    let mut last = String::new();
    for (r, l) in rows.iter().zip(&labels) {
        let cells: Vec<String> = r.iter().map(|v| v.to_string()).collect();
        named += &format!("{},{l}\n", cells.join(","));
        last += &format!("{},{l}\n", cells.join(","));
    }
    let named = write(&dir, "named.csv", &named);
    let last = write(&dir, "last.csv", &last);
    let report = dir.join("report");
    for data in [&named, &last] {
        let out = succeeds(&["evaluate", s(&blob), "--data", s(data), "--out", s(&report)]);
        assert!((score(&out, "accuracy") - want).abs() < 5e-5, "accuracy {want} expected: {out}");
        for name in ["red", "green", "blue", "precision", "weighted avg", "confusion matrix"] {
            assert!(out.contains(name), "{name} missing: {out}");
        }
    }
    // Recall of each class from the counts, and the written report and picture.
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("| true \\ predicted | red | green | blue |"), "{md}");
    let png = std::fs::read(report.join("confusion.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_no_temp_files(&report);
}

#[test]
fn evaluate_an_autoencoder_gives_the_reconstruction_error() {
    let blob = trained().join("blobs_ae.emb");
    let dir = scratch("eval_ae");
    let rows: Vec<Vec<f32>> =
        (0..40).map(|i| (0..3).map(|j| ((i * 3 + j) as f32 * 0.41).sin() * 4.0).collect()).collect();
    let data = write(&dir, "points.csv", &csv_rows(&rows));
    let out = succeeds(&["evaluate", s(&blob), "--data", s(&data)]);
    let x: Vec<f32> = rows.concat();
    let y = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    let n = x.len() as f64;
    let mse = x.iter().zip(&y).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum::<f64>() / n;
    let mae = x.iter().zip(&y).map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs()).sum::<f64>() / n;
    assert!((score(&out, "reconstruction MSE") - mse).abs() < 1e-6 * mse.max(1.0), "MSE {mse}: {out}");
    assert!((score(&out, "reconstruction MAE") - mae).abs() < 1e-6 * mae.max(1.0), "MAE {mae}: {out}");
    assert!(out.contains("40 samples"), "{out}");
    // The encoder alone has nothing to compare its codes with.
    fails(&["evaluate", s(&trained().join("blobs_ae_encoder.emb")), "--data", s(&data)], &["encoder", "predict"]);
}

/// The `ngram-embedding` preset trained briefly.
pub(super) fn ngram() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("eval_ngram");
        succeeds(&["train", "ngram-embedding", "--out", s(&dir), "--epochs", "2", "-q"]);
        dir
    })
}

/// The words of a blob's `vocab` asset.
pub(super) fn vocab(blob: &Path) -> Vec<String> {
    let m = Model::from_blob(&std::fs::read(blob).unwrap()).unwrap();
    let a = m.assets.iter().find(|a| a.name == VOCAB_TENSOR).expect("a vocab asset");
    String::from_utf8(a.bytes.clone()).unwrap().split('\n').map(str::to_string).collect()
}

#[test]
fn evaluate_a_word_model_gives_cross_entropy_perplexity_and_top_k() {
    let blob = ngram().join("ngram_embedding.emb");
    let words = vocab(&blob);
    let dir = scratch("eval_ngram_data");
    // Lines of 6 known words (3 windows each) and one line with an unknown word.
    let mut text = String::new();
    let mut ids: Vec<[usize; 4]> = Vec::new();
    for i in 0..20 {
        let line: Vec<usize> = (0..6).map(|j| (i * 7 + j * 13) % words.len()).collect();
        text += &line.iter().map(|&k| words[k].as_str()).collect::<Vec<_>>().join(" ");
        text += "\n";
        for w in line.windows(4) {
            ids.push([w[0], w[1], w[2], w[3]]);
        }
    }
    text += &format!("{} {} zzzunknownzzz {}\n", words[0], words[1], words[2]);
    let corpus = write(&dir, "held_out.txt", &text);
    let out = succeeds(&["evaluate", s(&blob), "--data", s(&corpus), "--top-k", "3"]);
    let x: Vec<f32> = ids.iter().flat_map(|w| w[..3].iter().map(|&k| k as f32)).collect();
    let p = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    let v = words.len();
    let (mut ce, mut top1, mut top3) = (0.0f64, 0, 0);
    for (row, w) in p.chunks(v).zip(&ids) {
        let pt = row[w[3]];
        ce -= f64::from(pt).clamp(1e-7, 1.0 - 1e-7).ln();
        let better = row.iter().filter(|&&q| q > pt).count();
        top1 += usize::from(better == 0);
        top3 += usize::from(better < 3);
    }
    let n = ids.len() as f64;
    ce /= n;
    assert!((score(&out, "cross-entropy") - ce).abs() < 1e-4, "cross-entropy {ce}: {out}");
    assert!((score(&out, "perplexity") - ce.exp()).abs() < 0.01 * ce.exp(), "perplexity {}: {out}", ce.exp());
    assert!((score(&out, "accuracy") - top1 as f64 / n).abs() < 1e-4, "{out}");
    assert!((score(&out, "top-3 accuracy") - top3 as f64 / n).abs() < 1e-4, "{out}");
    assert!(out.contains(&format!("{} samples", ids.len())), "{out}");
    assert!(out.contains("windows left out"), "the unknown word's window is reported: {out}");
}

/// The `entity-embedding` preset trained briefly.
pub(super) fn entity() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("eval_entity");
        succeeds(&["train", "entity-embedding", "--out", s(&dir), "--epochs", "3", "-q"]);
        dir
    })
}

/// A penguins table in the model's categories, its body masses, and the
/// model's table rows of each record (as `f32`).
pub(super) fn penguins(blob: &Path) -> (String, Vec<f32>, Vec<f32>) {
    let names = vocab(blob);
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap_or_else(|| panic!("{n} not in {names:?}"));
    let (species, islands, sexes) =
        (["Adelie", "Gentoo", "Chinstrap"], ["Biscoe", "Dream", "Torgersen"], ["male", "female"]);
    let mut csv = "species,island,sex,body_mass_g,comment\n".to_string();
    let (mut target, mut rows) = (Vec::new(), Vec::new());
    for i in 0..24 {
        let (sp, is, sx) = (species[i % 3], islands[(i / 3) % 3], sexes[i % 2]);
        let mass = 3000.0 + 97.0 * i as f32;
        csv += &format!("{sp},{is},{sx},{mass},\"note, {i}\"\n");
        target.push(mass);
        // The island column follows species in the table, sex follows island.
        rows.extend([pos(sp), pos(is), pos(sx)].map(|r| r as f32));
    }
    (csv, target, rows)
}

#[test]
fn evaluate_an_entity_model_gives_the_mae_of_its_target() {
    let blob = entity().join("entity_embedding.emb");
    let dir = scratch("eval_entity_data");
    let (csv, target, rows) = penguins(&blob);
    let mut csv = csv;
    csv += "Adelie,Dream,male,,no target\n";
    let table = write(&dir, "penguins.csv", &csv);
    let out = succeeds(&["evaluate", s(&blob), "--data", s(&table)]);
    let p = runtime_outputs(&std::fs::read(&blob).unwrap(), &rows);
    let mae = p.iter().zip(&target).map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs()).sum::<f64>() / 24.0;
    assert!((score(&out, "MAE of body_mass_g") - mae).abs() < 1e-3, "MAE {mae}: {out}");
    assert!(out.contains("24 samples") && out.contains("records left out (no body_mass_g): 1"), "{out}");
}

#[test]
fn train_with_test_data_puts_the_scores_into_the_report() {
    let dir = scratch("eval_train_test");
    let data = write(
        &dir,
        "phrases.csv",
        "text,label\nGood work,positive\nWeak,negative\nnice effort,positive\npoor work,negative\n",
    );
    let out = dir.join("run");
    let stdout =
        succeeds(&["train", "bag-of-embeddings", "--out", s(&out), "--epochs", "5", "-q", "--test-data", s(&data)]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Test data") && report.contains("phrases.csv"), "{report}");
    assert!(report.contains("4 samples scored by the host runtime"), "{report}");
    // The same score as `ember evaluate` on the written model.
    let eval = succeeds(&["evaluate", s(&out.join("bag_of_embeddings.emb")), "--data", s(&data)]);
    let test_part = &stdout[stdout.find("test data:").expect("the test scores are printed")..];
    assert_eq!(score(test_part, "accuracy"), score(&eval, "accuracy"), "{stdout}\n{eval}");
    assert!(out.join("test_confusion.png").is_file(), "{:?}", listing(&out));
    assert_no_temp_files(&out);
    // A missing test file is refused before training writes anything.
    let none = dir.join("none");
    fails(
        &["train", "bag-of-embeddings", "--out", s(&none), "-q", "--test-data", s(&dir.join("missing.csv"))],
        &["missing.csv"],
    );
    assert!(listing(&none).is_empty());
}

#[test]
fn evaluate_with_noise_scores_denoising_against_the_clean_data() {
    // An identity "autoencoder": its outputs are its (noisy) inputs.
    let dir = scratch("eval_noise");
    let dense = LayerSpec::Dense { inputs: 4, units: 4, activation: Activation::Linear };
    let w: Vec<f32> = (0..16).map(|i| if i % 5 == 0 { 1.0 } else { 0.0 }).collect();
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(4), range: Some([0.0, 1.0]) };
    let mut m = Model::new("identity", input, vec![dense], vec![w, vec![0.0; 4]]).unwrap();
    m.set_meta("task", "denoise");
    let blob = dir.join("identity.emb");
    std::fs::write(&blob, m.to_blob().unwrap()).unwrap();
    let rows: Vec<Vec<f32>> = (0..50).map(|i| (0..4).map(|j| ((i * 4 + j) % 7) as f32 / 6.0).collect()).collect();
    let data = write(&dir, "clean.csv", &csv_rows(&rows));
    let clean = succeeds(&["evaluate", s(&blob), "--data", s(&data)]);
    assert_eq!(score(&clean, "reconstruction MSE"), 0.0, "{clean}");
    let noisy = succeeds(&["evaluate", s(&blob), "--data", s(&data), "--noise", "salt-pepper:0.3", "--seed", "5"]);
    let (mse, before) = (score(&noisy, "reconstruction MSE"), score(&noisy, "noisy input MSE"));
    assert!(mse > 0.01 && mse == before, "the identity passes the noise through: {noisy}");
    assert!(noisy.contains("salt-and-pepper noise 0.3"), "{noisy}");
    let again = succeeds(&["evaluate", s(&blob), "--data", s(&data), "--noise", "salt-pepper:0.3", "--seed", "5"]);
    assert_eq!(again, noisy, "the same seed gives the same noise");
    fails(&["evaluate", s(&blob), "--data", s(&data), "--noise", "pink:0.3"], &["pink"]);
    let classifier = feature_classifier(&dir);
    fails(&["evaluate", s(&classifier), "--data", s(&data), "--noise", "gaussian:0.1"], &["noise is for autoencoders"]);
}
