//! Hashing ids from the FNV-1a definition, word lists, OOV, padding and
//! truncation against hand-written arrays.

use ember_data::text::{TextData, TextError, build_vocab, encode_texts, keras_imdb_spec, pad_ids};
use ember_runtime::spec::{Side, TokenizerKind};

use super::{assert_device_agrees, rows, spec};

/// 32-bit FNV-1a from its definition: offset basis 2166136261, prime
/// 16777619, XOR each byte then multiply.
fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(16_777_619);
    }
    h
}

/// Words from the rule: runs of bytes that are neither ASCII white space nor
/// ASCII punctuation other than the apostrophe.
fn words(text: &str) -> Vec<Vec<u8>> {
    let sep = |b: u8| b.is_ascii_whitespace() || (b.is_ascii_punctuation() && b != b'\'');
    text.as_bytes().split(|&b| sep(b)).filter(|w| !w.is_empty()).map(<[u8]>::to_vec).collect()
}

#[test]
fn fnv1a32_matches_published_vectors() {
    // From the FNV reference test suite (draft-eastlake-fnv, fnv_test.c).
    for (input, hash) in [("", 0x811c_9dc5u32), ("a", 0xe40c_292c), ("foobar", 0xbf9c_f968)] {
        assert_eq!(fnv1a32(input.as_bytes()), hash, "test's own FNV-1a of {input:?}");
        assert_eq!(ember_runtime::text::fnv1a32(input.as_bytes(), false), hash, "runtime FNV-1a of {input:?}");
    }
}

#[test]
fn hashing_ids_are_reserved_plus_fnv_mod() {
    let texts = ["Hello, World! It's a TEST-case.", "naïve café — don't\tstop\n42", "a"];
    let s = spec(TokenizerKind::Hashing, 1000, 12, Side::Post, Side::Post);
    let t = TextData::from_texts(&texts, vec![0, 1, 0], vec!["a".into(), "b".into()], s, None).expect("hashing");
    assert_eq!(t.vocab, None);
    assert_eq!(t.data.dims, vec![12]);
    for (i, text) in texts.iter().enumerate() {
        let mut expected: Vec<u32> = vec![1];
        expected.extend(words(text).iter().map(|w| 3 + fnv1a32(&w.to_ascii_lowercase()) % 997));
        expected.resize(12, 0);
        assert_eq!(rows(&t)[i], expected, "text {i}");
    }
    // The words of the first text, spelled out.
    let w: Vec<String> = words(texts[0]).into_iter().map(|w| String::from_utf8(w).unwrap()).collect();
    assert_eq!(w, ["Hello", "World", "It's", "a", "TEST", "case"]);
    // A literal golden id: fnv1a32("a") = 0xe40c292c = 3826002220; 3 + 3826002220 % 997 = 3 + 762.
    assert_eq!(0xe40c_292cu32 % 997, 762);
    assert_eq!(rows(&t)[2][..2], [1, 765]);
    assert_device_agrees(&t, &texts);
    assert_eq!(encode_texts(&s, None, &texts).expect("encode"), t.data.x.iter().map(|&v| v as u32).collect::<Vec<_>>());
}

#[test]
fn vocabulary_orders_by_count_then_first_appearance() {
    let texts = ["b a c a", "C b a d", "e"];
    // a:3, b:2, c:2 (b first seen before c), d:1, e:1 (d first).
    assert_eq!(build_vocab(&texts, 10, true), ["a", "b", "c", "d", "e"]);
    assert_eq!(build_vocab(&texts, 3, true), ["a", "b", "c"]);
    // Case kept: "c" and "C" count apart.
    assert_eq!(build_vocab(&texts, 10, false), ["a", "b", "c", "C", "d", "e"]);
    // Only ASCII is lower-cased.
    assert_eq!(build_vocab(&["Éa éa ÉA"], 10, true), ["Éa", "éa"]);
    assert_eq!(build_vocab::<&str>(&[], 10, true), Vec::<String>::new());
}

#[test]
fn vocabulary_ids_and_oov() {
    let texts = ["b a c a", "C b a d", "e zzz a"];
    // vocab 6 = 3 reserved + 3 words: a=3, b=4, c=5; d, e, zzz out of vocabulary.
    let s = spec(TokenizerKind::Vocabulary, 6, 5, Side::Post, Side::Post);
    let t = TextData::from_texts(&texts, vec![0, 1, 1], vec!["x".into(), "y".into()], s, None).expect("vocab");
    assert_eq!(t.vocab.as_deref(), Some(&["a".to_string(), "b".into(), "c".into()][..]));
    assert_eq!(t.vocab_bytes().as_deref(), Some(&b"a\nb\nc"[..]));
    assert_eq!(rows(&t), vec![vec![1, 4, 3, 5, 3], vec![1, 5, 4, 3, 2], vec![1, 2, 2, 3, 0]]);
    assert_eq!(t.data.labels, Some(vec![0, 1, 1]));
    assert_device_agrees(&t, &texts);
    assert_eq!(t.encode("A, zzz; b!").expect("encode"), vec![1, 3, 2, 4, 0]);
    // A longer given word list is cut to the ids that exist.
    let given: Vec<String> = ["c", "a", "b", "d"].map(String::from).to_vec();
    let t = TextData::from_texts(&texts, vec![0, 0, 0], vec!["x".into()], s, Some(given)).expect("given list");
    assert_eq!(t.vocab.as_ref().map(Vec::len), Some(3));
    assert_eq!(rows(&t)[1], vec![1, 3, 5, 4, 2]);
    assert_device_agrees(&t, &texts);
}

