//! The Keras IMDB data set file (`imdb.npz`) and its word index.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ember_runtime::spec::{TokenizerKind, TokenizerSpec};
use ember_runtime::text::{OOV_ID, START_ID};

use super::npz::Npz;
use super::vocab::pad_ids;
use super::{TextData, TextError, check_spec, fit_vocab};

/// The seed Keras's `imdb.load_data` shuffles with.
pub const KERAS_IMDB_SEED: u32 = 113;

/// How [`load_imdb_npz`] treats the file beyond the tokenizer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImdbOptions {
    /// Shuffle the samples exactly as Keras does: `np.random.RandomState(seed)`,
    /// then `shuffle(arange(n_train))`, then `shuffle(arange(n_test))` with the
    /// same generator (numpy's MT19937 and legacy bounded integers,
    /// reimplemented here). `None` keeps the order of the file.
    pub shuffle_seed: Option<u32>,
    /// Keras's `imdb_word_index.json` (`{"word": rank, ...}`): when given, the
    /// result carries the word list ([`load_imdb_word_index`]) so that raw
    /// text is tokenized on the device into the same ids.
    pub word_index: Option<PathBuf>,
}

impl Default for ImdbOptions {
    /// Keras's shuffle (seed 113), no word index.
    fn default() -> Self {
        ImdbOptions { shuffle_seed: Some(KERAS_IMDB_SEED), word_index: None }
    }
}

/// Loads the Keras IMDB file: `(train, test)`.
///
/// The archive holds `x_train`, `y_train`, `x_test`, `y_test`. `x_*` are
/// object arrays of Python lists of integers (read by a restricted pickle
/// reader that executes nothing) or integer matrices (each row one whole
/// sample); `y_*` are integer labels, one per sample (0 = `neg`,
/// 1 = `pos`; other labels name classes by number).
///
/// The file holds raw word ranks (1 = most frequent word). Each sample
/// becomes exactly what `keras.datasets.imdb.load_data(num_words=vocab,
/// skip_top=0, maxlen=None, start_char=1 or None, oov_char=2,
/// index_from=reserved)` returns, followed by `pad_sequences`:
///
/// 1. shuffled as Keras does ([`ImdbOptions::shuffle_seed`]);
/// 2. each raw value `w` becomes `w + reserved`, and with `start_token` the
///    start id 1 is put first;
/// 3. every id `v` with `v < 0` or `v >= vocab` becomes the out-of-vocabulary
///    id 2 (so word rank `r` keeps id `r + reserved` only when that is below
///    `vocab`);
/// 4. padded and truncated to `max_len` as the settings say ([`pad_ids`]).
///
/// Keras's `maxlen` (dropping long reviews) is not applied: reviews are
/// truncated instead. `spec.kind` must be [`TokenizerKind::Vocabulary`]:
/// ids are word ranks. The result has no word list unless
/// [`ImdbOptions::word_index`] is given.
///
/// # Errors
/// [`TextError::Zip`] for a corrupt or truncated archive,
/// [`TextError::MissingMember`], [`TextError::Pickle`] for a pickle this
/// reader refuses, [`TextError::Npy`] / [`TextError::Layout`] for arrays of
/// the wrong kind or shape, [`TextError::LabelCount`] when `x_*` and `y_*`
/// differ in length, [`TextError::Spec`], [`TextError::WordIndex`].
pub fn load_imdb_npz(
    path: &Path,
    spec: &TokenizerSpec,
    options: &ImdbOptions,
) -> Result<(TextData, TextData), TextError> {
    check_spec(spec)?;
    if spec.kind != TokenizerKind::Vocabulary {
        return Err(TextError::Spec("the IMDB file holds word ranks: use a word-list (Vocabulary) tokenizer".into()));
    }
    let vocab = match &options.word_index {
        Some(p) => Some(fit_vocab(load_imdb_word_index(p)?, spec)?),
        None => None,
    };
    let mut npz = Npz::open(path)?;
    let mut splits = Vec::new();
    for split in ["train", "test"] {
        let (xn, yn) = (format!("x_{split}"), format!("y_{split}"));
        let x = npz.sequences(&xn)?;
        let y = npz.labels(&yn)?;
        if x.len() != y.len() {
            return Err(TextError::LabelCount {
                samples_path: npz.member_path(&xn),
                labels_path: npz.member_path(&yn),
                samples: x.len(),
                labels: y.len(),
            });
        }
        splits.push((x, y));
    }
    let mut rng = options.shuffle_seed.map(Mt19937::new);
    let classes = class_names(splits.iter().flat_map(|(_, y)| y.iter().copied()).max().unwrap_or(1));
    let mut out = Vec::new();
    for (x, y) in splits {
        let order: Vec<usize> = match rng.as_mut() {
            Some(rng) => rng.permutation(x.len()),
            None => (0..x.len()).collect(),
        };
        let mut ids = Vec::with_capacity(x.len() * spec.max_len as usize);
        let mut seq = Vec::new();
        for &i in &order {
            seq.clear();
            keras_ids(&x[i], spec, &mut seq);
            ids.extend(pad_ids(&seq, spec));
        }
        let labels = order.iter().map(|&i| y[i]).collect();
        out.push(TextData::from_ids(ids, labels, classes.clone(), *spec, vocab.clone())?);
    }
    let test = out.pop();
    match (out.pop(), test) {
        (Some(train), Some(test)) => Ok((train, test)),
        _ => Err(TextError::Spec("internal: two splits expected".into())),
    }
}

