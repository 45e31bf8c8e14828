//! `aclImdb` folders built in a temporary directory.

use ember_data::text::{TextError, keras_imdb_spec, load_acl_imdb, load_acl_imdb_split};
use ember_runtime::spec::{Side, TokenizerKind};

use super::{assert_device_agrees, rows, scratch_dir, spec, write};

#[test]
fn folders_load_in_sorted_order_with_a_training_vocabulary() {
    let root = scratch_dir("acl").join("aclImdb");
    let files = [
        ("train/pos/2_9.txt", "Great movie. Great cast!"),
        ("train/pos/10_8.txt", "a great<br /><br />film"),
        ("train/neg/0_2.txt", "Bad movie, bad."),
        ("train/neg/1_1.txt", "boring film"),
        ("test/neg/5_3.txt", "Unseen words: bad!"),
        ("test/pos/7_10.txt", "GREAT"),
        // Ignored: unsup, URL lists, other extensions.
        ("train/unsup/0_0.txt", "ignored ignored ignored ignored"),
        ("train/urls_pos.txt", "http://ignored"),
        ("train/pos/notes.md", "ignored"),
    ];
    for (name, text) in files {
        write(&root.join(name), text);
    }
    // Training counts: great 3; bad, movie, film, br 2 each, in order of first appearance
    // (neg before pos, files by name: 0_2, 1_1, 10_8, 2_9); the list holds vocab - 3 = 5 words.
    let s = keras_imdb_spec(8, 6);
    let (train, test) = load_acl_imdb(&root, &s).expect("load");
    let vocab = train.vocab.clone().expect("word list");
    assert_eq!(vocab, ["great", "bad", "movie", "film", "br"]);
    assert_eq!(test.vocab.as_ref(), Some(&vocab));
    assert_eq!(train.classes, ["neg", "pos"]);
    assert_eq!(train.data.labels, Some(vec![0, 0, 1, 1]));
    // ids: great 3, bad 4, movie 5, film 6, br 7, others 2; start 1; pre padding and truncation.
    let want = vec![
        vec![0, 0, 1, 4, 5, 4], // 0_2: bad movie bad
        vec![0, 0, 0, 1, 2, 6], // 1_1: boring film
        vec![1, 2, 3, 7, 7, 6], // 10_8: a great br br film
        vec![0, 1, 3, 5, 3, 2], // 2_9: great movie great cast
    ];
    assert_eq!(rows(&train), want);
    assert_eq!(test.data.labels, Some(vec![0, 1]));
    assert_eq!(rows(&test), vec![vec![0, 0, 1, 2, 2, 4], vec![0, 0, 0, 0, 1, 3]]);
    // One split with another word list (a trained model's): test's ids from it.
    let other: Vec<String> = ["unseen", "great", "words"].map(String::from).to_vec();
    let only = load_acl_imdb_split(&root, "test", &s, Some(other)).expect("test split");
    // unseen 3, great 4, words 5; "bad" is out of this list (2).
    assert_eq!(rows(&only), vec![vec![0, 0, 1, 3, 5, 2], vec![0, 0, 0, 0, 1, 4]]);
    assert_eq!(only.data.labels, Some(vec![0, 1]));
    let e = load_acl_imdb_split(&root, "test", &s, None).unwrap_err().to_string();
    assert!(e.contains("word list"), "{e}");
    let texts = ["Bad movie, bad.", "boring film", "a great<br /><br />film", "Great movie. Great cast!"];
    assert_device_agrees(&train, &texts);

    // Hashing needs no word list.
    let h = spec(TokenizerKind::Hashing, 1000, 6, Side::Post, Side::Post);
    let (train, _) = load_acl_imdb(&root, &h).expect("hashing");
    assert_eq!(train.vocab, None);
    assert_device_agrees(&train, &texts);
}

#[test]
fn bad_folders_are_errors() {
    let root = scratch_dir("acl-bad");
    for name in ["train/pos/0_9.txt", "train/neg/0_1.txt", "test/neg/0_1.txt"] {
        write(&root.join(name), "some words");
    }
    let err = load_acl_imdb(&root, &keras_imdb_spec(100, 10)).expect_err("no test/pos");
    assert!(matches!(err, TextError::Folder { .. }));
    let msg = err.to_string();
    assert!(msg.contains("test/pos") && msg.contains("cannot list the test/pos folder"), "{msg}");

    std::fs::create_dir_all(root.join("test/pos")).expect("mkdir");
    let msg = load_acl_imdb(&root, &keras_imdb_spec(100, 10)).expect_err("empty test/pos").to_string();
    assert!(msg.contains("no .txt review in test/pos"), "{msg}");

    write(&root.join("test/pos/3_7.txt"), "");
    let msg = load_acl_imdb(&root, &keras_imdb_spec(100, 10)).expect_err("empty review").to_string();
    assert!(msg.ends_with("3_7.txt: text holds no word (empty, or only spaces and punctuation)"), "{msg}");

    write(&root.join("test/pos/3_7.txt"), b"caf\xe9 latin-1");
    let msg = load_acl_imdb(&root, &keras_imdb_spec(100, 10)).expect_err("not UTF-8").to_string();
    assert!(msg.ends_with("3_7.txt: not valid UTF-8 text"), "{msg}");
}
