//! The step of [`crate::spec::LayerSpec::SimpleRnn`] (the tanh Elman cell),
//! shared by the typed layer and the dynamic interpreter.

use super::{GateParams, tanh_in_place};

/// One SimpleRNN step: `h = tanh(Wb + Rb + W·x + R·h)`.
///
/// # Shapes
/// `x`: `[I]`, `h`: `[H]` (read, then overwritten), `z`: `[H]` scratch.
pub fn rnn_step(p: &impl GateParams, x: &[f32], h: &mut [f32], z: &mut [f32]) {
    p.preactivation(x, h, z);
    // Eight at a time on an x86-64 host with AVX2 (the same bits).
    tanh_in_place(z);
    for (h, z) in h.iter_mut().zip(z.iter()) {
        *h = *z;
    }
}
