//! GRU, exactly ONNX `GRU` with `linear_before_reset = 1` (Keras's
//! `GRU(reset_after=True)`; gate blocks `z, r, h`, see [`LayerSpec::Gru`]);
//! the engine is in `recurrent.rs`.

use ember_runtime::spec::{LayerSpec, RecurrentDims};
use rand::Rng;

use super::recurrent::{Cell, Recurrent};
use super::{ParamMut, TrainLayer};
use crate::math::{sigmoid, tanh};

/// The GRU cell: update gate `u` and reset gate `r` (sigmoid), candidate
/// `ĥ = tanh(W_h·x + Wb_h + r ⊙ (R_h·h_{t-1} + Rb_h))`,
/// `h_t = (1 - u) ⊙ ĥ + u ⊙ h_{t-1}`.
///
/// Its gate rows hold `[u, r, R_h·h + Rb_h, W_h·x + Wb_h]` (pre-activations
/// with their biases); the forward pass leaves `[u, r, R_h·h + Rb_h, ĥ]`
/// there for the backward pass.
pub(crate) struct GruCell;

impl Cell for GruCell {
    const GATES: usize = 3;
    const HAS_CELL: bool = false;
    const RESET_AFTER: bool = true;

    fn spec(d: &RecurrentDims) -> LayerSpec {
        LayerSpec::Gru {
            inputs: d.inputs as u32,
            units: d.units as u32,
            seq_len: d.seq_len as u32,
            return_sequences: d.return_sequences,
            bidirectional: d.dirs == 2,
        }
    }

    #[inline(always)]
    fn forward(z: &mut [f32], h_prev: &[f32], _: &[f32], _: &mut [f32], _: &mut [f32], h: &mut [f32]) {
        let n = h.len();
        let (u, rest) = z.split_at_mut(n);
        let (r, rest) = rest.split_at_mut(n);
        let (rec, cand) = rest.split_at_mut(n);
        let (cand, h_prev) = (&mut cand[..n], &h_prev[..n]);
        for j in 0..n {
            let (uj, rj) = (sigmoid(u[j]), sigmoid(r[j]));
            let c = tanh(cand[j] + rj * rec[j]);
            u[j] = uj;
            r[j] = rj;
            cand[j] = c;
            h[j] = (1.0 - uj) * c + uj * h_prev[j];
        }
    }

    #[inline(always)]
    fn backward(dh: &mut [f32], z: &mut [f32], h_prev: &[f32], _: &[f32], _: &[f32], _: &[f32], _: &mut [f32]) {
        let n = dh.len();
        let (u, rest) = z.split_at_mut(n);
        let (r, rest) = rest.split_at_mut(n);
        let (rec, cand) = rest.split_at_mut(n);
        let (cand, h_prev) = (&mut cand[..n], &h_prev[..n]);
        for j in 0..n {
            let (uv, rv, recv, c, d) = (u[j], r[j], rec[j], cand[j], dh[j]);
            // Gradient at the candidate's pre-activation.
            let dc = d * (1.0 - uv) * (1.0 - c * c);
            u[j] = d * (h_prev[j] - c) * uv * (1.0 - uv);
            r[j] = dc * recv * rv * (1.0 - rv);
            rec[j] = dc * rv;
            cand[j] = dc;
            dh[j] = d * uv;
        }
    }
}

/// A trainable GRU (ONNX `GRU`, `linear_before_reset = 1`), one or two
/// directions, ONNX parameter layouts `w` `[dirs, 3·units, inputs]`, `r`
/// `[dirs, 3·units, units]`, `b` `[dirs, 6·units]` (`Wb` then `Rb`), gate
/// blocks in the order `z, r, h`.
///
/// Training updates `W`, `R`, `Wb` and `Rb`, as Keras's
/// `GRU(reset_after=True)` trains its input and recurrent biases (`Rb_h`
/// sits inside the reset gate's product, so it is a parameter of its own).
pub struct GruLayer {
    inner: Recurrent<GruCell>,
}

impl GruLayer {
    /// Keras's initialisers: glorot-uniform `W`, orthogonal `R`, zero
    /// biases, each direction drawn in turn.
    pub fn new(dims: RecurrentDims, rng: &mut impl Rng) -> Self {
        GruLayer { inner: Recurrent::init(dims, rng) }
    }

    /// A layer with the given parameters (ONNX layouts, see the type's docs).
    pub fn from_params(dims: RecurrentDims, w: Vec<f32>, r: Vec<f32>, b: Vec<f32>) -> Self {
        GruLayer { inner: Recurrent::from_params(dims, w, r, b) }
    }
}

impl TrainLayer for GruLayer {
    fn spec(&self) -> LayerSpec {
        GruCell::spec(self.inner.dims())
    }

    /// Runs a batch, splitting it into chunks over rayon threads.
    ///
    /// # Shapes
    /// `x`: `[batch, seq_len, inputs]` → `[batch, seq_len, dirs·units]`
    /// (`return_sequences`) or `[batch, dirs·units]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        self.inner.forward(x, batch, train)
    }

    /// Back-propagates through time. The layer has no output activation
    /// (its spec's is `Linear`), so `dy_is_preactivation` changes nothing.
    ///
    /// # Shapes
    /// `dy`: as the output → `[batch, seq_len, inputs]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _dy_is_preactivation: bool, need_dx: bool) -> &[f32] {
        self.inner.backward(dy, batch, need_dx)
    }

    fn params(&self) -> Vec<&[f32]> {
        self.inner.params()
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        self.inner.params_mut()
    }
}
