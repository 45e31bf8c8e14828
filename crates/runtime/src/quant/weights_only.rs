//! Weights-only kernels ([`crate::qspec::QuantMode::WeightsOnly`]): int8
//! weights with one f32 scale per row (per output channel), f32 activations
//! and biases. Each output is `s_w[o] · Σ x · q + b[o]`: the row's scale is
//! applied once, after the f32 sum of `x · (q as f32)` in input order.

use core::ops::Range;

use crate::kernels::GateParams;
use crate::spec::Window2d;

/// `Σ x[i] · q[i]` in f32, in order (the shorter length wins).
#[inline]
pub fn dot_f32_i8(x: &[f32], q: &[i8]) -> f32 {
    let mut acc = [0.0f32; 4];
    let mut cx = x.chunks_exact(4);
    let mut cq = q.chunks_exact(4);
    for (xs, qs) in (&mut cx).zip(&mut cq) {
        for k in 0..4 {
            acc[k] += xs[k] * qs[k] as f32;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (&xv, &qv) in cx.remainder().iter().zip(cq.remainder()) {
        s += xv * qv as f32;
    }
    s
}

/// Weights-only fully connected: `y[o] = scale[o] · Σᵢ x[i] · q[o, i] + bias[o]`.
///
/// # Shapes
/// `q`: `[O, I]`, `scale`, `bias`, `y`: `[O]`, `x`: `[I]` (checked by the callers).
pub fn dense(q: &[i8], scale: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let n = x.len().max(1);
    for (((yo, row), &s), &b) in y.iter_mut().zip(q.chunks_exact(n)).zip(scale).zip(bias) {
        *yo = s * dot_f32_i8(x, row) + b;
    }
}

/// Weights-only convolution over HWC (any stride, dilation, padding; padding
/// contributes zeros): `y[p, f] = scale[f] · Σ_taps x · q[f, ·] + bias[f]`,
/// taps summed window row by window row.
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`, `q`: `[F, g.kh, g.kw, g.c]`, `scale`, `bias`: `[F]`,
/// `y`: `[g.oh, g.ow, F]` (checked by the callers).
pub fn conv2d(g: &Window2d, q: &[i8], scale: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let f = bias.len();
    let window = g.kh * g.kw * g.c;
    for (p, out) in y.chunks_exact_mut(f.max(1)).enumerate().take(g.oh * g.ow) {
        let (oy, ox) = (p / g.ow, p % g.ow);
        for (((o, qf), &s), &b) in out.iter_mut().zip(q.chunks_exact(window.max(1))).zip(scale).zip(bias) {
            let mut acc = 0.0f32;
            for ky in 0..g.kh {
                let Some(iy) = g.row(oy, ky) else { continue };
                for kx in 0..g.kw {
                    let Some(ix) = g.col(ox, kx) else { continue };
                    let at = (iy * g.w + ix) * g.c;
                    let w0 = (ky * g.kw + kx) * g.c;
                    acc += dot_f32_i8(&x[at..at + g.c], &qf[w0..w0 + g.c]);
                }
            }
            *o = s * acc + b;
        }
    }
}

/// Weights-only depthwise convolution (multiplier 1, padding contributes
/// zeros): `y[p, k] = scale[k] · Σ_taps x[·, k] · q[ky, kx, k] + bias[k]`.
///
/// # Shapes
/// `x`: `[g.h, g.w, g.c]`, `q`: `[g.kh, g.kw, g.c]`, `scale`, `bias`: `[g.c]`,
/// `y`: `[g.oh, g.ow, g.c]` (checked by the callers).
pub fn depthwise_conv2d(g: &Window2d, q: &[i8], scale: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let c = g.c;
    for (p, out) in y.chunks_exact_mut(c.max(1)).enumerate().take(g.oh * g.ow) {
        let (oy, ox) = (p / g.ow, p % g.ow);
        for (k, ((o, &s), &b)) in out.iter_mut().zip(scale).zip(bias).enumerate() {
            let mut acc = 0.0f32;
            for ky in 0..g.kh {
                let Some(iy) = g.row(oy, ky) else { continue };
                for kx in 0..g.kw {
                    let Some(ix) = g.col(ox, kx) else { continue };
                    acc += x[(iy * g.w + ix) * c + k] * q[(ky * g.kw + kx) * c + k] as f32;
                }
            }
            *o = s * acc + b;
        }
    }
}

/// One embedding row: `out[j] = scale · q[j]`.
///
/// # Shapes
/// `q`, `out`: `[dim]`.
pub fn embedding_row(q: &[i8], scale: f32, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(q) {
        *o = scale * v as f32;
    }
}

/// One direction of a recurrent layer with int8 `W` and `R` (one scale per
/// gate row) and f32 biases; the state stays f32.
#[derive(Clone, Copy, Debug)]
pub struct QCellParams<'a> {
    /// Input weights `[G*H, I]`.
    pub w: &'a [i8],
    /// Scales of `w`'s rows `[G*H]`.
    pub w_scale: &'a [f32],
    /// Recurrent weights `[G*H, H]`.
    pub r: &'a [i8],
    /// Scales of `r`'s rows `[G*H]`.
    pub r_scale: &'a [f32],
    /// Input bias `[G*H]`.
    pub wb: &'a [f32],
    /// Recurrent bias `[G*H]`.
    pub rb: &'a [f32],
}

impl<'a> QCellParams<'a> {
    /// Direction `dir` of a weights-only recurrent layer's tensors (`w`
    /// `[dirs, G*H, I]` with scales `[dirs, G*H]`, `r` `[dirs, G*H, H]` with
    /// scales, `b` `[dirs, 2*G*H]`); `None` if a tensor is too short.
    #[allow(clippy::too_many_arguments)]
    pub fn direction(
        w: &'a [i8],
        w_scale: &'a [f32],
        r: &'a [i8],
        r_scale: &'a [f32],
        b: &'a [f32],
        gates: usize,
        units: usize,
        inputs: usize,
        dir: usize,
    ) -> Option<Self> {
        let gh = gates * units;
        Some(QCellParams {
            w: w.get(dir * gh * inputs..(dir + 1) * gh * inputs)?,
            w_scale: w_scale.get(dir * gh..(dir + 1) * gh)?,
            r: r.get(dir * gh * units..(dir + 1) * gh * units)?,
            r_scale: r_scale.get(dir * gh..(dir + 1) * gh)?,
            wb: b.get(2 * dir * gh..2 * dir * gh + gh)?,
            rb: b.get(2 * dir * gh + gh..2 * (dir + 1) * gh)?,
        })
    }
}

/// `z[k] += scale[rows.start + k] · q[rows.start + k] · x`.
#[inline]
fn rows_acc(q: &[i8], scale: &[f32], rows: Range<usize>, x: &[f32], z: &mut [f32]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let (q, scale) = (&q[rows.start * n..rows.end * n], &scale[rows]);
    for ((zk, row), &s) in z.iter_mut().zip(q.chunks_exact(n)).zip(scale) {
        *zk += s * dot_f32_i8(x, row);
    }
}

impl GateParams for QCellParams<'_> {
    fn wb(&self) -> &[f32] {
        self.wb
    }

    fn rb(&self) -> &[f32] {
        self.rb
    }

    fn w_acc(&self, rows: Range<usize>, x: &[f32], z: &mut [f32]) {
        rows_acc(self.w, self.w_scale, rows, x, z);
    }

    fn r_acc(&self, rows: Range<usize>, h: &[f32], z: &mut [f32]) {
        rows_acc(self.r, self.r_scale, rows, h, z);
    }
}
