//! `BatchNorm<C, N>`: batch normalisation in inference form over `N`
//! positions of `C` channels (an HWC map, a vector or a sequence), with the
//! kernel that [`crate::dynamic`] calls.

use nalgebra::SMatrix;

use super::sized;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;
use crate::{Error, kernels};

/// Batch normalisation in inference form (ONNX `BatchNormalization`) over
/// `N` positions of `C` channels: `y = (x - mean) / sqrt(var + epsilon) ·
/// gamma + beta` per channel.
///
/// The channel is the innermost dimension of the value before it: an HWC map
/// `[H, W, C]` is `BatchNorm<C, { H * W }>`, a vector `[F]` is
/// `BatchNorm<F, 1>`, a sequence `[T, F]` is `BatchNorm<F, T>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BatchNorm<const C: usize, const N: usize>;

/// A [`BatchNorm`] bound to its parameters inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct BatchNormView<'a, const C: usize, const N: usize> {
    gamma: &'a [f32],
    beta: &'a [f32],
    mean: &'a [f32],
    var: &'a [f32],
    epsilon: f32,
}

impl<'a, const C: usize, const N: usize> BatchNormView<'a, C, N> {
    /// Binds a layer to its per-channel `gamma`, `beta`, `mean` and `var`
    /// (each `[C]`) and `epsilon`.
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(
        gamma: &'a [f32],
        beta: &'a [f32],
        mean: &'a [f32],
        var: &'a [f32],
        epsilon: f32,
    ) -> Result<Self, Error> {
        Ok(BatchNormView {
            gamma: sized(gamma, C)?,
            beta: sized(beta, C)?,
            mean: sized(mean, C)?,
            var: sized(var, C)?,
            epsilon,
        })
    }

    /// The scale, `[C]`.
    pub fn gamma(&self) -> &'a [f32] {
        self.gamma
    }

    /// The shift, `[C]`.
    pub fn beta(&self) -> &'a [f32] {
        self.beta
    }

    /// The moving mean, `[C]`.
    pub fn mean(&self) -> &'a [f32] {
        self.mean
    }

    /// The moving variance, `[C]`.
    pub fn var(&self) -> &'a [f32] {
        self.var
    }

    /// The variance offset.
    pub fn epsilon(&self) -> f32 {
        self.epsilon
    }
}

impl<const C: usize, const N: usize> Layer for BatchNorm<C, N> {
    type Input = SMatrix<f32, C, N>;
    type Output = SMatrix<f32, C, N>;
    type Bound<'a> = BatchNormView<'a, C, N>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = 2 * C * N;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::BatchNorm { dims, epsilon_bits } = entry.spec else {
            return Err(Error::LayerKind);
        };
        let last = dims.as_slice().last().map(|&c| c as usize);
        if last != Some(C) || dims.elements() != C * N {
            return Err(Error::LayerShape);
        }
        let epsilon = f32::from_bits(epsilon_bits);
        let p = |i| entry.param_f32(i);
        BatchNormView::new(p(0)?, p(1)?, p(2)?, p(3)?, epsilon)
    }
}

impl<const C: usize, const N: usize> Forward for BatchNormView<'_, C, N> {
    type Input = SMatrix<f32, C, N>;
    type Output = SMatrix<f32, C, N>;

    /// `y[n, k] = x[n, k] · s[k] + t[k]` with `s = gamma / sqrt(var + epsilon)`
    /// and `t = beta - mean · s`.
    ///
    /// # Shapes
    /// `x`: `[N, C]` (a `C x N` matrix, channels innermost) → the same.
    fn forward(&self, x: &SMatrix<f32, C, N>) -> SMatrix<f32, C, N> {
        let mut y = SMatrix::<f32, C, N>::zeros();
        kernels::batch_norm(self.gamma, self.beta, self.mean, self.var, self.epsilon, x.as_slice(), y.as_mut_slice());
        y
    }
}
