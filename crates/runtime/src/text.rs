//! The tokenizer shared by host and device: text → token ids, no allocation.
//!
//! # Fixed forever
//!
//! Changing anything here changes the ids of every trained model, so these
//! rules are part of the format (`FORMAT.md`):
//!
//! * **Words.** A byte is a separator if it is ASCII whitespace or one of
//!   ``!"#$%&()*+,-./:;<=>?@[\]^_`{|}~`` (Keras `Tokenizer`'s default
//!   filters). Words are the maximal runs of other bytes; the apostrophe and
//!   every non-ASCII byte belong to words, so UTF-8 is never split.
//! * **Case.** With `lowercase`, ASCII `A`–`Z` become `a`–`z`; other
//!   characters are kept (no Unicode tables on a device).
//! * **Hashing** ([`TokenizerKind::Hashing`]): `id = reserved + fnv1a32(word)
//!   % (vocab - reserved)` where [`fnv1a32`] is 32-bit FNV-1a (offset basis
//!   `0x811c9dc5`, prime `0x01000193`) over the (lower-cased) UTF-8 bytes.
//! * **Word list** ([`TokenizerKind::Vocabulary`]): the blob's `vocab`
//!   tensor holds words separated by `\n`; word `k` (from 0) has id
//!   `reserved + k`; a word not in the list, or whose id would be `>= vocab`,
//!   gets [`OOV_ID`].
//! * **Sequence.** With `start_token`, [`START_ID`] comes first. The ids are
//!   then cut to `max_len` (`truncating` = `Pre` drops the beginning, `Post`
//!   the end) and padded with [`PAD_ID`] (`padding` = `Pre` before, `Post`
//!   after), exactly Keras's `pad_sequences`.

use crate::Error;
use crate::spec::{Side, TokenizerKind, TokenizerSpec};

/// Padding id.
pub const PAD_ID: u32 = 0;
/// Start-of-sequence id.
pub const START_ID: u32 = 1;
/// Out-of-vocabulary id.
pub const OOV_ID: u32 = 2;

/// 32-bit FNV-1a of `bytes`, lower-casing ASCII letters first when `lowercase`.
pub fn fnv1a32(bytes: &[u8], lowercase: bool) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        let b = if lowercase { b.to_ascii_lowercase() } else { b };
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Whether `b` separates words.
pub const fn is_separator(b: u8) -> bool {
    b.is_ascii_whitespace() || (b.is_ascii_punctuation() && b != b'\'')
}

/// The words of `text`, in order (see the module docs for the rules).
pub fn words(text: &str) -> impl Iterator<Item = &[u8]> {
    text.as_bytes().split(|&b| is_separator(b)).filter(|w| !w.is_empty())
}

/// A tokenizer bound to its settings (and word list, for
/// [`TokenizerKind::Vocabulary`]).
#[derive(Clone, Copy, Debug)]
pub struct Tokenizer<'a> {
    spec: TokenizerSpec,
    vocab: &'a [u8],
}

impl<'a> Tokenizer<'a> {
    /// Checks the settings; `vocab` is the word list (ignored when hashing).
    pub fn new(spec: TokenizerSpec, vocab: &'a [u8]) -> Result<Self, Error> {
        if spec.reserved < 3 || spec.vocab <= spec.reserved || spec.max_len == 0 {
            return Err(Error::NoTokenizer);
        }
        if spec.kind == TokenizerKind::Vocabulary && core::str::from_utf8(vocab).is_err() {
            return Err(Error::NoTokenizer);
        }
        Ok(Tokenizer { spec, vocab })
    }

    /// The settings.
    pub fn spec(&self) -> &TokenizerSpec {
        &self.spec
    }

    /// The id of one word (never `>= vocab`).
    pub fn word_id(&self, word: &[u8]) -> u32 {
        let s = &self.spec;
        match s.kind {
            TokenizerKind::Hashing => s.reserved + fnv1a32(word, s.lowercase) % (s.vocab - s.reserved),
            TokenizerKind::Vocabulary => {
                let found = self.vocab.split(|&b| b == b'\n').position(|w| {
                    w.len() == word.len()
                        && w.iter().zip(word).all(|(&a, &b)| a == if s.lowercase { b.to_ascii_lowercase() } else { b })
                });
                match found {
                    Some(k) if (k as u64) < (s.vocab - s.reserved) as u64 => s.reserved + k as u32,
                    _ => OOV_ID,
                }
            }
        }
    }

