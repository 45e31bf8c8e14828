//! The Keras IMDB `.npz`: files written by numpy exactly as Keras's is
//! (`np.savez` of object arrays of lists), expected ids from Keras's
//! `imdb.load_data` and `pad_sequences` re-implemented in the Python script.

use std::path::Path;

use ember_data::text::{ImdbOptions, TextData, TextError, keras_imdb_spec, load_imdb_npz, load_imdb_word_index};
use ember_runtime::spec::{Side, TokenizerKind};
use serde_json::Value;

use super::{assert_device_agrees, rows, run_python, scratch_dir, spec, write};

/// Writes the fixtures into argv[1] and prints the expected results as JSON.
const SCRIPT: &str = r#"
import io, json, pickle, sys, zipfile
import numpy as np

out = sys.argv[1]
rs = np.random.RandomState(7)

def object_array(lists):
    a = np.empty(len(lists), dtype=object)
    for i, l in enumerate(lists):
        a[i] = l
    return a

def random_lists(n):
    lists = []
    for _ in range(n):
        length = int(rs.randint(0, 14))
        lists.append([int(v) for v in rs.randint(1, 70, size=length)])
    return lists

train = random_lists(37)
test = random_lists(23)
train[3] = []                        # an empty review
train[4] = [1, 300, 70000, 2 ** 40]  # BININT2, BININT, LONG1
test[0] = [5, 5, 5]                  # equal lists must stay separate objects
y_train = rs.randint(0, 2, size=37).astype(np.int64)
y_test = rs.randint(0, 2, size=23).astype(np.int64)
arrays = dict(x_train=object_array(train), y_train=y_train, x_test=object_array(test), y_test=y_test)
np.savez(f"{out}/imdb.npz", **arrays)
np.savez_compressed(f"{out}/imdb_compressed.npz", **arrays)

def npy_object(pickled, n):
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (%d,), }" % n
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + pickled

def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a, allow_pickle=True)
    return b.getvalue()

def write_zip(name, members):
    with zipfile.ZipFile(f"{out}/{name}", "w") as z:
        for k, v in members.items():
            z.writestr(k + ".npy", v)

valid = {k: npy_bytes(v) for k, v in arrays.items()}

# Protocol 2 (how Python 2 era files look: GLOBAL, BINPUT, _codecs bytes),
# with numpy int64 scalars inside the lists; and protocol 5.
scalars = object_array([[np.int64(v) for v in l] for l in train])
write_zip("imdb_proto2.npz", dict(valid, x_train=npy_object(pickle.dumps(scalars, protocol=2), len(train)),
                                  x_test=npy_object(pickle.dumps(object_array(test), protocol=2), len(test))))
write_zip("imdb_proto5.npz", dict(valid, x_train=npy_object(pickle.dumps(object_array(train), protocol=5), len(train))))

# Integer matrices instead of object arrays.
mtrain = rs.randint(1, 70, size=(37, 6)).astype(np.int32)
mtest = rs.randint(1, 70, size=(23, 6)).astype(np.int64)
np.savez(f"{out}/imdb_matrix.npz", x_train=mtrain, y_train=y_train, x_test=mtest, y_test=y_test)

