//! Names and nearest neighbours over an embedding table, without allocation:
//! what a device (or the host CLI) needs to answer "which words are like
//! *king*?" or "which categories are like this one?".
//!
//! * [`Names`]: the `vocab` asset (one name per table row, `\n`-separated).
//! * [`Columns`]: the `columns` asset of an entity model (`name\tcount` per
//!   categorical column; column `k`'s categories are the rows
//!   `offset_k .. offset_k + count_k` of the shared table).
//! * [`nearest`]: the `K` rows most similar (cosine) to a query vector.
//! * [`top_k`]: the `K` largest scores (next-word prediction over a softmax).
//! * [`combine`]: a weighted sum of rows (analogies `a − b + c`, composite
//!   queries).
//!
//! Every function returns an [`Error`] for any malformed input, never panics.
//!
//! ```
//! use ember_runtime::search::{Names, nearest};
//! let names = Names::new(b"cat\ndog\ncar")?;
//! let table = [1.0, 0.0, 0.9, 0.1, 0.0, 1.0]; // [3, 2]
//! let cat = names.position("cat").unwrap();
//! let best = nearest::<2>(&table, 2, 0..3, &table[0..2], &[cat])?;
//! assert_eq!(names.get(best[0].row as usize), Some("dog"));
//! # Ok::<(), ember_runtime::Error>(())
//! ```

use core::ops::Range;

use heapless::Vec;

use crate::Error;
use crate::format::Blob;
use crate::kernels::{EntityParams, dot};
use crate::spec::{DType, LayerSpec};

/// Name of the `u8` tensor holding an entity model's columns (`name\tcount`
/// per line). The row names are in [`crate::text::VOCAB_TENSOR`].
pub const COLUMNS_TENSOR: &str = "columns";

/// The bytes of the `u8` tensor named `name`.
fn asset<'a>(blob: &Blob<'a>, name: &str) -> Result<&'a [u8], Error> {
    let tensors = &blob.header().tensors;
    let i = tensors.iter().position(|t| t.name == name).ok_or(Error::NotFound)?;
    if tensors[i].dtype != DType::U8 {
        return Err(Error::BadAsset);
    }
    blob.tensor_u8(i).map_err(|_| Error::BadAsset)
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// A list of names separated by `\n` (UTF-8, no trailing newline): name `i`
/// belongs to table row `i`. Empty names are allowed (an empty category).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Names<'a> {
    text: &'a str,
    len: usize,
}

impl<'a> Names<'a> {
    /// Checks that `bytes` are UTF-8. An empty byte string holds no name;
    /// otherwise there is one more name than there are `\n` bytes.
    ///
    /// # Errors
    /// [`Error::BadAsset`] if `bytes` are not UTF-8.
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        let text = core::str::from_utf8(bytes).map_err(|_| Error::BadAsset)?;
        let len = if text.is_empty() { 0 } else { 1 + bytes.iter().filter(|&&b| b == b'\n').count() };
        Ok(Names { text, len })
    }

    /// The `u8` tensor named `name` of `blob` (usually
    /// [`crate::text::VOCAB_TENSOR`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] if the blob has no such tensor;
    /// [`Error::BadAsset`] if it is not `u8` or not UTF-8.
    pub fn from_blob(blob: &Blob<'a>, name: &str) -> Result<Self, Error> {
        Self::new(asset(blob, name)?)
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no name.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Name `i`, `None` if `i >= len()`.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.iter().nth(i)
    }

    /// Index of the first name equal to `name` (exact, case-sensitive).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.iter().position(|n| n == name)
    }

    /// The names, in row order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let text = self.text;
        text.split('\n').take(self.len)
    }
}

// ---------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------

/// One categorical column of an entity model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column<'a> {
    /// Position among the columns (the input id at this index is this column's).
    pub index: usize,
    /// Column name.
    pub name: &'a str,
    /// First table row of its categories.
    pub offset: usize,
    /// Number of categories (at least 1).
    pub count: usize,
}

