//! Flatten (ONNX `Flatten`, axis 1): the identity on the data, which is
//! already row-major; it only changes the shape that exports see.

use ember_runtime::spec::{Dims, LayerSpec};

use super::{ParamMut, TrainLayer};

/// A reshape of each sample to one flat vector.
pub struct FlattenLayer {
    dims: Dims,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl FlattenLayer {
    /// Flattens samples of dimensions `dims`.
    pub fn new(dims: Dims) -> Self {
        FlattenLayer { dims, y: Vec::new(), dx: Vec::new() }
    }
}

impl TrainLayer for FlattenLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Flatten { dims: self.dims }
    }

    /// Copies the batch unchanged.
    ///
    /// # Shapes
    /// `x`: `[batch, dims...]` → `[batch, Π dims]`.
    fn forward(&mut self, x: &[f32], batch: usize, _train: bool) -> &[f32] {
        assert_eq!(x.len(), batch * self.dims.elements(), "flatten input has the wrong shape");
        self.y.clear();
        self.y.extend_from_slice(x);
        &self.y
    }

    /// Passes the gradient through unchanged.
    ///
    /// # Shapes
    /// `dy`: `[batch, Π dims]` → `[batch, dims...]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _dy_is_preactivation: bool, need_dx: bool) -> &[f32] {
        assert_eq!(dy.len(), batch * self.dims.elements(), "flatten output gradient has the wrong shape");
        self.dx.clear();
        if need_dx {
            self.dx.extend_from_slice(dy);
        }
        &self.dx
    }

    fn params(&self) -> Vec<&[f32]> {
        Vec::new()
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        Vec::new()
    }
}
