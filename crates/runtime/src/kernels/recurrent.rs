//! What the recurrent kernels share: one direction's parameters
//! ([`CellParams`]) and the loop over a sequence ([`run_direction`]) that
//! calls the [`rnn_step`], [`lstm_step`] or [`gru_step`] of a cell.

use core::ops::Range;

use super::{gemv_acc, gru_step, lstm_step, rnn_step};

/// What a recurrent step needs from one direction's parameters: the biases
/// and the products of gate rows with the input and the hidden state. f32
/// weights ([`CellParams`]) and int8 weights with per-row scales
/// ([`crate::quant::weights_only::QCellParams`]) implement it.
pub trait GateParams {
    /// Input bias `Wb` `[G*H]`.
    fn wb(&self) -> &[f32];
    /// Recurrent bias `Rb` `[G*H]`.
    fn rb(&self) -> &[f32];
    /// `z[k] += W[rows.start + k] · x` for the gate rows `rows`.
    ///
    /// # Shapes
    /// `x`: `[I]`, `z`: `[rows.len()]`.
    fn w_acc(&self, rows: Range<usize>, x: &[f32], z: &mut [f32]);
    /// `z[k] += R[rows.start + k] · h` for the gate rows `rows`.
    ///
    /// # Shapes
    /// `h`: `[H]`, `z`: `[rows.len()]`.
    fn r_acc(&self, rows: Range<usize>, h: &[f32], z: &mut [f32]);
    /// `z = Wb + Rb + W·x + R·h` (the pre-activations of every gate).
    ///
    /// # Shapes
    /// `x`: `[I]`, `h`: `[H]`, `z`: `[G*H]`.
    #[inline]
    fn preactivation(&self, x: &[f32], h: &[f32], z: &mut [f32]) {
        for ((z, wb), rb) in z.iter_mut().zip(self.wb()).zip(self.rb()) {
            *z = wb + rb;
        }
        let rows = 0..z.len();
        self.w_acc(rows.clone(), x, z);
        self.r_acc(rows, h, z);
    }
}

/// The parameters of one direction of a recurrent cell, in ONNX layouts
/// (`G` gate blocks of `H` rows: 1 for RNN, 4 for LSTM in the order i, o, f, c,
/// 3 for GRU in the order z, r, h).
#[derive(Clone, Copy, Debug)]
pub struct CellParams<'a> {
    /// Input weights `[G*H, I]`.
    pub w: &'a [f32],
    /// Recurrent weights `[G*H, H]`.
    pub r: &'a [f32],
    /// Input bias `Wb` `[G*H]`.
    pub wb: &'a [f32],
    /// Recurrent bias `Rb` `[G*H]`.
    pub rb: &'a [f32],
}

impl<'a> CellParams<'a> {
    /// Direction `dir` of a recurrent layer's `w`, `r`, `b` tensors
    /// (`[dirs, G*H, I]`, `[dirs, G*H, H]`, `[dirs, 2*G*H]`); `None` if the
    /// tensors are too short.
    pub fn direction(
        w: &'a [f32],
        r: &'a [f32],
        b: &'a [f32],
        gates: usize,
        units: usize,
        inputs: usize,
        dir: usize,
    ) -> Option<Self> {
        let gh = gates * units;
        Some(CellParams {
            w: w.get(dir * gh * inputs..(dir + 1) * gh * inputs)?,
            r: r.get(dir * gh * units..(dir + 1) * gh * units)?,
            wb: b.get(2 * dir * gh..2 * dir * gh + gh)?,
            rb: b.get(2 * dir * gh + gh..2 * (dir + 1) * gh)?,
        })
    }
}

impl GateParams for CellParams<'_> {
    fn wb(&self) -> &[f32] {
        self.wb
    }

    fn rb(&self) -> &[f32] {
        self.rb
    }

    #[inline]
    fn w_acc(&self, rows: Range<usize>, x: &[f32], z: &mut [f32]) {
        let n = x.len();
        gemv_acc(&self.w[rows.start * n..rows.end * n], x, z);
    }

    #[inline]
    fn r_acc(&self, rows: Range<usize>, h: &[f32], z: &mut [f32]) {
        let n = h.len();
        gemv_acc(&self.r[rows.start * n..rows.end * n], h, z);
    }
}

/// Runs one direction of a recurrent layer over a whole sequence from zero
/// states, calling `emit(t, h_t)` after each step `t` (in processing order:
/// `T-1` down to `0` when `reverse`). `gates` names the cell: 1 (SimpleRNN),
/// 4 (LSTM) or 3 (GRU); `c` is used by the LSTM only.
///
/// # Shapes
/// `x`: `[T, I]` time-major; `h`, `c`: `[H]`; `z`: `[gates * H]`.
#[allow(clippy::too_many_arguments)]
pub fn run_direction(
    gates: usize,
    p: &impl GateParams,
    x: &[f32],
    inputs: usize,
    reverse: bool,
    h: &mut [f32],
    c: &mut [f32],
    z: &mut [f32],
    mut emit: impl FnMut(usize, &[f32]),
) {
    h.fill(0.0);
    c.fill(0.0);
    let steps = x.len() / inputs.max(1);
    for k in 0..steps {
        let t = if reverse { steps - 1 - k } else { k };
        let xt = &x[t * inputs..(t + 1) * inputs];
        match gates {
            4 => lstm_step(p, xt, h, c, z),
            3 => gru_step(p, xt, h, z),
            _ => rnn_step(p, xt, h, z),
        }
        emit(t, h);
    }
}
