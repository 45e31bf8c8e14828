//! CSV files with a text column and a label column.

use std::path::Path;

use ember_runtime::spec::{TokenizerKind, TokenizerSpec};

use super::vocab::{build_vocab, encode_all};
use super::{MAX_CLASSES, TextData, TextError, check_spec};
use crate::read_bytes;

/// Loads a CSV file (plain or gzip) of labelled texts, tokenized by `spec`.
///
/// - The first record is the header; `text_column` and `label_column` name
///   columns of it (other columns are ignored). Fields follow RFC 4180:
///   double-quoted fields may hold commas, line breaks and doubled quotes
///   (`""`). Every record must have as many fields as the header.
/// - **Labels**: when every label cell (trimmed) is a non-negative integer,
///   the labels are those numbers (each below [`MAX_CLASSES`]) and the
///   classes are `"0"` to the largest;
///   otherwise the classes are the distinct label strings, sorted (bytes),
///   and each label is its class's index.
/// - With [`TokenizerKind::Vocabulary`] the word list is built from these
///   texts ([`build_vocab`]).
///
/// # Errors
/// [`TextError::Csv`] for a malformed file, a missing column (the message
/// lists the header), an empty label or a class number of [`MAX_CLASSES`]
/// or more (naming its line); [`TextError::NoWords`] /
/// [`TextError::NotUtf8`] naming the file and line of a text;
/// [`TextError::Data`] if the file cannot be read.
pub fn load_text_csv(
    path: &Path,
    text_column: &str,
    label_column: &str,
    spec: &TokenizerSpec,
) -> Result<TextData, TextError> {
    check_spec(spec)?;
    let rows = read_rows(path, text_column, Some(label_column))?;
    let all_numbers: Option<Vec<u32>> = rows.labels.iter().map(|l| l.parse::<u32>().ok()).collect();
    let (labels, classes) = match all_numbers {
        Some(labels) => {
            if let Some(i) = labels.iter().position(|&l| l >= MAX_CLASSES) {
                let msg =
                    format!("label {} is not below {MAX_CLASSES} (the most classes a data set may have)", labels[i]);
                return Err(TextError::csv(path, Some(rows.lines[i]), msg));
            }
            let max = labels.iter().copied().max().unwrap_or(0);
            (labels, (0..=max).map(|c| c.to_string()).collect())
        }
        None => {
            let mut classes = rows.labels.clone();
            classes.sort_unstable();
            classes.dedup();
            let labels = rows.labels.iter().map(|l| classes.binary_search(l).unwrap_or(0) as u32).collect();
            (labels, classes)
        }
    };
    let vocab = match spec.kind {
        TokenizerKind::Hashing => None,
        TokenizerKind::Vocabulary => {
            Some(build_vocab(&rows.texts, (spec.vocab - spec.reserved) as usize, spec.lowercase))
        }
    };
    finish(path, rows, labels, classes, spec, vocab)
}

/// Loads a CSV file of labelled texts (as [`load_text_csv`]) the way `like`
/// was loaded: with its tokenizer, its word list and its classes, for
/// example a test file after its training file.
///
/// A label cell (trimmed) that is one of `like.classes` gets its index;
/// otherwise an integer below the number of classes is taken as the label.
///
/// # Errors
/// As [`load_text_csv`]; [`TextError::Csv`] for a label that is not a class
/// of `like`; [`TextError::Spec`] if `like` has a word-list tokenizer but no
/// word list.
pub fn load_text_csv_like(
    path: &Path,
    text_column: &str,
    label_column: &str,
    like: &TextData,
) -> Result<TextData, TextError> {
    let spec = &like.tokenizer;
    check_spec(spec)?;
    if spec.kind == TokenizerKind::Vocabulary && like.vocab.is_none() {
        return Err(TextError::Spec("the data to imitate has a word-list tokenizer but no word list".into()));
    }
    let rows = read_rows(path, text_column, Some(label_column))?;
    let classes = &like.classes;
    let mut labels = Vec::with_capacity(rows.labels.len());
    for (label, &line) in rows.labels.iter().zip(&rows.lines) {
        let by_name = classes.iter().position(|c| c == label);
        let by_number = label.parse::<usize>().ok().filter(|&i| i < classes.len());
        let Some(i) = by_name.or(by_number) else {
            let msg = format!("label {label:?} is not one of the classes ({})", classes.join(", "));
            return Err(TextError::csv(path, Some(line), msg));
        };
        labels.push(i as u32);
    }
    finish(path, rows, labels, classes.clone(), spec, like.vocab.clone())
}

