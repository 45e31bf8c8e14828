//! Comma-separated floats, with an optional header line and label column.

use std::path::Path;

use super::{DataError, Dataset, read_bytes};

/// Loads a CSV file of numbers (plain or gzip) as one sample per line.
///
/// - **Header**: when the first non-blank line does not parse as numbers it
///   is taken as a header of column names (a header of numbers cannot be told
///   from data and is read as data).
/// - **Label column** (`label_column`): a column name from the header, or a
///   0-based index (negative counts from the end: `"-1"` is the last column).
///   Its cells must be non-negative integers (`3` or `3.0`) and become the
///   labels; the other columns are the features, `dims = [columns - 1]`.
///   Without a label column every column is a feature.
/// - Cells are trimmed and may be wrapped in double quotes; blank lines are
///   skipped. Every line must have the same number of cells.
///
/// A cell that is not a number, NaN or infinite (or beyond the `f32` range)
/// is an error naming its 1-based line and column; an empty file, or one with
/// only a header, is an error too.
pub fn load_csv(path: &Path, label_column: Option<&str>) -> Result<Dataset, DataError> {
    let bytes = read_bytes(path)?;
    parse_csv(path, as_text(path, &bytes)?, label_column)
}

/// The bytes as UTF-8 text (a leading byte-order mark is dropped), or an
/// error naming the line of the first invalid byte.
pub(super) fn as_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, DataError> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(t.strip_prefix('\u{feff}').unwrap_or(t)),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(DataError::csv(path, line, None, "not valid UTF-8 text (is this a binary file?)"))
        }
    }
}

/// The non-blank lines of `text` with their 1-based line numbers.
pub(super) fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty())
}

/// A cell trimmed of white space and of one pair of surrounding double quotes.
pub(super) fn clean(cell: &str) -> &str {
    let c = cell.trim();
    c.strip_prefix('"').and_then(|c| c.strip_suffix('"')).unwrap_or(c).trim()
}

/// Parses CSV text (see [`load_csv`]).
pub(super) fn parse_csv(path: &Path, text: &str, label_column: Option<&str>) -> Result<Dataset, DataError> {
    let mut lines = data_lines(text).peekable();
    let Some(&(first_no, first)) = lines.peek() else {
        return Err(DataError::Empty { path: path.to_path_buf() });
    };
    let first_cells: Vec<&str> = first.split(',').map(clean).collect();
    let has_header = !first_cells.iter().all(|c| c.parse::<f64>().is_ok());
    if has_header {
        lines.next();
    }
    let ncols = first_cells.len();
    let label = match label_column {
        None => None,
        Some(spec) => Some(resolve_label(path, first_no, has_header.then_some(&first_cells), ncols, spec)?),
    };
    let features = ncols - usize::from(label.is_some());
    if features == 0 {
        return Err(DataError::csv(path, first_no, None, "no feature columns besides the label"));
    }
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in lines {
        let count = line.split(',').count();
        if count != ncols {
            return Err(DataError::csv(path, line_no, None, format!("expected {ncols} columns, found {count}")));
        }
        for (c, cell) in line.split(',').map(clean).enumerate() {
            let err = |m: String| DataError::csv(path, line_no, Some(c + 1), m);
            let v: f64 = cell.parse().map_err(|_| err(format!("{cell:?} is not a number")))?;
            if v.is_nan() {
                return Err(err("NaN is not allowed".into()));
            }
            if Some(c) == label {
                if v < 0.0 || v.fract() != 0.0 || v > f64::from(u32::MAX) {
                    return Err(err(format!("label {cell:?} is not a non-negative integer")));
                }
                labels.push(v as u32);
            } else {
                let f = v as f32;
                if !f.is_finite() {
                    return Err(err(format!("{cell:?} is infinite or beyond the f32 range")));
                }
                x.push(f);
            }
        }
    }
    let n = x.len() / features;
    if n == 0 {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(Dataset { x, n, dims: vec![features], labels: label.map(|_| labels) })
}

/// The 0-based index of the label column named or numbered by `spec`.
pub(super) fn resolve_label(
    path: &Path,
    line: usize,
    header: Option<&Vec<&str>>,
    ncols: usize,
    spec: &str,
) -> Result<usize, DataError> {
    if let Some(i) = header.and_then(|h| h.iter().position(|&name| name == spec)) {
        return Ok(i);
    }
    let Ok(i) = spec.trim().parse::<i64>() else {
        let msg = match header {
            Some(h) => format!("label column {spec:?} is not in the header ({})", h.join(", ")),
            None => format!("label column {spec:?} is not an index and the file has no header line"),
        };
        return Err(DataError::csv(path, line, None, msg));
    };
    let index = if i < 0 { ncols as i64 + i } else { i };
    if index < 0 || index >= ncols as i64 {
        let msg = format!("label column index {i} is out of range for {ncols} columns");
        return Err(DataError::csv(path, line, None, msg));
    }
    Ok(index as usize)
}
