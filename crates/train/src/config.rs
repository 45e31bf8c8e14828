//! Model files: a preset and a TOML model file are the same [`ModelConfig`].
//!
//! ```toml
//! name = "mnist_ae"
//! task = "autoencoder"          # or "denoise"
//! input = [784]
//! input_range = [0.0, 1.0]
//! encoder_layers = 2            # the first 2 layers form the encoder
//! data = "mnist"                # default data: "mnist" (bundled), "blobs" (generated) or a path
//!
//! [[layers]]
//! type = "dense"
//! units = 128
//! activation = "relu"
//!
//! [train]
//! epochs = 20
//! batch_size = 256
//! loss = "bce"
//! optimizer = "adam"
//! # Optional, all off by default:
//! # nesterov = true                  (SGD only)
//! # min_delta = 0.001                (early stopping)
//! # class_weights = "balanced"       (or [1.0, 4.0]; bce/cce only)
//! # lr_schedule = { kind = "plateau", factor = 0.5, patience = 3, min_lr = 1e-5 }
//! ```
//!
//! A classifier of features, images or time series (no `[text]` section)
//! or a regressor names its CSV columns in `[columns]`:
//!
//! ```toml
//! name = "species"
//! task = "classify"             # or "regress": a linear last Dense, one unit per target
//! input = [4]                   # a time series is [steps, channels], time-major
//! data = "iris.csv"             # a CSV, a folder per class (.npy / .csv files), an IDX images file
//! layers = [
//!     { type = "dense", units = 16, activation = "relu" },
//!     { type = "dense", units = 3, activation = "softmax" },
//! ]
//!
//! [columns]
//! label = "species"             # classify (default: the last column); regress: targets = ["y"]
//!
//! [train]
//! loss = "sparse_cce"           # integer labels; "cce" one-hot, "bce" one sigmoid unit;
//!                               # regress: "mse", "mae" or "huber"
//! ```
//!
//! The presets (`crates/train/presets/*.toml`) write their layers as one
//! array of inline tables, `layers = [{ type = "dense", units = 128 }, ...]`,
//! which TOML reads as the same list.

mod layers;
mod schedule;
mod sections;
mod window;

use ember_runtime::Activation;
use ember_runtime::spec::{Dims, IoSpec, LayerSpec, ValueKind};
use serde::{Deserialize, Serialize};

use ember_nn::fit::{EarlyStopping, FitConfig};
use ember_nn::loss::Loss;
use ember_nn::optim::OptimizerConfig;

use crate::error::{Result, TrainError, bad_config};

pub use layers::{Kernel, LayerConfig};
pub use schedule::{ClassWeightsConfig, LrScheduleConfig};
pub use sections::{ColumnsConfig, EntityConfig, NoiseConfig, TextConfig, WordsConfig};

/// What the model learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Reconstruct the input.
    Autoencoder,
    /// Reconstruct the clean input from a noisy one.
    Denoise,
    /// Predict a class label (binary with one sigmoid unit, or one-hot with softmax).
    Classify,
    /// Word embeddings: `words.context` word ids predict the next word (a
    /// `[words]` section; the last layer is `Dense(words.vocab, softmax)`).
    Ngram,
    /// Entity embeddings of categorical columns predicting a numeric target
    /// (an `[entity]` section; the first layer is `entitydot`).
    Entity,
    /// Predict one or more numbers (the last layer is a linear `Dense` with
    /// one unit per target; MSE, MAE or Huber). The targets are standardised
    /// for training and the scale folded back into the last layer.
    Regress,
}

