//! The part of every ember QEMU firmware that does not depend on the board.
//!
//! [`run`] binds the model type `M` to the blob in place, runs every sample
//! of the fixed inputs, then tokenizes and classifies every line of the raw
//! texts with the blob's own no_std tokenizer, then answers every line of the
//! similarity queries from the blob's first embedding table, and prints:
//!
//! ```text
//! out <sample> <output f32 bits as 8 hex digits, space separated>
//! instret <sample> <instructions for that inference>
//! text_ids <line> <token ids, space separated>
//! text_out <line> <output f32 bits>
//! text_instret <line> <instructions to tokenize> <instructions for the inference>
//! similar <line> <row> <score f32 bits as 8 hex digits> <row> <score bits> ...
//! similar_instret <line> <instructions for the whole query>
//! ram_activation_bytes <M::ACTIVATION_BYTES>
//! stack_peak_bytes <peak stack bytes> <stack region bytes>
//! done
//! ```
//!
//! The `stack_peak_bytes` line comes from [`run_with_stack`]: the board
//! paints its stack before the model runs (`ember_board_stack`) and reports
//! the high-water mark of the whole run, printing included; [`run`] leaves
//! it out (for firmware that measures its stack some other way).
//!
//! The host (`ember_board_host`) compares the exact bits, ids and rows
//! with its own runtime, tokenizer and search. The board supplies the output
//! stream and its instruction counter.
//!
//! # Similarity queries
//! Each line of the queries is answered from the blob's first tensor: the
//! table of its first layer, an `Embedding` (`[vocab, dim]`) or an
//! `EntityDot` (`[rows, dim]`), whose rows are named, in row order, by the
//! blob's `vocab` asset (one name per row; a different count is an error).
//! A query is terms separated by spaces; a term is a name, optionally
//! prefixed with `-` to subtract its row instead of adding it:
//!
//! * word models (an `Embedding` first): `cat`, or the analogy `king -man
//!   woman`; the search covers the whole table;
//! * entity models (an `EntityDot` first, with a `columns` asset): a term is
//!   `column=value` (a category of that column), for example `species=Adelie
//!   island=Dream`; the search covers the rows of the first term's column.
//!
//! The query vector `Σ ±row` ([`ember_runtime::search::combine`]) is built in a stack
//! buffer of [`MAX_QUERY_DIM`] values (a wider table is an error), then the
//! [`NEIGHBOURS`] rows most similar to it by cosine ([`ember_runtime::search::nearest`]),
//! leaving out the query's own rows, are printed best first as `similar`
//! (entity models compare rows normalised by their column's batch-norm
//! statistics, [`ember_runtime::search::combine_normalised`] and
//! [`ember_runtime::search::nearest_normalised`]):
//! global row indices and the exact bits of their scores (fewer when fewer
//! rows qualify). `similar_instret` counts everything from reading the line
//! to the last neighbour: name lookups, the sum and the search. A query that
//! names an unknown row, column or category (or is otherwise malformed) stops
//! the run with a [`Failure::Query`] (`error: query <line>: unknown name
//! `<name>``).
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "build")]
extern crate std;

#[cfg(feature = "build")]
pub mod build;
pub mod protocol;
mod queries;
pub mod quiet;

use core::fmt::{self, Write};
use core::hint::black_box;

use ember_runtime::{Blob, Error, Forward, Sample, Tokenizer, TypedModel};

/// Most values per table row a similarity query supports: the query vector
/// is a stack buffer of this many `f32` (256 bytes).
pub const MAX_QUERY_DIM: usize = 64;
/// Most terms in one similarity query (their rows are left out of the answer).
pub const MAX_QUERY_TERMS: usize = 8;
pub use protocol::NEIGHBOURS;

/// Why a run stopped.
#[derive(Debug)]
pub enum Failure<'q> {
    /// The runtime rejected the blob, an input or a text.
    Runtime(Error),
    /// The texts are not UTF-8.
    TextNotUtf8,
    /// The similarity queries are not UTF-8.
    QueriesNotUtf8,
    /// Queries were given, but the first layer is neither an `Embedding` nor an `EntityDot`.
    NoTable,
    /// The table's rows are wider than [`MAX_QUERY_DIM`] (the row length).
    DimTooLarge(usize),
    /// The `vocab` asset does not name every row of the table: (names, rows).
    NamesMismatch(usize, usize),
    /// Query `line` (from 0) cannot be answered.
    Query {
        /// The query's line, from 0.
        line: usize,
        /// What is wrong with it.
        problem: QueryProblem<'q>,
    },
    /// Writing to the host failed.
    Output,
}

