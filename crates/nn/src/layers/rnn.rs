//! Elman RNN with tanh, exactly ONNX `RNN`: `h_t = tanh(x_t·Wᵀ + h_{t-1}·Rᵀ + Wb + Rb)`
//! (see [`LayerSpec::SimpleRnn`]); the engine is in `recurrent.rs`.

use ember_runtime::spec::{LayerSpec, RecurrentDims};
use rand::Rng;

use super::recurrent::{Cell, Recurrent};
use super::{ParamMut, TrainLayer};
use crate::math;

/// The tanh cell: one gate block, no cell state.
pub(crate) struct RnnCell;

impl Cell for RnnCell {
    const GATES: usize = 1;
    const HAS_CELL: bool = false;

    fn spec(d: &RecurrentDims) -> LayerSpec {
        LayerSpec::SimpleRnn {
            inputs: d.inputs as u32,
            units: d.units as u32,
            seq_len: d.seq_len as u32,
            return_sequences: d.return_sequences,
            bidirectional: d.dirs == 2,
        }
    }

    #[inline(always)]
    fn forward(z: &mut [f32], _: &[f32], _: &[f32], _: &mut [f32], _: &mut [f32], h: &mut [f32]) {
        h.iter_mut().zip(z.iter()).for_each(|(h, &z)| *h = math::tanh(z));
    }

    #[inline(always)]
    fn backward(dh: &mut [f32], z: &mut [f32], _: &[f32], _: &[f32], _: &[f32], h: &[f32], _: &mut [f32]) {
        z.iter_mut().zip(dh.iter().zip(h)).for_each(|(z, (&dh, &h))| *z = dh * (1.0 - h * h));
    }
}

/// A trainable simple RNN (tanh), one or two directions, ONNX parameter
/// layouts `w` `[dirs, units, inputs]`, `r` `[dirs, units, units]`, `b`
/// `[dirs, 2·units]` (`Wb` then `Rb`).
///
/// Training updates `W`, `R` and `Wb`; `Rb` is used as loaded but its
/// gradient is always zero, so training equals Keras's single-bias
/// `SimpleRNN` (Keras's bias is `Wb + Rb`).
pub struct SimpleRnnLayer {
    inner: Recurrent<RnnCell>,
}

impl SimpleRnnLayer {
    /// Keras's initialisers: glorot-uniform `W`, orthogonal `R`, zero bias,
    /// each direction drawn in turn.
    pub fn new(dims: RecurrentDims, rng: &mut impl Rng) -> Self {
        SimpleRnnLayer { inner: Recurrent::init(dims, rng) }
    }

    /// A layer with the given parameters (ONNX layouts, see the type's docs).
    pub fn from_params(dims: RecurrentDims, w: Vec<f32>, r: Vec<f32>, b: Vec<f32>) -> Self {
        SimpleRnnLayer { inner: Recurrent::from_params(dims, w, r, b) }
    }
}

impl TrainLayer for SimpleRnnLayer {
    fn spec(&self) -> LayerSpec {
        RnnCell::spec(self.inner.dims())
    }

    /// Runs a batch, splitting it into chunks over rayon threads.
    ///
    /// # Shapes
    /// `x`: `[batch, seq_len, inputs]` → `[batch, seq_len, dirs·units]`
    /// (`return_sequences`) or `[batch, dirs·units]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        self.inner.forward(x, batch, train)
    }

    /// Back-propagates through time. The output is already a tanh state that
    /// no loss fuses with, so `dy_is_preactivation` must be false.
    ///
    /// # Shapes
    /// `dy`: as the output → `[batch, seq_len, inputs]`.
    fn backward(&mut self, dy: &[f32], batch: usize, dy_is_preactivation: bool, need_dx: bool) -> &[f32] {
        assert!(!dy_is_preactivation, "a simple RNN's output gradient cannot be taken at its pre-activation");
        self.inner.backward(dy, batch, need_dx)
    }

    fn params(&self) -> Vec<&[f32]> {
        self.inner.params()
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        self.inner.params_mut()
    }
}
