//! Integration tests of the embedding data loaders: MATLAB MAT-files,
//! n-gram windows (text, `.mat`, `.npy`, `.npz`) and categorical tables
//! (CSV, JSON).
//!
//! Reference files are written by scipy (`scipy.io.savemat`) and numpy
//! through `$EMBER_PYTHON`, which also prints the values it wrote; small text
//! and table files are written here and their expected contents worked out
//! by hand. Nothing expected comes from the code under test.

use ember_conformance::support;

use std::path::{Path, PathBuf};

use ember_data::text::ngram::{ANIMALS, FOODS, PLACES, WORD_GROUPS};
use ember_data::text::{
    NgramData, TextError, load_ngrams, ngrams_from_mat, ngrams_from_npy, ngrams_from_npz, ngrams_from_str,
    ngrams_from_text, synthetic_corpus,
};
use ember_data::{DataError, MatValue, load_records, load_table, parse_mat, read_mat, synthetic_table, table};
use serde_json::Value;

/// A fresh, empty directory for one test.
fn scratch_dir(name: &str) -> PathBuf {
    support::scratch_dir("data-embed-tests", name)
}

use support::write;

/// Runs a Python script (numpy and scipy available) in `dir` with `args`;
/// returns its standard output parsed as JSON.
fn run_python(dir: &Path, script: &str, args: &[&str]) -> Value {
    serde_json::from_slice(&support::run_python("numpy, scipy.io", dir, script, args)).expect("python prints JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn sizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("size") as usize).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|x| x.as_str().expect("string").to_string()).collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("id") as u32).collect()
}

fn var<'a>(vars: &'a [(String, MatValue)], name: &str) -> &'a MatValue {
    &vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no variable {name}")).1
}

/// Writes `course.mat` (a `data` struct shaped like the course file) and
/// other variables with scipy; prints what it wrote (numeric arrays as
/// dims and column-major values, windows 0-based row by row).
const MAT_SCRIPT: &str = r#"
import json, sys
import numpy as np, scipy.io, scipy.sparse

compress = sys.argv[1] == "1"
words = ["all", "set", "just", "être", "show"]
vocab = np.empty((1, len(words)), dtype=object)
for i, w in enumerate(words):
    vocab[0, i] = w
rng = np.random.default_rng(5)
train = rng.integers(1, len(words) + 1, size=(4, 9)).astype(np.float64)
valid = rng.integers(1, len(words) + 1, size=(4, 3)).astype(np.float64)
test = rng.integers(1, len(words) + 1, size=(4, 2)).astype(np.float64)
data = {"testData": test, "trainData": train, "validData": valid, "vocab": vocab}
cell = np.empty((2, 2), dtype=object)
cell[0, 0] = "ab"; cell[1, 0] = np.arange(3.0); cell[0, 1] = np.array([[7]], dtype=np.int8); cell[1, 1] = ""
numeric = {
    "x": np.arange(6, dtype=np.float64).reshape(2, 3) * 1.5 - 2,
    "s": np.array([[0.25, -1e10]], dtype=np.float32),
    "i8": np.array([[-128, 127]], dtype=np.int8),
    "u8": np.array([[0, 255]], dtype=np.uint8),
    "i16": np.array([[-300], [7]], dtype=np.int16),
    "u16": np.array([[65535]], dtype=np.uint16),
    "i32": np.array([[-2**31, 5]], dtype=np.int32),
    "u32": np.array([[2**32 - 1]], dtype=np.uint32),
    "i64": np.array([[-2**40, 3]], dtype=np.int64),
    "u64": np.array([[2**50]], dtype=np.uint64),
    "b": np.array([[True, False, True]]),
    "cube": np.arange(24, dtype=np.float64).reshape(2, 3, 4),
}
scipy.io.savemat("course.mat", {"data": data}, format="5", do_compression=compress)
everything = dict(numeric)
everything.update({
    "data": data,
    "names": cell,
    "chars": np.array(["abc", "déf"]),
    "z": np.array([[1 + 2j]]),
    "sp": scipy.sparse.csc_matrix(np.eye(3)),
    "people": np.array([[(1.0, "ann"), (2.0, "bob")]], dtype=[("age", "f8"), ("name", "O")]),
})
scipy.io.savemat("all.mat", everything, format="5", do_compression=compress)
# The course layout transposed: one row per 4-gram.
scipy.io.savemat("rows.mat", {"data": dict(data, trainData=train.T, validData=valid.T, testData=test.T)},
                 format="5", do_compression=compress)
