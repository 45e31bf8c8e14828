//! Dropout: inverted dropout while training, the identity otherwise (and in
//! every export).

use ember_runtime::spec::LayerSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{ParamMut, TrainLayer};

/// A dropout layer: while training, each value is kept with probability
/// `1 - rate` and scaled by `1 / (1 - rate)` (Keras's inverted dropout), or
/// zeroed; at inference it is the identity.
///
/// Masks come from the layer's own ChaCha8 stream, seeded once when the
/// layer is built. The stream's position is not saved in checkpoints: a
/// resumed run draws different masks than an uninterrupted one would.
pub struct DropoutLayer {
    len: usize,
    rate_ppm: u32,
    rng: ChaCha8Rng,
    /// Per value of the last training batch: `0` or `1 / (1 - rate)`.
    mask: Vec<f32>,
    /// Whether the last forward pass applied `mask` (training with rate > 0).
    masked: bool,
    /// Batch of the last training forward pass, if backward may follow.
    pending: Option<usize>,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl DropoutLayer {
    /// Drops `rate_ppm` parts per million of the `len` values of a sample,
    /// with masks drawn from a ChaCha8 stream seeded by `seed`.
    pub fn new(len: usize, rate_ppm: u32, seed: u64) -> Self {
        assert!(rate_ppm < 1_000_000, "dropout rate must be below 1");
        DropoutLayer {
            len,
            rate_ppm,
            rng: ChaCha8Rng::seed_from_u64(seed),
            mask: Vec::new(),
            masked: false,
            pending: None,
            y: Vec::new(),
            dx: Vec::new(),
        }
    }
}

impl TrainLayer for DropoutLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Dropout { len: self.len as u32, rate_ppm: self.rate_ppm }
    }

    /// Applies a fresh mask when `train` (and the rate is not 0), else copies.
    ///
    /// # Shapes
    /// `x`: `[batch, len]` → `[batch, len]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        assert_eq!(x.len(), batch * self.len, "dropout input must be [batch, len]");
        self.masked = train && self.rate_ppm > 0;
        self.pending = train.then_some(batch);
        self.y.clear();
        if !self.masked {
            self.y.extend_from_slice(x);
            return &self.y;
        }
        // Keep a value when a uniform u32 is at least rate · 2^32.
        let threshold = ((self.rate_ppm as u64) << 32) / 1_000_000;
        let scale = (1.0 / (1.0 - self.rate_ppm as f64 / 1e6)) as f32;
        let rng = &mut self.rng;
        self.mask.clear();
        self.mask.extend((0..x.len()).map(|_| if rng.next_u32() as u64 >= threshold { scale } else { 0.0 }));
        self.y.extend(x.iter().zip(&self.mask).map(|(x, m)| x * m));
        &self.y
    }

    /// Gradient through the kept values only, with the same scale.
    ///
    /// # Shapes
    /// `dy`: `[batch, len]` → `[batch, len]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _dy_is_preactivation: bool, need_dx: bool) -> &[f32] {
        let fwd = self.pending.take().expect("backward needs a training forward pass first");
        assert_eq!(batch, fwd, "backward batch differs from the forward batch");
        assert_eq!(dy.len(), batch * self.len, "dropout output gradient must be [batch, len]");
        self.dx.clear();
        if need_dx {
            if self.masked {
                self.dx.extend(dy.iter().zip(&self.mask).map(|(d, m)| d * m));
            } else {
                self.dx.extend_from_slice(dy);
            }
        }
        &self.dx
    }

    fn params(&self) -> Vec<&[f32]> {
        Vec::new()
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        Vec::new()
    }
}