impl Column<'_> {
    /// The table rows of its categories, `offset .. offset + count`.
    pub fn rows(&self) -> Range<usize> {
        self.offset..self.offset + self.count
    }

    /// Whether global table row `row` is one of its categories.
    pub fn contains(&self, row: usize) -> bool {
        self.rows().contains(&row)
    }
}

/// The `columns` asset of an entity model: one line `name\tcount` per
/// categorical column, in input order; `count` is a decimal number of at
/// least 1, and the counts add up to the table's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns<'a> {
    text: &'a str,
    len: usize,
}

/// A decimal count: ASCII digits only, at least 1, no overflow.
fn parse_count(s: &str) -> Option<usize> {
    if s.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((b - b'0') as u32)?;
    }
    (n > 0).then_some(n as usize)
}

impl<'a> Columns<'a> {
    /// Parses and checks the asset against a table of `rows` rows.
    ///
    /// # Errors
    /// [`Error::BadAsset`] if `bytes` are not UTF-8 or empty, a line is not
    /// `name\tcount` (a name without tab, a count that is not a decimal
    /// number of at least 1, an empty line), or the counts do not add up to
    /// `rows`.
    pub fn new(bytes: &'a [u8], rows: usize) -> Result<Self, Error> {
        let text = core::str::from_utf8(bytes).map_err(|_| Error::BadAsset)?;
        if text.is_empty() {
            return Err(Error::BadAsset);
        }
        let (mut len, mut total) = (0usize, 0usize);
        for line in text.split('\n') {
            let (_, count) = line.split_once('\t').ok_or(Error::BadAsset)?;
            let count = parse_count(count).ok_or(Error::BadAsset)?;
            total = total.checked_add(count).ok_or(Error::BadAsset)?;
            len += 1;
        }
        if total != rows {
            return Err(Error::BadAsset);
        }
        Ok(Columns { text, len })
    }

    /// The `columns` asset ([`COLUMNS_TENSOR`]) of a blob whose first layer
    /// is an [`LayerSpec::EntityDot`], checked against it: one line per
    /// column, counts adding up to its rows.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the blob has no `columns` tensor or no
    /// EntityDot first layer; [`Error::BadAsset`] as [`Columns::new`], or if
    /// the tensor is not `u8` or the line count differs from the layer's columns.
    pub fn from_blob(blob: &Blob<'a>) -> Result<Self, Error> {
        let Some(&LayerSpec::EntityDot { columns, rows, .. }) = blob.header().layers.first() else {
            return Err(Error::NotFound);
        };
        let (columns, rows) = (columns as usize, rows as usize);
        let parsed = Self::new(asset(blob, COLUMNS_TENSOR)?, rows)?;
        if parsed.len() != columns {
            return Err(Error::BadAsset);
        }
        Ok(parsed)
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no column (never, for a parsed asset).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The columns, in input order.
    pub fn iter(&self) -> impl Iterator<Item = Column<'a>> + 'a {
        let mut offset = 0;
        self.text.split('\n').take(self.len).enumerate().filter_map(move |(index, line)| {
            let (name, count) = line.split_once('\t')?;
            let count = parse_count(count)?;
            let column = Column { index, name, offset, count };
            offset += count;
            Some(column)
        })
    }

    /// Column `k`, `None` if `k >= len()`.
    pub fn get(&self, k: usize) -> Option<Column<'a>> {
        self.iter().nth(k)
    }

    /// The first column named `name`.
    pub fn find(&self, name: &str) -> Option<Column<'a>> {
        self.iter().find(|c| c.name == name)
    }

    /// The column whose categories include global table row `row`.
    pub fn column_of(&self, row: usize) -> Option<Column<'a>> {
        self.iter().find(|c| c.contains(row))
    }
}

// ---------------------------------------------------------------------------
// Nearest neighbours
// ---------------------------------------------------------------------------

