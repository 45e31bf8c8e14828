//! `ember` on the embedding presets: `ngram-embedding` on the generated
//! corpus (whose planted groups of interchangeable words the learned
//! neighbours must recover) and on a text file, `entity-embedding` on the
//! generated penguins table and on CSV and JSON tables; every model
//! verified on every backend; the query commands (`similar`, `analogy`,
//! `next`, `dims`, `nearest`, `project`); bad input (a word or category
//! the model does not know, a corrupt `.mat`, a non-numeric target) giving
//! a clear message, a non-zero exit and no partial file.

use std::path::Path;
use std::sync::OnceLock;

use ember_data::text::ngram::WORD_GROUPS;

use super::{fails, listing, s, scratch, succeeds};

/// The `ngram-embedding` preset trained once on the generated corpus.
fn ngram_trained() -> &'static Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("ngram_trained");
        succeeds(&["train", "ngram-embedding", "--out", s(&dir), "--epochs", "8", "-q"]);
        dir
    })
}

/// The `entity-embedding` preset trained once on the generated table.
fn entity_trained() -> &'static Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("entity_trained");
        let out = succeeds(&["train", "entity-embedding", "--out", s(&dir), "--epochs", "60", "-q"]);
        std::fs::write(dir.join("stdout.txt"), out).unwrap();
        dir
    })
}

/// The model in a blob.
fn model(path: &Path) -> ember_export::Model {
    ember_export::Model::from_blob(&std::fs::read(path).unwrap()).unwrap()
}

/// The words of `similar`'s output, in order.
fn listed_words(out: &str) -> Vec<String> {
    out.lines().filter_map(|l| l.split_whitespace().nth(1)).map(str::to_string).collect()
}

#[test]
fn ngram_embedding_neighbours_recover_the_planted_groups() {
    let dir = ngram_trained();
    for f in ["ngram_embedding.emb", "ngram_embedding.onnx", "embeddings.png", "loss.png", "accuracy.png", "report.md"]
    {
        assert!(dir.join(f).is_file(), "{f} missing from {:?}", listing(dir));
    }
    let model = dir.join("ngram_embedding.emb");
    // Each group has 6 words: the 5 nearest neighbours of each word should
    // be mostly the other 5 of its group (chance would give about 1 in 6).
    let mut hits = 0;
    let mut total = 0;
    for group in WORD_GROUPS {
        for word in group {
            let near = listed_words(&succeeds(&["similar", s(&model), word, "-k", "5"]));
            assert_eq!(near.len(), 5, "{word}: {near:?}");
            assert!(!near.iter().any(|w| w == word), "{word} is listed as its own neighbour");
            hits += near.iter().filter(|w| group.contains(&w.as_str())).count();
            total += 5;
        }
    }
    assert!(hits * 10 >= total * 8, "only {hits} of {total} nearest neighbours are in the word's planted group");
    succeeds(&["verify", s(dir)]);
}

#[test]
fn ngram_queries_answer_in_words_and_reject_unknown_ones() {
    let model = ngram_trained().join("ngram_embedding.emb");
    let m = s(&model);
    // "the cat eats" is followed by "the" in the corpus's first template.
    let next = succeeds(&["next", m, "the", "cat", "eats", "-k", "3"]);
    assert_eq!(listed_words(&next).first().map(String::as_str), Some("the"), "{next}");
    let analogy = listed_words(&succeeds(&["analogy", m, "cat", "dog", "bread", "-k", "3"]));
    assert_eq!(analogy.len(), 3);
    assert!(!analogy.iter().any(|w| ["cat", "dog", "bread"].contains(&w.as_str())), "{analogy:?}");
    fails(&["similar", m, "zebra"], &["\"zebra\" is not a known word"]);
    fails(&["next", m, "the", "cat"], &["takes 3 context words"]);
    fails(&["next", m, "the", "zebra", "eats"], &["\"zebra\""]);
    fails(&["nearest", m, "species", "Adelie"], &["not an entity-embedding model"]);
    fails(&["similar", m, "cat", "-k", "0"], &["k must be"]);
}

