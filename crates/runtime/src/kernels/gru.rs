//! The step of [`crate::spec::LayerSpec::Gru`] (ONNX `GRU` with
//! `linear_before_reset = 1`), shared by the typed layer and the dynamic
//! interpreter.

use super::{GateParams, sigmoid_in_place, tanh_in_place};

/// One GRU step (ONNX gate order z, r, h, `linear_before_reset = 1`):
/// `z = σ(W_z·x + R_z·h + Wb_z + Rb_z)`, `r` alike,
/// `ĥ = tanh(W_h·x + Wb_h + r ⊙ (R_h·h + Rb_h))`, `h = (1 - z) ⊙ ĥ + z ⊙ h`.
///
/// The sums run in a fixed order (`Wb + Rb + W·x + R·h` for `z` and `r`;
/// `r ⊙ (Rb_h + R_h·h) + W_h·x + Wb_h` for the candidate), so every target
/// computes the same bits.
///
/// # Shapes
/// `x`: `[I]`, `h`: `[H]` (read, then overwritten), `z`: `[3*H]` scratch.
pub fn gru_step(p: &impl GateParams, x: &[f32], h: &mut [f32], z: &mut [f32]) {
    let n = h.len();
    let (zr, zh) = z.split_at_mut(2 * n);
    let zh = &mut zh[..n];
    // Update and reset gates: both biases, then both products.
    for ((z, wb), rb) in zr.iter_mut().zip(p.wb()).zip(p.rb()) {
        *z = wb + rb;
    }
    p.w_acc(0..2 * n, x, zr);
    p.r_acc(0..2 * n, h, zr);
    // The candidate's recurrent part, before the reset gate scales it.
    zh.copy_from_slice(&p.rb()[2 * n..3 * n]);
    p.r_acc(2 * n..3 * n, h, zh);
    let (zu, zreset) = zr.split_at_mut(n);
    // The gates in place (eight at a time on an x86-64 host with AVX2, the
    // same bits), then the elementwise update.
    sigmoid_in_place(zreset);
    for (zh, r) in zh.iter_mut().zip(zreset.iter()) {
        *zh *= r;
    }
    p.w_acc(2 * n..3 * n, x, zh);
    for (zh, wb) in zh.iter_mut().zip(&p.wb()[2 * n..3 * n]) {
        *zh += wb;
    }
    tanh_in_place(zh);
    sigmoid_in_place(zu);
    for k in 0..n {
        let (cand, u) = (zh[k], zu[k]);
        h[k] = (1.0 - u) * cand + u * h[k];
    }
}