/// One search result: a table row (or score index) and its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    /// Global table row (for [`top_k`], the index into the scores).
    pub row: u32,
    /// Cosine similarity (for [`top_k`], the score itself).
    pub score: f32,
}

/// Inserts into a list sorted by decreasing `key`, keeping at most `K`;
/// a candidate equal to an entry goes after it (earlier rows win ties).
fn insert<T, const K: usize>(best: &mut Vec<T, K>, n: T, key: impl Fn(&T) -> f32) {
    if K == 0 || best.last().is_some_and(|last| best.is_full() && key(&n) <= key(last)) {
        return; // most rows of a long table stop here, after one comparison
    }
    let at = best.iter().position(|b| key(&n) > key(b)).unwrap_or(best.len());
    if at >= K {
        return;
    }
    if best.is_full() {
        best.pop();
    }
    // Room was made above, and `at <= best.len()`.
    let _ = best.insert(at, n);
}

/// Checks that `table` is whole rows of `dim` values; returns the row count.
fn table_rows(table: &[f32], dim: usize) -> Result<usize, Error> {
    if dim == 0 || !table.len().is_multiple_of(dim) {
        return Err(Error::BadQuery);
    }
    Ok(table.len() / dim)
}

/// The `K` rows of `table` in `rows` most similar to `query` by cosine
/// similarity `q · r / (|q| |r|)` (computed in `f32`, the row's two sums in one sequential pass), best
/// first; equal scores keep the lower row first. Rows whose index is in
/// `skip` are left out (the query's own words), as are rows whose norm is
/// zero or not finite. Fewer than `K` results when fewer rows qualify.
///
/// The scan ranks rows by `d·|d| / |r|²` (`d = q · r`), which orders them as
/// the cosine does (`|q|` is the same for every row) but needs no square
/// root per row — on a Cortex-M4 the software square root was most of the
/// cost of a query. Only the `K` winners get their cosine, and are sorted by
/// it; a near-tie at the `K`-th place may thus be decided by a rounding of
/// the ranking key rather than of the cosine.
///
/// # Shapes
/// `table`: `[R, dim]` row-major; `rows`: a range inside `0..R`; `query`: `[dim]`.
///
/// # Errors
/// [`Error::BadQuery`] if `dim` is 0, `table` is not whole rows, `rows`
/// reaches past the table (or starts after it ends), `query` is not `dim`
/// long, or `K` is 0; [`Error::ZeroQuery`] if the query's norm is zero or not finite.
pub fn nearest<const K: usize>(
    table: &[f32],
    dim: usize,
    rows: Range<usize>,
    query: &[f32],
    skip: &[usize],
) -> Result<Vec<Neighbour, K>, Error> {
    scan(table, dim, rows, query, skip, |_, v| v)
}

/// [`nearest`] with every row element mapped by `map(j, v)` (dimension `j`)
/// before it is compared.
#[inline(always)]
fn scan<const K: usize>(
    table: &[f32],
    dim: usize,
    rows: Range<usize>,
    query: &[f32],
    skip: &[usize],
    map: impl Fn(usize, f32) -> f32,
) -> Result<Vec<Neighbour, K>, Error> {
    let total = table_rows(table, dim)?;
    if K == 0 || rows.start > rows.end || rows.end > total || query.len() != dim {
        return Err(Error::BadQuery);
    }
    let qn = libm::sqrtf(dot(query, query));
    if !(qn.is_finite() && qn > 0.0) {
        return Err(Error::ZeroQuery);
    }
    // (row, ranking key, q · r, |r|²) of the best rows so far.
    let mut best: Vec<(u32, f32, f32, f32), K> = Vec::new();
    for (row, r) in table.chunks_exact(dim).enumerate().take(rows.end).skip(rows.start) {
        let Ok(id) = u32::try_from(row) else { break };
        if skip.contains(&row) {
            continue;
        }
        // One pass for both sums (rows are short: a 5-long row cost ~200
        // instructions on a Cortex-M4 through two calls of the 8-lane `dot`).
        let (mut d, mut r2) = (0.0f32, 0.0f32);
        for (j, (&q, &v)) in query.iter().zip(r).enumerate() {
            let v = map(j, v);
            d += q * v;
            r2 += v * v;
        }
        if !(r2.is_finite() && r2 > 0.0) {
            continue;
        }
        let key = d * d.abs() / r2;
        if key.is_nan() {
            continue;
        }
        insert(&mut best, (id, key, d, r2), |c| c.1);
    }
    let mut out: Vec<Neighbour, K> = Vec::new();
    for &(row, _, d, r2) in &best {
        let score = d / (qn * libm::sqrtf(r2));
        if !score.is_nan() {
            insert(&mut out, Neighbour { row, score }, |n| n.score);
        }
    }
    Ok(out)
}

