//! Looking inside learned embeddings on the host: the table and its names,
//! most-similar queries (through the runtime's own search, so the host
//! answers exactly what a board answers), per-dimension extremes and a 2-D
//! PCA picture.

use std::path::Path;

use anyhow::{Context, bail};
use ember_export::Model;
use ember_runtime::format::Blob;
use ember_runtime::search::{self, COLUMNS_TENSOR, Columns, Names};
use ember_runtime::spec::LayerSpec;
use ember_runtime::text::VOCAB_TENSOR;

use crate::pca::Pca;
use crate::plot;

/// Most results one query returns.
pub const MAX_K: usize = 256;

/// An embedding table with a name per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Rows.
    pub rows: usize,
    /// Values per row.
    pub dim: usize,
    /// `[rows, dim]`, row-major.
    pub data: Vec<f32>,
}

impl Table {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

/// One categorical column of an entity model: its rows in the shared table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// First row.
    pub offset: usize,
    /// Categories.
    pub count: usize,
}

/// Joins names into a `vocab`/`columns` asset, refusing names that would
/// break the one-per-line format.
pub fn join_names(names: &[String]) -> anyhow::Result<String> {
    if let Some(bad) = names.iter().find(|n| n.contains('\n') || n.contains('\t') || n.is_empty()) {
        bail!("name {bad:?} cannot be stored: names must be non-empty and hold no tab or newline");
    }
    Ok(names.join("\n"))
}

/// The first layer's table: an `Embedding`'s or an `EntityDot`'s weight.
pub fn embedding_table(model: &Model) -> anyhow::Result<Table> {
    let (rows, dim) = match model.layers.first() {
        Some(LayerSpec::Embedding { vocab, dim, .. }) => (*vocab as usize, *dim as usize),
        Some(LayerSpec::EntityDot { rows, dim, .. }) => (*rows as usize, *dim as usize),
        _ => bail!("model {} has no embedding table (its first layer is not an embedding)", model.name),
    };
    let t = model.params.first().context("the embedding layer has no weight tensor")?;
    if t.data.len() != rows * dim {
        bail!("the embedding weight holds {} values, not {rows} x {dim}", t.data.len());
    }
    Ok(Table { rows, dim, data: t.data.clone() })
}

/// The names of the table's rows (the `vocab` asset).
pub fn row_names(model: &Model) -> anyhow::Result<Vec<String>> {
    let asset = model
        .assets
        .iter()
        .find(|a| a.name == VOCAB_TENSOR)
        .with_context(|| format!("model {} stores no names for its embedding rows (no vocab asset)", model.name))?;
    let names = search::Names::new(&asset.bytes)?;
    Ok(names.iter().map(str::to_string).collect())
}

/// The categorical columns of an entity model (the `columns` asset).
pub fn columns(model: &Model) -> anyhow::Result<Vec<Column>> {
    let asset = model
        .assets
        .iter()
        .find(|a| a.name == COLUMNS_TENSOR)
        .with_context(|| format!("model {} is not an entity model (no columns asset)", model.name))?;
    let rows = embedding_table(model)?.rows;
    let cols = search::Columns::new(&asset.bytes, rows)?;
    Ok(cols.iter().map(|c| Column { name: c.name.to_string(), offset: c.offset, count: c.count }).collect())
}

/// The column named `name`, or an error listing the columns.
pub fn find_column<'c>(cols: &'c [Column], name: &str) -> anyhow::Result<&'c Column> {
    cols.iter().find(|c| c.name == name).with_context(|| {
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        format!("no column {name:?} in the model (columns: {})", names.join(", "))
    })
}

