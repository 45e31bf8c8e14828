//! The step of [`crate::spec::LayerSpec::SimpleRnn`] (the tanh Elman cell),
//! shared by the typed layer and the dynamic interpreter.

use super::GateParams;

/// One SimpleRNN step: `h = tanh(Wb + Rb + W·x + R·h)`.
///
/// # Shapes
/// `x`: `[I]`, `h`: `[H]` (read, then overwritten), `z`: `[H]` scratch.
pub fn rnn_step(p: &impl GateParams, x: &[f32], h: &mut [f32], z: &mut [f32]) {
    p.preactivation(x, h, z);
    for (h, z) in h.iter_mut().zip(z.iter()) {
        *h = libm::tanhf(*z);
    }
}