    /// Every id of `text` before padding and truncation (start id included).
    pub fn ids<'t>(&'t self, text: &'t str) -> impl Iterator<Item = u32> + 't {
        let start = self.spec.start_token.then_some(START_ID);
        start.into_iter().chain(words(text).map(|w| self.word_id(w)))
    }

    /// The `max_len` ids of `text`, padded and truncated as the settings say,
    /// without a buffer (firmware feeds them straight into a model input).
    ///
    /// # Errors
    /// [`Error::EmptyText`] if the text has no word.
    pub fn padded<'t>(&'t self, text: &'t str) -> Result<impl Iterator<Item = u32> + 't, Error> {
        let len = self.spec.max_len as usize;
        let n_words = words(text).count();
        if n_words == 0 {
            return Err(Error::EmptyText);
        }
        let total = n_words + self.spec.start_token as usize;
        let kept = total.min(len);
        let skip = if self.spec.truncating == Side::Pre { total - kept } else { 0 };
        let (before, after) = if self.spec.padding == Side::Pre { (len - kept, 0) } else { (0, len - kept) };
        let pad = |n| core::iter::repeat_n(PAD_ID, n);
        Ok(pad(before).chain(self.ids(text).skip(skip).take(kept)).chain(pad(after)))
    }

    /// Tokenizes `text` into exactly `max_len` ids in `out[..max_len]` (see
    /// [`Tokenizer::padded`]). Returns the number of words found.
    ///
    /// # Errors
    /// [`Error::EmptyText`] if the text has no word; [`Error::BufferTooSmall`]
    /// if `out` is shorter than `max_len`.
    pub fn encode(&self, text: &str, out: &mut [u32]) -> Result<usize, Error> {
        let out = out.get_mut(..self.spec.max_len as usize).ok_or(Error::BufferTooSmall)?;
        for (slot, id) in out.iter_mut().zip(self.padded(text)?) {
            *slot = id;
        }
        Ok(words(text).count())
    }
}

/// `T` token ids, each checked to be below `V` (the embedding's vocabulary):
/// the input of a typed text model, whose forward pass is then infallible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenIds<const V: usize, const T: usize>([u32; T]);

impl<const V: usize, const T: usize> TokenIds<V, T> {
    /// Checks every id.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] if an id is `>= V`.
    pub fn new(ids: [u32; T]) -> Result<Self, Error> {
        if ids.iter().any(|&i| i as usize >= V) {
            return Err(Error::TokenOutOfRange);
        }
        Ok(TokenIds(ids))
    }

    /// Copies and checks `T` ids from a slice.
    ///
    /// # Errors
    /// [`Error::InputShape`] if `ids.len() != T`; [`Error::TokenOutOfRange`].
    pub fn from_slice(ids: &[u32]) -> Result<Self, Error> {
        let arr: [u32; T] = ids.try_into().map_err(|_| Error::InputShape)?;
        Self::new(arr)
    }

    /// Tokenizes `text`.
    ///
    /// # Errors
    /// As [`Tokenizer::encode`]; [`Error::InputShape`] if the tokenizer's
    /// `max_len` is not `T`; [`Error::TokenOutOfRange`] if its vocabulary is
    /// larger than `V`.
    pub fn from_text(tokenizer: &Tokenizer<'_>, text: &str) -> Result<Self, Error> {
        if tokenizer.spec().max_len as usize != T {
            return Err(Error::InputShape);
        }
        let mut ids = [PAD_ID; T];
        tokenizer.encode(text, &mut ids)?;
        Self::new(ids)
    }

    /// The ids.
    pub fn ids(&self) -> &[u32; T] {
        &self.0
    }
}

impl<'a> Tokenizer<'a> {
    /// The tokenizer a blob declares, with its word list (the `u8` tensor
    /// named `vocab`) for [`TokenizerKind::Vocabulary`].
    ///
    /// # Errors
    /// [`Error::NoTokenizer`] if the blob has none, or its word list is
    /// missing or not UTF-8.
    pub fn from_blob(blob: &crate::Blob<'a>) -> Result<Self, Error> {
        let spec = blob.header().tokenizer.ok_or(Error::NoTokenizer)?;
        let vocab = match spec.kind {
            TokenizerKind::Hashing => &[][..],
            TokenizerKind::Vocabulary => {
                let i = blob.header().tensors.iter().position(|t| t.name == VOCAB_TENSOR).ok_or(Error::NoTokenizer)?;
                blob.tensor_u8(i).map_err(|_| Error::NoTokenizer)?
            }
        };
        Self::new(spec, vocab)
    }
}

/// Name of the `u8` tensor holding a [`TokenizerKind::Vocabulary`] word list.
pub const VOCAB_TENSOR: &str = "vocab";