/// Training settings of a model file; every field has a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Fraction held out for validation (taken from the end of the data).
    pub validation_split: f32,
    /// `mse`, `mae`, `huber`, `bce`, `cce`, `sparse_cce`.
    pub loss: String,
    /// `sgd`, `adam`, `rmsprop`, `adadelta`.
    pub optimizer: String,
    /// Learning rate (the optimizer's default if absent).
    pub learning_rate: Option<f32>,
    /// SGD momentum.
    pub momentum: f32,
    /// Nesterov momentum (SGD only).
    #[serde(skip_serializing_if = "schedule::is_false")]
    pub nesterov: bool,
    /// L2 penalty on kernels.
    pub l2: f32,
    /// Early-stopping patience in epochs (none if absent).
    pub patience: Option<usize>,
    /// Smallest decrease of the monitored loss that early stopping counts as an improvement.
    #[serde(skip_serializing_if = "schedule::is_zero")]
    pub min_delta: f64,
    /// Restore the best epoch's weights at the end.
    pub restore_best: bool,
    /// Seed for initialisation, shuffling and noise.
    pub seed: u64,
    /// Most samples to use (all if absent).
    pub max_samples: Option<usize>,
    /// Learning-rate schedule (none: constant).
    pub lr_schedule: Option<LrScheduleConfig>,
    /// Class weights of a classifier: `"balanced"` or one weight per class.
    pub class_weights: Option<ClassWeightsConfig>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 32,
            validation_split: 0.2,
            loss: "mse".into(),
            optimizer: "adam".into(),
            learning_rate: None,
            momentum: 0.0,
            nesterov: false,
            l2: 0.0,
            patience: None,
            min_delta: 0.0,
            restore_best: true,
            seed: 42,
            max_samples: None,
            lr_schedule: None,
            class_weights: None,
        }
    }
}

/// A whole model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Model name (file names, ONNX graph name).
    pub name: String,
    /// What the model learns.
    pub task: Task,
    /// Dimensions of one input sample.
    pub input: Vec<u32>,
    /// Range that valid inputs lie in.
    #[serde(default)]
    pub input_range: Option<[f32; 2]>,
    /// How many leading layers form the encoder (exported on its own).
    #[serde(default)]
    pub encoder_layers: Option<usize>,
    /// Default data: `mnist` (bundled 5000-digit CSV), `blobs` (generated) or a path.
    #[serde(default)]
    pub data: Option<String>,
    /// Input noise for `task = "denoise"`.
    #[serde(default)]
    pub noise: Option<NoiseConfig>,
    /// Tokenizer settings of a text model (its input is then `[max_len]` token ids).
    #[serde(default)]
    pub text: Option<TextConfig>,
    /// Word-embedding settings (`task = "ngram"`; the input is `[context]` word ids).
    #[serde(default)]
    pub words: Option<WordsConfig>,
    /// Entity-embedding settings (`task = "entity"`; the input is one
    /// category id per column).
    #[serde(default)]
    pub entity: Option<EntityConfig>,
    /// Which CSV columns hold the label (`classify`) or the targets
    /// (`regress`); the other columns are the features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<ColumnsConfig>,
    /// Layers in order.
    pub layers: Vec<LayerConfig>,
    /// Training settings.
    #[serde(default)]
    pub train: TrainConfig,
}

impl ModelConfig {
    /// Parses a TOML model file.
    pub fn from_toml(text: &str) -> Result<Self> {
        let cfg: ModelConfig = toml::from_str(text)?;
        cfg.layer_specs()?;
        cfg.fit_config()?;
        Ok(cfg)
    }

