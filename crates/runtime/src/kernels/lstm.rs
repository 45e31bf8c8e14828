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
    // On an x86-64 host with AVX2, eight units at a time (same bits).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    let done = super::activation_avx::lstm_cells(zi, zo, zf, zc, h, c);
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    let done = 0;
    for k in done..n {
        (c[k], h[k]) = cell(zi[k], zo[k], zf[k], zc[k], c[k]);
    }
}

/// One unit's update from its pre-activations and cell state: the new cell
/// state `σ(f)·c + σ(i)·tanh(g)` and output `σ(o)·tanh(cell)`.
#[inline(always)]
pub(super) fn cell(zi: f32, zo: f32, zf: f32, zc: f32, c: f32) -> (f32, f32) {
    let cell = sigmoid(zf) * c + sigmoid(zi) * libm::tanhf(zc);
    (cell, sigmoid(zo) * libm::tanhf(cell))
}
