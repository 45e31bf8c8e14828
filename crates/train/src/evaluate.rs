//! Scoring a trained model on held-out data, and predicting with it, through
//! the host runtime (`ember_runtime::dynamic`, the interpreter that runs the
//! blob exactly as written, not the trainer's network).
//!
//! What a model is comes from its blob alone ([`ModelKind::of`]): its
//! layers, its assets (the text tokenizer and word list, an entity model's
//! columns, a word model's words) and the `task` metadata the trainer
//! writes. Each kind reads the data formats that `ember train` reads for its
//! task, through the same `ember-data` loaders, with the model's own
//! tokenizer, words and categories; classifiers of features, images and
//! time series read a folder per class, a CSV label column or IDX labels,
//! the data's class names mapped onto the model's (`samples`):
//!
//! | kind | evaluate | predict |
//! |---|---|---|
//! | autoencoder | MSE, MAE of the reconstruction; samples over the anomaly threshold | reconstructions or codes; each sample's MSE and flag |
//! | classifier | accuracy, per-class report, confusion matrix, cross-entropy | class, name, probabilities |
//! | regressor | MSE, MAE in the targets' units | outputs, named by target |
//! | word model | cross-entropy, perplexity, accuracy, top-k | the most probable next words |
//! | entity model | MAE of the target | the target |
//!
//! [`evaluate`] returns an [`Evaluation`]; [`predict`] returns
//! [`Predictions`] for [`Predictions::write`] (CSV or `.npy`, atomically).

use std::path::Path;

use ember_export::{AlignedBytes, Model};
use ember_runtime::spec::{LayerSpec, TokenizerSpec, ValueKind};
use ember_runtime::text::VOCAB_TENSOR;
use ember_runtime::{Activation, Blob};
use rayon::prelude::*;

use crate::embed::{self, EntityColumn};
use crate::error::{Result, TrainError, invalid};

mod calibration;
mod format;
mod inputs;
mod predict;
mod report;
mod samples;
mod tables;
mod texts;

pub use calibration::model_inputs;
pub use inputs::{Columns, EvalData, load_eval_data};
pub use predict::{OutputFormat, PredictOptions, Predictions, predict};
pub use report::{Anomalies, EvalOptions, Evaluation, Scores, add_to_run, evaluate};

/// How a classifier takes its input.
#[derive(Clone, Debug, PartialEq)]
pub enum ClassifierInput {
    /// Raw text through the blob's tokenizer (and word list).
    Text {
        /// The tokenizer settings.
        spec: TokenizerSpec,
        /// The word list (word `k` has id `reserved + k`), for a word-list tokenizer.
        vocab: Option<Vec<String>>,
    },
    /// Token ids without a tokenizer (the ids came without their words).
    Ids,
    /// Feature vectors, images or time series (`f32` values).
    Features,
}

/// What a trained model does, read from its blob.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ModelKind {
    /// Reconstructs its input (plain or denoising autoencoder).
    Autoencoder {
        /// Layers of the encoder (the `encoder_layers` metadata), if named.
        encoder_layers: Option<usize>,
    },
    /// An encoder alone (an autoencoder's first layers): its outputs are codes.
    Encoder,
    /// Class probabilities: one sigmoid unit (two classes) or one per class.
    Classifier {
        /// How it takes its input.
        input: ClassifierInput,
        /// Class names (the `classes` metadata), else the class numbers.
        classes: Vec<String>,
    },
    /// Numeric outputs predicted from `f32` inputs.
    Regressor,
    /// Word embeddings: `context` words predict the next.
    Words {
        /// The vocabulary: id `i` is `words[i]`.
        words: Vec<String>,
        /// Words of context.
        context: usize,
    },
    /// Entity embeddings: categories of table columns predict a number.
    Entity {
        /// The columns and their rows in the table.
        columns: Vec<EntityColumn>,
        /// Category names, one per table row.
        names: Vec<String>,
        /// The target's name.
        target: String,
    },
}

