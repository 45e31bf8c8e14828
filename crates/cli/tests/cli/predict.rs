//! `ember predict`: texts, feature rows, images, word contexts and table
//! rows into CSV and `.npy`, checked against the host runtime run here on
//! inputs built here (hand-computed token ids, the model's own categories);
//! bad input (wrong shape, NaN, an unknown word or category, a corrupt or
//! missing file) giving a clear error, a non-zero exit and no output file.

use std::path::{Path, PathBuf};

use super::evaluate::{csv_rows, entity, feature_classifier, feature_rows, ngram, penguins, score, vocab, write};
use super::{assert_no_temp_files, fails, npy_f32, read_npy_f32, runtime_outputs, s, scratch, succeeds, trained};

/// The cells of a CSV file written by `predict` (no quoted commas in these).
pub(super) fn csv_cells(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
    let header = lines.next().expect("a header");
    (header, lines.collect())
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn predict_feature_rows_gives_classes_names_and_probabilities() {
    let dir = scratch("predict_features");
    let blob = feature_classifier(&dir);
    let (rows, labels) = feature_rows();
    let data = write(&dir, "rows.csv", &csv_rows(&rows));
    let out = dir.join("pred.csv");
    succeeds(&["predict", s(&blob), "--data", s(&data), "--out", s(&out)]);
    let (header, cells) = csv_cells(&out);
    assert_eq!(header, ["sample", "class", "class_name", "p_red", "p_green", "p_blue"]);
    assert_eq!(cells.len(), rows.len());
    let x: Vec<f32> = rows.concat();
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    let names = ["red", "green", "blue"];
    let mut correct = 0;
    for ((r, p), l) in cells.iter().zip(want.chunks(3)).zip(&labels) {
        let k = (0..3).fold(0, |b, j| if p[j] > p[b] { j } else { b });
        assert_eq!(r[column(&header, "class")], k.to_string());
        assert_eq!(r[column(&header, "class_name")], names[k]);
        for j in 0..3 {
            assert_eq!(r[3 + j].parse::<f32>().unwrap().to_bits(), p[j].to_bits(), "probabilities exact");
        }
        correct += usize::from(k as u32 == *l);
    }
    // The accuracy from the predictions file matches `evaluate`'s.
    let mut labelled = String::new();
    for (r, l) in rows.iter().zip(&labels) {
        labelled += &format!("{},{l}\n", r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","));
    }
    let labelled = write(&dir, "labelled.csv", &labelled);
    let eval = succeeds(&["evaluate", s(&blob), "--data", s(&labelled)]);
    assert!((score(&eval, "accuracy") - correct as f64 / rows.len() as f64).abs() < 5e-5, "{eval}");
    // The .npy holds the probabilities.
    let npy = dir.join("pred.npy");
    succeeds(&["predict", s(&blob), "--data", s(&data), "--out", s(&npy)]);
    assert_eq!(read_npy_f32(&npy), (vec![rows.len(), 3], want));
    assert_no_temp_files(&dir);
}

#[test]
fn predict_an_autoencoder_reconstructions_and_codes() {
    let dir = scratch("predict_ae");
    let blob = trained().join("blobs_ae.emb");
    let x: Vec<f32> = (0..5 * 3).map(|i| (i as f32 * 0.77).cos() * 3.0).collect();
    let data = dir.join("x.npy");
    std::fs::write(&data, npy_f32(&[5, 3], &x)).unwrap();
    let (recon, codes) = (dir.join("recon.npy"), dir.join("codes.npy"));
    succeeds(&["predict", s(&blob), "--data", s(&data), "--out", s(&recon)]);
    succeeds(&["predict", s(&blob), "--data", s(&data), "--out", s(&codes), "--codes"]);
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    let (shape, got) = read_npy_f32(&recon);
    assert_eq!((shape, got.clone()), (vec![5, 3], want));
    let enc = runtime_outputs(&std::fs::read(trained().join("blobs_ae_encoder.emb")).unwrap(), &x);
    assert_eq!(read_npy_f32(&codes), (vec![5, 2], enc));
    // MSE recomputed from the written reconstructions equals `evaluate`'s.
    let mse = x.iter().zip(&got).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum::<f64>() / 15.0;
    let eval = succeeds(&["evaluate", s(&blob), "--data", s(&data)]);
    assert!((score(&eval, "reconstruction MSE") - mse).abs() < 1e-6 * mse.max(1.0), "{mse}: {eval}");
    assert_no_temp_files(&dir);
}

