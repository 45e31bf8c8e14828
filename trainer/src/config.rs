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

use ember_runtime::Activation;
use ember_runtime::spec::{Dims, IoSpec, LayerSpec, ValueKind};
use serde::{Deserialize, Serialize};

use crate::fit::{EarlyStopping, FitConfig};
use crate::loss::Loss;
use crate::optim::OptimizerConfig;

/// What the model learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Reconstruct the input.
    Autoencoder,
    /// Reconstruct the clean input from a noisy one.
    Denoise,
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
}

fn linear() -> String {
    "linear".into()
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
        let dims = Dims::new(&self.input).ok_or_else(|| anyhow::anyhow!("input dims {:?} are invalid", self.input))?;
        Ok(IoSpec { kind: ValueKind::F32, dims, range: self.input_range })
    }

    /// The layer specs, sizes chained from the input.
    pub fn layer_specs(&self) -> anyhow::Result<Vec<LayerSpec>> {
        let mut width = self.input.iter().map(|&d| d as u64).product::<u64>() as u32;
        if self.layers.is_empty() {
            anyhow::bail!("model {} has no layers", self.name);
        }
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| match l {
                LayerConfig::Dense { units, activation } => {
                    let activation = Activation::from_name(activation)
                        .ok_or_else(|| anyhow::anyhow!("layer {i}: unknown activation {activation:?}"))?;
                    if *units == 0 {
                        anyhow::bail!("layer {i}: a dense layer needs at least one unit");
                    }
                    let spec = LayerSpec::Dense { inputs: width, units: *units, activation };
                    width = *units;
                    Ok(spec)
                }
            })
            .collect()
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
            accuracy: false,
        })
    }
}
