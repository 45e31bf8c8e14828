//! One chunk of samples (one rayon task of [`super::Recurrent`]): its
//! buffers, and the forward and backward passes over every direction.

use super::rows::{Prev, cell_backward, cell_forward};
use super::{Cell, Shared, add, input_runs};
use crate::gemm::matmul_strided;

/// The buffers of one direction over one chunk of `n` samples.
#[derive(Default)]
struct DirBufs {
    /// Gates, `[seq_len, n, ghp]` (`blocks·units` used per row):
    /// pre-activations, then activated gates,
    /// then (backward) the gradient at the pre-activations.
    z: Vec<f32>,
    /// States `h`, `[seq_len + 1, n, units]`; slot `t + 1` (forward) or `t`
    /// (reverse direction) holds the state after reading step `t`; the
    /// remaining slot (0 or `seq_len`) is the zero initial state.
    h: Vec<f32>,
    /// Cell states `C`, laid out as `h` (LSTM only).
    c: Vec<f32>,
    /// `tanh(C)`, laid out as `h` (LSTM only).
    tc: Vec<f32>,
    /// Gradient at the state, `[n, hp]`.
    dh: Vec<f32>,
    /// Gradient at the cell state, `[n, units]`.
    dc: Vec<f32>,
}

/// The buffers and partial gradients of one chunk of samples (one rayon task).
#[derive(Default)]
pub(super) struct Chunk {
    /// Samples in the chunk.
    n: usize,
    /// The input, time-major: `[seq_len, n, inputs]`.
    xt: Vec<f32>,
    /// The input gradient, time-major.
    dxt: Vec<f32>,
    dir: [DirBufs; 2],
    /// Partial `dW` `[dirs, gh, inputs]`, `dR` `[dirs, gh, units]` and the
    /// gate rows' sums `[dirs, blocks·units]` (the bias gradients).
    pub(super) gw: Vec<f32>,
    pub(super) gr: Vec<f32>,
    pub(super) gb: Vec<f32>,
}

/// Slots of the state buffers around step `tau` of direction `dir`:
/// `(previous state, new state)`.
fn slots(dir: usize, tau: usize) -> (usize, usize) {
    if dir == 0 { (tau, tau + 1) } else { (tau + 1, tau) }
}

/// The time step that direction `dir` reads at its `s`-th step.
fn time(dir: usize, s: usize, seq_len: usize) -> usize {
    if dir == 0 { s } else { seq_len - 1 - s }
}

/// Splits adjacent slots `prev` and `cur` (each `len` long) of `buf` into
/// `(&buf[prev], &mut buf[cur])`.
fn slot_pair(buf: &mut [f32], len: usize, prev: usize, cur: usize) -> (&[f32], &mut [f32]) {
    if prev < cur {
        let (a, b) = buf.split_at_mut(cur * len);
        (&a[prev * len..][..len], &mut b[..len])
    } else {
        let (a, b) = buf.split_at_mut(prev * len);
        (&b[..len], &mut a[cur * len..][..len])
    }
}

