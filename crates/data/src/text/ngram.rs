//! N-gram windows for word embeddings (predict the last word of each window
//! from the ones before it): from text, from the classic course `.mat`
//! file, from `.npy` / `.npz` arrays, and a synthetic corpus with planted
//! word groups.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use ember_runtime::text::words;

use super::vocab::build_vocab;
use super::{MAX_VOCAB, TextError};
use crate::npy::{NpyError, parse_npy};
use crate::rng::Stream;
use crate::{MatValue, read_bytes, read_mat};

/// Windows of `n` word ids (the first `n - 1` are the context, the last the
/// word to predict), flattened row-major, and the words the ids name.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramData {
    /// The vocabulary: id `i` is `words[i]`.
    pub words: Vec<String>,
    /// Training windows, `n` ids each, one after another.
    pub train: Vec<u32>,
    /// Validation windows (empty when the source has none: the trainer
    /// splits `train`).
    pub valid: Vec<u32>,
    /// Test windows (empty when the source has none).
    pub test: Vec<u32>,
    /// Ids per window (context + 1).
    pub n: usize,
}

impl NgramData {
    /// The windows of `split` (one of `train`, `valid`, `test`), `n` ids each.
    pub fn windows<'a>(&self, split: &'a [u32]) -> std::slice::ChunksExact<'a, u32> {
        split.chunks_exact(self.n.max(1))
    }

    /// The vocabulary as the bytes of the blob's `vocab` asset: the words
    /// joined by `\n`.
    pub fn vocab_bytes(&self) -> Vec<u8> {
        self.words.join("\n").into_bytes()
    }
}

