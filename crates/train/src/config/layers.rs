//! The `[[layers]]` of a model file and the layer specs they make.

use ember_runtime::Activation;
use ember_runtime::spec::{Dims, LayerSpec, ValueKind};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError, bad_config};

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
    /// A 2-D convolution on an image `[height, width, channels]`.
    #[serde(alias = "conv")]
    Conv2d {
        /// Output channels.
        filters: u32,
        /// Kernel size: `3` or `[rows, columns]`.
        #[serde(default = "three")]
        kernel: Kernel,
        /// Step between outputs: `1` (the default) or `[rows, columns]`.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        stride: Kernel,
        /// Spacing of the kernel's cells (Keras `dilation_rate`): `1` (the
        /// default) or `[rows, columns]`.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        dilation: Kernel,
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
    /// A 1-D convolution over a sequence `[steps, channels]` (Keras `Conv1D`).
    Conv1d {
        /// Output channels.
        filters: u32,
        /// Window cells.
        #[serde(default = "three_u32")]
        kernel: u32,
        /// Steps between outputs.
        #[serde(default = "one_u32")]
        stride: u32,
        /// Steps between window cells (Keras `dilation_rate`).
        #[serde(default = "one_u32")]
        dilation: u32,
        /// `same` (the default) or `valid`.
        #[serde(default = "same")]
        padding: String,
        /// Activation name.
        #[serde(default = "linear")]
        activation: String,
    },
    /// A depthwise 2-D convolution, depth multiplier 1 (Keras `DepthwiseConv2D`).
    #[serde(alias = "depthwise")]
    Depthwiseconv2d {
        /// Kernel size: `3` or `[rows, columns]`.
        #[serde(default = "three")]
        kernel: Kernel,
        /// Step between outputs: `1` or `[rows, columns]`.
        #[serde(default = "one")]
        stride: Kernel,
        /// Spacing of the kernel's cells: `1` or `[rows, columns]`.
        #[serde(default = "one")]
        dilation: Kernel,
        /// `same` (the default) or `valid`.
        #[serde(default = "same")]
        padding: String,
        /// Activation name.
        #[serde(default = "linear")]
        activation: String,
    },
    /// 1-D max pooling over a sequence (Keras `MaxPooling1D`).
    Maxpool1d {
        /// Window cells.
        #[serde(default = "two")]
        pool: u32,
        /// Steps between windows (default: the window).
        stride: Option<u32>,
        /// `valid` (the default, as in Keras) or `same`.
        #[serde(default = "valid")]
        padding: String,
    },
    /// 1-D average pooling over a sequence (Keras `AveragePooling1D`;
    /// padding is not counted).
    #[serde(alias = "averagepool1d")]
    Avgpool1d {
        /// Window cells.
        #[serde(default = "two")]
        pool: u32,
        /// Steps between windows (default: the window).
        stride: Option<u32>,
        /// `valid` (the default) or `same`.
        #[serde(default = "valid")]
        padding: String,
    },
    /// 2-D average pooling over an image (Keras `AveragePooling2D`; padding
    /// is not counted).
    #[serde(alias = "averagepool2d")]
    Avgpool2d {
        /// Window: `2` or `[rows, columns]`.
        #[serde(default = "two_kernel")]
        pool: Kernel,
        /// Step (default: the window): `2` or `[rows, columns]`.
        stride: Option<Kernel>,
        /// `valid` (the default) or `same`.
        #[serde(default = "valid")]
        padding: String,
    },
    /// The mean of every channel of a sequence or an image (Keras
    /// `GlobalAveragePooling1D/2D`): `[channels]`.
    #[serde(alias = "globalaveragepool")]
    Globalavgpool,
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
    /// A GRU (Keras `GRU(reset_after=True)`, ONNX `GRU` with
    /// `linear_before_reset = 1`).
    Gru {
        /// State size (per direction).
        units: u32,
        /// Output every step.
        #[serde(default)]
        return_sequences: bool,
        /// Run both ways and concatenate.
        #[serde(default)]
        bidirectional: bool,
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
    pub(super) fn rows_cols(self) -> (u32, u32) {
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

fn one() -> Kernel {
    Kernel::Square(1)
}

pub(super) fn is_one(k: &Kernel) -> bool {
    k.rows_cols() == (1, 1)
}

fn two_kernel() -> Kernel {
    Kernel::Square(2)
}

fn three_u32() -> u32 {
    3
}

fn one_u32() -> u32 {
    1
}

fn two() -> u32 {
    2
}

fn ten() -> u32 {
    10
}

fn bn_epsilon() -> f32 {
    ember_nn::layers::batch_norm::EPSILON
}

/// The spec of layer `i` given the shape `dims` of its input.
pub(super) fn layer_spec(
    l: &LayerConfig,
    dims: &[u32],
    input_kind: ValueKind,
    vocab: u32,
    i: usize,
) -> Result<LayerSpec> {
    let flat: u32 = dims.iter().product();
    let sequence = |what: &str| match *dims {
        [t, f] => Ok((t, f)),
        _ => Err(TrainError::config(format!(
            "{what} needs a sequence [steps, features] (after an embedding or a recurrent layer with return_sequences), got {dims:?}"
        ))),
    };
    let image = |what: &str| match *dims {
        [h, w, c] => Ok((h, w, c)),
        _ => Err(TrainError::config(format!(
            "{what} needs an image [height, width, channels] (declare input = [28, 28, 1]), got {dims:?}"
        ))),
    };
    if i == 0
        && input_kind == ValueKind::TokenIds
        && !matches!(l, LayerConfig::Embedding { .. } | LayerConfig::Entitydot { .. })
    {
        bad_config!("a text model must start with an embedding layer (an entity model with an entitydot layer)");
    }
    Ok(match l {
        LayerConfig::Dense { units, activation } => {
            let activation = Activation::from_name(activation)
                .ok_or_else(|| TrainError::config(format!("unknown activation {activation:?}")))?;
            if *units == 0 {
                bad_config!("a dense layer needs at least one unit");
            }
            if dims.len() != 1 {
                bad_config!("a dense layer takes a vector; put a flatten layer before it (input {dims:?})");
            }
            LayerSpec::Dense { inputs: flat, units: *units, activation }
        }
        LayerConfig::Embedding { dim } => {
            if i != 0 || input_kind != ValueKind::TokenIds {
                bad_config!("an embedding must be the first layer of a text model (a [text] section)");
            }
            LayerSpec::Embedding { vocab, dim: *dim, seq_len: flat }
        }
        LayerConfig::Flatten => LayerSpec::Flatten {
            dims: Dims::new(dims).ok_or_else(|| TrainError::config(format!("cannot flatten {dims:?}")))?,
        },
        LayerConfig::Dropout { rate } => {
            if !(0.0..1.0).contains(rate) {
                bad_config!("dropout rate {rate} is outside [0, 1)");
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
        LayerConfig::Conv2d { .. }
        | LayerConfig::Maxpool2d { .. }
        | LayerConfig::Conv1d { .. }
        | LayerConfig::Depthwiseconv2d { .. }
        | LayerConfig::Maxpool1d { .. }
        | LayerConfig::Avgpool1d { .. }
        | LayerConfig::Avgpool2d { .. }
        | LayerConfig::Globalavgpool => super::window::window_spec(l, dims)?,
        LayerConfig::Upsample2d { factor } => {
            let (height, width, channels) = image("an upsample2d layer")?;
            if *factor == 0 {
                bad_config!("an upsampling factor must be at least 1");
            }
            LayerSpec::Upsample2d { height, width, channels, factor: *factor }
        }
        LayerConfig::Batchnorm { epsilon } => {
            if !(epsilon.is_finite() && *epsilon > 0.0) {
                bad_config!("batchnorm epsilon {epsilon} must be a positive number");
            }
            let dims = Dims::new(dims).ok_or_else(|| TrainError::config(format!("cannot normalise {dims:?}")))?;
            LayerSpec::BatchNorm { dims, epsilon_bits: epsilon.to_bits() }
        }
        LayerConfig::Entitydot { dim, epsilon } => {
            if i != 0 || input_kind != ValueKind::TokenIds || dims.len() != 1 {
                bad_config!("an entitydot layer must be the first layer of an entity model (an [entity] section)");
            }
            if !(epsilon.is_finite() && *epsilon > 0.0) {
                bad_config!("entitydot epsilon {epsilon} must be a positive number");
            }
            LayerSpec::EntityDot { columns: flat, rows: vocab, dim: *dim, epsilon_bits: epsilon.to_bits() }
        }
        LayerConfig::Gru { units, return_sequences, bidirectional } => {
            let (seq_len, inputs) = sequence("a gru layer")?;
            let (units, return_sequences, bidirectional) = (*units, *return_sequences, *bidirectional);
            LayerSpec::Gru { inputs, units, seq_len, return_sequences, bidirectional }
        }
    })
}
