//! 1-D max pooling on time-major samples `[length, channels]`: the maths of
//! 2-D max pooling over a map of height 1, so [`LayerSpec::MaxPool1d`]
//! trains as a [`MaxPool2dLayer`] whose geometry (window, stride, padding
//! along time) comes from the spec.

use ember_runtime::spec::LayerSpec;

use super::MaxPool2dLayer;

/// A trainable [`LayerSpec::MaxPool1d`].
pub type MaxPool1dLayer = MaxPool2dLayer;

/// The layer of a [`LayerSpec::MaxPool1d`] (panics on another or invalid spec).
pub fn new(spec: &LayerSpec) -> MaxPool1dLayer {
    assert!(matches!(spec, LayerSpec::MaxPool1d { .. }), "not a maxpool1d spec: {spec:?}");
    MaxPool2dLayer::new(spec)
}