/// Loads n-gram windows from `path`, by its kind:
///
/// * a folder, or a file ending in `.txt` / `.txt.gz`: text, see
///   [`ngrams_from_text`] (`vocab_size` applies to text only);
/// * `.mat`: [`ngrams_from_mat`]; `.npy` / `.npy.gz`: [`ngrams_from_npy`];
///   `.npz`: [`ngrams_from_npz`];
/// * any other name: by content (`\x93NUMPY` is `.npy`, a zip archive is
///   `.npz`, the MAT-file endian indicator at byte 126 is `.mat`), else text.
///
/// With array files `n = 0` takes the window length stored in the file.
///
/// # Errors
/// Those of the loader chosen.
pub fn load_ngrams(path: &Path, vocab_size: usize, n: usize) -> Result<NgramData, TextError> {
    if path.is_dir() {
        return ngrams_from_text(path, vocab_size, n);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let ends = |s: &[&str]| s.iter().any(|e| name.ends_with(e));
    if ends(&[".txt", ".txt.gz"]) {
        return ngrams_from_text(path, vocab_size, n);
    }
    if ends(&[".mat"]) {
        return ngrams_from_mat(path, n);
    }
    if ends(&[".npy", ".npy.gz"]) {
        return ngrams_from_npy(path, n);
    }
    if ends(&[".npz"]) {
        return ngrams_from_npz(path, n);
    }
    let bytes = read_bytes(path)?;
    if bytes.starts_with(b"\x93NUMPY") {
        ngrams_from_npy(path, n)
    } else if bytes.starts_with(b"PK\x03\x04") {
        ngrams_from_npz(path, n)
    } else if bytes.len() >= 128 && matches!(&bytes[126..128], b"IM" | b"MI") {
        ngrams_from_mat(path, n)
    } else {
        ngrams_from_text(path, vocab_size, n)
    }
}

/// N-grams of a text file (plain or gzip), or of every `.txt` / `.txt.gz`
/// file of a folder (in sorted file-name order).
///
/// Words are those of [`ember_runtime::text::words`] (the device's
/// splitter), ASCII letters lower-cased. The vocabulary is the
/// `vocab_size` most frequent words, most frequent first, ties broken by
/// first appearance ([`build_vocab`] over the lines). Every run of `n`
/// consecutive words *within one line* is a window; a window with a word
/// outside the vocabulary is dropped. All windows go to `train`, in order.
///
/// # Errors
/// [`TextError::NgramSettings`] for `n < 2` or a `vocab_size` of 0 or above
/// [`MAX_VOCAB`]; [`TextError::Folder`] for a folder without `.txt` files;
/// [`TextError::Io`] / [`TextError::Data`] for unreadable files;
/// [`TextError::NotUtf8`] naming the file and line; [`TextError::NoWords`]
/// for a corpus without words; [`TextError::Layout`] when no window is left.
pub fn ngrams_from_text(path: &Path, vocab_size: usize, n: usize) -> Result<NgramData, TextError> {
    check_text_settings(vocab_size, n)?;
    let files = text_files(path)?;
    let mut texts = Vec::with_capacity(files.len());
    for f in &files {
        texts.push(read_text(f)?);
    }
    let lines: Vec<&str> = texts.iter().flat_map(|t| t.lines()).collect();
    ngrams_from_lines(&lines, vocab_size, n, &path.display().to_string())
}

/// N-grams of `text` held in memory (for example [`synthetic_corpus`]),
/// exactly as [`ngrams_from_text`] makes them from a file holding `text`.
///
/// # Errors
/// As [`ngrams_from_text`], naming the text `text`.
pub fn ngrams_from_str(text: &str, vocab_size: usize, n: usize) -> Result<NgramData, TextError> {
    check_text_settings(vocab_size, n)?;
    let lines: Vec<&str> = text.lines().collect();
    ngrams_from_lines(&lines, vocab_size, n, "text")
}

/// Checks `n` and `vocab_size` for a text source.
fn check_text_settings(vocab_size: usize, n: usize) -> Result<(), TextError> {
    if n < 2 {
        return Err(TextError::NgramSettings(format!("a window needs at least 2 words (context + 1), got n = {n}")));
    }
    if vocab_size == 0 || vocab_size > MAX_VOCAB as usize {
        return Err(TextError::NgramSettings(format!("vocabulary size {vocab_size} is not in 1..={MAX_VOCAB}")));
    }
    Ok(())
}

/// The windows of `lines` (see [`ngrams_from_text`]); `source` names them in errors.
fn ngrams_from_lines(lines: &[&str], vocab_size: usize, n: usize, source: &str) -> Result<NgramData, TextError> {
    let vocab = build_vocab(lines, vocab_size, true);
    if vocab.is_empty() {
        return Err(TextError::NoWords { where_: source.to_string() });
    }
    let index: HashMap<&str, u32> = vocab.iter().enumerate().map(|(i, w)| (w.as_str(), i as u32)).collect();
    let mut train = Vec::new();
    let mut ids: Vec<Option<u32>> = Vec::new();
    let mut buf = String::new();
    for line in lines {
        ids.clear();
        for w in words(line) {
            buf.clear();
            buf.extend(String::from_utf8_lossy(w).chars().map(|c| c.to_ascii_lowercase()));
            ids.push(index.get(buf.as_str()).copied());
        }
        for window in ids.windows(n) {
            if window.iter().all(Option::is_some) {
                train.extend(window.iter().flatten());
            }
        }
    }
    if train.is_empty() {
        return Err(TextError::layout(
            Path::new(source),
            format!(
                "no window: no line has {n} consecutive words that are all among the {} vocabulary words",
                vocab.len()
            ),
        ));
    }
    Ok(NgramData { words: vocab, train, valid: Vec::new(), test: Vec::new(), n })
}

/// The file itself, or the sorted `.txt` / `.txt.gz` files of a folder.
fn text_files(path: &Path) -> Result<Vec<PathBuf>, TextError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| TextError::io(path, e))? {
        let p = entry.map_err(|e| TextError::io(path, e))?.path();
        let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if p.is_file() && (name.ends_with(".txt") || name.ends_with(".txt.gz")) {
            files.push(p);
        }
    }
    if files.is_empty() {
        return Err(TextError::Folder { path: path.to_path_buf(), message: "no .txt file in the folder".into() });
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// A whole text file (plain or gzip) as UTF-8, without a byte-order mark.
fn read_text(path: &Path) -> Result<String, TextError> {
    let bytes = read_bytes(path)?;
    match String::from_utf8(bytes) {
        Ok(t) => Ok(t.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(t)),
        Err(e) => {
            let bytes = e.as_bytes();
            let line = bytes[..e.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(TextError::NotUtf8 { where_: format!("{}, line {line}", path.display()) })
        }
    }
}

/// N-grams of a MAT-file shaped like the classic neural-networks course
/// file `data.mat`: a struct variable `data` with fields `trainData`,
/// `validData`, `testData` (numeric `[n, N]`, one column per n-gram, ids
/// 1-based) and `vocab` (a `1 × V` cell of char rows, or a char matrix
/// whose rows are trimmed of trailing spaces). The same names as top-level
/// variables work too when there is no `data` struct; `validData` and
/// `testData` may be absent.
///
/// Ids become 0-based. An array of shape `[N, n]` (one row per n-gram) is
/// accepted when its first dimension is not `n`. `n = 0` takes the number
/// of rows of `trainData`.
///
/// # Errors
/// [`TextError::Data`] for an unreadable MAT-file; [`TextError::Layout`]
/// for a missing or mistyped variable, a shape that fits neither layout, or
/// an id that is not an integer in `1..=V` (naming the array and n-gram).
pub fn ngrams_from_mat(path: &Path, n: usize) -> Result<NgramData, TextError> {
    let vars = read_mat(path)?;
    let data = vars.iter().find(|(name, v)| name == "data" && matches!(v, MatValue::Struct { .. }));
    let get = |name: &str| -> Option<&MatValue> {
        match data {
            Some((_, d)) => d.field(name),
            None => vars.iter().find(|(v, _)| v == name).map(|(_, v)| v),
        }
    };
    let layout = |m: String| TextError::layout(path, m);
    let found = || match data {
        Some((_, MatValue::Struct { fields, .. })) => {
            format!(
                "struct `data` has fields: {}",
                fields.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", ")
            )
        }
        _ => format!("variables: {}", vars.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>().join(", ")),
    };
    let vocab = get("vocab").ok_or_else(|| layout(format!("no `vocab` ({})", found())))?;
    let words = mat_words(vocab, |m| layout(format!("vocab: {m}")))?;
    let v = words.len();
    let train_value = get("trainData").ok_or_else(|| layout(format!("no `trainData` ({})", found())))?;
    let n = if n == 0 { train_value.dims().first().copied().unwrap_or(0) } else { n };
    if n < 2 {
        return Err(TextError::NgramSettings(format!("windows of {n} ids leave no context word")));
    }
    let split = |name: &str| -> Result<Vec<u32>, TextError> {
        let Some(value) = get(name) else { return Ok(Vec::new()) };
        let ids = mat_windows(value, n, |m| layout(format!("{name}: {m}")))?;
        ids.into_iter()
            .enumerate()
            .map(|(i, id)| {
                if id.fract() == 0.0 && id >= 1.0 && id <= v as f64 {
                    Ok(id as u32 - 1)
                } else {
                    Err(layout(format!(
                        "{name}, n-gram {}: id {id} is not in 1..={v} (ids are 1-based indices into vocab)",
                        i / n + 1
                    )))
                }
            })
            .collect()
    };
    let (train, valid, test) = (split("trainData")?, split("validData")?, split("testData")?);
    if train.is_empty() {
        return Err(layout("trainData holds no n-gram".into()));
    }
    Ok(NgramData { words, train, valid, test, n })
}

/// The words of a MAT `vocab`: a cell of char arrays or a char matrix;
/// `fail` turns what is wrong into the error.
fn mat_words(vocab: &MatValue, fail: impl Fn(String) -> TextError) -> Result<Vec<String>, TextError> {
    let words: Vec<String> = match vocab {
        MatValue::Cell { items, .. } => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                MatValue::Char { .. } => Ok(item.as_text().unwrap_or_default()),
                other => Err(fail(format!("cell {} is {} (expected char)", i + 1, other.kind()))),
            })
            .collect::<Result<_, _>>()?,
        MatValue::Char { text, .. } => text.iter().map(|r| r.trim_end_matches(' ').to_string()).collect(),
        other => return Err(fail(format!("is {} (expected a cell of char or a char matrix)", other.kind()))),
    };
    check_words(&words, fail)?;
    Ok(words)
}

