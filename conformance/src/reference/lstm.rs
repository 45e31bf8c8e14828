//! The `Lstm` reference, ONNX `LSTM` (no peepholes, default activations,
//! gate blocks in the order `i, o, f, c`): `C_t = f ⊙ C_{t-1} + i ⊙ c`,
//! `h_t = o ⊙ tanh(C_t)`, zero initial states.

use ember_runtime::spec::RecurrentDims;

use super::recurrent::recurrent_f64;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One step of the LSTM cell from the pre-activations of its four gate
/// blocks, in ONNX order `i, o, f, c`.
///
/// # Shapes
/// `z`: `[4 · units]`; `h`, `c`: `[units]`, updated in place.
pub fn lstm_cell_f64(z: &[f64], h: &mut [f64], c: &mut [f64]) {
    let h_n = h.len();
    for j in 0..h_n {
        let (i, o, f, cc) = (sigmoid(z[j]), sigmoid(z[h_n + j]), sigmoid(z[2 * h_n + j]), z[3 * h_n + j].tanh());
        c[j] = f * c[j] + i * cc;
        h[j] = o * c[j].tanh();
    }
}

/// One sample through an `Lstm` layer (one or two directions).
///
/// # Shapes
/// As [`recurrent_f64`] with four gate blocks: `x`: `[seq_len, inputs]` →
/// `[seq_len, dirs · units]` or `[dirs · units]`.
pub fn lstm_f64(r: RecurrentDims, params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    assert_eq!(r.gates, 4, "an LSTM has four gate blocks");
    recurrent_f64(r, params, x, lstm_cell_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unit_one_step() {
        // Gates from w = [1, 2, 3, 4] on x = 1, no recurrence at step 0:
        // i = σ(1), o = σ(2), c = tanh(4); C = i · c, h = o · tanh(C).
        let r = RecurrentDims { inputs: 1, units: 1, seq_len: 1, return_sequences: false, dirs: 1, gates: 4 };
        let p = [vec![1.0, 2.0, 3.0, 4.0], vec![0.0; 4], vec![0.0; 8]];
        let y = lstm_f64(r, &p, &[1.0]);
        let cell = sigmoid(1.0) * 4.0f64.tanh();
        assert!((y[0] - sigmoid(2.0) * cell.tanh()).abs() < 1e-15, "{y:?}");
    }
}
