//! Board queries answered on the host: a query line resolved against the
//! blob's names and columns, then the runtime's own search over the first
//! layer's table, exactly as the firmware runs it.

use ember_runtime::format::Blob;
use ember_runtime::search::{self, Columns, Names};
use ember_runtime::text::VOCAB_TENSOR;

use super::{TableKind, table_of};
use crate::error::{Result, TrainError, invalid};

/// A query's rows with their signs (`(row, ±1)`), and the rows it searches.
pub type Resolved = (Vec<(usize, f32)>, std::ops::Range<usize>);

/// Resolves a query on the host from the blob's `vocab` (and `columns`) assets.
pub fn resolve_query(blob: &Blob<'_>, line: &str) -> Result<Resolved> {
    let names = Names::from_blob(blob, VOCAB_TENSOR)?;
    let columns = match first_kind(blob) {
        Some(TableKind::Entities) => Some(Columns::from_blob(blob)?),
        Some(TableKind::Words) | None => None,
    };
    let mut terms = Vec::new();
    let mut range = None;
    for (name, weight) in ember_board_common::protocol::query_terms(line) {
        let (row, rows) = match &columns {
            None => (
                names.position(name).ok_or_else(|| TrainError::invalid(format!("unknown word {name}")))?,
                0..names.len(),
            ),
            Some(cols) => {
                let (column, value) = name.split_once('=').ok_or_else(|| TrainError::invalid("not column=value"))?;
                let col = cols.find(column).ok_or_else(|| TrainError::invalid(format!("unknown column {column}")))?;
                let row = col
                    .rows()
                    .find(|&r| names.get(r) == Some(value))
                    .ok_or_else(|| TrainError::invalid("unknown category"))?;
                (row, col.rows())
            }
        };
        range.get_or_insert(rows);
        terms.push((row, weight));
    }
    Ok((terms, range.ok_or_else(|| TrainError::invalid("empty query"))?))
}

/// The kind of table the blob's first layer holds, if any.
fn first_kind(blob: &Blob<'_>) -> Option<TableKind> {
    blob.header().layers.first().and_then(table_of).map(|(kind, _, _)| kind)
}

/// The first layer's table, `[rows, dim]`.
pub fn first_table<'a>(blob: &Blob<'a>) -> Result<(&'a [f32], usize)> {
    let Some((_, _, dim)) = blob.header().layers.first().and_then(table_of) else {
        invalid!("no embedding table");
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
) -> Result<Vec<(u32, f32)>> {
    let (table, dim) = first_table(blob)?;
    let mut query = vec![0.0f32; dim];
    let skip: Vec<usize> = terms.iter().map(|t| t.0).collect();
    let found = if first_kind(blob) == Some(TableKind::Entities) {
        let norm = search::ColumnNorm::from_blob(blob)?;
        let mut scratch = vec![0.0f32; dim];
        search::combine_normalised(&norm, terms, &mut query, &mut scratch)?;
        let col = norm
            .columns
            .column_of(range.start)
            .ok_or_else(|| TrainError::invalid("the searched rows are in no column"))?;
        search::nearest_normalised::<K>(&norm, col.index, &query, &skip, &mut scratch)?
    } else {
        search::combine(table, dim, terms, &mut query)?;
        search::nearest::<K>(table, dim, range, &query, &skip)?
    };
    Ok(found.iter().map(|n| (n.row, n.score)).collect())
}

/// The host's answer to a board query line (terms as [`ember_board_common::protocol::query_terms`]
/// reads them): the same runtime search, with the same `K`, that the firmware runs.
pub fn answer_query(blob: &Blob<'_>, line: &str) -> Result<Vec<(u32, f32)>> {
    let (terms, range) = resolve_query(blob, line)?;
    search_blob::<{ ember_board_common::protocol::NEIGHBOURS }>(blob, &terms, range)
}