/// Checks that a vocabulary is usable: not empty, not too large, no word
/// with a line break (the blob stores one word per line); `fail` turns
/// what is wrong into the error.
fn check_words(words: &[String], fail: impl Fn(String) -> TextError) -> Result<(), TextError> {
    if words.is_empty() {
        return Err(fail("the vocabulary is empty".into()));
    }
    if words.len() > MAX_VOCAB as usize {
        return Err(fail(format!("{} words are more than {MAX_VOCAB}", words.len())));
    }
    if let Some(w) = words.iter().find(|w| w.contains(['\n', '\r'])) {
        return Err(fail(format!("word {w:?} contains a line break")));
    }
    Ok(())
}

/// The ids of a numeric MAT array, window after window (`[n, N]` columns or
/// `[N, n]` rows); `fail` turns what is wrong into the error.
fn mat_windows(value: &MatValue, n: usize, fail: impl Fn(String) -> TextError) -> Result<Vec<f64>, TextError> {
    let MatValue::Numeric { dims, data } = value else {
        return Err(fail(format!("is {} (expected a numeric array of ids)", value.kind())));
    };
    let shape_err = || format!("shape {dims:?} is neither [{n}, N] (one column per n-gram) nor [N, {n}]");
    if n == 0 || dims.len() < 2 || dims[2..].iter().any(|&d| d != 1) {
        return Err(fail(shape_err()));
    }
    let (rows, cols) = (dims[0], dims[1]);
    if rows == n {
        // Column-major: column j (one n-gram) is contiguous.
        Ok(data.clone())
    } else if cols == n {
        Ok((0..rows).flat_map(|i| (0..n).map(move |k| data[i + k * rows])).collect())
    } else {
        Err(fail(shape_err()))
    }
}

