//! Input corruption for denoising autoencoders. Both functions are
//! deterministic for a seed and keep values in `[0, 1]`.

use super::rng::Stream;

/// `x + factor · N(0, 1)`, element-wise, clipped to `[0, 1]` (the Keras
/// denoising-autoencoder tutorial uses `factor = 0.5` on MNIST).
pub fn gaussian(x: &[f32], factor: f32, seed: u64) -> Vec<f32> {
    let mut rng = Stream::new(seed);
    x.iter().map(|&v| ((f64::from(v) + f64::from(factor) * rng.normal()) as f32).clamp(0.0, 1.0)).collect()
}

/// Salt-and-pepper noise: each element independently, with probability
/// `fraction` (clamped to `[0, 1]`, NaN counts as 0), is replaced by 0 or 1
/// with equal chance; the others are kept.
pub fn salt_and_pepper(x: &[f32], fraction: f32, seed: u64) -> Vec<f32> {
    let p = if fraction.is_nan() { 0.0 } else { f64::from(fraction.clamp(0.0, 1.0)) };
    let mut rng = Stream::new(seed);
    x.iter()
        .map(|&v| {
            let hit = rng.uniform() < p;
            let salt = rng.uniform() < 0.5;
            match (hit, salt) {
                (false, _) => v,
                (true, true) => 1.0,
                (true, false) => 0.0,
            }
        })
        .collect()
}