# Bad files.
write_zip("forbidden_global.npz", dict(valid, x_train=npy_object(b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.", 1)))
write_zip("forbidden_opcode.npz", dict(valid, x_train=npy_object(b"\x80\x02}q\x00.", 1)))
write_zip("truncated_pickle.npz", dict(valid, x_train=valid["x_train"][:-40]))
write_zip("mismatch.npz", dict(valid, y_train=npy_bytes(y_train[:-1])))
write_zip("missing.npz", {k: v for k, v in valid.items() if k != "x_test"})
write_zip("float_x.npz", dict(valid, x_train=npy_bytes(np.full((37, 2), 0.5))))
write_zip("two_d_object.npz", dict(valid, x_train=npy_bytes(np.array([[[1], [2]], [[3], [4]]], dtype=object))))
# A header shape with no data to bound it, a huge class number, a member
# whose directory entry claims far more bytes than it holds.
write_zip("empty_rows.npz", dict(valid, x_train=npy_bytes(np.zeros((10 ** 15, 0), dtype=np.int64))))
write_zip("huge_label.npz", dict(valid, y_train=npy_bytes(np.where(np.arange(37) == 5, 4_000_000_000, y_train))))
write_zip("size_lie.npz", valid)
with open(f"{out}/size_lie.npz", "r+b") as f:
    z = bytearray(f.read())
    at = z.find(b"PK\x01\x02")  # the central directory entry of x_train.npy
    z[at + 24:at + 28] = (0x7fff_ffff).to_bytes(4, "little")  # its uncompressed size
    f.seek(0)
    f.write(z)

with open(f"{out}/word_index.json", "w") as f:
    json.dump({f"word{r}": r for r in range(1, 80)}, f)

# keras.datasets.imdb.load_data (skip_top=0, maxlen=None), then pad_sequences.
def load_data(x_train, y_train, x_test, y_test, num_words, seed=113, start_char=1, oov_char=2, index_from=3):
    x_train, y_train, x_test, y_test = list(x_train), np.array(y_train), list(x_test), np.array(y_test)
    if seed is not None:
        rng = np.random.RandomState(seed)
        indices = np.arange(len(x_train))
        rng.shuffle(indices)
        x_train = [x_train[i] for i in indices]
        y_train = y_train[indices]
        indices = np.arange(len(x_test))
        rng.shuffle(indices)
        x_test = [x_test[i] for i in indices]
        y_test = y_test[indices]
    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    xs = x_train + x_test
    xs = [[w if (0 <= w < num_words) else oov_char for w in x] for x in xs]
    idx = len(x_train)
    return (xs[:idx], y_train), (xs[idx:], y_test)

def pad_sequences(seqs, maxlen, padding="pre", truncating="pre"):
    out = []
    for s in seqs:
        row = [0] * maxlen
        if s:
            t = s[-maxlen:] if truncating == "pre" else s[:maxlen]
            if padding == "post":
                row[:len(t)] = t
            else:
                row[maxlen - len(t):] = t
        out.append([int(v) for v in row])
    return out

def expected(xtr, ytr, xte, yte, padding="pre", truncating="pre", **kw):
    (a, b), (c, d) = load_data(xtr, ytr, xte, yte, num_words=50, **kw)
    return dict(train=pad_sequences(a, 8, padding, truncating), train_y=[int(v) for v in b],
                test=pad_sequences(c, 8, padding, truncating), test_y=[int(v) for v in d])

json.dump(dict(
    raw_train=train,
    shuffled=expected(train, y_train, test, y_test),
    plain=expected(train, y_train, test, y_test, seed=None),
    post_nostart=expected(train, y_train, test, y_test, "post", "post", start_char=None),
    matrix=expected(mtrain.tolist(), y_train, mtest.tolist(), y_test),
), sys.stdout)
"#;

/// Runs the script once per test binary.
fn fixtures() -> &'static (std::path::PathBuf, Value) {
    static F: std::sync::OnceLock<(std::path::PathBuf, Value)> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let dir = scratch_dir("imdb");
        let out = run_python(&dir, SCRIPT, &[dir.to_str().expect("UTF-8 path")]);
        (dir, serde_json::from_str(&out).expect("script prints JSON"))
    })
}

fn ints(v: &Value) -> Vec<u32> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("integer") as u32).collect()
}

fn matrix(v: &Value) -> Vec<Vec<u32>> {
    v.as_array().expect("array").iter().map(ints).collect()
}