/// N-grams of a `.npy` file (plain or gzip): an integer array (or floats
/// holding integers) of shape `[N, n]`, 0-based ids, all in `train`. The
/// words are the ids as text (`"0"`, `"1"`, … up to the largest id). `n =
/// 0` takes the second dimension.
///
/// # Errors
/// [`TextError::Npy`] / [`TextError::Data`] for an unreadable file;
/// [`TextError::Layout`] for another shape or a value that is not an
/// integer in `0..2^24`; [`TextError::NgramSettings`] for a window length
/// below 2.
pub fn ngrams_from_npy(path: &Path, n: usize) -> Result<NgramData, TextError> {
    let bytes = read_bytes(path)?;
    let (train, n) = npy_windows(path, &bytes, n)?;
    if train.is_empty() {
        return Err(TextError::layout(path, "the array holds no n-gram"));
    }
    let words = numbered_words(&[&train]);
    Ok(NgramData { words, train, valid: Vec::new(), test: Vec::new(), n })
}

/// N-grams of a `.npz` archive: `train` (or `trainData`), optional `valid`
/// (`validData`) and `test` (`testData`), each as in [`ngrams_from_npy`]
/// and of the same window length, and an optional `vocab`: a
/// one-dimensional array of NumPy strings (`np.array(words)`, dtype `<U…`,
/// or bytes `|S…` holding UTF-8). Without `vocab` the words are the ids as
/// text; with it every id must be below its length.
///
/// # Errors
/// [`TextError::Zip`] for an unreadable archive, [`TextError::MissingMember`]
/// without a training array, [`TextError::Npy`] and [`TextError::Layout`]
/// (naming `archive.npz:member.npy`) for a bad array, vocabulary or id.
pub fn ngrams_from_npz(path: &Path, n: usize) -> Result<NgramData, TextError> {
    let bytes = read_bytes(path)?;
    let zip_err = |m: String| TextError::Zip { path: path.to_path_buf(), message: m };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_err(e.to_string()))?;
    let mut names: Vec<String> =
        archive.file_names().map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string()).collect();
    names.sort();
    let pick = |choices: &[&str]| choices.iter().find(|c| names.iter().any(|n| n == *c)).map(|c| c.to_string());
    let Some(train_name) = pick(&["train", "trainData"]) else {
        return Err(TextError::MissingMember {
            path: path.to_path_buf(),
            member: "train".into(),
            found: names.clone(),
        });
    };
    let member_path = |name: &str| PathBuf::from(format!("{}:{name}.npy", path.display()));
    let mut member = |name: &str| -> Result<Vec<u8>, TextError> {
        let file =
            if archive.index_for_name(&format!("{name}.npy")).is_some() { format!("{name}.npy") } else { name.into() };
        let mp = member_path(name);
        let mut f = archive.by_name(&file).map_err(|e| TextError::Zip { path: mp.clone(), message: e.to_string() })?;
        let size = f.size();
        let mut out = Vec::with_capacity(size.min(1 << 26) as usize);
        (&mut f)
            .take(size)
            .read_to_end(&mut out)
            .map_err(|e| TextError::Zip { path: mp.clone(), message: format!("cannot decompress: {e}") })?;
        Ok(out)
    };
    let (train, n) = npy_windows(&member_path(&train_name), &member(&train_name)?, n)?;
    if train.is_empty() {
        return Err(TextError::layout(&member_path(&train_name), "the array holds no n-gram"));
    }
    let mut other = |choices: &[&str]| -> Result<Vec<u32>, TextError> {
        let Some(name) = pick(choices) else { return Ok(Vec::new()) };
        let (ids, m) = npy_windows(&member_path(&name), &member(&name)?, n)?;
        if m != n {
            return Err(TextError::layout(&member_path(&name), format!("windows of {m} ids, but train has {n}")));
        }
        Ok(ids)
    };
    let (valid, test) = (other(&["valid", "validData"])?, other(&["test", "testData"])?);
    let words = match names.iter().any(|n| n == "vocab") {
        true => {
            let vp = member_path("vocab");
            let words = npy_strings(&vp, &member("vocab")?)?;
            check_words(&words, |m| TextError::layout(&vp, m))?;
            for (split, ids) in [("train", &train), ("valid", &valid), ("test", &test)] {
                if let Some(pos) = ids.iter().position(|&id| id as usize >= words.len()) {
                    return Err(TextError::layout(
                        path,
                        format!(
                            "{split}, n-gram {}: id {} is not below the vocabulary size {}",
                            pos / n + 1,
                            ids[pos],
                            words.len()
                        ),
                    ));
                }
            }
            words
        }
        false => numbered_words(&[&train, &valid, &test]),
    };
    Ok(NgramData { words, train, valid, test, n })
}

