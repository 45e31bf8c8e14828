//! Training word embeddings from context windows (`task = "ngram"`): the
//! classic exercise where three words predict the fourth through one shared
//! embedding, concatenated, and a softmax over the vocabulary.
//!
//! The model's blob carries its words (the `vocab` asset, one per row of the
//! embedding table), so `ember similar`, `ember analogy`, `ember next` and a
//! board can answer in words.

use std::fmt::Write as _;
use std::path::Path;

use ember_export::{Asset, Model};
use ember_runtime::text::VOCAB_TENSOR;

use crate::config::ModelConfig;
use crate::embed;
use crate::error::{Result, TrainError, invalid};
use crate::output::{TrainOptions, TrainSummary, prepare_out, run_lines, write_history, write_model};
use crate::runlog::RunObserver;
use ember_data::text::{self, NgramData};
use ember_nn::fit::{self, FitOptions, TrainData};
use ember_nn::metrics;
use ember_nn::network::Network;

/// Lines of the generated corpus used when a model names `synthetic-corpus`.
pub const SYNTHETIC_LINES: usize = 4000;
/// Seed of the generated corpus.
pub const SYNTHETIC_SEED: u64 = 7;

/// Loads the windows a config names (or `path`): `synthetic-corpus`, a text
/// file or folder, `.npy`/`.npz` 4-gram arrays or a MATLAB `.mat` file.
pub fn load_ngram_data(cfg: &ModelConfig, path: Option<&Path>) -> Result<NgramData> {
    let words = cfg.words.as_ref().ok_or_else(|| TrainError::config("an ngram model needs a [words] section"))?;
    let n = words.context as usize + 1;
    let data = match (path, cfg.data.as_deref()) {
        (Some(p), _) => text::load_ngrams(p, words.vocab as usize, n)?,
        (None, Some("synthetic-corpus")) => {
            let corpus = text::synthetic_corpus(SYNTHETIC_LINES, SYNTHETIC_SEED);
            text::ngrams_from_str(&corpus, words.vocab as usize, n)?
        }
        (None, Some(other)) => text::load_ngrams(Path::new(other), words.vocab as usize, n)?,
        (None, None) => invalid!("model {} names no default data: pass --data PATH", cfg.name),
    };
    if data.n != n {
        invalid!(
            "the data holds windows of {} words but the model takes {} words of context plus the next",
            data.n,
            n - 1
        );
    }
    if data.train.is_empty() {
        invalid!("the data holds no training window");
    }
    Ok(data)
}

/// Inputs (the context ids as `f32`) and one-hot targets of flattened windows.
fn xy(windows: &[u32], n: usize, vocab: usize) -> (Vec<f32>, Vec<f32>) {
    let count = windows.len() / n;
    let mut x = Vec::with_capacity(count * (n - 1));
    let mut y = vec![0.0f32; count * vocab];
    for (w, row) in windows.chunks_exact(n).zip(y.chunks_exact_mut(vocab)) {
        x.extend(w[..n - 1].iter().map(|&id| id as f32));
        row[w[n - 1] as usize] = 1.0;
    }
    (x, y)
}

/// The trained model with its words.
fn ngram_model(net: &Network, cfg: &ModelConfig, words: &[String]) -> Result<Model> {
    let mut model = net.to_model()?;
    model.set_meta("producer", crate::PRODUCER);
    model.set_meta("task", "ngram");
    model.set_meta("loss", cfg.train.loss.clone());
    model.assets.push(Asset { name: VOCAB_TENSOR.into(), bytes: embed::join_names(words)?.into_bytes() });
    model.validate()?;
    Ok(model)
}

