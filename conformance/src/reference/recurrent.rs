//! The loop shared by the recurrent references ([`super::rnn`],
//! [`super::lstm`]): ONNX `RNN` / `LSTM` with zero initial states, over one
//! or two directions, returning the last state or every state.

use ember_runtime::spec::RecurrentDims;

/// `Σ_j m[row, j] · v[j]` for a row-major matrix with `v.len()` columns.
fn row_dot(m: &[f64], row: usize, v: &[f64]) -> f64 {
    m[row * v.len()..(row + 1) * v.len()].iter().zip(v).map(|(a, b)| a * b).sum()
}

/// Runs a recurrent layer over one sample. At every step each direction
/// computes the pre-activations of all gate blocks,
/// `z[row] = W[row]·x_t + R[row]·h + Wb[row] + Rb[row]`, and `cell(z, h, c)`
/// updates its hidden state `h` and cell state `c` (both `[units]`, zero at
/// the start). The backward direction reads the steps in reverse and its
/// states are concatenated after the forward one's.
///
/// # Shapes
/// `params`: `w` `[dirs, gates · units, inputs]`, `r` `[dirs, gates · units, units]`,
/// `b` `[dirs, 2 · gates · units]` (`Wb` then `Rb`); `x`: `[seq_len, inputs]` →
/// `[seq_len, dirs · units]` if `r.return_sequences`, else `[dirs · units]`.
pub fn recurrent_f64(
    r: RecurrentDims,
    params: &[Vec<f64>],
    x: &[f64],
    cell: impl Fn(&[f64], &mut [f64], &mut [f64]),
) -> Vec<f64> {
    let (h_n, i_n, t_n, g) = (r.units, r.inputs, r.seq_len, r.gates);
    let out_step = r.dirs * h_n;
    let mut seq = vec![0.0; t_n * out_step];
    let mut last = vec![0.0; out_step];
    for d in 0..r.dirs {
        let w = &params[0][d * g * h_n * i_n..(d + 1) * g * h_n * i_n];
        let rr = &params[1][d * g * h_n * h_n..(d + 1) * g * h_n * h_n];
        let b = &params[2][d * 2 * g * h_n..(d + 1) * 2 * g * h_n];
        let (mut h, mut c) = (vec![0.0; h_n], vec![0.0; h_n]);
        for k in 0..t_n {
            let t = if d == 1 { t_n - 1 - k } else { k };
            let xt = &x[t * i_n..(t + 1) * i_n];
            let z: Vec<f64> = (0..g * h_n)
                .map(|row| row_dot(w, row, xt) + row_dot(rr, row, &h) + b[row] + b[g * h_n + row])
                .collect();
            cell(&z, &mut h, &mut c);
            seq[t * out_step + d * h_n..t * out_step + (d + 1) * h_n].copy_from_slice(&h);
        }
        last[d * h_n..(d + 1) * h_n].copy_from_slice(&h);
    }
    if r.return_sequences { seq } else { last }
}