/// The words `"0"`, `"1"`, … up to the largest id of `splits`.
fn numbered_words(splits: &[&[u32]]) -> Vec<String> {
    let max = splits.iter().flat_map(|s| s.iter()).max().map_or(0, |&m| m as usize + 1);
    (0..max).map(|i| i.to_string()).collect()
}

/// A `.npy` array `[N, n]` of 0-based ids, and its `n`.
fn npy_windows(path: &Path, bytes: &[u8], n: usize) -> Result<(Vec<u32>, usize), TextError> {
    let (shape, values) = parse_npy(path, bytes)?;
    let &[_, cols] = shape.as_slice() else {
        return Err(TextError::layout(path, format!("shape {shape:?}; expected [N, n], one n-gram per row")));
    };
    let n = if n == 0 { cols } else { n };
    if cols != n {
        return Err(TextError::layout(path, format!("shape {shape:?} has windows of {cols} ids, not {n}")));
    }
    if n < 2 {
        return Err(TextError::NgramSettings(format!("windows of {n} ids leave no context word")));
    }
    let ids = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.fract() == 0.0 && (0.0..MAX_VOCAB as f32).contains(&v) {
                Ok(v as u32)
            } else {
                let msg = format!("n-gram {}: value {v} is not an id (an integer in 0..{MAX_VOCAB})", i / n + 1);
                Err(TextError::layout(path, msg))
            }
        })
        .collect::<Result<Vec<u32>, _>>()?;
    Ok((ids, n))
}

