//! Trainable layers: forward and hand-written backward passes over batches,
//! with the parameter names and shapes of `ember_runtime::spec`.
//!
//! One file per layer kind, named after the kind as in the runtime and the
//! exporter (`dense`, `embedding`, `flatten`, `dropout`, `rnn`, `lstm`, `gru`,
//! `conv2d`, `max_pool2d`, `upsample2d`, `batch_norm`, `entity_dot`,
//! `conv1d`, `max_pool1d`, `global_average_pool`, `depthwise_conv2d`,
//! `average_pool1d`, `average_pool2d`; the 1-D kinds train as their 2-D
//! layer on a map of height 1);
//! `recurrent` holds the back-propagation through time shared by `rnn`,
//! `lstm` and `gru`, `activation` the activations' forward and backward passes. A new
//! kind gets its file here and an arm in [`from_spec`], [`init`] and
//! [`crate::network::Network::check_input`].

pub mod activation;
pub mod average_pool1d;
pub mod average_pool2d;
pub mod batch_norm;
pub mod conv1d;
pub mod conv2d;
pub mod dense;
pub mod depthwise_conv2d;
pub mod dropout;
pub mod embedding;
pub mod entity_dot;
pub mod flatten;
pub mod global_average_pool;
pub mod gru;
pub mod lstm;
pub mod max_pool1d;
pub mod max_pool2d;
mod recurrent;
pub mod rnn;
pub mod upsample2d;

use ember_runtime::spec::LayerSpec;
use rand::Rng;

pub use average_pool1d::AveragePool1dLayer;
pub use average_pool2d::AveragePool2dLayer;
pub use batch_norm::BatchNormLayer;
pub use conv1d::Conv1dLayer;
pub use conv2d::Conv2dLayer;
pub use dense::DenseLayer;
pub use depthwise_conv2d::DepthwiseConv2dLayer;
pub use dropout::DropoutLayer;
pub use embedding::EmbeddingLayer;
pub use entity_dot::EntityDotLayer;
pub use flatten::FlattenLayer;
pub use global_average_pool::GlobalAveragePoolLayer;
pub use gru::GruLayer;
pub use lstm::LstmLayer;
pub use max_pool1d::MaxPool1dLayer;
pub use max_pool2d::MaxPool2dLayer;
pub use rnn::SimpleRnnLayer;
pub use upsample2d::Upsample2dLayer;

/// A parameter tensor and its gradient, as handed to an optimizer.
pub struct ParamMut<'a> {
    /// Values.
    pub value: &'a mut [f32],
    /// Gradient accumulated by the last backward pass.
    pub grad: &'a mut [f32],
    /// Whether L2 regularisation applies.
    pub regularized: bool,
}

/// A layer the trainer can run forwards and backwards.
///
/// Activations are row-major `[batch, features...]`. A layer keeps what its
/// backward pass needs from the last `forward(.., train = true)` and reuses its
/// buffers across batches.
pub trait TrainLayer: Send {
    /// The layer's spec (kinds and sizes), exactly as exported.
    fn spec(&self) -> LayerSpec;

    /// Runs a batch.
    ///
    /// # Shapes
    /// `x`: `[batch, spec.input_len()]` → `[batch, spec.output_len()]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32];

    /// Back-propagates `dy` (the loss gradient at this layer's output, or at
    /// its pre-activation when `dy_is_preactivation`, for fused losses),
    /// storing parameter gradients; returns the gradient at the input, or an
    /// empty slice when `need_dx` is false.
    ///
    /// # Shapes
    /// `dy`: `[batch, spec.output_len()]` → `[batch, spec.input_len()]`.
    fn backward(&mut self, dy: &[f32], batch: usize, dy_is_preactivation: bool, need_dx: bool) -> &[f32];

    /// Parameter values, in `LayerSpec::param` order.
    fn params(&self) -> Vec<&[f32]>;

    /// Parameter values with their gradients, in `LayerSpec::param` order.
    fn params_mut(&mut self) -> Vec<ParamMut<'_>>;
}

/// Seed of a [`DropoutLayer`] built by [`from_spec`] (loaded models carry no
/// mask stream; see [`DropoutLayer`] on resumed runs).
const LOADED_DROPOUT_SEED: u64 = 0x0d12_0b0e;

