//! Looking inside learned embeddings on the host: the table and its names,
//! most-similar queries (through the runtime's own search, so the host
//! answers exactly what a board answers), per-dimension extremes and a 2-D
//! PCA picture.

use std::path::Path;

use ember_export::Model;
use ember_runtime::search::{self, COLUMNS_TENSOR};
use ember_runtime::spec::LayerSpec;
pub use ember_runtime::spec::TableKind;
use ember_runtime::text::VOCAB_TENSOR;

use crate::error::{Result, TrainError, invalid};
use crate::pca::Pca;
use crate::plot;

mod query;

pub use query::{Resolved, answer_query, first_table, resolve_query, search_blob};

/// Most results one query returns.
pub const MAX_K: usize = 256;

/// An embedding table with a name per row.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingTable {
    /// Rows.
    pub rows: usize,
    /// Values per row.
    pub dim: usize,
    /// `[rows, dim]`, row-major.
    pub data: Vec<f32>,
}

impl EmbeddingTable {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

/// The embedding table a layer holds, `(kind, rows, dim)`; `None` for the
/// kinds that hold none ([`LayerSpec::id_table`]).
pub fn table_of(spec: &LayerSpec) -> Option<(TableKind, usize, usize)> {
    spec.id_table().map(|t| (t.kind, t.rows as usize, t.dim as usize))
}

/// One categorical column of an entity model: its rows in the shared table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityColumn {
    /// Column name.
    pub name: String,
    /// First row.
    pub offset: usize,
    /// Categories.
    pub count: usize,
}

/// Joins names into a `vocab`/`columns` asset, refusing names that would
/// break the one-per-line format.
pub fn join_names(names: &[String]) -> Result<String> {
    if let Some(bad) = names.iter().find(|n| n.contains('\n') || n.contains('\t') || n.is_empty()) {
        invalid!("name {bad:?} cannot be stored: names must be non-empty and hold no tab or newline");
    }
    Ok(names.join("\n"))
}

/// The first layer's table: an `Embedding`'s or an `EntityDot`'s weight.
pub fn embedding_table(model: &Model) -> Result<EmbeddingTable> {
    let Some((_, rows, dim)) = model.layers.first().and_then(table_of) else {
        invalid!("model {} has no embedding table (its first layer is not an embedding)", model.name);
    };
    let t = model.params.first().ok_or_else(|| TrainError::invalid("the embedding layer has no weight tensor"))?;
    if t.data.len() != rows * dim {
        invalid!("the embedding weight holds {} values, not {rows} x {dim}", t.data.len());
    }
    Ok(EmbeddingTable { rows, dim, data: t.data.clone() })
}

/// The names of the table's rows (the `vocab` asset).
pub fn row_names(model: &Model) -> Result<Vec<String>> {
    let asset = model.assets.iter().find(|a| a.name == VOCAB_TENSOR).ok_or_else(|| {
        TrainError::invalid(format!("model {} stores no names for its embedding rows (no vocab asset)", model.name))
    })?;
    let names = search::Names::new(&asset.bytes)?;
    Ok(names.iter().map(str::to_string).collect())
}

/// The categorical columns of an entity model (the `columns` asset).
pub fn columns(model: &Model) -> Result<Vec<EntityColumn>> {
    let asset = model.assets.iter().find(|a| a.name == COLUMNS_TENSOR).ok_or_else(|| {
        TrainError::invalid(format!("model {} is not an entity model (no columns asset)", model.name))
    })?;
    let rows = embedding_table(model)?.rows;
    let cols = search::Columns::new(&asset.bytes, rows)?;
    Ok(cols.iter().map(|c| EntityColumn { name: c.name.to_string(), offset: c.offset, count: c.count }).collect())
}

/// The column named `name`, or an error listing the columns.
pub fn find_column<'c>(cols: &'c [EntityColumn], name: &str) -> Result<&'c EntityColumn> {
    cols.iter().find(|c| c.name == name).ok_or_else(|| {
        TrainError::invalid({
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            format!("no column {name:?} in the model (columns: {})", names.join(", "))
        })
    })
}