/// FNV-1a 32 and the bag-of-embeddings id rule (3 + h % 47).
fn fnv_id(word: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in word.to_lowercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    3 + h % 47
}

#[test]
fn predict_texts_from_lines_and_from_a_csv_column() {
    let dir = scratch("predict_text");
    let model_dir = dir.join("model");
    succeeds(&["train", "bag-of-embeddings", "--out", s(&model_dir), "--epochs", "5", "-q"]);
    let blob = model_dir.join("bag_of_embeddings.emb");
    let texts = ["Good work!", "poor effort", "could have done BETTER"];
    let lines = write(&dir, "texts.txt", &format!("{}\n\n{}\n{}\n", texts[0], texts[1], texts[2]));
    let csv = write(&dir, "texts.csv", &format!("id,review\n1,{}\n2,{}\n3,{}\n", texts[0], texts[1], texts[2]));
    // Ids from the FNV definition, post-padded and truncated to 4.
    let mut x = Vec::new();
    for t in texts {
        let mut ids: Vec<f32> =
            t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| fnv_id(w) as f32).collect();
        ids.resize(4, 0.0);
        x.extend(ids);
    }
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    for (data, extra) in [(&lines, vec![]), (&csv, vec!["--text-column", "review"])] {
        let out = dir.join("pred.csv");
        let mut args = vec!["predict", s(&blob), "--data", s(data), "--out", s(&out)];
        args.extend(extra);
        succeeds(&args);
        let (header, cells) = csv_cells(&out);
        assert_eq!(header, ["sample", "line", "class", "class_name", "p_negative", "p_positive"]);
        for (r, p) in cells.iter().zip(&want) {
            assert_eq!(r[5].parse::<f32>().unwrap().to_bits(), p.to_bits());
            assert_eq!(r[3], if *p >= 0.5 { "positive" } else { "negative" });
        }
        let lines_seen: Vec<&str> = cells.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(lines_seen, if data == &lines { ["1", "3", "4"] } else { ["2", "3", "4"] });
    }
    let empty = write(&dir, "no_words.txt", "fine\n ,.! \n");
    let out = dir.join("bad.csv");
    fails(&["predict", s(&blob), "--data", s(&empty), "--out", s(&out)], &["line 2", "no word"]);
    fails(&["predict", s(&blob), "--data", s(&csv), "--out", s(&out)], &["text", "review"]);
    assert!(!out.exists());
    assert_no_temp_files(&dir);
}

#[test]
fn predict_next_words_and_entity_targets() {
    let dir = scratch("predict_words");
    let blob = ngram().join("ngram_embedding.emb");
    let words = vocab(&blob);
    let lines = write(
        &dir,
        "contexts.txt",
        &format!("{} {} {}\n{} {} {}\n", words[3], words[1], words[4], words[0], words[0], words[9]),
    );
    let (csv, npy) = (dir.join("next.csv"), dir.join("next.npy"));
    succeeds(&["predict", s(&blob), "--data", s(&lines), "--out", s(&csv), "--top-k", "2"]);
    succeeds(&["predict", s(&blob), "--data", s(&lines), "--out", s(&npy)]);
    let x = [3.0, 1.0, 4.0, 0.0, 0.0, 9.0];
    let p = runtime_outputs(&std::fs::read(&blob).unwrap(), &x);
    assert_eq!(read_npy_f32(&npy), (vec![2, words.len()], p.clone()));
    let (header, cells) = csv_cells(&csv);
    assert_eq!(header, ["sample", "line", "context", "next_1", "p_1", "next_2", "p_2"]);
    for (r, row) in cells.iter().zip(p.chunks(words.len())) {
        let best = (0..row.len()).fold(0, |b, j| if row[j] > row[b] { j } else { b });
        assert_eq!(r[3], words[best]);
        assert_eq!(r[4].parse::<f32>().unwrap().to_bits(), row[best].to_bits());
    }
    let unknown = write(&dir, "unknown.txt", &format!("{} qqqnotawordqqq {}\n", words[0], words[1]));
    let out = dir.join("bad.csv");
    fails(&["predict", s(&blob), "--data", s(&unknown), "--out", s(&out)], &["line 1", "qqqnotawordqqq", "vocabulary"]);
    let short = write(&dir, "short.txt", &format!("{} {}\n", words[0], words[1]));
    fails(&["predict", s(&blob), "--data", s(&short), "--out", s(&out)], &["2 words", "3 words of context"]);
    assert!(!out.exists());

    // Entity rows, without a target column; the masses in the .npy.
    let blob = entity().join("entity_embedding.emb");
    let (table, _, rows) = penguins(&blob);
    let no_target: String = table.lines().map(|l| l.split(',').take(3).collect::<Vec<_>>().join(",") + "\n").collect();
    let data = write(&dir, "penguins.csv", &no_target);
    let out = dir.join("mass.npy");
    succeeds(&["predict", s(&blob), "--data", s(&data), "--out", s(&out)]);
    let want = runtime_outputs(&std::fs::read(&blob).unwrap(), &rows);
    assert_eq!(read_npy_f32(&out), (vec![want.len(), 1], want.clone()));
    let out_csv = dir.join("mass.csv");
    succeeds(&["predict", s(&blob), "--data", s(&data), "--out", s(&out_csv)]);
    let (header, cells) = csv_cells(&out_csv);
    assert_eq!(header, ["sample", "row", "species", "island", "sex", "body_mass_g"]);
    assert_eq!(cells[0][1..5], ["line 2", "Adelie", "Biscoe", "male"]);
    assert_eq!(cells[5][5].parse::<f32>().unwrap().to_bits(), want[5].to_bits());
    // An unknown category: an error naming the row and the column, and no file.
    let bad = write(&dir, "atlantis.csv", "species,island,sex\nAdelie,Dream,male\nGentoo,Atlantis,female\n");
    let out = dir.join("bad.npy");
    fails(&["predict", s(&blob), "--data", s(&bad), "--out", s(&out)], &["line 3", "\"island\"", "Atlantis", "Biscoe"]);
    assert!(!out.exists());
    assert_no_temp_files(&dir);
}