/// The row of `name` among `names[range]`, or an error naming a few choices.
pub fn find_row(names: &[String], range: std::ops::Range<usize>, name: &str, what: &str) -> anyhow::Result<usize> {
    let slice = names.get(range.clone()).context("the model's names do not cover its table")?;
    if let Some(i) = slice.iter().position(|n| n == name) {
        return Ok(range.start + i);
    }
    let lower = name.to_lowercase();
    if let Some(i) = slice.iter().position(|n| n.to_lowercase() == lower) {
        return Ok(range.start + i);
    }
    let some: Vec<&str> = slice.iter().take(12).map(String::as_str).collect();
    let more = if slice.len() > 12 { ", ..." } else { "" };
    bail!("{name:?} is not a known {what} (known: {}{more})", some.join(", "))
}

/// The `k` rows of `range` most similar (cosine) to `Σ weight · row(term)`,
/// leaving out the query's own rows, best first, with their scores.
pub fn nearest_rows(
    table: &Table,
    range: std::ops::Range<usize>,
    terms: &[(usize, f32)],
    k: usize,
) -> anyhow::Result<Vec<(usize, f32)>> {
    if k == 0 || k > MAX_K {
        bail!("k must be between 1 and {MAX_K}, not {k}");
    }
    let mut query = vec![0.0f32; table.dim];
    search::combine(&table.data, table.dim, terms, &mut query)?;
    let skip: Vec<usize> = terms.iter().map(|t| t.0).collect();
    let found = search::nearest::<MAX_K>(&table.data, table.dim, range, &query, &skip)?;
    Ok(found.iter().take(k).map(|n| (n.row as usize, n.score)).collect())
}