impl ModelKind {
    /// The kind of `model`: an entity model (an `entitydot` layer with a
    /// `columns` asset), a word model (`task = ngram`), then by the `task`
    /// metadata (`autoencoder`/`denoise`, `classify`, `regress`), and for a
    /// blob without one by its shape (output as large as a float input: an
    /// autoencoder; a sigmoid or softmax output: a classifier; else a
    /// regressor).
    ///
    /// # Errors
    /// [`TrainError::Invalid`] for assets that do not fit the model.
    pub fn of(model: &Model) -> Result<ModelKind> {
        let first = model.layers.first().ok_or_else(|| TrainError::invalid("the model has no layer"))?;
        let task = model.meta("task").unwrap_or("");
        if matches!(first, LayerSpec::EntityDot { .. }) {
            let columns = embed::columns(model)?;
            let names = embed::row_names(model)?;
            let target = model.meta("target").unwrap_or("target").to_string();
            return Ok(ModelKind::Entity { columns, names, target });
        }
        if task == "ngram" {
            let words = embed::row_names(model)?;
            if out_len(model) != words.len() {
                invalid!("word model {} has {} words but {} outputs", model.name, words.len(), out_len(model));
            }
            return Ok(ModelKind::Words { words, context: model.input.dims.elements() });
        }
        let float_in = model.input.kind == ValueKind::F32;
        let same_size = float_in && out_len(model) == model.input.dims.elements();
        let last = model.layers.last().map(LayerSpec::activation);
        let probabilities =
            (last == Some(Activation::Sigmoid) && out_len(model) == 1) || last == Some(Activation::Softmax);
        Ok(match task {
            "autoencoder" | "denoise" if same_size => ModelKind::Autoencoder { encoder_layers: encoder_layers(model) },
            "autoencoder" | "denoise" => ModelKind::Encoder,
            "classify" => classifier(model)?,
            "regress" => ModelKind::Regressor,
            _ if same_size => ModelKind::Autoencoder { encoder_layers: encoder_layers(model) },
            _ if probabilities || !float_in => classifier(model)?,
            _ => ModelKind::Regressor,
        })
    }
}

/// The anomaly threshold of an autoencoder (its `anomaly_threshold`
/// metadata): a sample whose reconstruction MSE exceeds it is an anomaly.
pub fn anomaly_threshold(model: &Model) -> Option<f64> {
    model.meta("anomaly_threshold").and_then(|t| t.parse::<f64>().ok()).filter(|t| t.is_finite())
}

impl ModelKind {
    /// A short name: `autoencoder`, `encoder`, `text classifier`,
    /// `classifier`, `regressor`, `word model`, `entity model`.
    pub fn name(&self) -> &'static str {
        match self {
            ModelKind::Autoencoder { .. } => "autoencoder",
            ModelKind::Encoder => "encoder",
            ModelKind::Classifier { input: ClassifierInput::Text { .. }, .. } => "text classifier",
            ModelKind::Classifier { .. } => "classifier",
            ModelKind::Regressor => "regressor",
            ModelKind::Words { .. } => "word model",
            ModelKind::Entity { .. } => "entity model",
        }
    }
}

/// Output values of one sample of `model`.
fn out_len(model: &Model) -> usize {
    model.output().dims.elements()
}

fn encoder_layers(model: &Model) -> Option<usize> {
    model.meta("encoder_layers").and_then(|k| k.parse().ok()).filter(|&k| k > 0 && k < model.layers.len())
}

/// A classifier's input and class names.
fn classifier(model: &Model) -> Result<ModelKind> {
    let width = out_len(model);
    let input = match (model.tokenizer, model.input.kind) {
        (Some(spec), _) => {
            let vocab =
                model.assets.iter().find(|a| a.name == VOCAB_TENSOR).map(|a| {
                    String::from_utf8_lossy(&a.bytes).split('\n').map(str::to_string).collect::<Vec<String>>()
                });
            ClassifierInput::Text { spec, vocab }
        }
        (None, ValueKind::TokenIds) => ClassifierInput::Ids,
        (None, _) => ClassifierInput::Features,
    };
    let count = if width == 1 { 2 } else { width };
    let classes = match model.meta("classes") {
        Some(c) => {
            let names: Vec<String> = c.split('\n').map(str::to_string).collect();
            if names.len() != count {
                invalid!("model {} names {} classes but has {count}", model.name, names.len());
            }
            names
        }
        None => (0..count).map(|c| c.to_string()).collect(),
    };
    Ok(ModelKind::Classifier { input, classes })
}

