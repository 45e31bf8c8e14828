//! Tables of categorical columns and a numeric target (entity embeddings):
//! CSV and JSON loaders, and a penguins-shaped synthetic table.
//!
//! # Categories
//!
//! Every cell of a categorical column is text: a CSV field (trimmed), a
//! JSON string (trimmed), a JSON number in its JSON text (`2007` stays
//! `2007`, `2007.0` stays `2007.0`), `true` / `false`. The cells [`MISSING_VALUES`] (and JSON
//! `null`, and a record without the key) are *missing* and become the
//! category [`MISSING`]. A column's categories are its distinct values
//! sorted by their text (bytes), so `(missing)` sorts before letters and
//! digits; `ids[r]` is the index of record `r`'s category.
//!
//! # Target
//!
//! The target column holds numbers (JSON numbers or text that parses as
//! one). A record whose target is missing is skipped (and counted in
//! [`CategoryTable::skipped`]); a target that is not a number, or is infinite or
//! beyond the `f32` range, is an error naming its row.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::csv::as_text;
use super::rng::Stream;
use super::{DataError, read_bytes};

/// The category of missing cells.
pub const MISSING: &str = "(missing)";

/// Cell texts that mean "missing" (besides JSON `null`).
pub const MISSING_VALUES: [&str; 5] = ["", "NA", "NaN", "nan", "null"];

/// One categorical column: its categories and one id per record.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryColumn {
    /// The column name.
    pub name: String,
    /// The distinct values, sorted by their text; [`MISSING`] when some
    /// record has no value.
    pub categories: Vec<String>,
    /// Per record, the index of its value in `categories`.
    pub ids: Vec<u32>,
}

impl CategoryColumn {
    /// The id of category `value`, if the column has it.
    pub fn id_of(&self, value: &str) -> Option<u32> {
        self.categories.binary_search_by(|c| c.as_str().cmp(value)).ok().map(|i| i as u32)
    }
}

/// Categorical columns and a numeric target, one entry per record (records
/// without a target left out).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryTable {
    /// The categorical columns, in the order asked for.
    pub columns: Vec<CategoryColumn>,
    /// The target of each record.
    pub target: Vec<f32>,
    /// The target column's name.
    pub target_name: String,
    /// How many records were skipped because their target was missing.
    pub skipped: usize,
}

impl CategoryTable {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.target.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.target.is_empty()
    }

    /// The first global row of each column in one table of all categories
    /// (column `k`'s categories are rows `offsets[k] .. offsets[k] + count_k`),
    /// followed by the total number of rows.
    pub fn offsets(&self) -> Vec<usize> {
        let mut out = vec![0];
        for c in &self.columns {
            out.push(out[out.len() - 1] + c.categories.len());
        }
        out
    }

    /// The global row ids of record `r` (one per column, offset as by
    /// [`offsets`](Self::offsets)).
    ///
    /// # Panics
    /// If `r >= self.len()`, like slice indexing.
    pub fn global_ids(&self, r: usize) -> Vec<u32> {
        let offsets = self.offsets();
        self.columns.iter().zip(offsets).map(|(c, o)| c.ids[r] + o as u32).collect()
    }
}

/// Loads categorical `columns` and the numeric `target` column from a CSV
/// or JSON file (plain or gzip).
///
/// The format is chosen by the name (`.json` / `.json.gz` is JSON, `.csv` /
/// `.csv.gz` is CSV), otherwise by the content (starting with `[` or `{` is
/// JSON). CSV: a header row of column names, then one record per row, fields
/// optionally in double quotes (with `""` for a quote). JSON: records
/// `[{"col": value, ...}, ...]` or columns `{"col": [values...], ...}`
/// (every column the same length); values are strings, numbers, booleans
/// or `null`. See the module docs for categories and the target.
///
/// # Errors
/// [`DataError::Io`], [`DataError::Gzip`], [`DataError::Empty`];
/// [`DataError::Csv`] (with the line) for malformed CSV or a bad CSV value;
/// [`DataError::Table`] for an unknown column (listing the available ones),
/// no or repeated categorical columns, the target among them, malformed JSON,
/// a bad JSON value (naming the record), a line break in a category or a
/// tab or line break in a column name, or no record with a target.
pub fn load_table(path: &Path, columns: &[String], target: &str) -> Result<CategoryTable, DataError> {
    let raw = read_raw(path, columns, Some(target))?;
    build(path, columns, target, raw)
}