/// Tokenizes the rows into the result.
fn finish(
    path: &Path,
    rows: Rows,
    labels: Vec<u32>,
    classes: Vec<String>,
    spec: &TokenizerSpec,
    vocab: Option<Vec<String>>,
) -> Result<TextData, TextError> {
    let ids = encode_all(spec, vocab.as_deref(), &rows.texts)
        .map_err(|i| TextError::NoWords { where_: format!("{}, line {}", path.display(), rows.lines[i]) })?;
    TextData::from_ids(ids, labels, classes, *spec, vocab)
}

/// The texts, the trimmed label cells, and the line each record starts on.
struct Rows {
    texts: Vec<String>,
    labels: Vec<String>,
    lines: Vec<u64>,
}

/// The cells of one text column of a CSV file (plain or gzip, read as
/// [`load_text_csv`] reads it) and the line each record starts on: texts to
/// predict, without labels.
///
/// # Errors
/// [`TextError::Csv`] for a malformed file, a missing column (the message
/// lists the header) or no data row; [`TextError::NotUtf8`] naming the line.
pub fn read_text_column(path: &Path, text_column: &str) -> Result<(Vec<String>, Vec<u64>), TextError> {
    let rows = read_rows(path, text_column, None)?;
    Ok((rows.texts, rows.lines))
}

fn read_rows(path: &Path, text_column: &str, label_column: Option<&str>) -> Result<Rows, TextError> {
    let bytes = read_bytes(path)?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line());
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("expected {expected_len} fields like the header, found {len}")
            }
            _ => e.to_string(),
        };
        TextError::csv(path, line, message)
    };
    let header: Vec<String> =
        reader.byte_headers().map_err(csv_err)?.iter().map(|h| String::from_utf8_lossy(h).trim().to_string()).collect();
    if header.iter().all(String::is_empty) {
        return Err(TextError::csv(path, None, "the file is empty (no header line)"));
    }
    let column = |name: &str, role: &str| {
        header.iter().position(|h| h == name.trim()).ok_or_else(|| {
            TextError::csv(path, Some(1), format!("no {role} column named {name:?} (columns: {})", header.join(", ")))
        })
    };
    let ti = column(text_column, "text")?;
    let li = label_column.map(|l| column(l, "label").map(|i| (l, i))).transpose()?;
    let mut rows = Rows { texts: Vec::new(), labels: Vec::new(), lines: Vec::new() };
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let line = record.position().map_or(0, |p| p.line());
        let where_ = || format!("{}, line {line}", path.display());
        let Some(text) = record.get(ti) else {
            return Err(TextError::csv(path, Some(line), "record is missing the text field"));
        };
        let text = std::str::from_utf8(text).map_err(|_| TextError::NotUtf8 { where_: where_() })?;
        if let Some((label_column, li)) = li {
            let Some(label) = record.get(li) else {
                return Err(TextError::csv(path, Some(line), "record is missing the label field"));
            };
            let label = std::str::from_utf8(label).map_err(|_| TextError::NotUtf8 { where_: where_() })?.trim();
            if label.is_empty() {
                return Err(TextError::csv(path, Some(line), format!("empty label in column {label_column:?}")));
            }
            rows.labels.push(label.to_string());
        }
        rows.texts.push(text.to_string());
        rows.lines.push(line);
    }
    if rows.texts.is_empty() {
        return Err(TextError::csv(path, None, "no data rows after the header"));
    }
    Ok(rows)
}