/// A blob read for evaluation or prediction: its bytes, the model they
/// hold, and what kind of model it is.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// The blob, as read.
    pub blob: Vec<u8>,
    /// The model it decodes to.
    pub model: Model,
    /// Its kind.
    pub kind: ModelKind,
}

impl LoadedModel {
    /// Decodes `blob` (every check of the blob reader) and finds its kind.
    ///
    /// # Errors
    /// [`TrainError::Export`] for a blob that does not decode,
    /// [`TrainError::Invalid`] for assets that do not fit.
    pub fn from_blob(blob: Vec<u8>) -> Result<Self> {
        let model = Model::from_blob(&blob)?;
        let kind = ModelKind::of(&model)?;
        Ok(LoadedModel { blob, model, kind })
    }

    /// Reads and decodes the blob at `path`; errors name the file.
    ///
    /// # Errors
    /// [`TrainError::Invalid`] naming the file when it cannot be read or is
    /// not a valid blob.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).map_err(|e| TrainError::invalid(format!("cannot read {}: {e}", path.display())))?;
        Self::from_blob(bytes)
            .map_err(|e| TrainError::invalid(format!("{} is not a valid ember blob: {e}", path.display())))
    }

    /// Values in one input sample.
    pub fn input_len(&self) -> usize {
        self.model.input.dims.elements()
    }

    /// Values in one output sample.
    pub fn output_len(&self) -> usize {
        out_len(&self.model)
    }

    /// Runs every sample of `inputs` through the blob on the host runtime.
    ///
    /// # Errors
    /// As [`run_host`].
    pub fn run(&self, inputs: &[f32]) -> Result<Vec<f32>> {
        run_host(&self.blob, inputs)
    }
}

/// Samples per parallel task of [`run_host`].
const CHUNK: usize = 16;

/// Runs every sample of `inputs` through `blob` with the host runtime's
/// interpreter (`ember_runtime::dynamic::forward`), samples spread over the
/// cores; the outputs are those of each sample run alone, in order.
///
/// # Shapes
/// `inputs`: `[n, input elements]` → `[n, output elements]`.
///
/// # Errors
/// [`TrainError::Runtime`] for a blob the runtime rejects;
/// [`TrainError::Invalid`] naming the first sample (1-based) the runtime
/// refuses (a NaN, an id outside the vocabulary) or a partial sample.
pub fn run_host(blob: &[u8], inputs: &[f32]) -> Result<Vec<f32>> {
    let aligned = AlignedBytes::new(blob);
    let blob = Blob::parse(&aligned)?;
    let h = blob.header();
    let (in_len, out_len) = (h.input.dims.elements(), h.output.dims.elements());
    if in_len == 0 || !inputs.len().is_multiple_of(in_len) {
        invalid!("{} input values do not make whole samples of {in_len}", inputs.len());
    }
    let scratch = ember_runtime::dynamic::scratch_len(&blob);
    let mut out = vec![0f32; inputs.len() / in_len * out_len];
    let failures: Vec<(usize, ember_runtime::Error)> = inputs
        .par_chunks(in_len * CHUNK)
        .zip(out.par_chunks_mut(out_len * CHUNK))
        .enumerate()
        .filter_map(|(c, (xs, ys))| {
            let mut buf = vec![0f32; scratch];
            for (i, (x, y)) in xs.chunks(in_len).zip(ys.chunks_mut(out_len)).enumerate() {
                if let Err(e) = ember_runtime::dynamic::forward(&blob, x, &mut buf, y) {
                    return Some((c * CHUNK + i, e));
                }
            }
            None
        })
        .collect();
    if let Some((i, e)) = failures.into_iter().min_by_key(|f| f.0) {
        let x = &inputs[i * in_len..(i + 1) * in_len];
        let detail = match x.iter().position(|v| !v.is_finite()) {
            Some(j) => format!(" (value {j} is {})", x[j]),
            None => String::new(),
        };
        invalid!("sample {}: the runtime refused it: {e}{detail}", i + 1);
    }
    Ok(out)
}
