//! LSTM, exactly ONNX `LSTM` without peepholes (gate blocks `i, o, f, c`;
//! see [`LayerSpec::Lstm`]); the engine is in `recurrent.rs`.

use ember_runtime::spec::{LayerSpec, RecurrentDims};
use rand::Rng;

use super::recurrent::{Cell, Recurrent};
use super::{ParamMut, TrainLayer};
use crate::math::{sigmoid, tanh};

/// The LSTM cell: gates `i, o, f` (sigmoid) and candidate `c` (tanh),
/// `C_t = f ⊙ C_{t-1} + i ⊙ c`, `h_t = o ⊙ tanh(C_t)`.
pub(crate) struct LstmCell;

impl Cell for LstmCell {
    const GATES: usize = 4;
    const HAS_CELL: bool = true;

    fn spec(d: &RecurrentDims) -> LayerSpec {
        LayerSpec::Lstm {
            inputs: d.inputs as u32,
            units: d.units as u32,
            seq_len: d.seq_len as u32,
            return_sequences: d.return_sequences,
            bidirectional: d.dirs == 2,
        }
    }

    /// Keras's `unit_forget_bias`: the forget gate's bias starts at 1.
    fn init_bias(wb: &mut [f32]) {
        let h = wb.len() / 4;
        wb[2 * h..3 * h].fill(1.0);
    }

    #[inline(always)]
    fn forward(z: &mut [f32], _: &[f32], c_prev: &[f32], c: &mut [f32], tc: &mut [f32], h: &mut [f32]) {
        let n = h.len();
        let (gates, cand) = z.split_at_mut(3 * n);
        gates.iter_mut().for_each(|v| *v = sigmoid(*v));
        cand.iter_mut().for_each(|v| *v = tanh(*v));
        let (i, rest) = gates.split_at(n);
        let (o, f) = rest.split_at(n);
        let (g, c_prev, c, tc) = (&cand[..n], &c_prev[..n], &mut c[..n], &mut tc[..n]);
        for j in 0..n {
            let cj = f[j] * c_prev[j] + i[j] * g[j];
            let t = tanh(cj);
            c[j] = cj;
            tc[j] = t;
            h[j] = o[j] * t;
        }
    }

    #[inline(always)]
    fn backward(dh: &mut [f32], z: &mut [f32], _: &[f32], c_prev: &[f32], tc: &[f32], _: &[f32], dc: &mut [f32]) {
        let n = dh.len();
        let (i, rest) = z.split_at_mut(n);
        let (o, rest) = rest.split_at_mut(n);
        let (f, g) = rest.split_at_mut(n);
        let (g, c_prev, tc, dc) = (&mut g[..n], &c_prev[..n], &tc[..n], &mut dc[..n]);
        for j in 0..n {
            let (iv, ov, fv, gv, t, d) = (i[j], o[j], f[j], g[j], tc[j], dh[j]);
            let dcj = dc[j] + d * ov * (1.0 - t * t);
            i[j] = dcj * gv * iv * (1.0 - iv);
            o[j] = d * t * ov * (1.0 - ov);
            f[j] = dcj * c_prev[j] * fv * (1.0 - fv);
            g[j] = dcj * iv * (1.0 - gv * gv);
            dc[j] = dcj * fv;
        }
    }
}

/// A trainable LSTM, one or two directions, ONNX parameter layouts `w`
/// `[dirs, 4·units, inputs]`, `r` `[dirs, 4·units, units]`, `b`
/// `[dirs, 8·units]` (`Wb` then `Rb`), gate blocks in the order `i, o, f, c`.
///
/// Training updates `W`, `R` and `Wb`; `Rb` is used as loaded but its
/// gradient is always zero, so training equals Keras's single-bias `LSTM`
/// (Keras's bias is `Wb + Rb`).
pub struct LstmLayer {
    inner: Recurrent<LstmCell>,
}

impl LstmLayer {
    /// Keras's initialisers: glorot-uniform `W`, orthogonal `R`, zero bias
    /// but the forget gate's `Wb` = 1 (`unit_forget_bias`), each direction
    /// drawn in turn.
    pub fn new(dims: RecurrentDims, rng: &mut impl Rng) -> Self {
        LstmLayer { inner: Recurrent::init(dims, rng) }
    }

    /// A layer with the given parameters (ONNX layouts, see the type's docs).
    pub fn from_params(dims: RecurrentDims, w: Vec<f32>, r: Vec<f32>, b: Vec<f32>) -> Self {
        LstmLayer { inner: Recurrent::from_params(dims, w, r, b) }
    }
}

impl TrainLayer for LstmLayer {
    fn spec(&self) -> LayerSpec {
        LstmCell::spec(self.inner.dims())
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
