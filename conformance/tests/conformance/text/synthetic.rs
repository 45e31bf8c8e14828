//! The synthetic IMDB-shaped generator.

use ember_data::text::synthetic_reviews;
use ember_runtime::spec::{Side, TokenizerKind};

use super::{assert_device_agrees, rows};

#[test]
fn synthetic_reviews_are_deterministic_padded_and_learnable() {
    let (n, vocab, max_len) = (2000, 500, 40);
    let a = synthetic_reviews(n, vocab, max_len, 42);
    assert_eq!(a, synthetic_reviews(n, vocab, max_len, 42), "same seed, same data");
    assert_ne!(a.data, synthetic_reviews(n, vocab, max_len, 43).data, "another seed, other data");
    assert_eq!((a.data.n, a.data.dims.as_slice()), (n, &[40][..]));
    let s = a.tokenizer;
    assert_eq!((s.kind, s.vocab, s.reserved, s.max_len), (TokenizerKind::Vocabulary, 500, 3, 40));
    assert_eq!((s.padding, s.truncating, s.start_token), (Side::Pre, Side::Pre, true));
    assert_eq!(a.classes, ["neg", "pos"]);
    let labels = a.data.labels.clone().expect("labels");
    let positives = labels.iter().filter(|&&l| l == 1).count();
    assert!((800..1200).contains(&positives), "{positives} positives of {n}");

    let r = rows(&a);
    assert!(r.iter().flatten().all(|&id| id < vocab));
    let padded = r.iter().filter(|row| row[0] == 0).count();
    let truncated = r.iter().filter(|row| row[0] != 0 && row[0] != 1).count();
    assert!(padded > n / 5 && truncated > n / 5, "{padded} padded, {truncated} truncated");
    // Padded rows: zeros, then the start id, then words (no zeros, no start id).
    for row in r.iter().filter(|row| row[0] == 0) {
        let start = row.iter().position(|&id| id != 0).expect("has words");
        assert_eq!(row[start], 1);
        assert!(row[start + 1..].iter().all(|&id| id >= 2));
    }
    let lengths: std::collections::BTreeSet<usize> =
        r.iter().map(|row| row.iter().filter(|&&id| id != 0).count()).collect();
    assert!(lengths.len() > 20, "lengths vary: {lengths:?}");

    // The planted signal: some id is much more frequent in positive reviews.
    let mut counts = vec![[0usize; 2]; vocab as usize];
    for (row, &l) in r.iter().zip(&labels) {
        for &id in row {
            counts[id as usize][l as usize] += 1;
        }
    }
    let strongest = counts[3..].iter().map(|c| (c[1] + 1) as f64 / (c[0] + 1) as f64).fold(0.0, f64::max);
    assert!(strongest > 2.5, "strongest positive/negative ratio {strongest}");

    // Rendered as words, padded reviews tokenize back to the same ids on the device.
    let words = a.vocab.clone().expect("word list");
    assert_eq!(words.len(), 497);
    assert_eq!(words[0], "w3");
    let keep: Vec<usize> = (0..n).filter(|&i| r[i][0] == 0).take(50).collect();
    let texts: Vec<String> = keep
        .iter()
        .map(|&i| {
            let ids = r[i].iter().skip_while(|&&id| id == 0).skip(1);
            ids.map(|&id| if id == 2 { "unknownword".to_string() } else { format!("w{id}") })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let picked = ember_data::text::TextData { data: a.data.select(&keep), ..a.clone() };
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert_device_agrees(&picked, &refs);

    // Out-of-range sizes are clamped, never a panic; the result says what was used.
    let tiny = synthetic_reviews(3, 2, 0, 1);
    assert_eq!((tiny.tokenizer.vocab, tiny.tokenizer.max_len, tiny.data.dims.as_slice()), (5, 1, &[1][..]));
    assert_eq!(synthetic_reviews(0, 100, 10, 1).data.n, 0);
}
