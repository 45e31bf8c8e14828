//! Text data: word lists, tokenizing into padded id sequences, and loaders
//! for the Keras IMDB `.npz`, the `aclImdb` folders, CSV files with a text
//! column, and a synthetic IMDB-shaped generator.
//!
//! # One tokenizer
//!
//! Every text is tokenized by [`ember_runtime::text::Tokenizer`], the very
//! code a device runs, so host and device ids are identical: words are split
//! by [`ember_runtime::text::words`] and get their ids from
//! [`Tokenizer::word_id`](ember_runtime::text::Tokenizer::word_id) (hashing,
//! or the word list stored in the blob as the `vocab` tensor, see
//! [`TextData::vocab_bytes`]). Hashed texts go through
//! [`Tokenizer::encode`](ember_runtime::text::Tokenizer::encode) whole. With
//! a word list, whose lookup scans the list, the host asks the runtime once
//! per *distinct* word and remembers the answer; a word absent from the list
//! gets the out-of-vocabulary id without a scan (the runtime's documented
//! answer, checked against it in builds with debug assertions); padding and
//! truncation then follow Keras's `pad_sequences` ([`pad_ids`]) exactly as
//! `encode` does. The tests check both paths give `encode`'s ids.
//!
//! # Conventions (Keras IMDB)
//!
//! Id 0 pads, 1 starts a sequence (with `start_token`), 2 is
//! out-of-vocabulary; word ids start at `reserved` (3). A word list built by
//! [`build_vocab`] holds the `vocab - reserved` most frequent words, so word
//! `k` of the list has id `reserved + k`.
//!
//! Samples are [`Dataset`]s of shape `[max_len]`, the ids stored as `f32`
//! (exact: the vocabulary is at most 2²⁴), labels always present.

mod acl;
mod csv;
mod error;
mod imdb;
pub mod ngram;
mod npz;
mod pickle;
mod synthetic;
mod vocab;

use ember_runtime::spec::{Side, TokenizerKind, TokenizerSpec};
use ember_runtime::text::Tokenizer;

use crate::Dataset;
use crate::rng::Stream;

pub use acl::{load_acl_imdb, load_acl_imdb_split};
pub use csv::{load_text_csv, load_text_csv_like, read_text_column};
pub use error::TextError;
pub use imdb::{ImdbOptions, KERAS_IMDB_SEED, load_imdb_npz, load_imdb_word_index};
pub use ngram::{
    NgramData, load_ngrams, ngrams_from_mat, ngrams_from_npy, ngrams_from_npz, ngrams_from_str, ngrams_from_text,
    synthetic_corpus,
};
pub use synthetic::synthetic_reviews;
pub use vocab::{build_vocab, encode_texts, pad_ids};

/// The largest vocabulary: ids must be exact in `f32`.
pub const MAX_VOCAB: u32 = 1 << 24;

/// The most classes a text data set may have: a label given as a number
/// (a class number) must be below this, so that a stray huge label is an
/// error naming it rather than billions of class names.
pub const MAX_CLASSES: u32 = 1 << 16;

/// Tokenized, labelled text: the samples, the tokenizer that produced them
/// and its word list, and the class names.
#[derive(Debug, Clone, PartialEq)]
pub struct TextData {
    /// Token ids as `f32`, shape `[n, max_len]`; labels always `Some`.
    pub data: Dataset,
    /// How texts become ids (export this with the model).
    pub tokenizer: TokenizerSpec,
    /// The word list for [`TokenizerKind::Vocabulary`]: word `k` has id
    /// `reserved + k` (an empty entry is a placeholder that matches no word).
    /// `None` when hashing, or when the ids came without their words (an IMDB
    /// `.npz` without its word index, synthetic data).
    pub vocab: Option<Vec<String>>,
    /// Label names; label `i` is `classes[i]`.
    pub classes: Vec<String>,
}

impl TextData {
    /// Tokenizes `texts` with `spec` into a labelled data set.
    ///
    /// With [`TokenizerKind::Vocabulary`], `vocab` is the word list; `None`
    /// builds one from `texts` themselves ([`build_vocab`]). It is cut to
    /// `spec.vocab - spec.reserved` words (later words could never get an
    /// id). With hashing, `vocab` must be `None`.
    ///
    /// # Errors
    /// [`TextError::Spec`] for unusable settings or a word list with a
    /// line break in a word; [`TextError::NoWords`] (naming `text i`) for a
    /// text without words; [`TextError::Data`] if `labels` does not have one
    /// label per text or a label is not below `classes.len()`.
    pub fn from_texts<S: AsRef<str> + Sync>(
        texts: &[S],
        labels: Vec<u32>,
        classes: Vec<String>,
        spec: TokenizerSpec,
        vocab: Option<Vec<String>>,
    ) -> Result<TextData, TextError> {
        check_spec(&spec)?;
        let vocab = match (spec.kind, vocab) {
            (TokenizerKind::Hashing, None) => None,
            (TokenizerKind::Hashing, Some(_)) => {
                return Err(TextError::Spec("a hashing tokenizer takes no word list".into()));
            }
            (TokenizerKind::Vocabulary, Some(v)) => Some(v),
            (TokenizerKind::Vocabulary, None) => {
                Some(build_vocab(texts, (spec.vocab - spec.reserved) as usize, spec.lowercase))
            }
        };
        let vocab = vocab.map(|v| fit_vocab(v, &spec)).transpose()?;
        let ids = vocab::encode_all(&spec, vocab.as_deref(), texts)
            .map_err(|i| TextError::NoWords { where_: format!("text {i}") })?;
        TextData::from_ids(ids, labels, classes, spec, vocab)
    }

