//! Trainable layers: forward and hand-written backward passes over batches,
//! with the parameter names and shapes of `ember_runtime::spec`.

pub mod activation;
pub mod dense;

use ember_runtime::spec::LayerSpec;

pub use dense::DenseLayer;

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

/// Builds the trainable layer for a spec with the given parameter values.
pub fn from_spec(spec: &LayerSpec, params: Vec<Vec<f32>>) -> Box<dyn TrainLayer> {
    match *spec {
        LayerSpec::Dense { inputs, units, activation } => {
            let mut it = params.into_iter();
            let (w, b) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
            Box::new(DenseLayer::from_params(inputs as usize, units as usize, activation, w, b))
        }
        #[allow(unreachable_patterns)]
        other => panic!("layer kind {} has no trainer implementation", other.kind_name()),
    }
}
