//! Similarity queries on the board (see the crate docs): the first
//! layer's table searched by name, one query per line.

use core::fmt::Write;
use core::hint::black_box;
use core::ops::Range;

use ember_runtime::search::{self, Columns, Names};
use ember_runtime::spec::{LayerSpec, TableKind};
use ember_runtime::text::VOCAB_TENSOR;
use ember_runtime::{Blob, Error};

use crate::{Failure, MAX_QUERY_DIM, MAX_QUERY_TERMS, NEIGHBOURS, QueryProblem, protocol};

/// The first layer's table, searchable by name.
struct Index<'a> {
    /// `[rows, dim]`, row-major, in place in the blob.
    table: &'a [f32],
    /// Values per row.
    dim: usize,
    /// One name per row.
    names: Names<'a>,
    /// The categorical columns (entity models only).
    columns: Option<Columns<'a>>,
    /// The columns' normalisation (entity models only): entity similarity
    /// compares normalised rows, as the model multiplies them.
    norm: Option<search::ColumnNorm<'a>>,
}

/// A parsed query: its rows with their signs, and the rows to search.
struct Query {
    terms: [(usize, f32); MAX_QUERY_TERMS],
    len: usize,
    search: Range<usize>,
}

impl<'a> Index<'a> {
    /// The table of `blob`'s first layer, its names and (for an EntityDot) its columns.
    fn from_blob<'q>(blob: &Blob<'a>) -> Result<Self, Failure<'q>> {
        let table = blob.header().layers.first().and_then(LayerSpec::id_table).ok_or(Failure::NoTable)?;
        let (rows, dim) = (table.rows as usize, table.dim as usize);
        let entity = table.kind == TableKind::Entities;
        if dim > MAX_QUERY_DIM {
            return Err(Failure::DimTooLarge(dim));
        }
        let table = blob.tensor_f32(0)?;
        if table.len() != rows * dim {
            return Err(Failure::Runtime(Error::TensorShape));
        }
        let names = Names::from_blob(blob, VOCAB_TENSOR)?;
        if names.len() != rows {
            return Err(Failure::NamesMismatch(names.len(), rows));
        }
        let columns = if entity { Some(Columns::from_blob(blob)?) } else { None };
        let norm = if entity { Some(search::ColumnNorm::from_blob(blob)?) } else { None };
        Ok(Index { table, dim, names, columns, norm })
    }

    /// The row of `term` (a name, or `column=value` for entity models) and,
    /// for entity models, the rows of its column.
    fn row<'q>(&self, term: &'q str) -> Result<(usize, Range<usize>), QueryProblem<'q>> {
        let Some(columns) = &self.columns else {
            let row = self.names.position(term).ok_or(QueryProblem::UnknownName(term))?;
            return Ok((row, 0..self.names.len()));
        };
        let (column, value) = term.split_once('=').ok_or(QueryProblem::NotColumnValue(term))?;
        let column = columns.find(column).ok_or(QueryProblem::UnknownColumn(column))?;
        let mut names = self.names.iter().enumerate().skip(column.offset).take(column.count);
        let (row, _) = names.find(|&(_, n)| n == value).ok_or(QueryProblem::UnknownName(term))?;
        Ok((row, column.rows()))
    }

    /// Parses `line`: terms `name` or `-name` separated by spaces.
    fn parse<'q>(&self, line: &'q str) -> Result<Query, QueryProblem<'q>> {
        let mut query = Query { terms: [(0, 0.0); MAX_QUERY_TERMS], len: 0, search: 0..0 };
        for (name, weight) in protocol::query_terms(line) {
            let (row, rows) = self.row(name)?;
            let slot = query.terms.get_mut(query.len).ok_or(QueryProblem::TooManyTerms)?;
            *slot = (row, weight);
            if query.len == 0 {
                query.search = rows;
            }
            query.len += 1;
        }
        if query.len == 0 {
            return Err(QueryProblem::Empty);
        }
        Ok(query)
    }
}

/// Answers every line of `queries` (see the module docs), printing
/// `similar` and `similar_instret` lines.
#[inline(never)]
pub(crate) fn run_queries<'q>(
    blob: &[u8],
    queries: &'q str,
    out: &mut impl Write,
    instructions: &mut impl FnMut() -> u64,
) -> Result<(), Failure<'q>> {
    let parsed = Blob::parse(blob)?;
    let index = Index::from_blob(&parsed)?;
    let dim = index.dim;
    for (line, text) in queries.lines().enumerate() {
        let at = |problem| Failure::Query { line, problem };
        let before = instructions();
        let query = index.parse(black_box(text)).map_err(at)?;
        let terms = &query.terms[..query.len];
        let mut vector = [0.0f32; MAX_QUERY_DIM];
        let vector = &mut vector[..dim];
        let mut scratch = [0.0f32; MAX_QUERY_DIM];
        let mut skip = [0usize; MAX_QUERY_TERMS];
        for (s, t) in skip.iter_mut().zip(terms) {
            *s = t.0;
        }
        let skip = &skip[..query.len];
        let found = match &index.norm {
            None => search::combine(index.table, dim, terms, vector)
                .and_then(|()| search::nearest::<NEIGHBOURS>(index.table, dim, query.search, vector, skip)),
            Some(norm) => search::combine_normalised(norm, terms, vector, &mut scratch).and_then(|()| {
                let col = norm.columns.column_of(query.search.start).ok_or(Error::BadQuery)?;
                search::nearest_normalised::<NEIGHBOURS>(norm, col.index, vector, skip, &mut scratch)
            }),
        }
        .map_err(|e| at(QueryProblem::Runtime(e)))?;
        let found = black_box(found);
        let after = instructions();
        write!(out, "similar {line}")?;
        for n in &found {
            write!(out, " {} {:08x}", n.row, n.score.to_bits())?;
        }
        writeln!(out)?;
        writeln!(out, "similar_instret {line} {}", after - before)?;
    }
    Ok(())
}