/// Most similar words to a sum of words (`[("king", 1.0), ("man", -1.0),
/// ("woman", 1.0)]` is the analogy), over the whole table.
pub fn most_similar(
    table: &Table,
    names: &[String],
    terms: &[(&str, f32)],
    k: usize,
) -> anyhow::Result<Vec<(String, f32)>> {
    let rows = terms
        .iter()
        .map(|&(w, s)| find_row(names, 0..names.len(), w, "word").map(|r| (r, s)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let found = nearest_rows(table, 0..table.rows, &rows, k)?;
    Ok(found.into_iter().map(|(r, s)| (names[r].clone(), s)).collect())
}

/// Rows `range` of an entity model's table after column `k`'s batch
/// normalisation (inference form, as the model computes it), row-major.
pub fn normalised_rows(
    model: &Model,
    table: &Table,
    k: usize,
    range: std::ops::Range<usize>,
) -> anyhow::Result<Vec<f32>> {
    let Some(spec @ LayerSpec::EntityDot { .. }) = model.layers.first() else {
        bail!("model {} is not an entity model", model.name);
    };
    let eps = spec.batch_norm_epsilon().context("entitydot has an epsilon")?;
    let d = table.dim;
    let param = |i: usize| -> anyhow::Result<&[f32]> {
        let t = model.params.get(i).context("missing batch-norm parameter")?;
        t.data.get(k * d..(k + 1) * d).context("batch-norm parameter shorter than the columns")
    };
    let (gamma, beta, mean, var) = (param(2)?, param(3)?, param(4)?, param(5)?);
    let mut out = Vec::with_capacity(range.len() * d);
    for r in range {
        for j in 0..d {
            let s = gamma[j] / (var[j] + eps).sqrt();
            out.push((table.row(r)[j] - mean[j]) * s + beta[j]);
        }
    }
    Ok(out)
}

/// Writes a labelled scatter plot of `rows` of the table projected on their
/// first two principal components; `groups` colours the points.
pub fn plot_projection_of(
    path: &Path,
    title: &str,
    table: &Table,
    rows: &[usize],
    labels: &[String],
    groups: Option<&[u32]>,
) -> anyhow::Result<()> {
    if rows.len() < 2 || table.dim < 2 {
        bail!("a 2-D projection needs at least two rows of at least two values");
    }
    let data: Vec<f32> = rows.iter().flat_map(|&r| table.row(r).iter().copied()).collect();
    let pca = Pca::fit(&data, rows.len(), table.dim, 2);
    let codes = pca.transform(&data);
    let points: Vec<[f32; 2]> = codes.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
    plot::scatter_2d(path, title, &points, groups, Some(labels))?;
    Ok(())
}

/// Writes a labelled 2-D PCA picture of the whole table.
pub fn plot_projection(path: &Path, title: &str, table: &Table, names: &[String]) -> anyhow::Result<()> {
    let rows: Vec<usize> = (0..table.rows).collect();
    plot_projection_of(path, title, table, &rows, names, None)
}

/// A query's rows with their signs (`(row, ±1)`), and the rows it searches.
pub type Resolved = (Vec<(usize, f32)>, std::ops::Range<usize>);

/// Resolves a query on the host from the blob's `vocab` (and `columns`) assets.
pub fn resolve_query(blob: &Blob<'_>, line: &str) -> anyhow::Result<Resolved> {
    let names = Names::from_blob(blob, VOCAB_TENSOR)?;
    let columns = match blob.header().layers.first() {
        Some(LayerSpec::EntityDot { .. }) => Some(Columns::from_blob(blob)?),
        _ => None,
    };
    let mut terms = Vec::new();
    let mut range = None;
    for (name, weight) in ember_board_common::protocol::query_terms(line) {
        let (row, rows) = match &columns {
            None => (names.position(name).with_context(|| format!("unknown word {name}"))?, 0..names.len()),
            Some(cols) => {
                let (column, value) = name.split_once('=').context("not column=value")?;
                let col = cols.find(column).with_context(|| format!("unknown column {column}"))?;
                let row = col.rows().find(|&r| names.get(r) == Some(value)).context("unknown category")?;
                (row, col.rows())
            }
        };
        range.get_or_insert(rows);
        terms.push((row, weight));
    }
    Ok((terms, range.context("empty query")?))
}

/// The first layer's table, `[rows, dim]`.
pub fn first_table<'a>(blob: &Blob<'a>) -> anyhow::Result<(&'a [f32], usize)> {
    let dim = match blob.header().layers.first() {
        Some(&LayerSpec::Embedding { dim, .. } | &LayerSpec::EntityDot { dim, .. }) => dim as usize,
        _ => bail!("no embedding table"),
    };
    Ok((blob.tensor_f32(0)?, dim))
}

/// The `K` rows of `range` most similar to `Σ w · row` over `terms`, as the
/// firmware answers: cosine between raw rows for word models, between
/// rows normalised by their column's statistics for entity models
/// ([`search::ColumnNorm`]); the query's own rows left out.
pub fn search_blob<const K: usize>(
    blob: &Blob<'_>,
    terms: &[(usize, f32)],
    range: std::ops::Range<usize>,
) -> anyhow::Result<Vec<(u32, f32)>> {
    let (table, dim) = first_table(blob)?;
    let mut query = vec![0.0f32; dim];
    let skip: Vec<usize> = terms.iter().map(|t| t.0).collect();
    let found = if matches!(blob.header().layers.first(), Some(LayerSpec::EntityDot { .. })) {
        let norm = search::ColumnNorm::from_blob(blob)?;
        let mut scratch = vec![0.0f32; dim];
        search::combine_normalised(&norm, terms, &mut query, &mut scratch)?;
        let col = norm.columns.column_of(range.start).context("the searched rows are in no column")?;
        search::nearest_normalised::<K>(&norm, col.index, &query, &skip, &mut scratch)?
    } else {
        search::combine(table, dim, terms, &mut query)?;
        search::nearest::<K>(table, dim, range, &query, &skip)?
    };
    Ok(found.iter().map(|n| (n.row, n.score)).collect())
}

/// The host's answer to a board query line (terms as [`ember_board_common::protocol::query_terms`]
/// reads them): the same runtime search, with the same `K`, that the firmware runs.
pub fn answer_query(blob: &Blob<'_>, line: &str) -> anyhow::Result<Vec<(u32, f32)>> {
    let (terms, range) = resolve_query(blob, line)?;
    search_blob::<{ ember_board_common::protocol::NEIGHBOURS }>(blob, &terms, range)
}