/// Trains word embeddings of `cfg` and writes the model, plots and report into `opts.out`.
pub fn train(cfg: &ModelConfig, opts: &TrainOptions) -> Result<TrainSummary> {
    let data = load_ngram_data(cfg, opts.data.as_deref())?;
    let cfg = &cfg.with_vocab(data.words.len() as u32);
    let vocab = data.words.len();
    let n = data.n;
    let specs = cfg.layer_specs()?;
    let mut fit_cfg = cfg.fit_config()?;
    // A data set with its own validation windows (the course's .mat file)
    // uses them, after the training windows, instead of a split.
    let mut windows = data.train.clone();
    if !data.valid.is_empty() {
        windows.extend_from_slice(&data.valid);
        let (n_valid, total) = ((data.valid.len() / n) as f64, (windows.len() / n) as f64);
        fit_cfg.validation_split = ((n_valid + 0.5) / total) as f32;
    }
    let (x, y) = xy(&windows, n, vocab);
    let mut net = Network::init(cfg.name.clone(), cfg.input_spec()?, &specs, cfg.train.seed);
    let (ck_path, resume) = prepare_out(opts)?;
    let mut observer = RunObserver::new(opts, &net, resume.as_ref())?;
    let fit_opts = FitOptions { checkpoint: Some(ck_path), resume, observer: observer.as_dyn(), input_transform: None };
    let history = fit::fit(&mut net, TrainData { x: &x, y: &y }, &fit_cfg, fit_opts)?;
    observer.finish()?;

    let model = ngram_model(&net, cfg, &data.words)?;
    let mut files = write_model(&model, &opts.out)?;
    files.extend(write_history(cfg, &history, &opts.out)?);

    // Held-out score: the test windows when the data has them, else the validation tail.
    let count = windows.len() / n;
    let n_val = fit::validation_count(count, fit_cfg.validation_split);
    let (held, held_name) = if !data.test.is_empty() {
        (data.test.as_slice(), "test")
    } else if n_val > 0 {
        (&windows[(count - n_val) * n..], "validation")
    } else {
        (windows.as_slice(), "training (no validation split)")
    };
    let (hx, hy) = xy(held, n, vocab);
    let (loss, acc) = fit::evaluate(&mut net, fit_cfg.loss, 0.0, &hx, &hy, true)?;
    let probs = net.predict(&hx);
    let top5 = top_k_accuracy(&probs, &hy, vocab, 5);

    let table = embed::embedding_table(&model)?;
    let png = opts.out.join("embeddings.png");
    embed::plot_projection(&png, &format!("{}: word embeddings (PCA)", cfg.name), &table, &data.words)?;
    files.push(png);

    let mut lines = vec![format!(
        "{} {held_name} windows: cross-entropy {loss:.4}, accuracy {:.4}, top-5 accuracy {top5:.4}",
        held.len() / n,
        acc.unwrap_or(0.0)
    )];
    let mut examples = String::new();
    for word in example_words(&data.words) {
        let near = embed::most_similar(&table, &data.words, &[(word.as_str(), 1.0)], 5)?;
        let list: Vec<String> = near.iter().map(|(w, s)| format!("{w} ({s:.2})")).collect();
        let _ = writeln!(examples, "- **{word}**: {}", list.join(", "));
    }
    let report_path = opts.out.join("report.md");
    let mut r = String::new();
    let t = &cfg.train;
    let _ = writeln!(r, "# {}\n", cfg.name);
    let _ = writeln!(
        r,
        "- word embeddings: {} words of context predict the next; vocabulary {vocab}; {} training and {} held-out windows",
        n - 1,
        count - n_val,
        held.len() / n
    );
    r += &run_lines(t, &history);
    let _ = writeln!(r, "- {}\n\n## Most similar words (cosine)\n\n{examples}", lines[0]);
    crate::write_file(&report_path, r.as_bytes())?;
    files.push(report_path);
    lines.push(format!("most similar words are in {}", opts.out.join("report.md").display()));
    Ok(TrainSummary {
        model,
        encoder: None,
        history,
        val_mse: loss,
        pca_mse: None,
        classification: None,
        summary: lines,
        files,
        data: None,
    })
}

/// Fraction of rows whose target is among the `k` most probable words.
fn top_k_accuracy(probs: &[f32], targets: &[f32], width: usize, k: usize) -> f64 {
    let rows = probs.len() / width.max(1);
    let hits = probs
        .chunks_exact(width)
        .zip(targets.chunks_exact(width))
        .filter(|(p, t)| {
            let truth = metrics::argmax(t);
            let better = p.iter().filter(|&&v| v > p[truth]).count();
            better < k
        })
        .count();
    hits as f64 / rows.max(1) as f64
}

/// A few words to show neighbours of: the planted groups' first words when
/// present (the generated corpus), else the first words of the vocabulary.
fn example_words(words: &[String]) -> Vec<String> {
    let planted: Vec<String> = text::ngram::WORD_GROUPS
        .iter()
        .filter_map(|g| g.first())
        .filter(|w| words.iter().any(|x| x == *w))
        .map(|w| w.to_string())
        .collect();
    if planted.is_empty() { words.iter().take(5).cloned().collect() } else { planted }
}