/// The `K` largest `scores`, largest first, equal scores keeping the lower
/// index first; NaN scores are left out. `row` is the index into `scores`.
/// Empty when `K` is 0.
///
/// # Shapes
/// `scores`: any length (for example a softmax output `[V]`).
pub fn top_k<const K: usize>(scores: &[f32]) -> Vec<Neighbour, K> {
    let mut best = Vec::new();
    for (row, &score) in scores.iter().enumerate() {
        let Ok(row) = u32::try_from(row) else { break };
        if !score.is_nan() {
            insert(&mut best, Neighbour { row, score }, |n| n.score);
        }
    }
    best
}

/// `out = Σ w · table[row]` over `terms` `(row, w)` in order, starting from
/// zeros (for example `[(a, 1), (b, -1), (c, 1)]` for the analogy
/// `a − b + c`). No terms give zeros.
///
/// # Shapes
/// `table`: `[R, dim]` row-major; `out`: `[dim]`.
///
/// # Errors
/// [`Error::BadQuery`] if `dim` is 0, `table` is not whole rows, `out` is
/// not `dim` long, or a row is `>= R` (then `out` is unspecified).
pub fn combine(table: &[f32], dim: usize, terms: &[(usize, f32)], out: &mut [f32]) -> Result<(), Error> {
    let total = table_rows(table, dim)?;
    if out.len() != dim {
        return Err(Error::BadQuery);
    }
    out.fill(0.0);
    for &(row, w) in terms {
        if row >= total {
            return Err(Error::BadQuery);
        }
        for (o, &v) in out.iter_mut().zip(&table[row * dim..(row + 1) * dim]) {
            *o += w * v;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Entity models: similarity between the normalised embeddings
// ---------------------------------------------------------------------------

/// The per-column batch normalisation of an entity model's table (the
/// EntityDot layer's `gamma`, `beta`, `mean`, `var`, each `[C, dim]`, and
/// its epsilon). Entity similarity compares the normalised rows
/// `n = (e − mean_k) · s_k + beta_k`, `s_k = gamma_k / sqrt(var_k + ε)`
/// (exactly the model's normalisation, so the vectors the model multiplies):
/// raw rows carry each column's common offset, which would dominate the
/// cosine.
#[derive(Clone, Copy, Debug)]
pub struct ColumnNorm<'a> {
    /// The categorical columns (their rows in the table).
    pub columns: Columns<'a>,
    /// The EntityDot layer's parameters (the normalisation uses `gamma`,
    /// `beta`, `mean`, `var`, `epsilon` and `dim`).
    pub params: EntityParams<'a>,
}

impl<'a> ColumnNorm<'a> {
    /// The normalisation of a blob whose first layer is an EntityDot, with its `columns` asset.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the first layer is not an EntityDot or the
    /// asset is missing; [`Error::BadAsset`]; a tensor error.
    pub fn from_blob(blob: &Blob<'a>) -> Result<Self, Error> {
        let Some(&LayerSpec::EntityDot { columns, dim, epsilon_bits, .. }) = blob.header().layers.first() else {
            return Err(Error::NotFound);
        };
        let t = |i: usize| blob.tensor_f32(i);
        let params = EntityParams {
            weight: t(0)?,
            bias: t(1)?,
            gamma: t(2)?,
            beta: t(3)?,
            mean: t(4)?,
            var: t(5)?,
            epsilon: f32::from_bits(epsilon_bits),
            dim: dim as usize,
        };
        if params.columns() != columns as usize || params.scratch_len() != params.mean.len() {
            return Err(Error::TensorShape);
        }
        Ok(ColumnNorm { columns: Columns::from_blob(blob)?, params })
    }

    /// Column `k`'s `s_k` into `scale[..dim]`; its mean and beta.
    fn column(&self, k: usize, scale: &mut [f32]) -> Result<(&'a [f32], &'a [f32]), Error> {
        let p = &self.params;
        let d = p.dim;
        let part = |t: &'a [f32]| k.checked_mul(d).and_then(|a| t.get(a..a.checked_add(d)?)).ok_or(Error::BadQuery);
        let (gamma, beta, mean, var) = (part(p.gamma)?, part(p.beta)?, part(p.mean)?, part(p.var)?);
        let scale = scale.get_mut(..d).ok_or(Error::BufferTooSmall)?;
        for ((s, &g), &v) in scale.iter_mut().zip(gamma).zip(var) {
            // As the batch-norm kernel computes it, so the bits agree.
            *s = g / libm::sqrtf(v + p.epsilon);
        }
        Ok((mean, beta))
    }
}

/// `out = Σ w · n(weight[row])` over `terms` (the model's table), each row normalised with its
/// own column's statistics ([`ColumnNorm`]); for composite entity queries.
///
/// # Shapes
/// `out`: `[dim]`; `scratch`: at least `[dim]`.
///
/// # Errors
/// As [`combine`]; [`Error::BadQuery`] for a row in no column;
/// [`Error::BufferTooSmall`] for a short `scratch`.
pub fn combine_normalised(
    norm: &ColumnNorm<'_>,
    terms: &[(usize, f32)],
    out: &mut [f32],
    scratch: &mut [f32],
) -> Result<(), Error> {
    let (table, dim) = (norm.params.weight, norm.params.dim);
    let total = table_rows(table, dim)?;
    if out.len() != dim {
        return Err(Error::BadQuery);
    }
    out.fill(0.0);
    for &(row, w) in terms {
        let col = norm.columns.column_of(row).filter(|_| row < total).ok_or(Error::BadQuery)?;
        let (mean, beta) = norm.column(col.index, scratch)?;
        for (j, (o, &v)) in out.iter_mut().zip(&table[row * dim..(row + 1) * dim]).enumerate() {
            *o += w * ((v - mean[j]) * scratch[j] + beta[j]);
        }
    }
    Ok(())
}

/// [`nearest`] among column `column`'s rows, each normalised with that
/// column's statistics ([`ColumnNorm`]) before the cosine with `query`
/// (itself built by [`combine_normalised`]).
///
/// # Shapes
/// `query`: `[dim]`; `scratch`: at least `[dim]`.
///
/// # Errors
/// As [`nearest`]; [`Error::BadQuery`] for a column past the last;
/// [`Error::BufferTooSmall`] for a short `scratch`.
pub fn nearest_normalised<const K: usize>(
    norm: &ColumnNorm<'_>,
    column: usize,
    query: &[f32],
    skip: &[usize],
    scratch: &mut [f32],
) -> Result<Vec<Neighbour, K>, Error> {
    let rows = norm.columns.get(column).ok_or(Error::BadQuery)?.rows();
    let (mean, beta) = norm.column(column, scratch)?;
    let scale = &scratch[..norm.params.dim];
    scan(norm.params.weight, norm.params.dim, rows, query, skip, |j, v| (v - mean[j]) * scale[j] + beta[j])
}