/// The records of a table as they are, for a trained model to look up: the
/// cells of `columns` (a missing cell is [`MISSING`]), the `target` when one
/// is named (`None` where missing), and where each record is in the file
/// (`line 3` of a CSV file, `record 2` or `row 2` of a JSON file) for
/// messages. Nothing is skipped or numbered.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRecords {
    /// The column names asked for.
    pub columns: Vec<String>,
    /// Per column, one cell per record.
    pub cells: Vec<Vec<String>>,
    /// Per record, its target (empty when no target was asked for).
    pub target: Vec<Option<f32>>,
    /// Per record, where it is in the file.
    pub rows: Vec<String>,
}

/// Loads the records of `columns` (and of `target`, if given) from a CSV or
/// JSON file as [`load_table`] reads it, without numbering categories or
/// dropping records: for looking the cells up in a trained model's
/// categories (held-out data, or rows to predict without a target).
///
/// # Errors
/// As [`load_table`] (an empty file, an unknown column, a bad cell).
pub fn load_records(path: &Path, columns: &[String], target: Option<&str>) -> Result<TableRecords, DataError> {
    let raw = read_raw(path, columns, target)?;
    let cells = raw.cells.into_iter().map(|c| c.into_iter().map(|v| v.unwrap_or_else(|| MISSING.into())).collect());
    Ok(TableRecords { columns: columns.to_vec(), cells: cells.collect(), target: raw.target, rows: raw.rows })
}

/// Reads the cells of `columns` and of `target` from a CSV or JSON file.
fn read_raw(path: &Path, columns: &[String], target: Option<&str>) -> Result<Raw, DataError> {
    let bad = |m: String| DataError::Table { path: path.to_path_buf(), message: m };
    if columns.is_empty() {
        return Err(bad("no categorical column given".into()));
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(bad(format!("column {c:?} is given twice")));
        }
        if Some(c.as_str()) == target {
            return Err(bad(format!("column {c:?} is the target; it cannot also be a categorical column")));
        }
        if c.contains(['\t', '\n', '\r']) {
            return Err(bad(format!("column name {c:?} contains a tab or line break")));
        }
    }
    let bytes = read_bytes(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let json = if name.ends_with(".json") || name.ends_with(".json.gz") {
        true
    } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        false
    } else {
        matches!(first, Some(b'[' | b'{'))
    };
    let raw = if json { read_json(path, &bytes, columns, target)? } else { read_csv(path, &bytes, columns, target)? };
    if raw.rows.is_empty() {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(raw)
}

/// The cells of the wanted columns and the targets, with row names for errors.
struct Raw {
    cells: Vec<Vec<Option<String>>>,
    target: Vec<Option<f32>>,
    rows: Vec<String>,
}

fn is_missing(s: &str) -> bool {
    MISSING_VALUES.contains(&s)
}

/// Why one cell cannot be used, before the file, row and column are added.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadCell(String);

/// A target cell as a number (`None` if missing); `Err` says why not.
fn target_value(cell: &str) -> Result<Option<f32>, BadCell> {
    let cell = cell.trim();
    if is_missing(cell) {
        return Ok(None);
    }
    let v: f64 = cell.parse().map_err(|_| BadCell(format!("{cell:?} is not a number")))?;
    let f = v as f32;
    if !f.is_finite() {
        return Err(BadCell(format!("{cell:?} is infinite or beyond the f32 range")));
    }
    Ok(Some(f))
}

/// A category cell: `None` if missing; an error for a line break.
fn category(cell: &str) -> Result<Option<String>, BadCell> {
    let cell = cell.trim();
    if is_missing(cell) {
        return Ok(None);
    }
    if cell.contains(['\n', '\r']) {
        return Err(BadCell(format!("value {cell:?} contains a line break")));
    }
    Ok(Some(cell.to_string()))
}

fn unknown(name: &str, available: &[String]) -> String {
    format!("no column named {name:?} (available: {})", available.join(", "))
}