fn check(name: &str, (train, test): &(TextData, TextData), want: &Value) {
    assert_eq!(rows(train), matrix(&want["train"]), "{name}: train ids");
    assert_eq!(train.data.labels.as_deref(), Some(&ints(&want["train_y"])[..]), "{name}: train labels");
    assert_eq!(rows(test), matrix(&want["test"]), "{name}: test ids");
    assert_eq!(test.data.labels.as_deref(), Some(&ints(&want["test_y"])[..]), "{name}: test labels");
    assert_eq!(train.classes, ["neg", "pos"]);
    assert_eq!(train.data.dims, vec![8]);
}

fn load(file: &str, options: &ImdbOptions) -> Result<(TextData, TextData), TextError> {
    let (dir, _) = fixtures();
    load_imdb_npz(&dir.join(file), &keras_imdb_spec(50, 8), options)
}

#[test]
fn npz_matches_keras_load_data() {
    let (_, want) = fixtures();
    let keras = ImdbOptions::default();
    assert_eq!(keras.shuffle_seed, Some(113));
    for file in ["imdb.npz", "imdb_compressed.npz", "imdb_proto2.npz", "imdb_proto5.npz"] {
        check(file, &load(file, &keras).expect(file), &want["shuffled"]);
    }
    let plain = ImdbOptions { shuffle_seed: None, word_index: None };
    check("unshuffled", &load("imdb.npz", &plain).expect("plain"), &want["plain"]);
    check("matrix", &load("imdb_matrix.npz", &keras).expect("matrix"), &want["matrix"]);

    let (dir, _) = fixtures();
    let s = spec(TokenizerKind::Vocabulary, 50, 8, Side::Post, Side::Post);
    let s = ember_runtime::spec::TokenizerSpec { start_token: false, ..s };
    let got = load_imdb_npz(&dir.join("imdb.npz"), &s, &keras).expect("post, no start");
    check("post_nostart", &got, &want["post_nostart"]);
}