/// The row of `name` among `names[range]`, or an error naming a few choices.
pub fn find_row(names: &[String], range: std::ops::Range<usize>, name: &str, what: &str) -> Result<usize> {
    let slice =
        names.get(range.clone()).ok_or_else(|| TrainError::invalid("the model's names do not cover its table"))?;
    if let Some(i) = slice.iter().position(|n| n == name) {
        return Ok(range.start + i);
    }
    let lower = name.to_lowercase();
    if let Some(i) = slice.iter().position(|n| n.to_lowercase() == lower) {
        return Ok(range.start + i);
    }
    let some: Vec<&str> = slice.iter().take(12).map(String::as_str).collect();
    let more = if slice.len() > 12 { ", ..." } else { "" };
    invalid!("{name:?} is not a known {what} (known: {}{more})", some.join(", "))
}

/// The `k` rows of `range` most similar (cosine) to `Σ weight · row(term)`,
/// leaving out the query's own rows, best first, with their scores.
pub fn nearest_rows(
    table: &EmbeddingTable,
    range: std::ops::Range<usize>,
    terms: &[(usize, f32)],
    k: usize,
) -> Result<Vec<(usize, f32)>> {
    if k == 0 || k > MAX_K {
        invalid!("k must be between 1 and {MAX_K}, not {k}");
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
    table: &EmbeddingTable,
    names: &[String],
    terms: &[(&str, f32)],
    k: usize,
) -> Result<Vec<(String, f32)>> {
    let rows = terms
        .iter()
        .map(|&(w, s)| find_row(names, 0..names.len(), w, "word").map(|r| (r, s)))
        .collect::<Result<Vec<_>>>()?;
    let found = nearest_rows(table, 0..table.rows, &rows, k)?;
    Ok(found.into_iter().map(|(r, s)| (names[r].clone(), s)).collect())
}

/// Rows `range` of an entity model's table after column `k`'s batch
/// normalisation (inference form, as the model computes it), row-major.
pub fn normalised_rows(
    model: &Model,
    table: &EmbeddingTable,
    k: usize,
    range: std::ops::Range<usize>,
) -> Result<Vec<f32>> {
    let Some(spec @ LayerSpec::EntityDot { .. }) = model.layers.first() else {
        invalid!("model {} is not an entity model", model.name);
    };
    let eps = spec.batch_norm_epsilon().ok_or_else(|| TrainError::invalid("entitydot has an epsilon"))?;
    let d = table.dim;
    let param = |i: usize| -> Result<&[f32]> {
        let t = model.params.get(i).ok_or_else(|| TrainError::invalid("missing batch-norm parameter"))?;
        t.data
            .get(k * d..(k + 1) * d)
            .ok_or_else(|| TrainError::invalid("batch-norm parameter shorter than the columns"))
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
    table: &EmbeddingTable,
    rows: &[usize],
    labels: &[String],
    groups: Option<&[u32]>,
) -> Result<()> {
    if rows.len() < 2 || table.dim < 2 {
        invalid!("a 2-D projection needs at least two rows of at least two values");
    }
    let data: Vec<f32> = rows.iter().flat_map(|&r| table.row(r).iter().copied()).collect();
    let pca = Pca::fit(&data, rows.len(), table.dim, 2);
    let codes = pca.transform(&data);
    let points: Vec<[f32; 2]> = codes.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
    plot::scatter_2d(path, title, &points, groups, Some(labels))?;
    Ok(())
}

/// Writes a labelled 2-D PCA picture of the whole table.
pub fn plot_projection(path: &Path, title: &str, table: &EmbeddingTable, names: &[String]) -> Result<()> {
    let rows: Vec<usize> = (0..table.rows).collect();
    plot_projection_of(path, title, table, &rows, names, None)
}