#[test]
fn ngram_embedding_trains_on_a_text_file_and_refuses_corrupt_data() {
    let dir = scratch("ngram_text");
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, ember_data::text::synthetic_corpus(600, 3)).unwrap();
    let out = dir.join("out");
    succeeds(&["train", "ngram-embedding", "--data", s(&corpus), "--out", s(&out), "--epochs", "2", "-q"]);
    let m = ember_train::embed::row_names(&model(&out.join("ngram_embedding.emb"))).unwrap();
    assert!(m.iter().any(|w| w == "cat") && m.len() < 250, "vocabulary {m:?}");

    let bad = dir.join("data.mat");
    let mut bytes = b"MATLAB 5.0 MAT-file, written by a test".to_vec();
    bytes.resize(116, b' ');
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&[0x00, 0x01, b'I', b'M']);
    bytes.extend_from_slice(&[15, 0, 0, 0, 200, 0, 0, 0, 1, 2, 3]); // a compressed element, cut short
    std::fs::write(&bad, &bytes).unwrap();
    let out2 = dir.join("out2");
    fails(&["train", "ngram-embedding", "--data", s(&bad), "--out", s(&out2), "-q"], &["data.mat"]);
    assert!(listing(&out2).is_empty(), "files left after a failed run: {:?}", listing(&out2));
}

#[test]
fn entity_embedding_beats_its_baselines_and_verifies() {
    let dir = entity_trained();
    for f in ["entity_embedding.emb", "entity_embedding.onnx", "embeddings.png", "loss.png", "report.md"] {
        assert!(dir.join(f).is_file(), "{f} missing from {:?}", listing(dir));
    }
    let out = std::fs::read_to_string(dir.join("stdout.txt")).unwrap();
    let number = |key: &str| -> f64 {
        let line = out.lines().find(|l| l.contains(key)).unwrap_or_else(|| panic!("no {key:?} in {out}"));
        let v = line.rsplit(": ").next().unwrap().split_whitespace().next().unwrap();
        v.parse().unwrap_or_else(|_| panic!("{line}"))
    };
    let model_mae = number("test MAE");
    let mean_mae = number("the training mean");
    let column_mae = number("best column");
    assert!(model_mae < mean_mae * 0.8, "test MAE {model_mae} vs training-mean baseline {mean_mae}\n{out}");
    assert!(model_mae < column_mae * 1.05, "test MAE {model_mae} vs best-column baseline {column_mae}\n{out}");
    succeeds(&["verify", s(dir)]);
}

#[test]
fn entity_queries_inspect_dimensions_and_neighbours() {
    let dir = entity_trained();
    let model = dir.join("entity_embedding.emb");
    let m = s(&model);
    let dims = succeeds(&["dims", m, "species", "-n", "1"]);
    assert_eq!(dims.lines().filter(|l| l.starts_with("dim ")).count(), 10, "{dims}");
    // The planted pair: Adelie and Chinstrap have the same mass, Gentoo is heavier.
    let [a, b] = ember_data::table::SIMILAR_SPECIES;
    let species = listed_words(&succeeds(&["nearest", m, "species", a, "-k", "2"]));
    assert_eq!(species.first().map(String::as_str), Some(b), "{species:?}");
    let near = succeeds(&["nearest", m, "island", "Biscoe", "-k", "2"]);
    assert_eq!(near.lines().count(), 2, "{near}");
    assert!(!near.contains("Biscoe"), "{near}");
    let composite = succeeds(&["nearest", m, "species", "Adelie", "--add", "island=Dream", "-k", "2"]);
    assert!(!composite.contains("Adelie"), "{composite}");
    let png = dir.join("species.png");
    succeeds(&["project", m, "--column", "species", "--out", s(&png)]);
    assert!(png.is_file());
    fails(&["nearest", m, "species", "Emperor"], &["\"Emperor\" is not a known species value"]);
    fails(&["nearest", m, "colour", "red"], &["no column \"colour\"", "species"]);
    fails(&["dims", m, "colour"], &["no column \"colour\""]);
    fails(&["similar", m, "Adelie"], &["not a word-embedding model"]);
}

