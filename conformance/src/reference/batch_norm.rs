//! The `BatchNorm` reference, ONNX `BatchNormalization` in inference form,
//! the channel being the innermost index (features of a vector, channels of
//! an HWC map, features of a time-major sequence).

/// Per channel `k` (the innermost index),
/// `y = (x - mean[k]) / sqrt(var[k] + epsilon) · gamma[k] + beta[k]`.
///
/// # Shapes
/// `x`: `[n, C]` (any `n`), `gamma`, `beta`, `mean`, `var`: `[C]` → `[n, C]`.
pub fn batch_norm_f64(x: &[f64], gamma: &[f64], beta: &[f64], mean: &[f64], var: &[f64], epsilon: f64) -> Vec<f64> {
    let c = gamma.len();
    assert_eq!(x.len() % c, 0, "input size is a multiple of the channels");
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let k = i % c;
            (v - mean[k]) / (var[k] + epsilon).sqrt() * gamma[k] + beta[k]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_affine() {
        // Channel 0: (x - 1) / 2 · 3 + 1; channel 1: identity.
        let y = batch_norm_f64(&[5.0, 7.0, 1.0, -2.0], &[3.0, 1.0], &[1.0, 0.0], &[1.0, 0.0], &[4.0, 1.0], 0.0);
        assert_eq!(y, [7.0, 7.0, 1.0, -2.0]);
    }
}
