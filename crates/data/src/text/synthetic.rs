//! A synthetic, IMDB-shaped review generator for benchmarks and tests.

use ember_runtime::text::{OOV_ID, START_ID};

use super::vocab::pad_ids;
use super::{TextData, keras_imdb_spec};
use crate::rng::Stream;

/// Rank of the first signal word: mid-frequency, so that background words
/// rarely take the signal ids (under the log-uniform ranks, ids 503..535
/// carry about 0.4% of the background) and the signal is the words' class.
pub const FIRST_SIGNAL_RANK: u32 = 500;

/// `n` synthetic reviews shaped like Keras IMDB: labels 0 (`neg`) / 1
/// (`pos`) drawn at random, ids under [`keras_imdb_spec`]`(vocab, max_len)`
/// (start id 1, padded and truncated at the front), deterministic from
/// `seed` (the fixed ChaCha8 stream of the data generators).
///
/// Each review has a length drawn uniformly from `max_len / 4` (at least 1)
/// to `2 * max_len` words, so some are padded and some truncated. Words are
/// drawn log-uniformly over the vocabulary (small ids frequent, like word
/// ranks), 2% of them out-of-vocabulary (id 2). The planted signal: `k`
/// "positive" and `k` "negative" word ids (`k = clamp((vocab - 3) / 16, 1,
/// 16)`, ids from `3 + min(FIRST_SIGNAL_RANK, vocab - 3 - 2k)` on, positive
/// first, mid-frequency words like real sentiment words); each
/// word is, with probability 8%, one of its own class's signal words and,
/// with probability 2%, one of the other class's — learnable, not trivial.
///
/// The result carries a word list naming each word by its id (`w3`, `w4`,
/// ...), so a review rendered as text tokenizes back to the same ids.
///
/// `vocab` is raised to at least 5 (room for two signal words) and lowered
/// to at most [`MAX_VOCAB`](super::MAX_VOCAB), `max_len` raised to at least
/// 1; the returned [`TextData::tokenizer`] says what was used.
pub fn synthetic_reviews(n: usize, vocab: u32, max_len: u32, seed: u64) -> TextData {
    let (vocab, max_len) = (vocab.clamp(5, super::MAX_VOCAB), max_len.max(1));
    let spec = keras_imdb_spec(vocab, max_len);
    let words = vocab - spec.reserved;
    let k = (words / 16).clamp(1, 16);
    let first_signal = spec.reserved + FIRST_SIGNAL_RANK.min(words - 2 * k);
    let mut rng = Stream::new(seed);
    let mut ids = Vec::with_capacity(n * max_len as usize);
    let mut labels = Vec::with_capacity(n);
    let mut seq = Vec::new();
    let (lo, hi) = ((max_len as usize / 4).max(1), 2 * max_len as usize);
    for _ in 0..n {
        let label = rng.below(2) as u32;
        let len = lo + rng.below(hi - lo + 1);
        seq.clear();
        seq.push(START_ID);
        for _ in 0..len {
            let u = rng.uniform();
            let id = if u < 0.08 {
                first_signal + label * k + rng.below(k as usize) as u32
            } else if u < 0.10 {
                first_signal + (1 - label) * k + rng.below(k as usize) as u32
            } else if u < 0.12 {
                OOV_ID
            } else {
                // log-uniform rank in 1..=words
                let rank = (f64::from(words).powf(rng.uniform()) as u32).clamp(1, words);
                spec.reserved + rank - 1
            };
            seq.push(id);
        }
        ids.extend(pad_ids(&seq, &spec));
        labels.push(label);
    }
    let vocab_words = (spec.reserved..vocab).map(|id| format!("w{id}")).collect();
    let classes = vec!["neg".to_string(), "pos".to_string()];
    // Ids are below `vocab` and labels below 2 by construction.
    let x = ids.into_iter().map(|i| i as f32).collect();
    let data = crate::Dataset { x, n, dims: vec![max_len as usize], labels: Some(labels) };
    TextData { data, tokenizer: spec, vocab: Some(vocab_words), classes }
}