/// What is wrong with one similarity query.
#[derive(Debug)]
pub enum QueryProblem<'q> {
    /// The line holds no term.
    Empty,
    /// More than [`MAX_QUERY_TERMS`] terms.
    TooManyTerms,
    /// No row has this name (word models), or the column has no such
    /// category (entity models; the whole `column=value` term).
    UnknownName(&'q str),
    /// No categorical column has this name (entity models).
    UnknownColumn(&'q str),
    /// An entity model's term is not `column=value`.
    NotColumnValue(&'q str),
    /// The search rejected the query (for example `a -a`, a zero vector).
    Runtime(Error),
}

impl From<Error> for Failure<'_> {
    fn from(e: Error) -> Self {
        Failure::Runtime(e)
    }
}

impl From<fmt::Error> for Failure<'_> {
    fn from(_: fmt::Error) -> Self {
        Failure::Output
    }
}

impl Failure<'_> {
    /// A static message (the [`fmt::Display`] form adds the details).
    pub fn message(&self) -> &'static str {
        match self {
            Failure::Runtime(e) => e.message(),
            Failure::TextNotUtf8 => "texts are not UTF-8",
            Failure::QueriesNotUtf8 => "similarity queries are not UTF-8",
            Failure::NoTable => "similarity queries need an Embedding or EntityDot first layer",
            Failure::DimTooLarge(_) => "embedding rows are too wide for a similarity query",
            Failure::NamesMismatch(..) => "the vocab asset does not name every row of the embedding table",
            Failure::Query { problem, .. } => problem.message(),
            Failure::Output => "cannot write to the host",
        }
    }
}

impl QueryProblem<'_> {
    /// A static message.
    pub fn message(&self) -> &'static str {
        match self {
            QueryProblem::Empty => "empty query",
            QueryProblem::TooManyTerms => "too many terms in a query",
            QueryProblem::UnknownName(_) => "unknown name",
            QueryProblem::UnknownColumn(_) => "unknown column",
            QueryProblem::NotColumnValue(_) => "an entity query term must be column=value",
            QueryProblem::Runtime(e) => e.message(),
        }
    }
}

impl fmt::Display for QueryProblem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryProblem::Empty => f.write_str("empty query"),
            QueryProblem::TooManyTerms => write!(f, "more than {MAX_QUERY_TERMS} terms"),
            QueryProblem::UnknownName(n) => write!(f, "unknown name `{n}`"),
            QueryProblem::UnknownColumn(c) => write!(f, "unknown column `{c}`"),
            QueryProblem::NotColumnValue(t) => write!(f, "`{t}` is not column=value"),
            QueryProblem::Runtime(e) => f.write_str(e.message()),
        }
    }
}

impl fmt::Display for Failure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::DimTooLarge(dim) => {
                write!(
                    f,
                    "embedding rows of {dim} values are too wide for a similarity query (at most {MAX_QUERY_DIM})"
                )
            }
            Failure::NamesMismatch(names, rows) => {
                write!(f, "the vocab asset names {names} rows, the embedding table has {rows}")
            }
            Failure::Query { line, problem } => write!(f, "query {line}: {problem}"),
            other => f.write_str(other.message()),
        }
    }
}

fn print_sample(out: &mut impl Write, tag: &str, i: usize, s: &impl Sample, hex: bool) -> Result<(), fmt::Error> {
    write!(out, "{tag} {i}")?;
    let mut res = Ok(());
    s.for_each_value(|v| {
        if res.is_ok() {
            res = if hex { write!(out, " {:08x}", v.to_bits()) } else { write!(out, " {}", v as u32) };
        }
    });
    res?;
    writeln!(out)
}

/// Binds `M` to `blob` ([`TypedModel::load`]) in a frame of its own:
/// decoding the blob's header takes kilobytes of stack (its fixed-capacity
/// lists of layers and tensors), which must not stay reserved in the
/// caller's frame while the model runs.
///
/// # Errors
/// As [`TypedModel::load`].
#[inline(never)]
pub fn load<M: TypedModel>(blob: &[u8]) -> Result<M::Bound<'_>, Error> {
    M::load(blob)
}