fn read_csv(path: &Path, bytes: &[u8], columns: &[String], target: Option<&str>) -> Result<Raw, DataError> {
    let text = as_text(path, bytes)?;
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line() as usize);
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("expected {expected_len} fields like the header, found {len}")
            }
            _ => e.to_string(),
        };
        DataError::csv(path, line, None, message)
    };
    let header: Vec<String> = reader.headers().map_err(csv_err)?.iter().map(str::to_string).collect();
    if header.iter().all(String::is_empty) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let find = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| DataError::csv(path, 1, None, unknown(name, &header)))
    };
    let wanted = columns.iter().map(|c| find(c)).collect::<Result<Vec<_>, _>>()?;
    let ti = target.map(|t| find(t).map(|i| (t, i))).transpose()?;
    let mut raw = Raw { cells: vec![Vec::new(); columns.len()], target: Vec::new(), rows: Vec::new() };
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_err)? {
        let line = record.position().map_or(0, |p| p.line() as usize);
        for (k, &i) in wanted.iter().enumerate() {
            let v = category(&record[i]).map_err(|m| DataError::csv(path, line, Some(i + 1), m.0))?;
            raw.cells[k].push(v);
        }
        if let Some((target, ti)) = ti {
            let t = target_value(&record[ti])
                .map_err(|m| DataError::csv(path, line, Some(ti + 1), format!("target {target:?}: {m}")))?;
            raw.target.push(t);
        }
        raw.rows.push(format!("line {line}"));
    }
    Ok(raw)
}

/// A JSON value as a category cell.
fn json_category(v: Option<&Value>) -> Result<Option<String>, BadCell> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => category(s),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => Err(BadCell(format!("value {other} is not a string, number, boolean or null"))),
    }
}

/// A JSON value as a target.
fn json_target(v: Option<&Value>) -> Result<Option<f32>, BadCell> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => target_value(s),
        Some(Value::Number(n)) => target_value(&n.to_string()),
        Some(other) => Err(BadCell(format!("{other} is not a number"))),
    }
}

fn read_json(path: &Path, bytes: &[u8], columns: &[String], target: Option<&str>) -> Result<Raw, DataError> {
    let bad = |m: String| DataError::Table { path: path.to_path_buf(), message: m };
    let text = as_text(path, bytes)?;
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let mut raw = Raw { cells: vec![Vec::new(); columns.len()], target: Vec::new(), rows: Vec::new() };
    match value {
        Value::Array(records) => {
            if records.is_empty() {
                return Err(DataError::Empty { path: path.to_path_buf() });
            }
            let mut available: Vec<String> = Vec::new();
            for (r, rec) in records.iter().enumerate() {
                let Value::Object(map) = rec else {
                    return Err(bad(format!("record {} is not an object of column values", r + 1)));
                };
                for k in map.keys() {
                    if !available.contains(k) {
                        available.push(k.clone());
                    }
                }
            }
            for name in columns.iter().map(String::as_str).chain(target) {
                if !available.iter().any(|a| a == name) {
                    return Err(bad(unknown(name, &available)));
                }
            }
            for (r, rec) in records.iter().enumerate() {
                let at = |c: &str, m: String| bad(format!("record {}, column {c:?}: {m}", r + 1));
                for (k, c) in columns.iter().enumerate() {
                    raw.cells[k].push(json_category(rec.get(c)).map_err(|m| at(c, m.0))?);
                }
                if let Some(target) = target {
                    raw.target.push(json_target(rec.get(target)).map_err(|m| at(target, format!("target {m}")))?);
                }
                raw.rows.push(format!("record {}", r + 1));
            }
        }
        Value::Object(map) => {
            let available: Vec<String> = map.keys().cloned().collect();
            let get = |name: &str| -> Result<&Vec<Value>, DataError> {
                match map.get(name) {
                    Some(Value::Array(a)) => Ok(a),
                    Some(_) => Err(bad(format!("column {name:?} is not an array of values"))),
                    None => Err(bad(unknown(name, &available))),
                }
            };
            // The target's length (or the first column's) is the table's.
            let (lead, t) = match target {
                Some(target) => (target, get(target)?),
                None => (columns[0].as_str(), get(&columns[0])?),
            };
            if t.is_empty() {
                return Err(DataError::Empty { path: path.to_path_buf() });
            }
            for (k, c) in columns.iter().enumerate() {
                let col = get(c)?;
                if col.len() != t.len() {
                    let (n, m) = (col.len(), t.len());
                    let what = if target.is_some() { "the target" } else { "column" };
                    return Err(bad(format!("column {c:?} has {n} values but {what} {lead:?} has {m}")));
                }
                for (r, v) in col.iter().enumerate() {
                    let v = json_category(Some(v)).map_err(|m| bad(format!("row {}, column {c:?}: {m}", r + 1)))?;
                    raw.cells[k].push(v);
                }
            }
            for (r, v) in t.iter().enumerate() {
                if let Some(target) = target {
                    let v = json_target(Some(v))
                        .map_err(|m| bad(format!("row {}, column {target:?}: target {m}", r + 1)))?;
                    raw.target.push(v);
                }
                raw.rows.push(format!("row {}", r + 1));
            }
        }
        _ => return Err(bad("expected a JSON array of records or an object of columns".into())),
    }
    Ok(raw)
}