#[test]
fn word_index_gives_device_the_same_ids() {
    let (dir, want) = fixtures();
    let list = load_imdb_word_index(&dir.join("word_index.json")).expect("word index");
    assert_eq!(list.len(), 80);
    assert_eq!((list[0].as_str(), list[1].as_str(), list[79].as_str()), ("", "word1", "word79"));
    let options = ImdbOptions { shuffle_seed: None, word_index: Some(dir.join("word_index.json")) };
    let (train, _) = load("imdb.npz", &options).expect("with word index");
    let vocab = train.vocab.as_ref().expect("word list");
    assert_eq!(vocab.len(), 47, "cut to vocab - reserved");
    assert_eq!(train.vocab_bytes().expect("bytes")[..13], *b"\nword1\nword2\n".as_slice());
    // Render each raw review as words; the device tokenizer gives the loader's ids.
    let raw: Vec<String> = want["raw_train"]
        .as_array()
        .expect("raw")
        .iter()
        .map(|l| {
            l.as_array()
                .expect("list")
                .iter()
                .map(|r| format!("word{}", r.as_u64().expect("rank")))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let texts: Vec<&str> = raw.iter().map(String::as_str).collect();
    let with_words: Vec<usize> = (0..texts.len()).filter(|&i| !texts[i].is_empty()).collect();
    let picked = train.data.select(&with_words);
    let picked = TextData { data: picked, ..train.clone() };
    let picked_texts: Vec<&str> = with_words.iter().map(|&i| texts[i]).collect();
    assert_device_agrees(&picked, &picked_texts);
}

fn error(file: &str) -> String {
    let err = load(file, &ImdbOptions::default()).expect_err(file);
    let msg = err.to_string();
    assert!(msg.contains(file), "message must name {file}: {msg}");
    msg
}

#[test]
fn bad_npz_files_are_errors() {
    let (dir, _) = fixtures();
    let msg = error("forbidden_global.npz");
    assert!(msg.contains("forbidden_global.npz:x_train.npy: pickle byte 2: refusing global os.system"), "{msg}");
    let msg = error("forbidden_opcode.npz");
    assert!(msg.contains("pickle byte 2: opcode EMPTY_DICT (0x7d) is not allowed"), "{msg}");
    let msg = error("truncated_pickle.npz");
    assert!(msg.contains("x_train.npy: pickle byte") && msg.contains("truncated"), "{msg}");
    let msg = error("mismatch.npz");
    assert!(msg.contains("mismatch.npz:x_train.npy has 37 samples but "), "{msg}");
    assert!(msg.ends_with("mismatch.npz:y_train.npy has 36 labels"), "{msg}");
    let msg = error("missing.npz");
    assert!(msg.contains("no array named \"x_test\" in the archive (found: x_train, y_test, y_train)"), "{msg}");
    let msg = error("float_x.npz");
    assert!(msg.contains("float_x.npz:x_train.npy: value 0.5 is not an integer"), "{msg}");
    let msg = error("two_d_object.npz");
    assert!(msg.contains("object array of shape [2, 2, 1]; expected one dimension"), "{msg}");
    let msg = error("empty_rows.npz");
    assert!(
        msg.contains(
            "empty_rows.npz:x_train.npy: numeric array of shape [1000000000000000, 0] has samples of length 0"
        ),
        "{msg}"
    );
    let msg = error("huge_label.npz");
    assert!(msg.contains("huge_label.npz:y_train.npy: label 4000000000 at index 5 is not below 65536"), "{msg}");
    let msg = error("size_lie.npz");
    assert!(msg.contains("size_lie.npz:x_train.npy") && msg.contains("its directory entry says 2147483647"), "{msg}");

    // Truncated and corrupt archives.
    let good = std::fs::read(dir.join("imdb.npz")).expect("read fixture");
    for (name, bytes) in [
        ("cut.npz", good[..good.len() / 2].to_vec()),
        ("garbage.npz", b"this is not a zip file at all".to_vec()),
        ("empty.npz", Vec::new()),
    ] {
        let path = dir.join(name);
        write(&path, &bytes);
        let msg = error(name);
        assert!(msg.contains("not a readable .npz (zip) archive"), "{msg}");
        assert!(matches!(load(name, &ImdbOptions::default()), Err(TextError::Zip { .. })));
    }
    // A member whose compressed data is damaged (CRC or inflate failure).
    let mut damaged = std::fs::read(dir.join("imdb_compressed.npz")).expect("read fixture");
    let mid = damaged.len() / 3;
    for b in &mut damaged[mid..mid + 64] {
        *b ^= 0x5a;
    }
    write(&dir.join("damaged.npz"), &damaged);
    let msg = error("damaged.npz");
    assert!(msg.contains("damaged.npz") && msg.contains("not a readable .npz (zip) archive"), "{msg}");

    let err = load_imdb_npz(
        &dir.join("imdb.npz"),
        &spec(TokenizerKind::Hashing, 50, 8, Side::Pre, Side::Pre),
        &ImdbOptions::default(),
    )
    .expect_err("hashing");
    assert!(err.to_string().contains("use a word-list (Vocabulary) tokenizer"), "{err}");
    let missing = load_imdb_npz(Path::new("/nonexistent/imdb.npz"), &keras_imdb_spec(50, 8), &ImdbOptions::default());
    assert!(missing.expect_err("no file").to_string().starts_with("cannot read /nonexistent/imdb.npz"));

    write(&dir.join("bad_index.json"), br#"{"a": 1, "b": 1}"#);
    let err = load_imdb_word_index(&dir.join("bad_index.json")).expect_err("shared rank");
    assert!(err.to_string().contains("share rank 1"), "{err}");
    write(&dir.join("bad_index2.json"), br#"{"a": 0}"#);
    let err = load_imdb_word_index(&dir.join("bad_index2.json")).expect_err("rank 0");
    assert!(err.to_string().contains("bad_index2.json: bad word index: rank of \"a\" is 0"), "{err}");
}
