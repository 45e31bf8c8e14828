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
//! ```

use anyhow::Context as _;
use ember_runtime::Activation;
use ember_runtime::spec::{Dims, IoSpec, LayerSpec, Padding, Side, TokenizerKind, TokenizerSpec, ValueKind};
use serde::{Deserialize, Serialize};

use ember_nn::fit::{EarlyStopping, FitConfig};
use ember_nn::loss::Loss;
use ember_nn::optim::OptimizerConfig;

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
}

/// Settings of a word-embedding model (`task = "ngram"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WordsConfig {
    /// Most words in the vocabulary (the most frequent ones of a text corpus).
    /// A corpus with fewer distinct words gives a smaller model.
    pub vocab: u32,
    /// Words of context that predict the next one.
    pub context: u32,
}

impl Default for WordsConfig {
    fn default() -> Self {
        WordsConfig { vocab: 250, context: 3 }
    }
}

/// Settings of an entity-embedding model (`task = "entity"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntityConfig {
    /// The categorical columns, in input order.
    pub columns: Vec<String>,
    /// The numeric target column.
    pub target: String,
    /// Fraction of the records held out as the test set (before the validation split).
    pub test_split: f32,
    /// Categories per column, known once the data is loaded (not part of a
    /// model file). Until then each column counts one category, which is
    /// enough to check the layer list.
    #[serde(skip)]
    pub categories: Vec<u32>,
}

impl Default for EntityConfig {
    fn default() -> Self {
        EntityConfig { columns: Vec::new(), target: String::new(), test_split: 0.2, categories: Vec::new() }
    }
}

/// How a text model turns text into token ids (see `ember_runtime::text`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig {
    /// `hashing` (stable FNV-1a, no word list) or `vocabulary` (the most frequent words).
    pub tokenizer: String,
    /// Vocabulary size, reserved ids 0 (padding), 1 (start), 2 (out of vocabulary) included.
    pub vocab: u32,
    /// Ids per sequence after padding and truncation.
    pub max_len: u32,
    /// `pre` or `post`.
    pub padding: String,
    /// `pre` or `post`.
    pub truncating: String,
    /// Put the start id 1 first (Keras IMDB convention).
    pub start_token: bool,
    /// Lower-case ASCII letters.
    pub lowercase: bool,
    /// CSV data: the column holding the text.
    pub text_column: Option<String>,
    /// CSV data: the column holding the label.
    pub label_column: Option<String>,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            tokenizer: "vocabulary".into(),
            vocab: 5000,
            max_len: 400,
            padding: "pre".into(),
            truncating: "pre".into(),
            start_token: true,
            lowercase: true,
            text_column: None,
            label_column: None,
        }
    }
}

fn side(s: &str) -> anyhow::Result<Side> {
    match s {
        "pre" => Ok(Side::Pre),
        "post" => Ok(Side::Post),
        _ => anyhow::bail!("padding/truncating must be \"pre\" or \"post\", not {s:?}"),
    }
}

impl TextConfig {
    /// The tokenizer settings.
    pub fn tokenizer_spec(&self) -> anyhow::Result<TokenizerSpec> {
        let kind = match self.tokenizer.as_str() {
            "hashing" => TokenizerKind::Hashing,
            "vocabulary" => TokenizerKind::Vocabulary,
            t => anyhow::bail!("unknown tokenizer {t:?} (hashing, vocabulary)"),
        };
        if self.vocab <= 3 || self.max_len == 0 {
            anyhow::bail!("a text model needs vocab > 3 (3 ids are reserved) and max_len > 0");
        }
        Ok(TokenizerSpec {
            kind,
            vocab: self.vocab,
            reserved: 3,
            lowercase: self.lowercase,
            start_token: self.start_token,
            max_len: self.max_len,
            padding: side(&self.padding)?,
            truncating: side(&self.truncating)?,
        })
    }
}

/// Noise added to the inputs of a denoising autoencoder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoiseConfig {
    /// `x + level · N(0, 1)`, clipped to the input range.
    Gaussian {
        /// Noise factor.
        level: f32,
    },
    /// A fraction `level` of the values set to 0 or 1 at random.
    SaltPepper {
        /// Fraction of values replaced.
        level: f32,
    },
}

impl NoiseConfig {
    /// Parses `gaussian:0.5` or `salt-pepper:0.2` (level defaults to 0.5 / 0.2).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, level) = s.split_once(':').map_or((s, None), |(k, l)| (k, Some(l)));
        let level =
            level.map(|l| l.parse::<f32>().map_err(|_| format!("noise level {l:?} is not a number"))).transpose()?;
        if let Some(l) = level
            && !(0.0..=10.0).contains(&l)
        {
            return Err(format!("noise level {l} is outside [0, 10]"));
        }
        match kind {
            "gaussian" => Ok(NoiseConfig::Gaussian { level: level.unwrap_or(0.5) }),
            "salt-pepper" | "salt_pepper" | "saltpepper" => Ok(NoiseConfig::SaltPepper { level: level.unwrap_or(0.2) }),
            _ => Err(format!("unknown noise {kind:?}: use gaussian:LEVEL or salt-pepper:FRACTION")),
        }
    }
}