/// A one-dimensional `.npy` array of strings: NumPy unicode (`<U…` or
/// `>U…`, UTF-32 of a fixed width, trailing NULs dropped) or bytes (`|S…`,
/// UTF-8, trailing NULs dropped).
pub(crate) fn npy_strings(path: &Path, bytes: &[u8]) -> Result<Vec<String>, TextError> {
    let layout = |m: String| TextError::layout(path, m);
    let descr = match parse_npy(path, bytes) {
        Ok((shape, _)) => {
            return Err(layout(format!("a numeric array of shape {shape:?}; expected strings (np.array(words))")));
        }
        Err(NpyError::UnsupportedDtype { descr, .. }) => descr,
        Err(e) => return Err(e.into()),
    };
    let (big, unit, width) = match descr.as_bytes() {
        [e @ (b'<' | b'>' | b'='), b'U', w @ ..] => (*e == b'>', 4usize, w),
        [b'|' | b'<' | b'>' | b'=', b'S', w @ ..] => (false, 1usize, w),
        _ => {
            return Err(layout(format!(
                "dtype {descr:?} is not a string array; save the words as np.array(words) (dtype <U)"
            )));
        }
    };
    let width: usize = std::str::from_utf8(width)
        .ok()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| layout(format!("dtype {descr:?} has no string width")))?;
    let (header_text, start) = npy_header(bytes).ok_or_else(|| layout("truncated header".into()))?;
    let shape = header_shape(header_text).ok_or_else(|| layout("header has no readable 'shape'".into()))?;
    let count = match shape.as_slice() {
        [c] => *c,
        [1, c] | [c, 1] => *c,
        _ => return Err(layout(format!("strings of shape {shape:?}; expected one dimension"))),
    };
    if count > MAX_VOCAB as usize {
        return Err(layout(format!("{count} strings are more than {MAX_VOCAB}")));
    }
    let item = width.checked_mul(unit).ok_or_else(|| layout(format!("dtype {descr:?} is too wide")))?;
    let data = &bytes[start..];
    if count.checked_mul(item) != Some(data.len()) {
        return Err(layout(format!(
            "{count} strings of dtype {descr:?} need {} bytes of data but {} are present",
            count.saturating_mul(item),
            data.len()
        )));
    }
    if item == 0 {
        return Ok(vec![String::new(); count]);
    }
    data.chunks_exact(item)
        .enumerate()
        .map(|(i, s)| {
            let bad = |what: &str| layout(format!("string {i} is not valid {what}"));
            if unit == 1 {
                let end = s.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                std::str::from_utf8(&s[..end]).map(str::to_string).map_err(|_| bad("UTF-8"))
            } else {
                let mut chars: Vec<u32> = s
                    .chunks_exact(4)
                    .map(|c| {
                        let a = [c[0], c[1], c[2], c[3]];
                        if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
                    })
                    .collect();
                while chars.last() == Some(&0) {
                    chars.pop();
                }
                chars.into_iter().map(|c| char::from_u32(c).ok_or_else(|| bad("UTF-32"))).collect()
            }
        })
        .collect()
}

/// The header dictionary text of a `.npy` file and where the data starts.
fn npy_header(bytes: &[u8]) -> Option<(&str, usize)> {
    let (len, start): (usize, usize) = match bytes.get(6..)? {
        [1, _, a, b, ..] => (usize::from(u16::from_le_bytes([*a, *b])), 10),
        [2 | 3, _, a, b, c, d, ..] => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, 12),
        _ => return None,
    };
    let end = start.checked_add(len).filter(|&e| e <= bytes.len())?;
    Some((std::str::from_utf8(&bytes[start..end]).ok()?, end))
}

