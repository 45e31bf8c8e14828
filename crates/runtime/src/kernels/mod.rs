//! Slice kernels shared by the typed layers and the dynamic interpreter, so
//! that both compute exactly the same thing.

mod conv;
mod entity;

pub use conv::{batch_norm, conv2d, max_pool2d, upsample2d};
pub use entity::{EntityParams, entity_dot};

use crate::activation::sigmoid;

/// Independent partial sums of [`dot`]: enough to fill the SIMD lanes of a
/// host (two SSE registers) and to hide the latency of an MCU's FPU.
const LANES: usize = 8;

/// `Σ a[i]·b[i]` over the common length, summed in `LANES` interleaved
/// partial sums (element `i` goes to sum `i % LANES`), then the partial sums
/// in order, then the tail. The order is fixed, so every target computes the
/// same bits.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let mut sum = acc.iter().sum::<f32>();
    for (x, y) in ta.iter().zip(tb) {
        sum += x * y;
    }
    sum
}

/// `y = x · Wᵀ + b` for one sample (no activation).
///
/// # Shapes
/// `w`: `[out, in]` row-major (`out * in` values), `b`: `[out]`, `x`: `[in]`, `y`: `[out]`.
/// Callers guarantee the lengths (checked at load time).
pub fn dense(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
    y.copy_from_slice(b);
    gemv_acc(w, x, y);
}

/// `y += W · x` for one sample: one [`dot`] per row.
///
/// # Shapes
/// `w`: `[y.len(), x.len()]` row-major; lengths guaranteed by the callers.
#[inline]
pub fn gemv_acc(w: &[f32], x: &[f32], y: &mut [f32]) {
    if x.is_empty() {
        return;
    }
    for (yo, row) in y.iter_mut().zip(w.chunks_exact(x.len())) {
        *yo += dot(row, x);
    }
}

/// The parameters of one direction of a recurrent cell, in ONNX layouts
/// (`G` gate blocks of `H` rows: 1 for RNN, 4 for LSTM in the order i, o, f, c).
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

    /// `z = Wb + Rb + W·x + R·h` (the pre-activations of every gate).
    ///
    /// # Shapes
    /// `x`: `[I]`, `h`: `[H]`, `z`: `[G*H]`.
    #[inline]
    pub fn preactivation(&self, x: &[f32], h: &[f32], z: &mut [f32]) {
        for ((z, wb), rb) in z.iter_mut().zip(self.wb).zip(self.rb) {
            *z = wb + rb;
        }
        gemv_acc(self.w, x, z);
        gemv_acc(self.r, h, z);
    }
}

/// One SimpleRNN step: `h = tanh(Wb + Rb + W·x + R·h)`.
///
/// # Shapes
/// `x`: `[I]`, `h`: `[H]` (read, then overwritten), `z`: `[H]` scratch.
pub fn rnn_step(p: &CellParams<'_>, x: &[f32], h: &mut [f32], z: &mut [f32]) {
    p.preactivation(x, h, z);
    for (h, z) in h.iter_mut().zip(z.iter()) {
        *h = libm::tanhf(*z);
    }
}

/// One LSTM step (ONNX gate order i, o, f, c):
/// `C = σ(f) ⊙ C + σ(i) ⊙ tanh(c)`, `h = σ(o) ⊙ tanh(C)`.
///
/// # Shapes
/// `x`: `[I]`, `h` and `c`: `[H]` (read, then overwritten), `z`: `[4*H]` scratch.
pub fn lstm_step(p: &CellParams<'_>, x: &[f32], h: &mut [f32], c: &mut [f32], z: &mut [f32]) {
    let n = h.len();
    p.preactivation(x, h, z);
    let (zi, rest) = z.split_at(n);
    let (zo, rest) = rest.split_at(n);
    let (zf, zc) = rest.split_at(n);
    for k in 0..n {
        let cell = sigmoid(zf[k]) * c[k] + sigmoid(zi[k]) * libm::tanhf(zc[k]);
        c[k] = cell;
        h[k] = sigmoid(zo[k]) * libm::tanhf(cell);
    }
}

/// Runs one direction of a recurrent layer over a whole sequence from zero
/// states, calling `emit(t, h_t)` after each step `t` (in processing order:
/// `T-1` down to `0` when `reverse`). `gates` is 1 (SimpleRNN) or 4 (LSTM).
///
/// # Shapes
/// `x`: `[T, I]` time-major; `h`, `c`: `[H]`; `z`: `[gates * H]`.
#[allow(clippy::too_many_arguments)]
pub fn run_direction(
    gates: usize,
    p: &CellParams<'_>,
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
        if gates == 4 {
            lstm_step(p, xt, h, c, z);
        } else {
            rnn_step(p, xt, h, z);
        }
        emit(t, h);
    }
}
