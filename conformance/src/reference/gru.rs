//! The `Gru` reference, ONNX `GRU` with `linear_before_reset = 1` (Keras's
//! `GRU(reset_after=True)`), default activations, gate blocks in the order
//! `z, r, h`, zero initial state, written from the operator's equations:
//!
//! ```text
//! zt = f(Xt*(Wz^T) + Ht-1*(Rz^T) + Wbz + Rbz)
//! rt = f(Xt*(Wr^T) + Ht-1*(Rr^T) + Wbr + Rbr)
//! ht = g(Xt*(Wh^T) + (rt (.) (Ht-1*(Rh^T) + Rbh)) + Wbh)   # linear_before_reset != 0
//! Ht = (1 - zt) (.) ht + zt (.) Ht-1
//! ```
//!
//! with `f` = sigmoid and `g` = tanh. It has its own loop (not
//! [`super::recurrent::recurrent_f64`]) because `Rbh` must stay apart from `Wbh`.

use ember_runtime::spec::RecurrentDims;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `Σ_j m[row, j] · v[j]` for a row-major matrix with `v.len()` columns.
fn row_dot(m: &[f64], row: usize, v: &[f64]) -> f64 {
    m[row * v.len()..(row + 1) * v.len()].iter().zip(v).map(|(a, b)| a * b).sum()
}

/// One GRU step of one direction: `h` (`[units]`) updated in place from
/// `x` (`[inputs]`) with that direction's `w` `[3·units, inputs]`, `r`
/// `[3·units, units]` and `b` `[6·units]` (`Wb` then `Rb`, blocks `z, r, h`).
pub fn gru_step_f64(w: &[f64], r: &[f64], b: &[f64], x: &[f64], h: &mut [f64]) {
    let n = h.len();
    let wb = |k: usize| b[k];
    let rb = |k: usize| b[3 * n + k];
    let next: Vec<f64> = (0..n)
        .map(|j| {
            let (zj, rj, hj) = (j, n + j, 2 * n + j);
            let z = sigmoid(row_dot(w, zj, x) + row_dot(r, zj, h) + wb(zj) + rb(zj));
            let rg = sigmoid(row_dot(w, rj, x) + row_dot(r, rj, h) + wb(rj) + rb(rj));
            let cand = (row_dot(w, hj, x) + rg * (row_dot(r, hj, h) + rb(hj)) + wb(hj)).tanh();
            (1.0 - z) * cand + z * h[j]
        })
        .collect();
    h.copy_from_slice(&next);
}

/// One sample through a `Gru` layer (one or two directions; the backward
/// direction reads the steps in reverse and its states follow the forward
/// one's).
///
/// # Shapes
/// `params`: `w` `[dirs, 3·units, inputs]`, `r` `[dirs, 3·units, units]`,
/// `b` `[dirs, 6·units]`; `x`: `[seq_len, inputs]` → `[seq_len, dirs·units]`
/// if `d.return_sequences`, else `[dirs·units]`.
pub fn gru_f64(d: RecurrentDims, params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    assert_eq!(d.gates, 3, "a GRU has three gate blocks");
    let (h_n, i_n, t_n) = (d.units, d.inputs, d.seq_len);
    let out_step = d.dirs * h_n;
    let mut seq = vec![0.0; t_n * out_step];
    let mut last = vec![0.0; out_step];
    for dir in 0..d.dirs {
        let w = &params[0][dir * 3 * h_n * i_n..][..3 * h_n * i_n];
        let r = &params[1][dir * 3 * h_n * h_n..][..3 * h_n * h_n];
        let b = &params[2][dir * 6 * h_n..][..6 * h_n];
        let mut h = vec![0.0; h_n];
        for k in 0..t_n {
            let t = if dir == 1 { t_n - 1 - k } else { k };
            gru_step_f64(w, r, b, &x[t * i_n..(t + 1) * i_n], &mut h);
            seq[t * out_step + dir * h_n..][..h_n].copy_from_slice(&h);
        }
        last[dir * h_n..][..h_n].copy_from_slice(&h);
    }
    if d.return_sequences { seq } else { last }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unit_two_steps_by_hand() {
        // w = [z 1, r 2, h 3], r = [z 0.5, r -1, h 2], b: Wb = [0.1, 0.2, 0.3], Rb = [0, 0, -0.4].
        let d = RecurrentDims { inputs: 1, units: 1, seq_len: 2, return_sequences: true, dirs: 1, gates: 3 };
        let p = [vec![1.0, 2.0, 3.0], vec![0.5, -1.0, 2.0], vec![0.1, 0.2, 0.3, 0.0, 0.0, -0.4]];
        let y = gru_f64(d, &p, &[1.0, -0.5]);
        // Step 0 (h = 0): the reset gate multiplies Rb_h alone.
        let (z0, r0) = (sigmoid(1.1), sigmoid(2.2));
        let h0 = (1.0 - z0) * (3.0 + r0 * -0.4 + 0.3f64).tanh();
        // Step 1.
        let (z1, r1) = (sigmoid(-0.5 + 0.5 * h0 + 0.1), sigmoid(-1.0 - h0 + 0.2));
        let c1 = (-1.5 + r1 * (2.0 * h0 - 0.4) + 0.3f64).tanh();
        let h1 = (1.0 - z1) * c1 + z1 * h0;
        assert!((y[0] - h0).abs() < 1e-15 && (y[1] - h1).abs() < 1e-15, "{y:?} vs {h0}, {h1}");
    }
}