/// Steps 2 and 3 of [`load_imdb_npz`] for one raw sample.
fn keras_ids(raw: &[i64], spec: &TokenizerSpec, out: &mut Vec<u32>) {
    if spec.start_token {
        out.push(START_ID);
    }
    out.extend(raw.iter().map(|&w| match w.checked_add(i64::from(spec.reserved)) {
        Some(v) if (0..i64::from(spec.vocab)).contains(&v) => v as u32,
        _ => OOV_ID,
    }));
}

/// `neg`, `pos` for two classes; the numbers `0..=max` otherwise.
fn class_names(max: u32) -> Vec<String> {
    if max <= 1 { vec!["neg".into(), "pos".into()] } else { (0..=max).map(|c| c.to_string()).collect() }
}

/// Reads Keras's `imdb_word_index.json` (`{"word": rank, ...}`, ranks
/// starting at 1) as a word list matching the ids of [`load_imdb_npz`]:
/// entry `r` is the word of rank `r`, so it gets id `reserved + r` exactly as
/// the rank does in the `.npz`. Entry 0, and ranks no word has, are empty
/// placeholders that match no word. (The list is cut to `vocab - reserved`
/// entries when used.)
///
/// # Errors
/// [`TextError::Io`]; [`TextError::WordIndex`] if the file is not a JSON
/// object of positive integer ranks, two words share a rank, or a word holds
/// a line break.
pub fn load_imdb_word_index(path: &Path) -> Result<Vec<String>, TextError> {
    let bad = |m: String| TextError::WordIndex { path: path.to_path_buf(), message: m };
    let text = std::fs::read(path).map_err(|e| TextError::io(path, e))?;
    let index: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&text).map_err(|e| bad(format!("not a JSON object of word ranks: {e}")))?;
    let mut by_rank: Vec<(u64, String)> = Vec::with_capacity(index.len());
    for (word, rank) in index {
        let r = rank.as_u64().filter(|r| (1..=1 << 24).contains(r));
        let r = r.ok_or_else(|| bad(format!("rank of {word:?} is {rank}, not an integer from 1 to 2^24")))?;
        if word.contains('\n') {
            return Err(bad(format!("word {word:?} contains a line break")));
        }
        by_rank.push((r, word));
    }
    by_rank.sort_unstable();
    let max = by_rank.last().map_or(0, |(r, _)| *r) as usize;
    let mut list = vec![String::new(); max + 1];
    for pair in by_rank.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(bad(format!("{:?} and {:?} share rank {}", pair[0].1, pair[1].1, pair[0].0)));
        }
    }
    for (r, w) in by_rank {
        list[r as usize] = w;
    }
    Ok(list)
}

/// numpy's MT19937 as seeded by `np.random.RandomState(seed)` (legacy
/// seeding, `init_genrand`), with the legacy `shuffle`.
pub(crate) struct Mt19937 {
    mt: [u32; 624],
    index: usize,
}

impl Mt19937 {
    pub(crate) fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        Mt19937 { mt, index: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for k in 0..624 {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % 624] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.mt[k] = self.mt[(k + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// numpy's legacy `random_interval(max)`: uniform in `0..=max` by
    /// masked rejection.
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        loop {
            let v = if max <= 0xffff_ffff {
                u64::from(self.next_u32()) & mask
            } else {
                ((u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())) & mask
            };
            if v <= max {
                return v;
            }
        }
    }

    /// `x = arange(n); RandomState.shuffle(x)`: Fisher-Yates from the end.
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut x: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u64) as usize;
            x.swap(i, j);
        }
        x
    }
}
