//! 1-D average pooling on time-major samples `[length, channels]`: 2-D
//! average pooling over a map of height 1, so [`LayerSpec::AveragePool1d`]
//! trains as an [`AveragePool2dLayer`] whose geometry comes from the spec.

use ember_runtime::spec::LayerSpec;

use super::AveragePool2dLayer;

/// A trainable [`LayerSpec::AveragePool1d`].
pub type AveragePool1dLayer = AveragePool2dLayer;

/// The layer of a [`LayerSpec::AveragePool1d`] (panics on another or invalid spec).
pub fn new(spec: &LayerSpec) -> AveragePool1dLayer {
    assert!(matches!(spec, LayerSpec::AveragePool1d { .. }), "not an avgpool1d spec: {spec:?}");
    AveragePool2dLayer::new(spec)
}