impl Chunk {
    /// Runs the samples `x` through every direction, keeping what backward needs.
    ///
    /// # Shapes
    /// `x`: `[n, seq_len, inputs]` → `y`: `[n, out_len]`.
    pub(super) fn forward<C: Cell>(&mut self, s: &Shared, x: &[f32], y: &mut [f32]) {
        let d = &s.d;
        let (t_len, ni, h, gh, ghp) = (d.seq_len, d.inputs, d.units, s.gh, s.ghp);
        let n = x.len() / (t_len * ni);
        self.n = n;
        self.xt.resize(t_len * n * ni, 0.0);
        for (b, sample) in x.chunks_exact(t_len * ni).enumerate() {
            for (t, row) in sample.chunks_exact(ni).enumerate() {
                self.xt[(t * n + b) * ni..][..ni].copy_from_slice(row);
            }
        }
        let step_out = d.dirs * h;
        for dir in 0..d.dirs {
            let buf = &mut self.dir[dir];
            let state_len = (t_len + 1) * n * h;
            buf.z.resize(t_len * n * ghp, 0.0);
            buf.h.resize(state_len, 0.0);
            let zero = if dir == 0 { 0 } else { t_len };
            buf.h[zero * n * h..][..n * h].fill(0.0);
            if C::HAS_CELL {
                buf.c.resize(state_len, 0.0);
                buf.tc.resize(state_len, 0.0);
                buf.c[zero * n * h..][..n * h].fill(0.0);
            }
            // z = x · Wᵀ for every step at once (the bias is added per step).
            let w = &s.w[dir * gh * ni..][..gh * ni];
            for (col, row, len) in input_runs::<C>(d) {
                let z = &mut buf.z[col..];
                matmul_strided(
                    t_len * n,
                    len,
                    ni,
                    (&self.xt, ni, 1),
                    (&w[row * ni..], 1, ni),
                    z,
                    ghp,
                    false,
                    1.0,
                    false,
                );
            }
            if C::RESET_AFTER {
                // The last gate's recurrent block starts from zero (step 0 adds none).
                buf.z.chunks_exact_mut(ghp).for_each(|row| row[gh - h..gh].fill(0.0));
            }
            let bias = &s.bias[dir * s.zw..][..s.zw];
            let (rtw, rt) = (s.rtw, &s.rt[dir * h * s.rtw..][..h * s.rtw]);
            for st in 0..t_len {
                let tau = time(dir, st, t_len);
                let (prev, cur) = slots(dir, tau);
                let z = &mut buf.z[tau * n * ghp..][..n * ghp];
                if st > 0 {
                    // z_t += h_{t-1} · Rᵀ (padded columns included).
                    matmul_strided(
                        n,
                        rtw,
                        h,
                        (&buf.h[prev * n * h..][..n * h], h, 1),
                        (rt, rtw, 1),
                        z,
                        ghp,
                        true,
                        1.0,
                        false,
                    );
                }
                let (h_prev, h_cur) = slot_pair(&mut buf.h, n * h, prev, cur);
                let (c_prev, c_cur) =
                    if C::HAS_CELL { slot_pair(&mut buf.c, n * h, prev, cur) } else { (&[][..], &mut [][..]) };
                let tc_cur = if C::HAS_CELL { &mut buf.tc[cur * n * h..][..n * h] } else { &mut [][..] };
                cell_forward::<C>(s.simd, bias, ghp, z, &Prev { h: h_prev, c: c_prev }, c_cur, tc_cur, h_cur);
            }
            // Outputs: every state, or the one after the direction's last step.
            for b in 0..n {
                if d.return_sequences {
                    for tau in 0..t_len {
                        let src = &buf.h[(slots(dir, tau).1 * n + b) * h..][..h];
                        y[(b * t_len + tau) * step_out + dir * h..][..h].copy_from_slice(src);
                    }
                } else {
                    let last = if dir == 0 { t_len } else { 0 };
                    y[b * step_out + dir * h..][..h].copy_from_slice(&buf.h[(last * n + b) * h..][..h]);
                }
            }
        }
    }