#[test]
fn entity_embedding_reads_csv_and_json_tables() {
    let dir = scratch("entity_tables");
    let mut csv = String::from("shop,day,price\n");
    let mut records = Vec::new();
    for i in 0..120 {
        let shop = ["north", "south", "east"][i % 3];
        let day = ["mon", "sat", ""][(i / 3) % 3];
        let price = 1000.0 + 500.0 * (i % 3) as f64 + if day == "sat" { 300.0 } else { 0.0 };
        csv.push_str(&format!("{shop},{day},{price}\n"));
        records.push(format!(
            "{{\"shop\": \"{shop}\", \"day\": {}, \"price\": {price}}}",
            if day.is_empty() { "null".to_string() } else { format!("\"{day}\"") }
        ));
    }
    let csv_path = dir.join("sales.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let json_path = dir.join("sales.json");
    std::fs::write(&json_path, format!("[{}]", records.join(",\n"))).unwrap();
    for (data, name) in [(&csv_path, "csv"), (&json_path, "json")] {
        let out = dir.join(name);
        let args = ["train", "entity-embedding", "--data", s(data), "--columns", "shop,day", "--target", "price"];
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--out", s(&out), "--epochs", "5", "-q"]);
        let printed = succeeds(&args);
        assert!(printed.contains("test MAE of price"), "{printed}");
        let model_path = out.join("entity_embedding.emb");
        let cats = ember_train::embed::row_names(&model(&model_path)).unwrap();
        assert_eq!(cats, ["east", "north", "south", "(missing)", "mon", "sat"], "{name}");
        succeeds(&["verify", s(&out)]);
    }
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "shop,day,price\nnorth,mon,12\nsouth,sat,cheap\n").unwrap();
    let out = dir.join("bad_out");
    let args = ["train", "entity-embedding", "--data", s(&bad), "--columns", "shop,day", "--target", "price"];
    let mut args: Vec<&str> = args.to_vec();
    args.extend(["--out", s(&out), "-q"]);
    fails(&args, &["price", "cheap"]);
    assert!(listing(&out).is_empty(), "files left after a failed run: {:?}", listing(&out));
    let args2 = ["train", "entity-embedding", "--data", s(&csv_path), "--columns", "shop,weather", "--target", "price"];
    let mut args2: Vec<&str> = args2.to_vec();
    args2.extend(["--out", s(&out), "-q"]);
    fails(&args2, &["weather"]);
}

#[test]
fn entity_embedding_trains_targets_of_any_scale() {
    let dir = scratch("entity_scales");
    let t = ember_data::synthetic_table(344, 11);
    let mut ratios = Vec::new();
    // The same masses in tonnes and in milligrams: the standardised
    // training must not care, and predictions come out in the file's units.
    for (unit, factor) in [("tonnes", 1e-6f64), ("milligrams", 1e3)] {
        let mut csv = String::from("species,island,sex,mass\n");
        for r in 0..t.len() {
            let cat = |k: usize| t.columns[k].categories[t.columns[k].ids[r] as usize].clone();
            let sex = if cat(2) == "(missing)" { String::new() } else { cat(2) };
            csv.push_str(&format!("{},{},{sex},{}\n", cat(0), cat(1), t.target[r] as f64 * factor));
        }
        let data = dir.join(format!("{unit}.csv"));
        std::fs::write(&data, csv).unwrap();
        let out = dir.join(unit);
        let printed = succeeds(&[
            "train",
            "entity-embedding",
            "--data",
            s(&data),
            "--columns",
            "species,island,sex",
            "--target",
            "mass",
            "--out",
            s(&out),
            "--epochs",
            "60",
            "-q",
        ]);
        let value = |key: &str| -> f64 {
            let line = printed.lines().find(|l| l.contains(key)).unwrap_or_else(|| panic!("no {key:?} in {printed}"));
            line.rsplit(": ").next().unwrap().split_whitespace().next().unwrap().parse().unwrap()
        };
        let (model, mean) = (value("test MAE"), value("the training mean"));
        // Body masses vary by ~800 g around ~4200 g: a test MAE near 200 g.
        let grams = model / factor;
        assert!((100.0..400.0).contains(&grams), "{unit}: test MAE {model} ({grams} g)\n{printed}");
        ratios.push(model / mean);
        let pred =
            ember_verify::run_runtime(&std::fs::read(out.join("entity_embedding.emb")).unwrap(), &[0.0, 3.0, 7.0])
                .unwrap();
        assert!((2000.0..7000.0).contains(&(pred[0] as f64 / factor)), "{unit}: prediction {pred:?}");
    }
    assert!(ratios.iter().all(|r| *r < 0.6), "model MAE over the mean baseline: {ratios:?}");
}