    /// Assembles a data set from rows of `max_len` ids (checked to be below
    /// `spec.vocab`), one label per row, each below `classes.len()`; an
    /// error names the first sample (0-based) at fault.
    pub(crate) fn from_ids(
        ids: Vec<u32>,
        labels: Vec<u32>,
        classes: Vec<String>,
        spec: TokenizerSpec,
        vocab: Option<Vec<String>>,
    ) -> Result<TextData, TextError> {
        if let Some(row) = labels.iter().position(|&l| l as usize >= classes.len()) {
            let msg =
                format!("label {} is not below the number of classes {} (sample {row})", labels[row], classes.len());
            return Err(crate::DataError::Invalid(msg).into());
        }
        if let Some(at) = ids.iter().position(|&i| i >= spec.vocab) {
            let row = at / (spec.max_len as usize).max(1);
            let msg = format!("id {} is not below the vocabulary size {} (sample {row})", ids[at], spec.vocab);
            return Err(TextError::Spec(msg));
        }
        let x = ids.into_iter().map(|i| i as f32).collect();
        let data = Dataset::new(x, vec![spec.max_len as usize], Some(labels))?;
        Ok(TextData { data, tokenizer: spec, vocab, classes })
    }

    /// The word list as the bytes of the blob's `vocab` tensor
    /// ([`ember_runtime::text::VOCAB_TENSOR`]): the words joined by `\n`.
    /// `None` when there is no word list.
    pub fn vocab_bytes(&self) -> Option<Vec<u8>> {
        self.vocab.as_ref().map(|v| v.join("\n").into_bytes())
    }

    /// Tokenizes one more text exactly as the samples were (and as the
    /// device will): `max_len` ids.
    ///
    /// # Errors
    /// [`TextError::NoWords`] if the text has no word; [`TextError::Spec`]
    /// if this data has a word-list tokenizer but no word list.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TextError> {
        let bytes = self.vocab_bytes().unwrap_or_default();
        if self.tokenizer.kind == TokenizerKind::Vocabulary && self.vocab.is_none() {
            return Err(TextError::Spec("these ids came without their word list; text cannot be tokenized".into()));
        }
        let tok = tokenizer(&self.tokenizer, &bytes)?;
        let mut out = vec![0; self.tokenizer.max_len as usize];
        tok.encode(text, &mut out).map_err(|_| TextError::NoWords { where_: "text".into() })?;
        Ok(out)
    }

    /// The same samples in a deterministic random order (Fisher-Yates driven
    /// by the fixed ChaCha8 stream of `seed`), for example before a
    /// validation split of a loader's sorted output.
    pub fn shuffled(&self, seed: u64) -> TextData {
        let mut order: Vec<usize> = (0..self.data.len()).collect();
        let mut rng = Stream::new(seed);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        TextData { data: self.data.select(&order), ..self.clone() }
    }
}

/// Keras IMDB settings: a word list of `vocab` ids (3 reserved), lower-case,
/// the start id, `max_len` ids padded and truncated at the front (Keras
/// `pad_sequences` defaults).
pub fn keras_imdb_spec(vocab: u32, max_len: u32) -> TokenizerSpec {
    TokenizerSpec {
        kind: TokenizerKind::Vocabulary,
        vocab,
        reserved: 3,
        lowercase: true,
        start_token: true,
        max_len,
        padding: Side::Pre,
        truncating: Side::Pre,
    }
}

/// Checks the settings the runtime checks, plus the `f32` limit.
pub(crate) fn check_spec(spec: &TokenizerSpec) -> Result<(), TextError> {
    if spec.reserved < 3 {
        return Err(TextError::Spec(format!("reserved is {} but ids 0, 1 and 2 are always reserved", spec.reserved)));
    }
    if spec.vocab <= spec.reserved {
        return Err(TextError::Spec(format!(
            "vocabulary size {} leaves no id for words above the {} reserved ones",
            spec.vocab, spec.reserved
        )));
    }
    if spec.vocab > MAX_VOCAB {
        return Err(TextError::Spec(format!("vocabulary size {} is above {MAX_VOCAB}", spec.vocab)));
    }
    if spec.max_len == 0 {
        return Err(TextError::Spec("max_len is 0".into()));
    }
    tokenizer(spec, b"").map(|_| ())
}

/// The runtime tokenizer for `spec` and the word-list bytes.
pub(crate) fn tokenizer<'a>(spec: &TokenizerSpec, vocab: &'a [u8]) -> Result<Tokenizer<'a>, TextError> {
    Tokenizer::new(*spec, vocab).map_err(|e| TextError::Spec(format!("the runtime rejects the tokenizer: {e}")))
}

/// Cuts a word list to the ids it can use and checks no word holds `\n`.
pub(crate) fn fit_vocab(mut words: Vec<String>, spec: &TokenizerSpec) -> Result<Vec<String>, TextError> {
    if let Some(w) = words.iter().find(|w| w.contains('\n')) {
        return Err(TextError::Spec(format!("word list entry {w:?} contains a line break")));
    }
    words.truncate((spec.vocab - spec.reserved) as usize);
    Ok(words)
}
