//! `ember evaluate MODEL.emb --data FILE [--out DIR]` and
//! `ember predict MODEL.emb --data FILE --out FILE.csv|.npy`: the work is
//! `ember_train::evaluate`'s; this parses, prints and exits.

use std::path::PathBuf;
use std::process::ExitCode;

use ember_train::config::NoiseConfig;
use ember_train::evaluate::{self, Columns, EvalOptions, LoadedModel, OutputFormat, PredictOptions};

/// Where the columns of CSV data are.
#[derive(clap::Args)]
pub struct ColumnArgs {
    /// Text models: the CSV column holding the texts.
    #[arg(long)]
    text_column: Option<String>,
    /// Classifiers: the CSV column holding the labels (a name, or a 0-based index; -1 is the last); predict leaves it out of the features.
    #[arg(long)]
    label_column: Option<String>,
}

impl ColumnArgs {
    fn columns(&self) -> Columns {
        Columns { text: self.text_column.clone(), label: self.label_column.clone() }
    }
}

/// Arguments of `ember evaluate`.
#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The trained model's blob.
    model: PathBuf,
    /// Held-out data in a format `ember train` reads for the model's task.
    #[arg(long)]
    data: PathBuf,
    /// Also write report.md (and confusion.png for classifiers) into this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Word models: the k of top-k accuracy.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Autoencoders: corrupt the inputs (gaussian:LEVEL or salt-pepper:FRACTION) and score the outputs against the clean data.
    #[arg(long)]
    noise: Option<String>,
    /// Seed of --noise.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[command(flatten)]
    columns: ColumnArgs,
}

/// Arguments of `ember predict`.
#[derive(clap::Args)]
pub struct PredictArgs {
    /// The trained model's blob.
    model: PathBuf,
    /// Inputs: texts (one per line, or a CSV column), table rows (entity models), images or feature rows.
    #[arg(long)]
    data: PathBuf,
    /// Output: FILE.csv (a readable table) or FILE.npy (the model's outputs).
    #[arg(long)]
    out: PathBuf,
    /// Autoencoders: write the codes (the encoder's outputs) instead of the reconstructions.
    #[arg(long)]
    codes: bool,
    /// Word models: how many of the most probable next words the CSV lists.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    #[command(flatten)]
    columns: ColumnArgs,
}

/// Scores the model on held-out data and prints the report.
pub fn cmd_evaluate(a: EvaluateArgs) -> anyhow::Result<ExitCode> {
    let noise = a.noise.as_deref().map(NoiseConfig::parse).transpose()?;
    let lm = LoadedModel::read(&a.model)?;
    let opts = EvalOptions { columns: a.columns.columns(), top_k: a.top_k, noise, seed: a.seed };
    let eval = evaluate::evaluate(&lm, &a.data, &opts)?;
    print!("{eval}");
    if let Some(dir) = &a.out {
        for f in eval.write(dir)? {
            println!("wrote {}", f.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Predicts every input and writes the predictions.
pub fn cmd_predict(a: PredictArgs) -> anyhow::Result<ExitCode> {
    OutputFormat::of(&a.out)?;
    let lm = LoadedModel::read(&a.model)?;
    let opts = PredictOptions { columns: a.columns.columns(), codes: a.codes, top_k: a.top_k };
    let p = evaluate::predict(&lm, &a.data, &opts)?;
    p.write(&a.out)?;
    println!("{} ({}): {} predictions written to {}", lm.model.name, lm.kind.name(), p.len(), a.out.display());
    Ok(ExitCode::SUCCESS)
}