    /// The TOML text of this configuration.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("model configs serialise")
    }

    /// The model's input description.
    pub fn input_spec(&self) -> Result<IoSpec> {
        let ids = |n: usize, what: &str| -> Result<IoSpec> {
            let dims = Dims::new(&[n as u32]).ok_or_else(|| TrainError::config(format!("{what} {n} is invalid")))?;
            Ok(IoSpec { kind: ValueKind::TokenIds, dims, range: None })
        };
        match self.task {
            Task::Ngram => {
                let w =
                    self.words.as_ref().ok_or_else(|| TrainError::config("an ngram model needs a [words] section"))?;
                return ids(w.context as usize, "words.context");
            }
            Task::Entity => {
                let e = self
                    .entity
                    .as_ref()
                    .ok_or_else(|| TrainError::config("an entity model needs an [entity] section"))?;
                return ids(e.columns.len(), "the number of entity.columns");
            }
            _ => {}
        }
        if let Some(t) = &self.text {
            let dims = Dims::new(&[t.max_len])
                .ok_or_else(|| TrainError::config(format!("max_len {} is invalid", t.max_len)))?;
            return Ok(IoSpec { kind: ValueKind::TokenIds, dims, range: None });
        }
        let dims = Dims::new(&self.input)
            .ok_or_else(|| TrainError::config(format!("input dims {:?} are invalid", self.input)))?;
        Ok(IoSpec { kind: ValueKind::F32, dims, range: self.input_range })
    }

    /// The layer specs, shapes chained from the input.
    pub fn layer_specs(&self) -> Result<Vec<LayerSpec>> {
        if self.layers.is_empty() {
            bad_config!("model {} has no layers", self.name);
        }
        let input = self.input_spec()?;
        let mut dims: Vec<u32> = input.dims.as_slice().to_vec();
        let vocab = match (self.task, &self.words, &self.entity) {
            (Task::Ngram, Some(w), _) => w.vocab,
            (Task::Entity, _, Some(e)) if e.categories.is_empty() => e.columns.len() as u32,
            (Task::Entity, _, Some(e)) => e.categories.iter().sum(),
            _ => self.text.as_ref().map_or(0, |t| t.vocab),
        };
        let mut specs = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let spec = layers::layer_spec(l, &dims, input.kind, vocab, i)
                .map_err(|e| TrainError::config(format!("layer {i}: {e}")))?;
            spec.validate()
                .map_err(|_| TrainError::config(format!("layer {i} ({}): sizes out of range", spec.kind_name())))?;
            dims = spec.output_dims().as_slice().to_vec();
            specs.push(spec);
        }
        let last = specs.last();
        match self.task {
            Task::Ngram => {
                let w =
                    self.words.as_ref().ok_or_else(|| TrainError::config("an ngram model needs a [words] section"))?;
                let softmax_of_vocab = matches!(
                    last,
                    Some(LayerSpec::Dense { units, activation: Activation::Softmax, .. }) if *units == w.vocab
                );
                if !softmax_of_vocab {
                    bad_config!(
                        "an ngram model must end with a softmax dense layer of words.vocab = {} units",
                        w.vocab
                    );
                }
            }
            Task::Entity => {
                if last.is_some_and(|l| l.output_len() != 1) {
                    bad_config!("an entity model predicts one value: its last layer must have one output");
                }
            }
            Task::Regress => {
                if !matches!(last, Some(LayerSpec::Dense { activation: Activation::Linear, .. })) {
                    bad_config!(
                        "a regressor must end with a linear dense layer of one unit per target (it holds the targets' scale)"
                    );
                }
            }
            Task::Autoencoder | Task::Denoise | Task::Classify => {}
        }
        Ok(specs)
    }

    /// This ngram configuration for a vocabulary of `n` words: `words.vocab`
    /// and the units of the last (softmax) layer become `n` (a corpus may
    /// hold fewer distinct words than the configured vocabulary).
    pub fn with_vocab(&self, n: u32) -> Self {
        let mut cfg = self.clone();
        if let Some(w) = &mut cfg.words {
            if let Some(LayerConfig::Dense { units, .. }) = cfg.layers.last_mut()
                && *units == w.vocab
            {
                *units = n;
            }
            w.vocab = n;
        }
        cfg
    }

    /// This entity configuration with the number of categories of each column.
    pub fn with_categories(&self, counts: Vec<u32>) -> Self {
        let mut cfg = self.clone();
        if let Some(e) = &mut cfg.entity {
            e.categories = counts;
        }
        cfg
    }

    /// The fit settings.
    pub fn fit_config(&self) -> Result<FitConfig> {
        let t = &self.train;
        let loss = Loss::from_name(&t.loss).ok_or_else(|| {
            TrainError::config(format!("unknown loss {:?} (mse, mae, huber, bce, cce, sparse_cce)", t.loss))
        })?;
        let mut optimizer = OptimizerConfig::from_name(&t.optimizer, t.learning_rate).ok_or_else(|| {
            TrainError::config(format!("unknown optimizer {:?} (sgd, adam, rmsprop, adadelta)", t.optimizer))
        })?;
        if let OptimizerConfig::Sgd { momentum, .. } = &mut optimizer {
            *momentum = t.momentum;
        }
        let (lr_schedule, class_weights) = schedule::fit_extras(t, loss, &mut optimizer)?;
        if class_weights.is_some() && self.task != Task::Classify {
            bad_config!("class_weights apply to classify models, not {:?} ones", self.task);
        }
        Ok(FitConfig {
            epochs: t.epochs,
            batch_size: t.batch_size,
            validation_split: t.validation_split,
            loss,
            optimizer,
            l2: t.l2,
            seed: t.seed,
            early_stopping: t.patience.map(|patience| EarlyStopping {
                patience,
                min_delta: t.min_delta,
                restore_best: t.restore_best,
            }),
            accuracy: matches!(self.task, Task::Classify | Task::Ngram),
            lr_schedule,
            class_weights,
        })
    }
}