/// The `'shape': (…)` tuple of a `.npy` header dictionary.
fn header_shape(header: &str) -> Option<Vec<usize>> {
    let after = &header[header.find("'shape'").or_else(|| header.find("\"shape\""))?..];
    let open = after.find('(')?;
    let close = after[open..].find(')')? + open;
    after[open + 1..close].split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().ok()).collect()
}

/// The animals of [`synthetic_corpus`]: interchangeable in every sentence.
pub const ANIMALS: [&str; 6] = ["cat", "dog", "horse", "sheep", "goat", "cow"];
/// The foods of [`synthetic_corpus`]: interchangeable in every sentence.
pub const FOODS: [&str; 6] = ["bread", "cheese", "apples", "rice", "soup", "beans"];
/// The places of [`synthetic_corpus`]: interchangeable in every sentence.
pub const PLACES: [&str; 6] = ["kitchen", "garden", "park", "forest", "market", "village"];
/// The planted word groups of [`synthetic_corpus`]: words of one group
/// appear in exactly the same contexts, so learned embeddings should put
/// them next to each other.
pub const WORD_GROUPS: [&[&str]; 3] = [&ANIMALS, &FOODS, &PLACES];
/// The sentence templates of [`synthetic_corpus`]: `{animal}`, `{food}` and
/// `{place}` are filled with a uniformly drawn word of [`ANIMALS`],
/// [`FOODS`] and [`PLACES`]; the other words are fillers.
pub const TEMPLATES: [&str; 6] = [
    "the {animal} eats the {food} in the {place}",
    "a {animal} sleeps near the {place}",
    "we found some {food} at the {place}",
    "every day the {animal} likes {food}",
    "the {place} is where the {animal} eats {food}",
    "the {animal} and the {animal} walk to the {place}",
];

/// A generated corpus of `lines` sentences, one per line (each line ends
/// with `\n`), deterministic from `seed` (the fixed ChaCha8 stream of the
/// data generators): each line is a uniformly drawn template of
/// [`TEMPLATES`] with its slots filled (see there).
pub fn synthetic_corpus(lines: usize, seed: u64) -> String {
    let mut rng = Stream::new(seed);
    let mut out = String::new();
    for _ in 0..lines {
        let template = TEMPLATES[rng.below(TEMPLATES.len())];
        for (i, token) in template.split(' ').enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let group: Option<&[&str]> = match token {
                "{animal}" => Some(&ANIMALS),
                "{food}" => Some(&FOODS),
                "{place}" => Some(&PLACES),
                _ => None,
            };
            out.push_str(match group {
                Some(g) => g[rng.below(g.len())],
                None => token,
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_corpus_fills_every_slot_from_its_group() {
        let text = synthetic_corpus(300, 3);
        assert_eq!(text, synthetic_corpus(300, 3));
        assert_ne!(text, synthetic_corpus(300, 4));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 300);
        for line in &lines {
            let w: Vec<&str> = line.split(' ').collect();
            let fits = TEMPLATES.iter().any(|t| {
                let t: Vec<&str> = t.split(' ').collect();
                t.len() == w.len()
                    && t.iter().zip(&w).all(|(t, w)| match *t {
                        "{animal}" => ANIMALS.contains(w),
                        "{food}" => FOODS.contains(w),
                        "{place}" => PLACES.contains(w),
                        _ => t == w,
                    })
            });
            assert!(fits, "{line:?} fits no template");
        }
        for group in WORD_GROUPS {
            for w in group {
                assert!(lines.iter().any(|l| l.split(' ').any(|x| x == *w)), "{w} never appears");
            }
        }
    }

    #[test]
    fn header_shapes() {
        assert_eq!(header_shape("{'descr': '<U5', 'fortran_order': False, 'shape': (3,), }"), Some(vec![3]));
        assert_eq!(header_shape("{'shape': (), 'descr': '<U5'}"), Some(vec![]));
        assert_eq!(header_shape("{'shape': (2, 4), }"), Some(vec![2, 4]));
        assert_eq!(header_shape("{'shape': (x,), }"), None);
    }
}
