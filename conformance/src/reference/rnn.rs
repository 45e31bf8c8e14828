//! The `SimpleRnn` reference, ONNX `RNN` with `activations = [Tanh]`:
//! `h_t = tanh(x_t · Wᵀ + h_{t-1} · Rᵀ + Wb + Rb)`, `h_0 = 0`.

use ember_runtime::spec::RecurrentDims;

use super::recurrent::recurrent_f64;

/// One step of the tanh cell: `h = tanh(z)` (no cell state).
///
/// # Shapes
/// `z`: `[units]`; `h`: `[units]`, overwritten; `_c` unused.
pub fn rnn_cell_f64(z: &[f64], h: &mut [f64], _c: &mut [f64]) {
    h.iter_mut().zip(z).for_each(|(h, z)| *h = z.tanh());
}

/// One sample through a `SimpleRnn` layer (one or two directions).
///
/// # Shapes
/// As [`recurrent_f64`] with one gate block: `x`: `[seq_len, inputs]` →
/// `[seq_len, dirs · units]` or `[dirs · units]`.
pub fn simple_rnn_f64(r: RecurrentDims, params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    assert_eq!(r.gates, 1, "a SimpleRnn has one gate block");
    recurrent_f64(r, params, x, rnn_cell_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unit_two_steps() {
        // w = 1, r = 0.5, Wb = 0.1, Rb = -0.1: h1 = tanh(1), h2 = tanh(2 + 0.5 h1).
        let r = RecurrentDims { inputs: 1, units: 1, seq_len: 2, return_sequences: true, dirs: 1, gates: 1 };
        let p = [vec![1.0], vec![0.5], vec![0.1, -0.1]];
        let y = simple_rnn_f64(r, &p, &[1.0, 2.0]);
        let h1 = 1.0f64.tanh();
        assert!((y[0] - h1).abs() < 1e-15 && (y[1] - (2.0 + 0.5 * h1).tanh()).abs() < 1e-15, "{y:?}");
    }
}