/// Tokenizes every line of `texts` with the blob's tokenizer and runs
/// `model` on it, printing `text_ids`, `text_out` and `text_instret` lines
/// (in a frame of its own, like [`load`]: it parses the blob again).
#[inline(never)]
fn run_texts<'q, M>(
    model: &M::Bound<'_>,
    blob: &[u8],
    texts: &[u8],
    out: &mut impl Write,
    instructions: &mut impl FnMut() -> u64,
) -> Result<(), Failure<'q>>
where
    M: TypedModel,
    M::Input: Sample,
    M::Output: Sample,
{
    let parsed = Blob::parse(blob)?;
    let tokenizer = Tokenizer::from_blob(&parsed)?;
    let texts = core::str::from_utf8(texts).map_err(|_| Failure::TextNotUtf8)?;
    for (k, line) in texts.lines().enumerate() {
        let before = instructions();
        let x = black_box(M::Input::from_values(tokenizer.padded(line)?.map(|id| id as f32))?);
        let mid = instructions();
        let y = black_box(model.forward(black_box(&x)));
        let after = instructions();
        print_sample(out, "text_ids", k, &x, false)?;
        print_sample(out, "text_out", k, &y, true)?;
        writeln!(out, "text_instret {k} {} {}", mid - before, after - mid)?;
    }
    Ok(())
}

/// Runs model `M` from `blob` on `inputs` (little-endian `f32`, whole
/// samples) and on each line of `texts`, answers each line of `queries`
/// (see the module docs), printing results to `out` and counting
/// instructions with `instructions`.
///
/// # Errors
/// A [`Failure`] for a blob that does not bind to `M`, an input that is not
/// a valid sample, a text without words, a query that cannot be answered, or
/// an output error.
pub fn run<'q, M>(
    blob: &[u8],
    inputs: &[u8],
    texts: &[u8],
    queries: &'q [u8],
    out: &mut impl Write,
    instructions: impl FnMut() -> u64,
) -> Result<(), Failure<'q>>
where
    M: TypedModel,
    M::Input: Sample,
    M::Output: Sample,
{
    run_with_stack::<M>(blob, inputs, texts, queries, out, instructions, || None)
}

/// The stack a run used, as the board measured it (`ember_board_stack`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackUse {
    /// The deepest the stack went, in bytes below its top.
    pub peak: usize,
    /// The size of the stack region in bytes.
    pub size: usize,
}

/// Writes the `stack_peak_bytes` line of `stack`, if any.
fn print_stack(out: &mut impl Write, stack: Option<StackUse>) -> fmt::Result {
    match stack {
        Some(s) => writeln!(out, "{} {} {}", protocol::TAG_STACK, s.peak, s.size),
        None => Ok(()),
    }
}

/// [`run`], then `stack_peak_bytes` from `stack` (called once, after
/// everything else has run and been printed) before `done`.
///
/// # Errors
/// As [`run`].
pub fn run_with_stack<'q, M>(
    blob: &[u8],
    inputs: &[u8],
    texts: &[u8],
    queries: &'q [u8],
    out: &mut impl Write,
    mut instructions: impl FnMut() -> u64,
    stack: impl FnOnce() -> Option<StackUse>,
) -> Result<(), Failure<'q>>
where
    M: TypedModel,
    M::Input: Sample,
    M::Output: Sample,
{
    let model = load::<M>(blob)?;
    let f32_le = |b: &[u8]| f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    for (i, sample) in inputs.chunks_exact(4 * M::Input::LEN).enumerate() {
        let x = M::Input::from_values(sample.chunks_exact(4).map(f32_le))?;
        let before = instructions();
        let y = black_box(model.forward(black_box(&x)));
        let after = instructions();
        print_sample(out, "out", i, &y, true)?;
        writeln!(out, "instret {i} {}", after - before)?;
    }
    if !texts.is_empty() {
        run_texts::<M>(&model, blob, texts, out, &mut instructions)?;
    }
    if !queries.is_empty() {
        let queries = core::str::from_utf8(queries).map_err(|_| Failure::QueriesNotUtf8)?;
        queries::run_queries(blob, queries, out, &mut instructions)?;
    }
    writeln!(out, "{} {}", protocol::TAG_RAM, M::ACTIVATION_BYTES)?;
    print_stack(out, stack())?;
    writeln!(out, "{}", protocol::TAG_DONE)?;
    Ok(())
}