/// One layer of a model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LayerConfig {
    /// A dense layer.
    Dense {
        /// Output units.
        units: u32,
        /// Activation name (`linear`, `relu`, `sigmoid`, `tanh`, `softmax`).
        #[serde(default = "linear")]
        activation: String,
    },
    /// A token embedding (must come first; the input is `[text.max_len]` ids).
    Embedding {
        /// Vector length.
        dim: u32,
    },
    /// Flattens a sequence to one vector.
    Flatten,
    /// Inverted dropout while training.
    Dropout {
        /// Fraction dropped, in `[0, 1)`.
        rate: f32,
    },
    /// A tanh RNN (Keras `SimpleRNN`).
    Rnn {
        /// State size (per direction).
        units: u32,
        /// Output every step (to stack another recurrent layer).
        #[serde(default)]
        return_sequences: bool,
        /// Run both ways and concatenate (Keras `Bidirectional`).
        #[serde(default)]
        bidirectional: bool,
    },
    /// An LSTM.
    Lstm {
        /// State size (per direction).
        units: u32,
        /// Output every step.
        #[serde(default)]
        return_sequences: bool,
        /// Run both ways and concatenate.
        #[serde(default)]
        bidirectional: bool,
    },
    /// A 2-D convolution with stride 1 on an image `[height, width, channels]`.
    #[serde(alias = "conv")]
    Conv2d {
        /// Output channels.
        filters: u32,
        /// Kernel size: `3` or `[rows, columns]`.
        #[serde(default = "three")]
        kernel: Kernel,
        /// `same` (the default) or `valid`.
        #[serde(default = "same")]
        padding: String,
        /// Activation name.
        #[serde(default = "linear")]
        activation: String,
    },
    /// Max pooling with a square window and the same stride.
    #[serde(alias = "maxpool")]
    Maxpool2d {
        /// Window size and stride.
        #[serde(default = "two")]
        pool: u32,
        /// `valid` (the default, as in Keras) or `same` (7 rows → 4).
        #[serde(default = "valid")]
        padding: String,
    },
    /// Nearest-neighbour upsampling (Keras `UpSampling2D`).
    #[serde(alias = "upsampling")]
    Upsample2d {
        /// Scale in both directions.
        #[serde(default = "two")]
        factor: u32,
    },
    /// Batch normalisation over the last dimension.
    Batchnorm {
        /// Added to the variance (Keras's default 1e-3).
        #[serde(default = "bn_epsilon")]
        epsilon: f32,
    },
    /// Entity embeddings of every `[entity]` column, batch-normalised, their
    /// pairwise dot products plus one bias per category (must come first).
    Entitydot {
        /// Embedding length.
        #[serde(default = "ten")]
        dim: u32,
        /// Batch-norm epsilon (Keras's default 1e-3).
        #[serde(default = "bn_epsilon")]
        epsilon: f32,
    },
}

/// A convolution kernel size: square or `[rows, columns]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Kernel {
    /// `k x k`.
    Square(u32),
    /// `[rows, columns]`.
    Rect([u32; 2]),
}

impl Kernel {
    fn rows_cols(self) -> (u32, u32) {
        match self {
            Kernel::Square(k) => (k, k),
            Kernel::Rect([r, c]) => (r, c),
        }
    }
}

fn linear() -> String {
    "linear".into()
}

fn same() -> String {
    "same".into()
}

fn valid() -> String {
    "valid".into()
}

fn three() -> Kernel {
    Kernel::Square(3)
}

fn two() -> u32 {
    2
}

fn ten() -> u32 {
    10
}

fn bn_epsilon() -> f32 {
    ember_nn::layers::batchnorm::EPSILON
}

fn padding(s: &str) -> anyhow::Result<Padding> {
    match s {
        "same" => Ok(Padding::Same),
        "valid" => Ok(Padding::Valid),
        _ => anyhow::bail!("padding must be \"same\" or \"valid\", not {s:?}"),
    }
}