/// Builds the trainable layer for a spec with the given parameter values
/// (in [`LayerSpec::param`] order; a wrong count or length panics).
pub fn from_spec(spec: &LayerSpec, params: Vec<Vec<f32>>) -> Box<dyn TrainLayer> {
    let mut it = params.into_iter();
    let mut next = || it.next().unwrap_or_default();
    match *spec {
        LayerSpec::Dense { inputs, units, activation } => {
            let (w, b) = (next(), next());
            Box::new(DenseLayer::from_params(inputs as usize, units as usize, activation, w, b))
        }
        LayerSpec::Embedding { vocab, dim, seq_len } => {
            Box::new(EmbeddingLayer::from_params(vocab as usize, dim as usize, seq_len as usize, next()))
        }
        LayerSpec::Flatten { dims } => Box::new(FlattenLayer::new(dims)),
        LayerSpec::Dropout { len, rate_ppm } => {
            Box::new(DropoutLayer::new(len as usize, rate_ppm, LOADED_DROPOUT_SEED))
        }
        LayerSpec::SimpleRnn { .. } => {
            let (w, r, b) = (next(), next(), next());
            Box::new(SimpleRnnLayer::from_params(spec.recurrent().expect("a recurrent spec"), w, r, b))
        }
        LayerSpec::Lstm { .. } => {
            let (w, r, b) = (next(), next(), next());
            Box::new(LstmLayer::from_params(spec.recurrent().expect("a recurrent spec"), w, r, b))
        }
        LayerSpec::Conv2d { .. } | LayerSpec::Conv2dStrided { .. } | LayerSpec::Conv1d { .. } => {
            let (w, b) = (next(), next());
            Box::new(Conv2dLayer::from_params(spec, w, b))
        }
        LayerSpec::DepthwiseConv2d { .. } => {
            let (w, b) = (next(), next());
            Box::new(DepthwiseConv2dLayer::from_params(spec, w, b))
        }
        LayerSpec::MaxPool2d { .. } => Box::new(MaxPool2dLayer::new(spec)),
        LayerSpec::MaxPool1d { .. } => Box::new(max_pool1d::new(spec)),
        LayerSpec::AveragePool2d { .. } => Box::new(AveragePool2dLayer::new(spec)),
        LayerSpec::AveragePool1d { .. } => Box::new(average_pool1d::new(spec)),
        LayerSpec::GlobalAveragePool { dims } => Box::new(GlobalAveragePoolLayer::new(dims)),
        LayerSpec::Upsample2d { height, width, channels, factor } => upsample(height, width, channels, factor),
        LayerSpec::BatchNorm { dims, .. } => {
            let eps = spec.batch_norm_epsilon().expect("a batchnorm spec");
            Box::new(BatchNormLayer::from_params(dims, eps, [next(), next(), next(), next()]))
        }
        LayerSpec::EntityDot { columns, rows, dim, .. } => {
            let eps = spec.batch_norm_epsilon().expect("an entitydot spec");
            let params = [next(), next(), next(), next(), next(), next()];
            Box::new(EntityDotLayer::from_params(columns as usize, rows as usize, dim as usize, eps, params))
        }
        LayerSpec::Gru { .. } => {
            let (w, r, b) = (next(), next(), next());
            Box::new(GruLayer::from_params(spec.recurrent().expect("a recurrent spec"), w, r, b))
        }
    }
}

/// Builds the trainable layer for a spec with fresh parameters drawn from
/// `rng` by Keras's default initialisers (see each layer's `new`); a
/// dropout layer seeds its mask stream from `rng`.
pub fn init(spec: &LayerSpec, rng: &mut impl Rng) -> Box<dyn TrainLayer> {
    match *spec {
        LayerSpec::Dense { inputs, units, activation } => {
            Box::new(DenseLayer::new(inputs as usize, units as usize, activation, rng))
        }
        LayerSpec::Embedding { vocab, dim, seq_len } => {
            Box::new(EmbeddingLayer::new(vocab as usize, dim as usize, seq_len as usize, rng))
        }
        LayerSpec::Flatten { dims } => Box::new(FlattenLayer::new(dims)),
        LayerSpec::Dropout { len, rate_ppm } => Box::new(DropoutLayer::new(len as usize, rate_ppm, rng.next_u64())),
        LayerSpec::SimpleRnn { .. } => Box::new(SimpleRnnLayer::new(spec.recurrent().expect("recurrent"), rng)),
        LayerSpec::Lstm { .. } => Box::new(LstmLayer::new(spec.recurrent().expect("recurrent"), rng)),
        LayerSpec::Conv2d { .. } | LayerSpec::Conv2dStrided { .. } => Box::new(Conv2dLayer::new(spec, rng)),
        LayerSpec::Conv1d { .. } => Box::new(conv1d::new(spec, rng)),
        LayerSpec::DepthwiseConv2d { .. } => Box::new(DepthwiseConv2dLayer::new(spec, rng)),
        LayerSpec::MaxPool2d { .. } => Box::new(MaxPool2dLayer::new(spec)),
        LayerSpec::MaxPool1d { .. } => Box::new(max_pool1d::new(spec)),
        LayerSpec::AveragePool2d { .. } => Box::new(AveragePool2dLayer::new(spec)),
        LayerSpec::AveragePool1d { .. } => Box::new(average_pool1d::new(spec)),
        LayerSpec::GlobalAveragePool { dims } => Box::new(GlobalAveragePoolLayer::new(dims)),
        LayerSpec::Upsample2d { height, width, channels, factor } => upsample(height, width, channels, factor),
        LayerSpec::BatchNorm { dims, .. } => {
            Box::new(BatchNormLayer::new(dims, spec.batch_norm_epsilon().expect("a batchnorm spec")))
        }
        LayerSpec::EntityDot { columns, rows, dim, .. } => {
            let eps = spec.batch_norm_epsilon().expect("an entitydot spec");
            Box::new(EntityDotLayer::new(columns as usize, rows as usize, dim as usize, eps, rng))
        }
        LayerSpec::Gru { .. } => Box::new(GruLayer::new(spec.recurrent().expect("recurrent"), rng)),
    }
}

/// The upsampling layer of a [`LayerSpec::Upsample2d`]'s fields.
fn upsample(height: u32, width: u32, channels: u32, factor: u32) -> Box<dyn TrainLayer> {
    let u = |v: u32| v as usize;
    Box::new(Upsample2dLayer::new(u(height), u(width), u(channels), u(factor)))
}
