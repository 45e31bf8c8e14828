//! Word lists by frequency, and tokenizing many texts through the runtime.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ember_runtime::spec::{Side, TokenizerKind, TokenizerSpec};
use ember_runtime::text::{OOV_ID, PAD_ID, START_ID, Tokenizer, words};
use rayon::prelude::*;

use super::{TextError, check_spec, tokenizer};

/// The `size` most frequent words of `texts`, most frequent first: the word
/// list of a [`TokenizerKind::Vocabulary`] tokenizer whose `vocab` is
/// `reserved + size`.
///
/// Words are those of [`ember_runtime::text::words`]; with `lowercase` ASCII
/// letters are lower-cased first (exactly as the device does, other
/// characters kept). Words of equal count are ordered by their first
/// appearance (text by text, word by word), so the list depends only on the
/// texts and their order. Fewer than `size` distinct words give a shorter
/// list.
pub fn build_vocab<S: AsRef<str> + Sync>(texts: &[S], size: usize, lowercase: bool) -> Vec<String> {
    /// word -> (count, first appearance as (text, word in text))
    type Counts = HashMap<Vec<u8>, (u64, (usize, usize))>;
    const CHUNK: usize = 256;
    let counts: Counts = texts
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut counts = Counts::new();
            let mut buf = Vec::new();
            for (t, text) in chunk.iter().enumerate() {
                for (k, w) in words(text.as_ref()).enumerate() {
                    buf.clear();
                    buf.extend(w.iter().map(|&b| if lowercase { b.to_ascii_lowercase() } else { b }));
                    match counts.get_mut(buf.as_slice()) {
                        Some(entry) => entry.0 += 1,
                        None => {
                            counts.insert(buf.clone(), (1, (c * CHUNK + t, k)));
                        }
                    }
                }
            }
            counts
        })
        .reduce(Counts::new, |a, b| {
            let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            for (w, (n, first)) in small {
                let e = big.entry(w).or_insert((0, first));
                e.0 += n;
                e.1 = e.1.min(first);
            }
            big
        });
    let mut ranked: Vec<_> = counts.into_iter().collect();
    ranked.par_sort_unstable_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    ranked.truncate(size);
    // Words split at ASCII bytes out of a `str` are valid UTF-8.
    ranked.into_iter().map(|(w, _)| String::from_utf8_lossy(&w).into_owned()).collect()
}

/// Tokenizes every text with `spec` (and the word list `vocab` for
/// [`TokenizerKind::Vocabulary`]): `texts.len() * max_len` ids, row after
/// row, identical to [`Tokenizer::encode`] of each text.
///
/// # Errors
/// [`TextError::Spec`] for unusable settings or a missing word list;
/// [`TextError::NoWords`] naming `text i` for the first text without words.
pub fn encode_texts<S: AsRef<str> + Sync>(
    spec: &TokenizerSpec,
    vocab: Option<&[String]>,
    texts: &[S],
) -> Result<Vec<u32>, TextError> {
    check_spec(spec)?;
    if spec.kind == TokenizerKind::Vocabulary && vocab.is_none() {
        return Err(TextError::Spec("a word-list tokenizer needs its word list".into()));
    }
    encode_all(spec, vocab, texts).map_err(|i| TextError::NoWords { where_: format!("text {i}") })
}

/// Keras `pad_sequences` of one sequence: `max_len` ids, cut at the
/// `truncating` side and padded with 0 at the `padding` side of `spec`.
pub fn pad_ids(ids: &[u32], spec: &TokenizerSpec) -> Vec<u32> {
    let mut out = vec![PAD_ID; spec.max_len as usize];
    pad_into(ids, spec, &mut out);
    out
}

/// [`pad_ids`] into `out` (`max_len` long, already filled with padding).
fn pad_into(ids: &[u32], spec: &TokenizerSpec, out: &mut [u32]) {
    let len = out.len();
    let kept = ids.len().min(len);
    let ids = if spec.truncating == Side::Pre { &ids[ids.len() - kept..] } else { &ids[..kept] };
    let at = if spec.padding == Side::Pre { len - kept } else { 0 };
    out[at..at + kept].copy_from_slice(ids);
}