#[test]
fn predict_and_evaluate_reject_bad_input_without_leaving_files() {
    let dir = scratch("predict_bad");
    let blob = trained().join("blobs_ae.emb");
    let put = |name: &str, bytes: Vec<u8>| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = put("good.npy", npy_f32(&[2, 3], &[0.5; 6]));
    let mut corrupt = std::fs::read(&blob).unwrap();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0x20;
    let corrupt = put("corrupt.emb", corrupt);
    let cases: Vec<(PathBuf, PathBuf, Vec<&str>)> = vec![
        (blob.clone(), put("wide.npy", npy_f32(&[2, 4], &[0.5; 8])), vec!["4 values per sample", "takes 3"]),
        (blob.clone(), put("wide.csv", b"1,2,3,4\n5,6,7,8\n".to_vec()), vec!["4 values per sample"]),
        (blob.clone(), put("nan.npy", npy_f32(&[2, 3], &[0.5, 0.5, 0.5, 0.5, f32::NAN, 0.5])), vec!["sample 2", "NaN"]),
        (blob.clone(), dir.join("missing.npy"), vec!["missing.npy", "no such file"]),
        (corrupt, good.clone(), vec!["corrupt.emb", "CRC-32"]),
        (dir.join("missing.emb"), good.clone(), vec!["missing.emb"]),
    ];
    for (model, data, needles) in &cases {
        for out in [dir.join("out.npy"), dir.join("out.csv")] {
            fails(&["predict", s(model), "--data", s(data), "--out", s(&out)], needles);
            assert!(!out.exists(), "{} left {}", data.display(), out.display());
        }
        let report = dir.join("report");
        fails(&["evaluate", s(model), "--data", s(data), "--out", s(&report)], needles);
        assert!(!report.exists(), "evaluate wrote a report for bad input");
    }
    fails(&["predict", s(&blob), "--data", s(&good), "--out", s(&dir.join("out.txt"))], &[".csv or .npy"]);
    // A word model's ids out of the vocabulary, as .npy.
    let words = ngram().join("ngram_embedding.emb");
    let ids = put("ids.npy", npy_f32(&[1, 3], &[0.0, 1.0, 1e6]));
    fails(&["predict", s(&words), "--data", s(&ids), "--out", s(&dir.join("w.npy"))], &["sample 1", "1000000"]);
    // A classifier's data without labels cannot be scored.
    let classifier = feature_classifier(&dir);
    let unlabelled = put("unlabelled.npy", npy_f32(&[2, 4], &[0.1; 8]));
    fails(&["evaluate", s(&classifier), "--data", s(&unlabelled)], &["no labels"]);
    assert!(!dir.join("w.npy").exists());
    assert_no_temp_files(&dir);
}
