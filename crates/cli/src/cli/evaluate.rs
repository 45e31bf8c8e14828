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
    /// Classifiers: the CSV column holding the labels (a name, or a 0-based index; -1 is the last); predict leaves it out of the features. Default: the model's [columns] label, else a column named `label`, else the last when the rows hold one value more than the model takes.
    #[arg(long)]
    label_column: Option<String>,
    /// Regressors: the CSV target columns, comma-separated (names or 0-based indices). Default: the model's target names when the header has them, else the last columns.
    #[arg(long, value_delimiter = ',')]
    target_column: Option<Vec<String>>,
}

impl ColumnArgs {
    /// The columns named.
    pub fn columns(&self) -> Columns {
        Columns {
            text: self.text_column.clone(),
            label: self.label_column.clone(),
            targets: self.target_column.clone().unwrap_or_default(),
        }
    }
}

/// Arguments of `ember evaluate`.
#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The trained model's blob.
    model: PathBuf,
    /// Held-out data in a format `ember train` reads for the model's task: classifiers of features, images or time series a folder per class (.npy or .csv samples, a time series [steps, channels] one step per line), a CSV with a label column, an MNIST CSV or IDX images with their labels file; regressors a CSV with the target columns; autoencoders .npy, CSV, IDX or a folder per class (an anomaly detector's flags counted per class); text models an aclImdb folder, a Keras IMDB .npz or a CSV with text and label columns; word models a text file; entity models a table with the target.
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
    /// Inputs: texts (one per line, or a CSV column), table rows by category names (entity models), word contexts (word models), feature rows, images or time series as .npy, CSV (a label or target column is left out), IDX or a folder per class of .npy/.csv samples.
    #[arg(long)]
    data: PathBuf,
    /// Output: FILE.csv (a readable table: class and class name with the probabilities, the target names of a regressor, an anomaly detector's per-sample MSE and flag) or FILE.npy (the model's outputs).
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