/// Drops the records without a target and numbers the categories.
fn build(path: &Path, columns: &[String], target: &str, raw: Raw) -> Result<CategoryTable, DataError> {
    let keep: Vec<usize> = (0..raw.target.len()).filter(|&r| raw.target[r].is_some()).collect();
    if keep.is_empty() {
        let n = raw.target.len();
        return Err(DataError::Table {
            path: path.to_path_buf(),
            message: format!("none of the {n} records has a value for the target {target:?}"),
        });
    }
    let skipped = raw.target.len() - keep.len();
    let target_values = keep.iter().filter_map(|&r| raw.target[r]).collect();
    let columns = columns
        .iter()
        .zip(raw.cells)
        .map(|(name, cells)| {
            let values: Vec<&str> = keep.iter().map(|&r| cells[r].as_deref().unwrap_or(MISSING)).collect();
            column(name, &values)
        })
        .collect();
    Ok(CategoryTable { columns, target: target_values, target_name: target.to_string(), skipped })
}

/// A column from its values (one per record).
fn column(name: &str, values: &[&str]) -> CategoryColumn {
    let categories: Vec<String> =
        values.iter().copied().collect::<BTreeSet<&str>>().into_iter().map(str::to_string).collect();
    let ids =
        values.iter().map(|v| categories.binary_search_by(|c| c.as_str().cmp(v)).map_or(0, |i| i as u32)).collect();
    CategoryColumn { name: name.to_string(), categories, ids }
}

/// The species of [`synthetic_table`], in category order.
pub const SPECIES: [&str; 3] = ["Adelie", "Chinstrap", "Gentoo"];
/// The islands of [`synthetic_table`], in category order.
pub const ISLANDS: [&str; 3] = ["Biscoe", "Dream", "Torgersen"];
/// The sexes of [`synthetic_table`], in category order (a few records have
/// [`MISSING`] instead, see [`SEX_MISSING_RATE`]).
pub const SEXES: [&str; 2] = ["female", "male"];
/// The chance of each species (index into [`SPECIES`]).
pub const SPECIES_PROBS: [f64; 3] = [0.44, 0.20, 0.36];
/// Planted: mean body mass of each species in grams. Adelie and Chinstrap
/// are nearly the same, Gentoo much heavier.
pub const SPECIES_MASS_G: [f64; 3] = [3700.0, 3730.0, 5080.0];
/// The two species of [`synthetic_table`] that are alike in mass.
pub const SIMILAR_SPECIES: [&str; 2] = ["Adelie", "Chinstrap"];
/// The heavy species of [`synthetic_table`].
pub const HEAVY_SPECIES: &str = "Gentoo";
/// Planted: males weigh this much more than the species mean, females this
/// much less.
pub const SEX_HALF_GAP_G: f64 = 330.0;
/// The chance that a record's sex is missing.
pub const SEX_MISSING_RATE: f64 = 0.03;
/// Planted: the island distribution of each species (rows in [`SPECIES`]
/// order, columns in [`ISLANDS`] order). Gentoo live only on Biscoe and
/// Chinstrap only on Dream, so the island is correlated with the species and
/// Biscoe birds are the heaviest on average.
pub const ISLAND_PROBS: [[f64; 3]; 3] = [[0.3, 0.35, 0.35], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]];
/// Planted: a small direct island effect in grams (in [`ISLANDS`] order).
pub const ISLAND_MASS_G: [f64; 3] = [60.0, 0.0, -60.0];
/// The standard deviation of the individual noise, in grams.
pub const MASS_NOISE_G: f64 = 200.0;