/// Tokenizes every text (see [`encode_texts`]; `vocab` already checked);
/// `Err(i)` names the first text without words.
pub(crate) fn encode_all<S: AsRef<str> + Sync>(
    spec: &TokenizerSpec,
    vocab: Option<&[String]>,
    texts: &[S],
) -> Result<Vec<u32>, usize> {
    let bytes = vocab.map(|v| v.join("\n").into_bytes()).unwrap_or_default();
    let Ok(tok) = tokenizer(spec, &bytes) else {
        // Settings are checked by every caller; no row can be made without them.
        return Err(0);
    };
    if let Some(i) = texts.iter().position(|t| words(t.as_ref()).next().is_none()) {
        return Err(i);
    }
    let len = spec.max_len as usize;
    let mut out = vec![PAD_ID; texts.len() * len];
    match spec.kind {
        TokenizerKind::Hashing => {
            // Hashing is cheap: the runtime's own encode, text by text.
            out.par_chunks_mut(len)
                .zip(texts.par_iter())
                .enumerate()
                .try_for_each(|(i, (row, text))| tok.encode(text.as_ref(), row).map(|_| ()).map_err(|_| i))?;
        }
        TokenizerKind::Vocabulary => {
            // A word-list lookup scans the list: ask the runtime once per
            // distinct word, then assemble rows as `encode` does.
            let ids = distinct_word_ids(&tok, &bytes, texts);
            out.par_chunks_mut(len).zip(texts.par_iter()).for_each_init(Vec::new, |seq, (row, text)| {
                seq.clear();
                if spec.start_token {
                    seq.push(START_ID);
                }
                seq.extend(words(text.as_ref()).map(|w| ids[w]));
                pad_into(seq, spec, row);
            });
        }
    }
    Ok(out)
}

/// The runtime's id of every distinct word of `texts`.
///
/// A word-list lookup in the runtime scans the list, so a word that is not
/// in it costs a full scan. Those words are recognised here first: a word
/// whose (lower-cased, when the settings say so) bytes are not among the
/// list's first `vocab - reserved` entries gets [`OOV_ID`], which is the
/// runtime's documented answer for it (and is checked against the runtime
/// itself in builds with debug assertions, such as the tests). Every other
/// word gets the runtime's [`Tokenizer::word_id`].
fn distinct_word_ids<'t, S: AsRef<str> + Sync>(
    tok: &Tokenizer<'_>,
    list: &[u8],
    texts: &'t [S],
) -> HashMap<&'t [u8], u32> {
    let spec = tok.spec();
    let cap = (spec.vocab - spec.reserved) as usize;
    let listed: HashSet<&[u8]> = list.split(|&b| b == b'\n').take(cap).collect();
    let distinct: HashSet<&[u8]> = texts
        .par_chunks(64)
        .map(|chunk| chunk.iter().flat_map(|t| words(t.as_ref())).collect::<HashSet<&[u8]>>())
        .reduce(HashSet::new, |a, b| {
            let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            big.extend(small);
            big
        });
    let distinct: Vec<&[u8]> = distinct.into_iter().collect();
    distinct
        .par_iter()
        .map(|&w| {
            let key: Cow<[u8]> = if spec.lowercase && w.iter().any(u8::is_ascii_uppercase) {
                w.to_ascii_lowercase().into()
            } else {
                w.into()
            };
            if listed.contains(key.as_ref()) {
                (w, tok.word_id(w))
            } else {
                debug_assert_eq!(
                    tok.word_id(w),
                    OOV_ID,
                    "word {:?} is in the runtime's list",
                    String::from_utf8_lossy(w)
                );
                (w, OOV_ID)
            }
        })
        .collect()
}
