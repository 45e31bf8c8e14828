//! Labelled data for classifiers and regressors on features, images and
//! time series: a CSV file with a label (or target) column, and a folder per
//! class of one-sample files.
//!
//! A sample's values are row-major in its `dims`; a time series is
//! `[steps, channels]`, time-major (all channels of step 0, then step 1, ...).

use std::path::{Path, PathBuf};

use super::csv::{as_text, clean, data_lines, resolve_label};
use super::{DataError, Dataset, read_bytes};

/// Samples with one class index each, and the names of the classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Labeled {
    /// The samples; `labels` holds one class index per sample, each below `classes.len()`.
    pub data: Dataset,
    /// Class names, indexed by label.
    pub classes: Vec<String>,
}

/// Samples with numeric targets (one or more per sample).
#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    /// The inputs (no labels).
    pub x: Dataset,
    /// Targets, row-major `[n, names.len()]`.
    pub y: Vec<f32>,
    /// Target names (column names, or `target` for generated data).
    pub names: Vec<String>,
}

/// The header (if any) and the cells of every data line, with line numbers.
struct Table<'a> {
    header: Option<Vec<&'a str>>,
    rows: Vec<(usize, Vec<&'a str>)>,
    first_line: usize,
}

fn read_table<'a>(path: &Path, text: &'a str) -> Result<Table<'a>, DataError> {
    let mut lines = data_lines(text).peekable();
    let Some(&(first_line, first)) = lines.peek() else {
        return Err(DataError::Empty { path: path.to_path_buf() });
    };
    let first_cells: Vec<&str> = first.split(',').map(clean).collect();
    // A first line that is not all numbers is a header of column names.
    let header = (!first_cells.iter().all(|c| c.parse::<f64>().is_ok())).then_some(first_cells);
    if header.is_some() {
        lines.next();
    }
    let rows: Vec<(usize, Vec<&str>)> = lines.map(|(no, l)| (no, l.split(',').map(clean).collect())).collect();
    if rows.is_empty() {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let ncols = header.as_ref().map_or(rows[0].1.len(), Vec::len);
    for (no, cells) in &rows {
        if cells.len() != ncols {
            let msg = format!("row has {} values, expected {ncols} like the first row (a ragged series?)", cells.len());
            return Err(DataError::csv(path, *no, None, msg));
        }
    }
    Ok(Table { header, rows, first_line })
}

fn number(path: &Path, line: usize, col: usize, cell: &str) -> Result<f32, DataError> {
    let err = |m: String| DataError::csv(path, line, Some(col + 1), m);
    let v: f64 = cell.parse().map_err(|_| err(format!("{cell:?} is not a number")))?;
    let f = v as f32;
    if !f.is_finite() {
        return Err(err(format!("{cell:?} is NaN, infinite or beyond the f32 range")));
    }
    Ok(f)
}

/// The feature columns (every column not in `skip`) of every row as one sample each.
fn features(path: &Path, t: &Table<'_>, skip: &[usize]) -> Result<Dataset, DataError> {
    let ncols = t.rows[0].1.len();
    let width = ncols - skip.len();
    if width == 0 {
        return Err(DataError::csv(path, t.first_line, None, "no feature columns besides the label / targets"));
    }
    let mut x = Vec::with_capacity(t.rows.len() * width);
    for (no, cells) in &t.rows {
        for (c, cell) in cells.iter().enumerate().filter(|(c, _)| !skip.contains(c)) {
            x.push(number(path, *no, c, cell)?);
        }
    }
    Dataset::new(x, vec![width], None)
}

/// The header (the column names, when the first line is not all numbers)
/// and the number of columns of a CSV file (plain or gzip), checked as the
/// loaders of this module check it (every row as wide as the first).
pub fn csv_columns(path: &Path) -> Result<(Option<Vec<String>>, usize), DataError> {
    let bytes = read_bytes(path)?;
    let t = read_table(path, as_text(path, &bytes)?)?;
    let ncols = t.rows[0].1.len();
    Ok((t.header.map(|h| h.into_iter().map(String::from).collect()), ncols))
}

/// Loads a CSV file (plain or gzip) of one sample per row with a label column.
///
/// `label_column` is a header name or a 0-based index (negative counts from
/// the end); the default is the last column. Labels that are all
/// non-negative integers are class indices (classes named `"0"`, `"1"`, ...
/// up to the largest); otherwise every distinct label is a class, named by
/// its text, in sorted order (scikit-learn's `LabelEncoder`). The other
/// columns are the features (`dims = [columns - 1]`; a time series row holds
/// `steps × channels` values, time-major). A row with another number of
/// values, a feature that is not a finite number, or an empty label is an
/// error naming its line.
pub fn load_labeled_csv(path: &Path, label_column: Option<&str>) -> Result<Labeled, DataError> {
    let bytes = read_bytes(path)?;
    let t = read_table(path, as_text(path, &bytes)?)?;
    let ncols = t.rows[0].1.len();
    let label = resolve_label(path, t.first_line, t.header.as_ref(), ncols, label_column.unwrap_or("-1"))?;
    let mut data = features(path, &t, &[label])?;
    let cells: Vec<(usize, &str)> = t.rows.iter().map(|(no, c)| (*no, c[label])).collect();
    if let Some((no, _)) = cells.iter().find(|(_, c)| c.is_empty()) {
        return Err(DataError::csv(path, *no, Some(label + 1), "the label is empty"));
    }
    let numeric: Option<Vec<u32>> = cells.iter().map(|(_, c)| c.parse::<u32>().ok()).collect();
    let (labels, classes) = match numeric {
        Some(ids) => {
            let k = ids.iter().max().map_or(0, |&m| m as usize + 1);
            (ids, (0..k).map(|i| i.to_string()).collect())
        }
        None => {
            let mut names: Vec<&str> = cells.iter().map(|(_, c)| *c).collect();
            names.sort_unstable();
            names.dedup();
            let ids = cells.iter().map(|(_, c)| names.binary_search(c).unwrap_or(0) as u32).collect();
            (ids, names.into_iter().map(String::from).collect())
        }
    };
    data.labels = Some(labels);
    Ok(Labeled { data, classes })
}