/// A penguins-shaped table of `n` records, deterministic from `seed` (the
/// fixed ChaCha8 stream of the data generators).
///
/// Columns `species`, `island`, `sex` and the target `body_mass_g`, built
/// as [`load_table`] builds them (categories sorted, only those present).
/// Each record: a species by [`SPECIES_PROBS`], an island by
/// [`ISLAND_PROBS`] of its species, a sex (half female, half male, missing
/// at rate [`SEX_MISSING_RATE`]), and a mass of [`SPECIES_MASS_G`] ±
/// [`SEX_HALF_GAP_G`] (male +, female −, missing 0) + [`ISLAND_MASS_G`] +
/// normal noise of [`MASS_NOISE_G`], clamped to 2700–6300 g and rounded to
/// 25 g.
pub fn synthetic_table(n: usize, seed: u64) -> CategoryTable {
    let mut rng = Stream::new(seed);
    let pick = |rng: &mut Stream, probs: &[f64; 3]| {
        let u = rng.uniform();
        let mut acc = 0.0;
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if u < acc {
                return i;
            }
        }
        probs.iter().rposition(|&p| p > 0.0).unwrap_or(0)
    };
    let (mut species, mut islands, mut sexes, mut target) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let s = pick(&mut rng, &SPECIES_PROBS);
        let i = pick(&mut rng, &ISLAND_PROBS[s]);
        let (sex, sign) = if rng.uniform() < SEX_MISSING_RATE {
            (MISSING, 0.0)
        } else if rng.below(2) == 0 {
            (SEXES[0], -1.0)
        } else {
            (SEXES[1], 1.0)
        };
        let mass = SPECIES_MASS_G[s] + sign * SEX_HALF_GAP_G + ISLAND_MASS_G[i] + MASS_NOISE_G * rng.normal();
        species.push(SPECIES[s]);
        islands.push(ISLANDS[i]);
        sexes.push(sex);
        target.push(((mass.clamp(2700.0, 6300.0) / 25.0).round() * 25.0) as f32);
    }
    CategoryTable {
        columns: vec![column("species", &species), column("island", &islands), column("sex", &sexes)],
        target,
        target_name: "body_mass_g".into(),
        skipped: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_table_has_the_planted_shape() {
        let t = synthetic_table(2000, 7);
        assert_eq!(t.len(), 2000);
        assert_eq!(t.columns[0].categories, SPECIES);
        assert_eq!(t.columns[1].categories, ISLANDS);
        assert_eq!(t.columns[2].categories, [MISSING, "female", "male"]);
        let mean = |f: &dyn Fn(usize) -> bool| {
            let v: Vec<f64> = (0..t.len()).filter(|&r| f(r)).map(|r| f64::from(t.target[r])).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let species = &t.columns[0].ids;
        let sp = |k: u32| move |r: usize| species[r] == k;
        let (a, c, g) = (mean(&sp(0)), mean(&sp(1)), mean(&sp(2)));
        assert!((a - c).abs() < 100.0 && g - a > 1000.0, "{a} {c} {g}");
        let (f, m) = (mean(&|r| t.columns[2].ids[r] == 1), mean(&|r| t.columns[2].ids[r] == 2));
        assert!(m - f > 500.0, "{f} {m}");
        assert!(t.target.iter().all(|&v| (2700.0..=6300.0).contains(&v) && v % 25.0 == 0.0));
        assert_eq!(synthetic_table(2000, 7), t);
        assert_ne!(synthetic_table(2000, 8), t);
        assert_eq!(t.offsets(), vec![0, 3, 6, 9]);
        assert_eq!(t.global_ids(0).len(), 3);
    }
}
