//! The step of [`crate::spec::LayerSpec::Lstm`], shared by the typed layer and
//! the dynamic interpreter.

use super::GateParams;
use crate::activation::sigmoid;

/// One LSTM step (ONNX gate order i, o, f, c):
/// `C = σ(f) ⊙ C + σ(i) ⊙ tanh(c)`, `h = σ(o) ⊙ tanh(C)`.
///
/// # Shapes
/// `x`: `[I]`, `h` and `c`: `[H]` (read, then overwritten), `z`: `[4*H]` scratch.
pub fn lstm_step(p: &impl GateParams, x: &[f32], h: &mut [f32], c: &mut [f32], z: &mut [f32]) {
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
