//! The kernel of [`crate::spec::LayerSpec::BatchNorm`] (channels innermost),
//! shared by the typed layer, the dynamic interpreter and the EntityDot kernel.

/// Batch normalisation in inference form, per channel `k` (the innermost
/// index): `y = (x - mean) · s + beta` with `s = gamma / sqrt(var + eps)`
/// computed once per channel.
///
/// # Shapes
/// `x`, `y`: `[n, C]` (any `n`); `gamma`, `beta`, `mean`, `var`: `[C]`.
pub fn batch_norm(gamma: &[f32], beta: &[f32], mean: &[f32], var: &[f32], eps: f32, x: &[f32], y: &mut [f32]) {
    let c = gamma.len();
    if c == 0 {
        return;
    }
    let params = gamma.iter().zip(beta).zip(mean).zip(var);
    for (k, (((&gamma, &beta), &mean), &var)) in params.enumerate() {
        let s = gamma / libm::sqrtf(var + eps);
        for (o, &v) in y.iter_mut().skip(k).step_by(c).zip(x.iter().skip(k).step_by(c)) {
            *o = (v - mean) * s + beta;
        }
    }
}
