//! `GlobalAveragePool<C, N>`: the mean of every channel over the `N` steps
//! of a sequence or pixels of a map, with the kernel that
//! [`crate::dynamic`] calls.

use nalgebra::{SMatrix, SVector};

use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;
use crate::{Error, kernels};

/// Global average pooling (ONNX `GlobalAveragePool`, then `Flatten`; Keras
/// `GlobalAveragePooling1D/2D`): `N` steps (a `[N, C]` sequence) or pixels
/// (an `[h, w, C]` map with `N = h·w`) of `C` channels become `[C]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAveragePool<const C: usize, const N: usize>;

/// A bound [`GlobalAveragePool`] (it has no tensors).
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAveragePoolView<const C: usize, const N: usize>;

impl<const C: usize, const N: usize> Layer for GlobalAveragePool<C, N> {
    type Input = SMatrix<f32, C, N>;
    type Output = SVector<f32, C>;
    type Bound<'a> = GlobalAveragePoolView<C, N>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * N + C;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        const { assert!(C > 0 && N > 0, "GlobalAveragePool<C, N> needs C, N > 0") };
        let LayerSpec::GlobalAveragePool { dims } = cursor.next_layer()?.spec else {
            return Err(Error::LayerKind);
        };
        let c = dims.as_slice().last().map_or(0, |&c| c as usize);
        if c != C || dims.elements() != C * N {
            return Err(Error::LayerShape);
        }
        Ok(GlobalAveragePoolView)
    }
}

impl<const C: usize, const N: usize> Forward for GlobalAveragePoolView<C, N> {
    type Input = SMatrix<f32, C, N>;
    type Output = SVector<f32, C>;

    /// `y[c] = (Σ_p x[p, c]) / N`.
    ///
    /// # Shapes
    /// `x`: `[N, C]` (a `C x N` matrix, one column per step or pixel) → `[C]`.
    fn forward(&self, x: &SMatrix<f32, C, N>) -> SVector<f32, C> {
        let mut y = SVector::<f32, C>::zeros();
        kernels::global_average_pool(x.as_slice(), y.as_mut_slice());
        y
    }
}