    /// Back-propagates `dy` through the chunk's last forward pass: partial
    /// parameter gradients into `gw`, `gr`, `gb`, and `dx` if `need_dx`.
    ///
    /// # Shapes
    /// `dy`: `[n, out_len]` → `dx`: `[n, seq_len, inputs]`.
    pub(super) fn backward<C: Cell>(&mut self, s: &Shared, dy: &[f32], dx: &mut [f32], need_dx: bool) {
        let d = &s.d;
        let (t_len, ni, h, gh, ghp, hp, n) = (d.seq_len, d.inputs, d.units, s.gh, s.ghp, s.hp, self.n);
        let step_out = d.dirs * h;
        self.gw.resize(d.dirs * gh * ni, 0.0);
        self.gr.resize(d.dirs * gh * h, 0.0);
        self.gb.resize(d.dirs * s.zw, 0.0);
        if need_dx {
            self.dxt.resize(t_len * n * ni, 0.0);
        }
        for dir in 0..d.dirs {
            let buf = &mut self.dir[dir];
            buf.dh.resize(n * hp, 0.0);
            buf.dh.fill(0.0);
            buf.dc.resize(n * h, 0.0);
            buf.dc.fill(0.0);
            let rp = &s.rp[dir * gh * hp..][..gh * hp];
            for st in (0..t_len).rev() {
                let tau = time(dir, st, t_len);
                let (prev, cur) = slots(dir, tau);
                // dh_t += the loss gradient at this step's output, if any.
                let out = if d.return_sequences {
                    Some((tau * step_out, t_len * step_out))
                } else {
                    (st + 1 == t_len).then_some((0, step_out))
                };
                if let Some((offset, stride)) = out {
                    for b in 0..n {
                        add(&mut buf.dh[b * hp..][..h], &dy[b * stride + offset + dir * h..][..h]);
                    }
                }
                let z = &mut buf.z[tau * n * ghp..][..n * ghp];
                let (h_prev, h_cur) = (&buf.h[prev * n * h..][..n * h], &buf.h[cur * n * h..][..n * h]);
                let (c_prev, tc_cur) = if C::HAS_CELL {
                    (&buf.c[prev * n * h..][..n * h], &buf.tc[cur * n * h..][..n * h])
                } else {
                    (&[][..], &[][..])
                };
                let prev_states = Prev { h: h_prev, c: c_prev };
                cell_backward::<C>(s.simd, h, ghp, hp, &mut buf.dh, z, &prev_states, tc_cur, h_cur, &mut buf.dc);
                if st > 0 {
                    // dh_{t-1} = dz_t · R (padded columns come out zero),
                    // added to the GRU's direct part.
                    let acc = C::RESET_AFTER;
                    matmul_strided(n, hp, gh, (z, ghp, 1), (rp, hp, 1), &mut buf.dh, hp, acc, 1.0, false);
                }
            }
            // dW = Σ_t dz_tᵀ x_t, dR = Σ_t dz_tᵀ h_{t-1}, dWb = Σ_t dz_t.
            let rows = t_len * n;
            let gw = &mut self.gw[dir * gh * ni..][..gh * ni];
            let runs = input_runs::<C>(d);
            for &(col, row, len) in &runs {
                let g = &mut gw[row * ni..][..len * ni];
                matmul_strided(len, ni, rows, (&buf.z[col..], 1, ghp), (&self.xt, ni, 1), g, ni, false, 1.0, false);
            }
            let first_prev = if dir == 0 { 0 } else { 1 };
            let h_prev = &buf.h[first_prev * n * h..][..rows * h];
            let gr = &mut self.gr[dir * gh * h..][..gh * h];
            matmul_strided(gh, h, rows, (&buf.z, 1, ghp), (h_prev, h, 1), gr, h, false, 1.0, false);
            let gb = &mut self.gb[dir * s.zw..][..s.zw];
            gb.fill(0.0);
            buf.z.chunks_exact(ghp).for_each(|row| add(gb, &row[..s.zw]));
            if need_dx {
                let w = &s.w[dir * gh * ni..][..gh * ni];
                for (k, &(col, row, len)) in runs.iter().enumerate() {
                    let (z, w) = ((&buf.z[col..], ghp, 1), (&w[row * ni..], ni, 1));
                    matmul_strided(rows, ni, len, z, w, &mut self.dxt, ni, dir > 0 || k > 0, 1.0, false);
                }
            }
        }
        if need_dx {
            for (b, sample) in dx.chunks_exact_mut(t_len * ni).enumerate() {
                for (t, row) in sample.chunks_exact_mut(ni).enumerate() {
                    row.copy_from_slice(&self.dxt[(t * n + b) * ni..][..ni]);
                }
            }
        }
    }
}