#[test]
fn host_and_device_agree_on_many_texts() {
    // Pseudo-random texts over a small alphabet of words, with case, punctuation and UTF-8.
    let pool = ["the", "The", "movie", "was", "GREAT", "bad", "it's", "naïve", "x", "y-z", "!!", "...", "ok,fine"];
    let mut state = 12345u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let texts: Vec<String> = (0..200)
        .map(|_| {
            let n = 1 + next() % 15;
            (0..n).map(|_| pool[next() % 6 + next() % 7]).collect::<Vec<_>>().join(" ") + " movie"
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for kind in [TokenizerKind::Vocabulary, TokenizerKind::Hashing] {
        for (padding, truncating) in
            [(Side::Pre, Side::Pre), (Side::Pre, Side::Post), (Side::Post, Side::Pre), (Side::Post, Side::Post)]
        {
            for lowercase in [true, false] {
                let mut s = spec(kind, 9, 7, padding, truncating);
                s.lowercase = lowercase;
                s.start_token = padding == truncating;
                let labels = vec![0; texts.len()];
                let t = TextData::from_texts(&refs, labels, vec!["c".into()], s, None).expect("tokenize");
                assert_device_agrees(&t, &refs);
            }
        }
    }
}

#[test]
fn pad_and_truncate_like_keras() {
    let ids = [5, 6, 7, 8, 9];
    let s = |p, t| spec(TokenizerKind::Hashing, 100, 3, p, t);
    assert_eq!(pad_ids(&ids, &s(Side::Pre, Side::Pre)), [7, 8, 9]);
    assert_eq!(pad_ids(&ids, &s(Side::Pre, Side::Post)), [5, 6, 7]);
    assert_eq!(pad_ids(&ids, &s(Side::Post, Side::Pre)), [7, 8, 9]);
    assert_eq!(pad_ids(&[5], &s(Side::Pre, Side::Post)), [0, 0, 5]);
    assert_eq!(pad_ids(&[5], &s(Side::Post, Side::Pre)), [5, 0, 0]);
    assert_eq!(pad_ids(&[], &s(Side::Post, Side::Pre)), [0, 0, 0]);
    assert_eq!(pad_ids(&[5, 6, 7], &s(Side::Pre, Side::Pre)), [5, 6, 7]);

    // Through text: words a..e have ids 3..7, start id first.
    let list: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
    let texts = ["a b c d e", "a b"];
    let cases = [
        (Side::Pre, Side::Pre, [[4, 5, 6, 7], [0, 1, 3, 4]]),
        (Side::Pre, Side::Post, [[1, 3, 4, 5], [0, 1, 3, 4]]),
        (Side::Post, Side::Pre, [[4, 5, 6, 7], [1, 3, 4, 0]]),
        (Side::Post, Side::Post, [[1, 3, 4, 5], [1, 3, 4, 0]]),
    ];
    for (padding, truncating, expected) in cases {
        let s = spec(TokenizerKind::Vocabulary, 8, 4, padding, truncating);
        let t = TextData::from_texts(&texts, vec![0, 0], vec!["c".into()], s, Some(list.clone())).expect("pad");
        assert_eq!(rows(&t), expected.map(|r| r.to_vec()).to_vec(), "{padding:?} / {truncating:?}");
        assert_device_agrees(&t, &texts);
    }
}

#[test]
fn bad_texts_and_settings_are_errors() {
    let s = keras_imdb_spec(100, 4);
    let err = TextData::from_texts(&["good words", "  ,,, !? "], vec![0, 1], vec!["a".into(), "b".into()], s, None)
        .expect_err("a text without words");
    assert!(matches!(err, TextError::NoWords { .. }));
    assert_eq!(err.to_string(), "text 1: text holds no word (empty, or only spaces and punctuation)");
    let err = TextData::from_texts(&["a"], vec![2], vec!["a".into(), "b".into()], s, None).expect_err("label 2 of 2");
    assert!(err.to_string().contains("label 2 is not below the number of classes 2"), "{err}");
    let mut bad = s;
    bad.reserved = 2;
    let err = TextData::from_texts(&["a"], vec![0], vec!["a".into()], bad, None).expect_err("reserved 2");
    assert!(err.to_string().contains("ids 0, 1 and 2 are always reserved"), "{err}");
    bad = s;
    bad.vocab = 3;
    let err = TextData::from_texts(&["a"], vec![0], vec!["a".into()], bad, None).expect_err("vocab 3");
    assert!(err.to_string().contains("leaves no id for words"), "{err}");
    bad = s;
    bad.max_len = 0;
    assert!(TextData::from_texts(&["a"], vec![0], vec!["a".into()], bad, None).is_err());
    let err = TextData::from_texts(&["a"], vec![0], vec!["a".into()], s, Some(vec!["x\ny".into()]))
        .expect_err("line break in a word");
    assert!(err.to_string().contains("contains a line break"), "{err}");
    let err = encode_texts(&s, None, &["a"]).expect_err("word list missing");
    assert!(err.to_string().contains("needs its word list"), "{err}");
}