/// The spec of layer `i` given the shape `dims` of its input.
fn layer_spec(l: &LayerConfig, dims: &[u32], input_kind: ValueKind, vocab: u32, i: usize) -> anyhow::Result<LayerSpec> {
    let flat: u32 = dims.iter().product();
    let sequence = |what: &str| match *dims {
        [t, f] => Ok((t, f)),
        _ => Err(anyhow::anyhow!(
            "{what} needs a sequence [steps, features] (after an embedding or a recurrent layer with return_sequences), got {dims:?}"
        )),
    };
    let image = |what: &str| match *dims {
        [h, w, c] => Ok((h, w, c)),
        _ => Err(anyhow::anyhow!(
            "{what} needs an image [height, width, channels] (declare input = [28, 28, 1]), got {dims:?}"
        )),
    };
    if i == 0
        && input_kind == ValueKind::TokenIds
        && !matches!(l, LayerConfig::Embedding { .. } | LayerConfig::Entitydot { .. })
    {
        anyhow::bail!("a text model must start with an embedding layer (an entity model with an entitydot layer)");
    }
    Ok(match l {
        LayerConfig::Dense { units, activation } => {
            let activation = Activation::from_name(activation)
                .ok_or_else(|| anyhow::anyhow!("unknown activation {activation:?}"))?;
            if *units == 0 {
                anyhow::bail!("a dense layer needs at least one unit");
            }
            if dims.len() != 1 {
                anyhow::bail!("a dense layer takes a vector; put a flatten layer before it (input {dims:?})");
            }
            LayerSpec::Dense { inputs: flat, units: *units, activation }
        }
        LayerConfig::Embedding { dim } => {
            if i != 0 || input_kind != ValueKind::TokenIds {
                anyhow::bail!("an embedding must be the first layer of a text model (a [text] section)");
            }
            LayerSpec::Embedding { vocab, dim: *dim, seq_len: flat }
        }
        LayerConfig::Flatten => {
            LayerSpec::Flatten { dims: Dims::new(dims).ok_or_else(|| anyhow::anyhow!("cannot flatten {dims:?}"))? }
        }
        LayerConfig::Dropout { rate } => {
            if !(0.0..1.0).contains(rate) {
                anyhow::bail!("dropout rate {rate} is outside [0, 1)");
            }
            LayerSpec::Dropout { len: flat, rate_ppm: (*rate as f64 * 1e6).round() as u32 }
        }
        LayerConfig::Rnn { units, return_sequences, bidirectional } => {
            let (seq_len, inputs) = sequence("an rnn layer")?;
            let (units, return_sequences, bidirectional) = (*units, *return_sequences, *bidirectional);
            LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences, bidirectional }
        }
        LayerConfig::Lstm { units, return_sequences, bidirectional } => {
            let (seq_len, inputs) = sequence("an lstm layer")?;
            let (units, return_sequences, bidirectional) = (*units, *return_sequences, *bidirectional);
            LayerSpec::Lstm { inputs, units, seq_len, return_sequences, bidirectional }
        }
        LayerConfig::Conv2d { filters, kernel, padding: pad, activation } => {
            let (height, width, channels) = image("a conv2d layer")?;
            let activation = Activation::from_name(activation)
                .filter(|a| *a != Activation::Softmax)
                .ok_or_else(|| anyhow::anyhow!("activation {activation:?} is not allowed on a conv2d layer"))?;
            let (kernel_h, kernel_w) = kernel.rows_cols();
            let spec = LayerSpec::Conv2d {
                height,
                width,
                channels,
                filters: *filters,
                kernel_h,
                kernel_w,
                padding: padding(pad)?,
                activation,
            };
            if *filters == 0 || kernel_h == 0 || kernel_w == 0 || spec.window().is_none() {
                anyhow::bail!("a {kernel_h}x{kernel_w} {pad} convolution with {filters} filters does not fit {dims:?}");
            }
            spec
        }
        LayerConfig::Maxpool2d { pool, padding: pad } => {
            let (height, width, channels) = image("a maxpool2d layer")?;
            let spec = LayerSpec::MaxPool2d { height, width, channels, pool: *pool, padding: padding(pad)? };
            if spec.window().is_none() {
                anyhow::bail!("a {pool}x{pool} {pad} pooling window does not fit {dims:?}");
            }
            spec
        }
        LayerConfig::Upsample2d { factor } => {
            let (height, width, channels) = image("an upsample2d layer")?;
            if *factor == 0 {
                anyhow::bail!("an upsampling factor must be at least 1");
            }
            LayerSpec::Upsample2d { height, width, channels, factor: *factor }
        }
        LayerConfig::Batchnorm { epsilon } => {
            if !(epsilon.is_finite() && *epsilon > 0.0) {
                anyhow::bail!("batchnorm epsilon {epsilon} must be a positive number");
            }
            let dims = Dims::new(dims).ok_or_else(|| anyhow::anyhow!("cannot normalise {dims:?}"))?;
            LayerSpec::BatchNorm { dims, epsilon_bits: epsilon.to_bits() }
        }
        LayerConfig::Entitydot { dim, epsilon } => {
            if i != 0 || input_kind != ValueKind::TokenIds || dims.len() != 1 {
                anyhow::bail!("an entitydot layer must be the first layer of an entity model (an [entity] section)");
            }
            if !(epsilon.is_finite() && *epsilon > 0.0) {
                anyhow::bail!("entitydot epsilon {epsilon} must be a positive number");
            }
            LayerSpec::EntityDot { columns: flat, rows: vocab, dim: *dim, epsilon_bits: epsilon.to_bits() }
        }
    })
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
    /// `mse`, `mae`, `bce`, `cce`.
    pub loss: String,
    /// `sgd`, `adam`, `rmsprop`, `adadelta`.
    pub optimizer: String,
    /// Learning rate (the optimizer's default if absent).
    pub learning_rate: Option<f32>,
    /// SGD momentum.
    pub momentum: f32,
    /// L2 penalty on kernels.
    pub l2: f32,
    /// Early-stopping patience in epochs (none if absent).
    pub patience: Option<usize>,
    /// Restore the best epoch's weights at the end.
    pub restore_best: bool,
    /// Seed for initialisation, shuffling and noise.
    pub seed: u64,
    /// Most samples to use (all if absent).
    pub max_samples: Option<usize>,
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
            l2: 0.0,
            patience: None,
            restore_best: true,
            seed: 42,
            max_samples: None,
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
    /// Layers in order.
    pub layers: Vec<LayerConfig>,
    /// Training settings.
    #[serde(default)]
    pub train: TrainConfig,
}