bad0 = train.copy(); bad0[2, 5] = 0
scipy.io.savemat("bad0.mat", {"data": dict(data, trainData=bad0)}, format="5", do_compression=compress)
bad6 = valid.copy(); bad6[1, 2] = len(words) + 1
scipy.io.savemat("bad6.mat", {"data": dict(data, validData=bad6)}, format="5", do_compression=compress)
half = np.array([[1.5], [2], [3], [4]])
scipy.io.savemat("half.mat", {"data": dict(data, testData=half)}, format="5", do_compression=compress)
out = {
    "words": words,
    "train": (train.T - 1).astype(int).flatten().tolist(),
    "valid": (valid.T - 1).astype(int).flatten().tolist(),
    "test": (test.T - 1).astype(int).flatten().tolist(),
    "numeric": {k: {"dims": list(v.shape), "data": v.flatten(order="F").astype(np.float64).tolist()}
                for k, v in numeric.items()},
}
print(json.dumps(out))
"#;

fn check_mat_files(compress: bool) {
    let dir = scratch_dir(if compress { "mat-z" } else { "mat" });
    let want = run_python(&dir, MAT_SCRIPT, &[if compress { "1" } else { "0" }]);

    // Every numeric class, as scipy wrote it.
    let vars = read_mat(&dir.join("all.mat")).expect("reads all.mat");
    for (name, w) in want["numeric"].as_object().expect("object") {
        let MatValue::Numeric { dims, data } = var(&vars, name) else { panic!("{name} is not numeric") };
        assert_eq!(dims, &sizes(&w["dims"]), "dims of {name}");
        assert_eq!(data, &floats(&w["data"]), "values of {name}");
    }
    // A char matrix: one string per row.
    assert_eq!(var(&vars, "chars"), &MatValue::Char { dims: vec![2, 3], text: vec!["abc".into(), "déf".into()] });
    // A 2x2 cell, column-major: (0,0) "ab", (1,0) [0 1 2], (0,1) int8 7, (1,1) "".
    let MatValue::Cell { dims, items } = var(&vars, "names") else { panic!("names is not a cell") };
    assert_eq!(dims, &[2, 2]);
    assert_eq!(items[0].as_text().as_deref(), Some("ab"));
    assert_eq!(items[1], MatValue::Numeric { dims: vec![1, 3], data: vec![0.0, 1.0, 2.0] });
    assert_eq!(items[2], MatValue::Numeric { dims: vec![1, 1], data: vec![7.0] });
    assert_eq!(items[3].as_text().as_deref(), Some(""));
    // A 1x2 struct array: fields in order, one value per element.
    let MatValue::Struct { dims, fields } = var(&vars, "people") else { panic!("people is not a struct") };
    assert_eq!(dims, &[1, 2]);
    assert_eq!(fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["age", "name"]);
    assert_eq!(fields[0].1, [1.0, 2.0].map(|v| MatValue::Numeric { dims: vec![1, 1], data: vec![v] }));
    assert_eq!(fields[1].1.iter().map(|v| v.as_text().unwrap_or_default()).collect::<Vec<_>>(), ["ann", "bob"]);
    // Unsupported arrays are named, and do not stop the other variables.
    assert_eq!(var(&vars, "z").kind(), "complex double");
    assert_eq!(var(&vars, "sp").kind(), "sparse");
    // The course-shaped struct.
    let data = var(&vars, "data");
    assert_eq!(data.dims(), &[1, 1]);
    let vocab = data.field("vocab").expect("vocab field");
    let MatValue::Cell { dims, items } = vocab else { panic!("vocab is not a cell") };
    assert_eq!(dims, &[1, 5]);
    let texts: Vec<String> = items.iter().map(|i| i.as_text().expect("char")).collect();
    assert_eq!(texts, strings(&want["words"]));

    // As n-grams: 0-based windows, one per column.
    let expect = NgramData {
        words: strings(&want["words"]),
        train: ids(&want["train"]),
        valid: ids(&want["valid"]),
        test: ids(&want["test"]),
        n: 4,
    };
    assert_eq!(ngrams_from_mat(&dir.join("course.mat"), 4).expect("course.mat"), expect);
    assert_eq!(ngrams_from_mat(&dir.join("course.mat"), 0).expect("n from the file"), expect);
    assert_eq!(load_ngrams(&dir.join("course.mat"), 10, 4).expect("dispatch"), expect);
    assert_eq!(ngrams_from_mat(&dir.join("rows.mat"), 4).expect("transposed"), expect);

    // Bad ids.
    let e = ngrams_from_mat(&dir.join("bad0.mat"), 4).unwrap_err().to_string();
    assert!(e.contains("bad0.mat") && e.contains("trainData, n-gram 6: id 0 is not in 1..=5"), "{e}");
    let e = ngrams_from_mat(&dir.join("bad6.mat"), 4).unwrap_err().to_string();
    assert!(e.contains("bad6.mat") && e.contains("validData, n-gram 3: id 6 is not in 1..=5"), "{e}");
    let e = ngrams_from_mat(&dir.join("half.mat"), 4).unwrap_err().to_string();
    assert!(e.contains("testData, n-gram 1: id 1.5"), "{e}");
    let e = ngrams_from_mat(&dir.join("course.mat"), 3).unwrap_err().to_string();
    assert!(e.contains("trainData: shape [4, 9] is neither [3, N]"), "{e}");

    // Corruptions of a scipy file.
    let bytes = std::fs::read(dir.join("course.mat")).expect("read");
    let bad = dir.join("bad.mat");
    let mat_error = |b: &[u8]| -> String {
        write(&bad, b);
        let e = read_mat(&bad).unwrap_err();
        assert!(matches!(e, DataError::Mat { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("bad.mat: invalid MAT-file"), "{text}");
        text
    };
    let e = mat_error(&bytes[..bytes.len() / 2]);
    assert!(e.contains("truncated"), "{e}");
    let e = mat_error(&bytes[..100]);
    assert!(e.contains("shorter than the 128-byte header"), "{e}");
    let mut magic = bytes.clone();
    magic[126..128].copy_from_slice(b"XY");
    let e = mat_error(&magic);
    assert!(e.contains("endian indicator"), "{e}");
    let mut version = bytes.clone();
    version[124..126].copy_from_slice(&0x0200u16.to_le_bytes());
    let e = mat_error(&version);
    assert!(e.contains("v7.3"), "{e}");
    let mut version = bytes.clone();
    version[124..126].copy_from_slice(&0x0300u16.to_le_bytes());
    let e = mat_error(&version);
    assert!(e.contains("unsupported MAT-file version 0x0300"), "{e}");
    if compress {
        // The zlib stream of the first element starts at byte 136; its deflate
        // data (after the 2-byte zlib header) becomes an invalid block type.
        let mut z = bytes.clone();
        z[138..160].fill(0xff);
        let e = mat_error(&z);
        assert!(e.contains("bad zlib stream"), "{e}");
    }
    // No byte string makes the reader panic: every cut, and a sweep of corruptions.
    for cut in (0..bytes.len()).step_by(7) {
        let _ = parse_mat(Path::new("cut.mat"), &bytes[..cut]);
    }
    for i in (128..bytes.len()).step_by(3) {
        for v in [0x00, 0xff, 0x80] {
            let mut c = bytes.clone();
            c[i] = v;
            let _ = parse_mat(Path::new("flip.mat"), &c);
        }
    }
}

#[test]
fn mat_files_from_scipy_uncompressed() {
    check_mat_files(false);
}

#[test]
fn mat_files_from_scipy_compressed() {
    check_mat_files(true);
}

/// A big-endian file built here byte by byte (scipy writes native order only).
#[test]
fn big_endian_mat_file() {
    fn el(ty: u32, data: &[u8]) -> Vec<u8> {
        let mut v = ty.to_be_bytes().to_vec();
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v.resize(v.len().div_ceil(8) * 8, 0);
        v
    }
    let mut f = b"MATLAB 5.0 MAT-file, big-endian test".to_vec();
    f.resize(124, b' ');
    f.extend_from_slice(&0x0100u16.to_be_bytes());
    f.extend_from_slice(b"MI");
    let mut body = el(6, &[0, 0, 0, 6, 0, 0, 0, 0]); // miUINT32 flags: class mxDOUBLE
    body.extend(el(5, &[0, 0, 0, 2, 0, 0, 0, 1])); // miINT32 dims [2, 1]
    // The name as a small element: miINT8, 1 byte.
    body.extend_from_slice(&[0, 1, 0, 1, b'v', 0, 0, 0]);
    body.extend(el(9, &[1.5f64.to_be_bytes(), (-2.0f64).to_be_bytes()].concat())); // miDOUBLE
    f.extend(el(14, &body));
    let vars = parse_mat(Path::new("be.mat"), &f).expect("big-endian file");
    assert_eq!(vars, vec![("v".to_string(), MatValue::Numeric { dims: vec![2, 1], data: vec![1.5, -2.0] })]);
}

#[test]
fn ngrams_from_npy_and_npz() {
    let dir = scratch_dir("npz");
    let want = run_python(
        &dir,
        r#"
import json
import numpy as np
train = np.array([[0, 1, 2], [3, 4, 0], [2, 2, 1], [4, 3, 2]], dtype=np.int64)
valid = np.array([[1, 0, 3]], dtype=np.int32)
test = np.array([[2.0, 3.0, 4.0], [0.0, 0.0, 1.0]])
vocab = np.array(["the", "çat", "a", "dog", "x"])
np.save("train.npy", train)
np.save("floats.npy", np.array([[0, 1.5, 2], [1, 2, 3]]))
np.save("neg.npy", np.array([[0, -1, 2]]))
np.save("flat.npy", np.arange(6))
np.savez("plain.npz", train=train, valid=valid, test=test, vocab=vocab)
np.savez_compressed("course.npz", trainData=train, validData=valid, testData=test, vocab=np.char.encode(vocab, "utf-8"))
np.savez("novocab.npz", train=train, test=test)
np.savez("short.npz", train=train, vocab=vocab[:4])
np.savez("objvocab.npz", train=train, vocab=np.array(list(vocab), dtype=object))
print(json.dumps({"vocab_dtype": str(vocab.dtype), "train": train.flatten().tolist(),
                  "valid": valid.flatten().tolist(), "test": test.astype(int).flatten().tolist(),
                  "words": vocab.tolist()}))
"#,
        &[],
    );
    assert_eq!(want["vocab_dtype"], "<U3");
    let (train, valid, test, words) =
        (ids(&want["train"]), ids(&want["valid"]), ids(&want["test"]), strings(&want["words"]));

    let d = ngrams_from_npy(&dir.join("train.npy"), 3).expect("train.npy");
    let numbered: Vec<String> = (0..5).map(|i| i.to_string()).collect();
    assert_eq!(d, NgramData { words: numbered.clone(), train: train.clone(), valid: vec![], test: vec![], n: 3 });
    assert_eq!(load_ngrams(&dir.join("train.npy"), 0, 0).expect("n from the file"), d);

    let full = NgramData { words: words.clone(), train: train.clone(), valid: valid.clone(), test: test.clone(), n: 3 };
    assert_eq!(ngrams_from_npz(&dir.join("plain.npz"), 3).expect("plain.npz"), full);
    assert_eq!(load_ngrams(&dir.join("course.npz"), 0, 0).expect("course.npz (bytes vocab)"), full);
    let d = ngrams_from_npz(&dir.join("novocab.npz"), 3).expect("novocab.npz");
    assert_eq!(d, NgramData { words: numbered, train: train.clone(), valid: vec![], test: test.clone(), n: 3 });

    let err = |r: Result<NgramData, TextError>| r.unwrap_err().to_string();
    let e = err(ngrams_from_npy(&dir.join("floats.npy"), 3));
    assert!(e.contains("floats.npy") && e.contains("n-gram 1: value 1.5 is not an id"), "{e}");
    let e = err(ngrams_from_npy(&dir.join("neg.npy"), 3));
    assert!(e.contains("value -1 is not an id"), "{e}");
    let e = err(ngrams_from_npy(&dir.join("flat.npy"), 3));
    assert!(e.contains("shape [6]; expected [N, n]"), "{e}");
    let e = err(ngrams_from_npy(&dir.join("train.npy"), 4));
    assert!(e.contains("windows of 3 ids, not 4"), "{e}");
    let e = err(ngrams_from_npz(&dir.join("short.npz"), 3));
    assert!(e.contains("short.npz") && e.contains("train, n-gram 2: id 4 is not below the vocabulary size 4"), "{e}");
    let e = err(ngrams_from_npz(&dir.join("objvocab.npz"), 3));
    assert!(e.contains("objvocab.npz:vocab.npy") && e.contains("not a string array"), "{e}");
    let e = err(ngrams_from_npz(&dir.join("train.npy"), 3));
    assert!(e.contains("train.npy: not a readable .npz"), "{e}");
}

/// `The cat sat on the mat. / The dog sat on the log! / (blank) / A cat, a dog.`
///
/// Counts: the 4, cat 2, sat 2, on 2, dog 2, a 2, mat 1, log 1; ties by
/// first appearance (the, cat, sat, on, mat, dog, log, a), so the 5 most
/// frequent are the=0 cat=1 sat=2 on=3 dog=4. Windows of 3 within lines,
/// those with mat, log or a dropped.
const TINY: &str = "The cat sat on the mat.\nThe dog sat on the log!\n\nA cat, a dog.\n";
const TINY_WORDS: [&str; 5] = ["the", "cat", "sat", "on", "dog"];
const TINY_WINDOWS: [u32; 18] = [0, 1, 2, 1, 2, 3, 2, 3, 0, 0, 4, 2, 4, 2, 3, 2, 3, 0];

#[test]
fn ngrams_from_a_tiny_text() {
    let dir = scratch_dir("text");
    let file = dir.join("tiny.txt");
    write(&file, TINY);
    let expect = NgramData {
        words: TINY_WORDS.map(String::from).to_vec(),
        train: TINY_WINDOWS.to_vec(),
        valid: vec![],
        test: vec![],
        n: 3,
    };
    assert_eq!(ngrams_from_text(&file, 5, 3).expect("tiny.txt"), expect);
    assert_eq!(load_ngrams(&file, 5, 3).expect("dispatch"), expect);
    assert_eq!(ngrams_from_str(TINY, 5, 3).expect("in memory"), expect);
    // n = 2 with every word: pairs within lines.
    let d = ngrams_from_str("a b c\nd a", 10, 2).expect("pairs");
    assert_eq!(d.words, ["a", "b", "c", "d"]);
    assert_eq!(d.train, [0, 1, 1, 2, 3, 0]);
    assert_eq!(d.windows(&d.train).count(), 3);
    assert_eq!(d.vocab_bytes(), b"a\nb\nc\nd");

    // A folder: its .txt files in name order (the second line first), other files ignored.
    let folder = dir.join("corpus");
    write(&folder.join("b.txt"), "The cat sat on the mat.\n");
    write(&folder.join("a.txt"), "The dog sat on the log!\n\nA cat, a dog.\n");
    write(&folder.join("notes.md"), "cat cat cat cat cat cat");
    let d = load_ngrams(&folder, 5, 3).expect("folder");
    // Same counts; first appearances now the, dog, sat, on, log, a, cat, mat.
    assert_eq!(d.words, ["the", "dog", "sat", "on", "a"]);
    // a.txt: the dog sat / dog sat on / sat on the; "a cat a dog" has no window without cat;
    // b.txt: only "sat on the" (cat and mat are out).
    assert_eq!(d.train, [0, 1, 2, 1, 2, 3, 2, 3, 0, 2, 3, 0]);

    let err = |r: Result<NgramData, TextError>| r.unwrap_err().to_string();
    let empty = dir.join("empty.txt");
    write(&empty, " ... !\n\n");
    let e = err(ngrams_from_text(&empty, 5, 3));
    assert!(e.contains("empty.txt") && e.contains("holds no word"), "{e}");
    let e = err(ngrams_from_str("one two\nthree four", 5, 3));
    assert!(e.contains("no window"), "{e}");
    let e = err(ngrams_from_str(TINY, 5, 1));
    assert!(e.contains("at least 2 words"), "{e}");
    let e = err(ngrams_from_str(TINY, 0, 3));
    assert!(e.contains("vocabulary size 0"), "{e}");
    let bin = dir.join("bin.txt");
    write(&bin, b"fine line\nbad \xff byte\n");
    let e = err(ngrams_from_text(&bin, 5, 2));
    assert!(e.contains("bin.txt, line 2: not valid UTF-8"), "{e}");
    let e = err(ngrams_from_text(&dir.join("missing.txt"), 5, 2));
    assert!(e.contains("missing.txt"), "{e}");
    let nofiles = dir.join("nofiles");
    std::fs::create_dir_all(&nofiles).expect("mkdir");
    let e = err(load_ngrams(&nofiles, 5, 2));
    assert!(e.contains("no .txt file"), "{e}");
}

#[test]
fn synthetic_corpus_plants_interchangeable_groups() {
    let text = synthetic_corpus(2000, 11);
    let d = ngrams_from_str(&text, 1000, 4).expect("synthetic corpus");
    // Every group word is in the vocabulary, and the groups do not overlap.
    for g in WORD_GROUPS {
        for w in g {
            assert!(d.words.iter().any(|x| x == w), "{w} missing");
        }
    }
    let all: Vec<&str> = [ANIMALS, FOODS, PLACES].concat();
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len());
    // Interchangeable: the words of one group follow the same contexts. For
    // each group, the set of (two previous words) seen before each of its
    // words is the same for all words of the group (2000 lines cover them).
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    for g in WORD_GROUPS {
        let contexts = |w: &str| {
            let mut c: Vec<(&str, &str)> = lines
                .iter()
                .flat_map(|l| (2..l.len()).filter(move |&i| l[i] == w).map(move |i| (l[i - 2], l[i - 1])))
                .collect();
            c.sort();
            c.dedup();
            c
        };
        let first = contexts(g[0]);
        assert!(!first.is_empty());
        for w in &g[1..] {
            assert_eq!(contexts(w), first, "{w} and {} appear in different contexts", g[0]);
        }
    }
}

/// Hand-written table: 5 records, the 4th without a target.
const CSV: &str = "species, island ,sex,year,body_mass_g\n\
Adelie,Torgersen,male,2007,3750\n\
\"Gentoo\",\"Biscoe, north\",female,2008,\"5000\"\n\
Adelie,Dream,NA,2007,3400\n\
Chinstrap,Dream,,2009,NA\n\
Gentoo,Biscoe,male,2009,5550.5\n";

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The categories and ids of the kept records (1, 2, 3, 5), worked out by hand.
fn check_table(t: &table::CategoryTable, year_2008: &str) {
    assert_eq!(t.target, [3750.0, 5000.0, 3400.0, 5550.5]);
    assert_eq!(t.target_name, "body_mass_g");
    assert_eq!(t.skipped, 1);
    let c = &t.columns;
    assert_eq!(c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["species", "island", "sex", "year"]);
    assert_eq!(c[0].categories, ["Adelie", "Gentoo"]);
    assert_eq!(c[0].ids, [0, 1, 0, 1]);
    assert_eq!(c[1].categories, ["Biscoe", "Biscoe, north", "Dream", "Torgersen"]);
    assert_eq!(c[1].ids, [3, 1, 2, 0]);
    assert_eq!(c[2].categories, ["(missing)", "female", "male"]);
    assert_eq!(c[2].ids, [2, 1, 0, 2]);
    assert_eq!(c[3].categories, ["2007", year_2008, "2009"]);
    assert_eq!(c[3].ids, [0, 1, 0, 2]);
    assert_eq!(t.offsets(), [0, 2, 6, 9, 12]);
    assert_eq!(t.global_ids(1), [1, 3, 7, 10]);
    assert_eq!(c[1].id_of("Dream"), Some(2));
}

#[test]
fn tables_from_csv_and_json() {
    let dir = scratch_dir("table");
    let wanted = cols(&["species", "island", "sex", "year"]);
    let csv = dir.join("penguins.csv");
    write(&csv, CSV);
    check_table(&load_table(&csv, &wanted, "body_mass_g").expect("csv"), "2008");

    let records = dir.join("records.json");
    write(
        &records,
        r#"[
  {"species": "Adelie", "island": "Torgersen", "sex": "male", "year": 2007, "body_mass_g": 3750},
  {"species": "Gentoo", "island": "Biscoe, north", "sex": "female", "year": 2008, "body_mass_g": "5000"},
  {"species": "Adelie", "island": "Dream", "year": 2007, "body_mass_g": 3400.0},
  {"species": "Chinstrap", "island": "Dream", "sex": null, "year": 2009, "body_mass_g": null},
  {"species": "Gentoo", "island": "Biscoe", "sex": "male", "year": 2009, "body_mass_g": 5550.5}
]"#,
    );
    check_table(&load_table(&records, &wanted, "body_mass_g").expect("records"), "2008");

    let columns = dir.join("columns.data");
    write(
        &columns,
        r#"{"species": ["Adelie", "Gentoo", "Adelie", "Chinstrap", "Gentoo"],
  "island": ["Torgersen", "Biscoe, north", "Dream", "Dream", "Biscoe"],
  "sex": ["male", "female", "NaN", "", "male"],
  "year": [2007, 2008.0, 2007, 2009, 2009],
  "body_mass_g": [3750, 5000, 3400, "NA", 5550.5]}"#,
    );
    check_table(&load_table(&columns, &wanted, "body_mass_g").expect("columns (sniffed)"), "2008.0");

    // Errors.
    let err = |p: &Path, c: &[&str], t: &str| load_table(p, &cols(c), t).unwrap_err().to_string();
    let e = err(&csv, &["species", "colour"], "body_mass_g");
    assert!(e.contains("penguins.csv") && e.contains("no column named \"colour\""), "{e}");
    assert!(e.contains("species, island, sex, year, body_mass_g"), "{e}");
    let e = err(&records, &["species"], "weight");
    assert!(e.contains("records.json") && e.contains("no column named \"weight\""), "{e}");
    assert!(e.contains("available: ") && e.contains("body_mass_g"), "{e}");
    let e = err(&columns, &["colour"], "body_mass_g");
    assert!(e.contains("no column named \"colour\""), "{e}");
    let bad = dir.join("bad.csv");
    write(&bad, "species,mass\nAdelie,3000\nGentoo,heavy\n");
    let e = err(&bad, &["species"], "mass");
    assert!(e.contains("bad.csv: line 3, column 2") && e.contains("\"heavy\" is not a number"), "{e}");
    write(&bad, "species,mass\nAdelie,1e999\n");
    let e = err(&bad, &["species"], "mass");
    assert!(e.contains("line 2") && e.contains("infinite"), "{e}");
    write(&bad, "species,mass\nAdelie,3000,4\n");
    let e = err(&bad, &["species"], "mass");
    assert!(e.contains("line 2") && e.contains("expected 2 fields"), "{e}");
    write(&bad, "species,mass\nAdelie,NA\n");
    let e = err(&bad, &["species"], "mass");
    assert!(e.contains("none of the 1 records has a value"), "{e}");
    write(&bad, "species,mass\n");
    let e = err(&bad, &["species"], "mass");
    assert!(e.contains("bad.csv") && e.contains("empty"), "{e}");
    let badj = dir.join("bad.json");
    write(&badj, r#"[{"species": "Adelie", "mass": 3000}, {"species": "Gentoo", "mass": true}]"#);
    let e = err(&badj, &["species"], "mass");
    assert!(e.contains("bad.json: record 2, column \"mass\"") && e.contains("not a number"), "{e}");
    write(&badj, r#"[{"species": ["a"], "mass": 3000}]"#);
    let e = err(&badj, &["species"], "mass");
    assert!(e.contains("record 1, column \"species\""), "{e}");
    write(&badj, r#"{"species": ["a", "b"], "mass": [1]}"#);
    let e = err(&badj, &["species"], "mass");
    assert!(e.contains("has 2 values but the target \"mass\" has 1"), "{e}");
    write(&badj, "[{\"species\": ");
    let e = err(&badj, &["species"], "mass");
    assert!(e.contains("invalid JSON"), "{e}");
    let e = err(&csv, &["species", "species"], "body_mass_g");
    assert!(e.contains("given twice"), "{e}");
    let e = err(&csv, &["body_mass_g"], "body_mass_g");
    assert!(e.contains("is the target"), "{e}");
    let e = err(&csv, &[], "body_mass_g");
    assert!(e.contains("no categorical column"), "{e}");
}

#[test]
fn records_keep_every_row_with_its_place_and_need_no_target() {
    let dir = scratch_dir("records");
    let csv = dir.join("rows.csv");
    write(&csv, "island,mass,species\nDream,3000,Adelie\n\"Biscoe, north\",NA,Gentoo\nNA,4000,Adelie\n");
    let r = load_records(&csv, &cols(&["species", "island"]), Some("mass")).expect("csv");
    assert_eq!(r.columns, ["species", "island"]);
    assert_eq!(r.cells, [vec!["Adelie", "Gentoo", "Adelie"], vec!["Dream", "Biscoe, north", table::MISSING]]);
    assert_eq!(r.target, [Some(3000.0), None, Some(4000.0)]);
    assert_eq!(r.rows, ["line 2", "line 3", "line 4"]);
    // Without a target: a file that has none.
    let no_target = dir.join("no_target.csv");
    write(&no_target, "species,island\nGentoo,Biscoe\n");
    let r = load_records(&no_target, &cols(&["island"]), None).expect("no target");
    assert_eq!((r.cells, r.target, r.rows), (vec![vec!["Biscoe".to_string()]], vec![], vec!["line 2".to_string()]));
    let records = dir.join("records.json");
    write(&records, r#"[{"species": "Adelie"}, {"species": null, "mass": 3}]"#);
    let r = load_records(&records, &cols(&["species"]), None).expect("records");
    assert_eq!(
        (r.cells[0].clone(), r.rows),
        (vec!["Adelie".to_string(), table::MISSING.into()], vec!["record 1".to_string(), "record 2".into()])
    );
    let columns = dir.join("columns.json");
    write(&columns, r#"{"species": ["Adelie", "Gentoo"], "island": ["Dream", "Biscoe"]}"#);
    let r = load_records(&columns, &cols(&["island", "species"]), None).expect("columns");
    assert_eq!(r.rows, ["row 1", "row 2"]);
    assert_eq!(r.cells[1], ["Adelie", "Gentoo"]);
    write(&columns, r#"{"species": ["Adelie", "Gentoo"], "island": ["Dream"]}"#);
    let e = load_records(&columns, &cols(&["species", "island"]), None).unwrap_err().to_string();
    assert!(e.contains("column \"island\" has 1 values but column \"species\" has 2"), "{e}");
    let e = load_records(&csv, &cols(&["colour"]), None).unwrap_err().to_string();
    assert!(e.contains("no column named \"colour\""), "{e}");
    write(&no_target, "species,island\n");
    let e = load_records(&no_target, &cols(&["island"]), None).unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
}

#[test]
fn synthetic_table_has_planted_effects() {
    let t = synthetic_table(3000, 21);
    assert_eq!(t, synthetic_table(3000, 21));
    assert_eq!(t.target_name, "body_mass_g");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["species", "island", "sex"]);
    assert_eq!(t.columns[0].categories, table::SPECIES);
    let mean_where = |col: usize, value: &str| {
        let id = t.columns[col].id_of(value).expect("category present");
        let v: Vec<f64> =
            (0..t.len()).filter(|&r| t.columns[col].ids[r] == id).map(|r| f64::from(t.target[r])).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let [a, b] = table::SIMILAR_SPECIES.map(|s| mean_where(0, s));
    let heavy = mean_where(0, table::HEAVY_SPECIES);
    assert!((a - b).abs() < 150.0 && heavy - a.max(b) > 1000.0, "{a} {b} {heavy}");
    assert!(mean_where(2, "male") - mean_where(2, "female") > 450.0);
    assert!(t.columns[2].categories.contains(&table::MISSING.to_string()));
    assert!(mean_where(1, "Biscoe") > mean_where(1, "Dream") + 500.0);
    assert!(t.target.iter().all(|&v| (2700.0..=6300.0).contains(&v) && v % 25.0 == 0.0));
}