/// Loads a CSV file (plain or gzip) of one sample per row with numeric
/// target columns, named in the header or by 0-based index (negative counts
/// from the end); no columns means the last one. The other columns are the
/// features. A cell that is not a finite number is an error naming its line
/// and column.
pub fn load_regression_csv(path: &Path, target_columns: &[String]) -> Result<Targets, DataError> {
    let bytes = read_bytes(path)?;
    let t = read_table(path, as_text(path, &bytes)?)?;
    let ncols = t.rows[0].1.len();
    let specs: Vec<&str> =
        if target_columns.is_empty() { vec!["-1"] } else { target_columns.iter().map(String::as_str).collect() };
    let mut cols = Vec::new();
    for s in &specs {
        let c = resolve_label(path, t.first_line, t.header.as_ref(), ncols, s)?;
        if cols.contains(&c) {
            return Err(DataError::csv(path, t.first_line, None, format!("target column {s:?} is named twice")));
        }
        cols.push(c);
    }
    let x = features(path, &t, &cols)?;
    let mut y = Vec::with_capacity(t.rows.len() * cols.len());
    for (no, cells) in &t.rows {
        for &c in &cols {
            y.push(number(path, *no, c, cells[c])?);
        }
    }
    let names =
        cols.iter().map(|&c| t.header.as_ref().map_or_else(|| format!("column {c}"), |h| h[c].to_string())).collect();
    Ok(Targets { x, y, names })
}

/// Loads a folder with one sub-folder per class (the class names, in sorted
/// order), each holding one sample per file: `.npy` (the array's shape is
/// the sample's) or `.csv` (numbers; one line is a vector `[values]`, several
/// lines a time series `[steps, channels]`, one line per step). Every sample
/// must have the shape of the first; files whose names start with `.` are
/// skipped. An empty class folder, a file of another kind or shape, a ragged
/// CSV line or an empty file is an error naming the file.
pub fn load_class_folders(dir: &Path) -> Result<Labeled, DataError> {
    let mut classes: Vec<(String, PathBuf)> = Vec::new();
    for entry in list(dir)? {
        if entry.is_dir() {
            let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            classes.push((name, entry));
        }
    }
    classes.sort();
    if classes.is_empty() {
        return Err(DataError::Invalid(format!("{}: no class folders (one sub-folder per class)", dir.display())));
    }
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    // The shape of the first sample, and its file.
    let mut dims: Option<(Vec<usize>, PathBuf)> = None;
    for (k, (name, folder)) in classes.iter().enumerate() {
        let mut files: Vec<PathBuf> = list(folder)?
            .into_iter()
            .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(DataError::Invalid(format!("{}: class {name:?} has no sample files", folder.display())));
        }
        for f in files {
            let (shape, values) = read_sample(&f)?;
            match &dims {
                None => dims = Some((shape, f.clone())),
                Some((d, first)) if *d != shape => {
                    return Err(DataError::Invalid(format!(
                        "{}: sample of shape {shape:?}, but {} has shape {d:?} (every sample must have one shape)",
                        f.display(),
                        first.display()
                    )));
                }
                Some(_) => {}
            }
            x.extend(values);
            labels.push(k as u32);
        }
    }
    let dims = dims.map(|d| d.0).unwrap_or_default();
    let data = Dataset::new(x, dims, Some(labels))?;
    Ok(Labeled { data, classes: classes.into_iter().map(|c| c.0).collect() })
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let rd = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    rd.map(|e| e.map(|e| e.path()).map_err(|e| DataError::io(dir, e))).collect()
}

/// One sample file: its shape and values.
fn read_sample(path: &Path) -> Result<(Vec<usize>, Vec<f32>), DataError> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.ends_with(".npy") {
        let (shape, values) = crate::npy::read_npy(path)?;
        if values.is_empty() {
            return Err(DataError::Empty { path: path.to_path_buf() });
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(DataError::Invalid(format!("{}: value {i} is NaN or infinite", path.display())));
        }
        return Ok((if shape.is_empty() { vec![1] } else { shape }, values));
    }
    if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        let bytes = read_bytes(path)?;
        let text = as_text(path, &bytes)?;
        let mut values = Vec::new();
        let mut width = None;
        let mut steps = 0;
        for (no, line) in data_lines(text) {
            let cells: Vec<&str> = line.split(',').map(clean).collect();
            match width {
                None => width = Some(cells.len()),
                Some(w) if w != cells.len() => {
                    let msg = format!("step has {} channels, the first step {w} (a ragged series)", cells.len());
                    return Err(DataError::csv(path, no, None, msg));
                }
                Some(_) => {}
            }
            for (c, cell) in cells.iter().enumerate() {
                values.push(number(path, no, c, cell)?);
            }
            steps += 1;
        }
        let Some(w) = width else {
            return Err(DataError::Empty { path: path.to_path_buf() });
        };
        return Ok((if steps == 1 { vec![w] } else { vec![steps, w] }, values));
    }
    Err(DataError::Unrecognised {
        path: path.to_path_buf(),
        message: "a sample file must be .npy or .csv (one sample per file)".into(),
    })
}
