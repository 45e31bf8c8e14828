//! 1-D convolution on time-major samples `[length, channels]`: the maths of
//! a 2-D convolution over a map of height 1 under a `1 x kernel` window
//! (the runtime computes it the same way), so [`LayerSpec::Conv1d`] trains
//! as a [`Conv2dLayer`] whose geometry comes from the spec
//! (`LayerSpec::window`), with stride and dilation along time. Its weight
//! `[filters, kernel, channels]` is the OHWI weight with one row.

use ember_runtime::spec::LayerSpec;
use rand::Rng;

use super::Conv2dLayer;

/// A trainable [`LayerSpec::Conv1d`].
pub type Conv1dLayer = Conv2dLayer;

/// A fresh [`LayerSpec::Conv1d`] layer: Glorot-uniform kernel (Keras's
/// `Conv1D` default: fan-in `kernel·channels`, fan-out `kernel·filters`),
/// zero bias. Panics if the spec is not a valid Conv1d.
pub fn new(spec: &LayerSpec, rng: &mut impl Rng) -> Conv1dLayer {
    assert!(matches!(spec, LayerSpec::Conv1d { .. }), "not a conv1d spec: {spec:?}");
    Conv2dLayer::new(spec, rng)
}