impl ModelConfig {
    /// Parses a TOML model file.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
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
    pub fn input_spec(&self) -> anyhow::Result<IoSpec> {
        let ids = |n: usize, what: &str| -> anyhow::Result<IoSpec> {
            let dims = Dims::new(&[n as u32]).ok_or_else(|| anyhow::anyhow!("{what} {n} is invalid"))?;
            Ok(IoSpec { kind: ValueKind::TokenIds, dims, range: None })
        };
        match self.task {
            Task::Ngram => {
                let w = self.words.as_ref().context("an ngram model needs a [words] section")?;
                return ids(w.context as usize, "words.context");
            }
            Task::Entity => {
                let e = self.entity.as_ref().context("an entity model needs an [entity] section")?;
                return ids(e.columns.len(), "the number of entity.columns");
            }
            _ => {}
        }
        if let Some(t) = &self.text {
            let dims = Dims::new(&[t.max_len]).ok_or_else(|| anyhow::anyhow!("max_len {} is invalid", t.max_len))?;
            return Ok(IoSpec { kind: ValueKind::TokenIds, dims, range: None });
        }
        let dims = Dims::new(&self.input).ok_or_else(|| anyhow::anyhow!("input dims {:?} are invalid", self.input))?;
        Ok(IoSpec { kind: ValueKind::F32, dims, range: self.input_range })
    }

    /// The layer specs, shapes chained from the input.
    pub fn layer_specs(&self) -> anyhow::Result<Vec<LayerSpec>> {
        if self.layers.is_empty() {
            anyhow::bail!("model {} has no layers", self.name);
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
            let spec = layer_spec(l, &dims, input.kind, vocab, i).map_err(|e| anyhow::anyhow!("layer {i}: {e}"))?;
            spec.validate().map_err(|_| anyhow::anyhow!("layer {i} ({}): sizes out of range", spec.kind_name()))?;
            dims = spec.output_dims().as_slice().to_vec();
            specs.push(spec);
        }
        match (self.task, &self.words, specs.last()) {
            (Task::Ngram, Some(w), Some(LayerSpec::Dense { units, activation: Activation::Softmax, .. }))
                if *units == w.vocab => {}
            (Task::Ngram, Some(w), _) => {
                anyhow::bail!("an ngram model must end with a softmax dense layer of words.vocab = {} units", w.vocab)
            }
            (Task::Entity, _, Some(last)) if last.output_len() != 1 => {
                anyhow::bail!("an entity model predicts one value: its last layer must have one output")
            }
            _ => {}
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
    pub fn fit_config(&self) -> anyhow::Result<FitConfig> {
        let t = &self.train;
        let loss = Loss::from_name(&t.loss)
            .ok_or_else(|| anyhow::anyhow!("unknown loss {:?} (mse, mae, bce, cce)", t.loss))?;
        let mut optimizer = OptimizerConfig::from_name(&t.optimizer, t.learning_rate)
            .ok_or_else(|| anyhow::anyhow!("unknown optimizer {:?} (sgd, adam, rmsprop, adadelta)", t.optimizer))?;
        if let OptimizerConfig::Sgd { momentum, .. } = &mut optimizer {
            *momentum = t.momentum;
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
                min_delta: 0.0,
                restore_best: t.restore_best,
            }),
            accuracy: matches!(self.task, Task::Classify | Task::Ngram),
        })
    }
}
