//! Queries on learned embeddings: `ember similar`, `analogy`, `next` (word
//! embeddings), `dims`, `nearest` (entity embeddings) and `project` (any
//! table). Similarity search runs the runtime's no_std search on the
//! model's table, so the host answers what a board answers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ember_export::Model;
use ember_runtime::LayerSpec;
use ember_runtime::search;
use ember_train::embed::{self, EmbeddingTable, EntityColumn};
use ember_verify as verify;

use super::read_model;

/// Arguments of `ember similar`.
#[derive(clap::Args)]
pub struct SimilarArgs {
    /// The blob of a word-embedding model.
    model: PathBuf,
    /// The word.
    word: String,
    /// How many words to list.
    #[arg(short, default_value_t = 10)]
    k: usize,
}

/// Arguments of `ember analogy`.
#[derive(clap::Args)]
pub struct AnalogyArgs {
    /// The blob of a word-embedding model.
    model: PathBuf,
    /// A, added (`king`).
    a: String,
    /// B, subtracted (`man`).
    b: String,
    /// C, added (`woman`).
    c: String,
    /// How many words to list.
    #[arg(short, default_value_t = 5)]
    k: usize,
}

/// Arguments of `ember next`.
#[derive(clap::Args)]
pub struct NextArgs {
    /// The blob of a word-embedding model.
    model: PathBuf,
    /// The context words, in one argument or several.
    #[arg(required = true)]
    words: Vec<String>,
    /// How many words to list.
    #[arg(short, default_value_t = 5)]
    k: usize,
}

/// Arguments of `ember dims`.
#[derive(clap::Args)]
pub struct DimsArgs {
    /// The blob of an entity (or word-embedding) model.
    model: PathBuf,
    /// The column (entity models).
    column: Option<String>,
    /// Categories to show at each end.
    #[arg(short, default_value_t = 3)]
    n: usize,
}

/// Arguments of `ember nearest`.
#[derive(clap::Args)]
pub struct NearestArgs {
    /// The blob of an entity model.
    model: PathBuf,
    /// The column whose categories are searched.
    column: String,
    /// One or more categories of that column (several are added up).
    #[arg(required = true)]
    values: Vec<String>,
    /// Also add a category of another column: COLUMN=VALUE (repeatable).
    #[arg(long = "add", value_name = "COLUMN=VALUE")]
    add: Vec<String>,
    /// How many categories to list.
    #[arg(short, default_value_t = 5)]
    k: usize,
}

/// Arguments of `ember project`.
#[derive(clap::Args)]
pub struct ProjectArgs {
    /// The blob of a word-embedding or entity model.
    model: PathBuf,
    /// Only this column's categories (entity models).
    #[arg(long)]
    column: Option<String>,
    /// The PNG to write.
    #[arg(long)]
    out: PathBuf,
}

/// A model whose first layer is a word embedding, with its table and words.
fn word_model(path: &std::path::Path) -> anyhow::Result<(Model, EmbeddingTable, Vec<String>)> {
    let model = read_model(path)?;
    if !matches!(model.layers.first(), Some(LayerSpec::Embedding { .. })) {
        bail!("{} is not a word-embedding model (for entity models use `ember nearest`)", path.display());
    }
    let table = embed::embedding_table(&model)?;
    let names = embed::row_names(&model)?;
    Ok((model, table, names))
}

fn print_neighbours(found: &[(String, f32)]) {
    for (i, (name, score)) in found.iter().enumerate() {
        println!("{:>3}. {name}\t{score:.4}", i + 1);
    }
}

/// `ember similar`.
pub fn cmd_similar(a: SimilarArgs) -> anyhow::Result<ExitCode> {
    let (_, table, names) = word_model(&a.model)?;
    print_neighbours(&embed::most_similar(&table, &names, &[(a.word.as_str(), 1.0)], a.k)?);
    Ok(ExitCode::SUCCESS)
}

/// `ember analogy`: nearest to A - B + C.
pub fn cmd_analogy(a: AnalogyArgs) -> anyhow::Result<ExitCode> {
    let (_, table, names) = word_model(&a.model)?;
    let terms = [(a.a.as_str(), 1.0), (a.b.as_str(), -1.0), (a.c.as_str(), 1.0)];
    print_neighbours(&embed::most_similar(&table, &names, &terms, a.k)?);
    Ok(ExitCode::SUCCESS)
}

/// `ember next`: the top-k next words through the host runtime.
pub fn cmd_next(a: NextArgs) -> anyhow::Result<ExitCode> {
    let (model, _, names) = word_model(&a.model)?;
    if a.k == 0 || a.k > embed::MAX_K {
        bail!("-k must be between 1 and {}", embed::MAX_K);
    }
    let text = a.words.join(" ");
    let words: Vec<String> =
        ember_runtime::text::words(&text).map(|w| String::from_utf8_lossy(w).to_lowercase()).collect();
    let context = model.input.dims.elements();
    if words.len() != context {
        bail!("the model takes {context} context words, got {} ({words:?})", words.len());
    }
    let ids = words
        .iter()
        .map(|w| embed::find_row(&names, 0..names.len(), w, "word").map(|r| r as f32))
        .collect::<Result<Vec<_>, _>>()?;
    let raw = std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let probs = verify::run_runtime(&raw, &ids)?;
    let best = search::top_k::<{ embed::MAX_K }>(&probs);
    for (i, n) in best.iter().take(a.k).enumerate() {
        let word = names.get(n.row as usize).map_or("?", String::as_str);
        println!("{:>3}. {word}\tp = {:.4}", i + 1, n.score);
    }
    Ok(ExitCode::SUCCESS)
}

/// An entity model with its table, names and columns.
fn entity_model(path: &std::path::Path) -> anyhow::Result<(Model, EmbeddingTable, Vec<String>, Vec<EntityColumn>)> {
    let model = read_model(path)?;
    if !matches!(model.layers.first(), Some(LayerSpec::EntityDot { .. })) {
        bail!("{} is not an entity-embedding model (for word embeddings use `ember similar`)", path.display());
    }
    let table = embed::embedding_table(&model)?;
    let names = embed::row_names(&model)?;
    let cols = embed::columns(&model)?;
    Ok((model, table, names, cols))
}

/// `ember dims`: per dimension, the categories at both ends. Entity models
/// show the batch-normalised values the model multiplies (each column has
/// its own normalisation); word models the raw table.
pub fn cmd_dims(a: DimsArgs) -> anyhow::Result<ExitCode> {
    let model = read_model(&a.model)?;
    let table = embed::embedding_table(&model)?;
    let names = embed::row_names(&model)?;
    let (range, values): (std::ops::Range<usize>, Vec<f32>) = match (model.layers.first(), &a.column) {
        (Some(LayerSpec::EntityDot { .. }), Some(col)) => {
            let cols = embed::columns(&model)?;
            let c = embed::find_column(&cols, col)?;
            let k = cols.iter().position(|x| x.name == c.name).expect("found above");
            let range = c.offset..c.offset + c.count;
            let values = embed::normalised_rows(&model, &table, k, range.clone())?;
            (range, values)
        }
        (Some(LayerSpec::EntityDot { .. }), None) => {
            let cols = embed::columns(&model)?;
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            bail!("name a column: {}", names.join(", "))
        }
        (_, Some(col)) => {
            bail!("{} has no columns (it is not an entity model), so {col:?} is unknown", a.model.display())
        }
        (_, None) => (0..table.rows, table.data.clone()),
    };
    let rows = range.len();
    let n = a.n.clamp(1, rows);
    for d in 0..table.dim {
        let mut order: Vec<usize> = (0..rows).collect();
        order.sort_by(|&i, &j| values[i * table.dim + d].total_cmp(&values[j * table.dim + d]));
        let show = |idx: &[usize]| -> String {
            idx.iter()
                .map(|&i| format!("{} ({:+.2})", names[range.start + i], values[i * table.dim + d]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let high: Vec<usize> = order.iter().rev().take(n).copied().collect();
        println!("dim {d}: lowest {} | highest {}", show(&order[..n]), show(&high));
    }
    Ok(ExitCode::SUCCESS)
}

/// `ember nearest`: categories of a column nearest to a sum of categories.
pub fn cmd_nearest(a: NearestArgs) -> anyhow::Result<ExitCode> {
    let (_, _, names, cols) = entity_model(&a.model)?;
    let col = embed::find_column(&cols, &a.column)?;
    let range = col.offset..col.offset + col.count;
    let mut terms = Vec::new();
    for v in &a.values {
        terms.push((embed::find_row(&names, range.clone(), v, &format!("{} value", col.name))?, 1.0));
    }
    for item in &a.add {
        let (c, v) = item.split_once('=').with_context(|| format!("--add {item:?}: expected COLUMN=VALUE"))?;
        let other = embed::find_column(&cols, c)?;
        let r = other.offset..other.offset + other.count;
        terms.push((embed::find_row(&names, r, v, &format!("{} value", other.name))?, 1.0));
    }
    if a.k == 0 || a.k > embed::MAX_K {
        bail!("k must be between 1 and {}, not {}", embed::MAX_K, a.k);
    }
    // Similarity between the normalised embeddings, as a board computes it.
    let raw = std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let bytes = ember_export::AlignedBytes::new(&raw);
    let blob = ember_runtime::Blob::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", a.model.display()))?;
    let mut found = embed::search_blob::<{ embed::MAX_K }>(&blob, &terms, range)?;
    found.truncate(a.k);
    if found.is_empty() {
        bail!("column {} has no other category to compare with", col.name);
    }
    let found: Vec<(String, f32)> = found.into_iter().map(|(r, s)| (names[r as usize].clone(), s)).collect();
    print_neighbours(&found);
    Ok(ExitCode::SUCCESS)
}

/// `ember project`: a labelled 2-D PCA picture of a table (or one column's rows).
pub fn cmd_project(a: ProjectArgs) -> anyhow::Result<ExitCode> {
    let model = read_model(&a.model)?;
    let table = embed::embedding_table(&model)?;
    let names = embed::row_names(&model)?;
    let (rows, groups): (Vec<usize>, Option<Vec<u32>>) = match &a.column {
        Some(col) => {
            let cols = embed::columns(&model)?;
            let c = embed::find_column(&cols, col)?;
            ((c.offset..c.offset + c.count).collect(), None)
        }
        None => match embed::columns(&model) {
            Ok(cols) => {
                let g = cols.iter().enumerate().flat_map(|(k, c)| vec![k as u32; c.count]).collect();
                ((0..table.rows).collect(), Some(g))
            }
            Err(_) => ((0..table.rows).collect(), None),
        },
    };
    let labels: Vec<String> = rows.iter().map(|&r| names[r].clone()).collect();
    let title = format!("{}: embeddings (PCA)", model.name);
    // The plot is written to a temporary file and renamed: a failure leaves nothing.
    embed::plot_projection_of(&a.out, &title, &table, &rows, &labels, groups.as_deref())?;
    println!("wrote {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
