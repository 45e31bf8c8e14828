//! `Dropout<R, C>`: the identity at inference (it moves no data).

use nalgebra::SMatrix;

use crate::Error;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;

/// Dropout at inference: the identity on an `R x C` matrix (vectors: `C = 1`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Dropout<const R: usize, const C: usize>;

/// A bound [`Dropout`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DropoutView<const R: usize, const C: usize>;

impl<const R: usize, const C: usize> Layer for Dropout<R, C> {
    type Input = SMatrix<f32, R, C>;
    type Output = SMatrix<f32, R, C>;
    type Bound<'a> = DropoutView<R, C>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = 2 * R * C;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let LayerSpec::Dropout { len, .. } = cursor.next_layer()?.spec else {
            return Err(Error::LayerKind);
        };
        if len as usize == R * C { Ok(DropoutView) } else { Err(Error::LayerShape) }
    }
}

impl<const R: usize, const C: usize> Forward for DropoutView<R, C> {
    type Input = SMatrix<f32, R, C>;
    type Output = SMatrix<f32, R, C>;

    /// # Shapes
    /// `[C, R]` → `[C, R]` unchanged.
    fn forward(&self, x: &SMatrix<f32, R, C>) -> SMatrix<f32, R, C> {
        *x
    }
}
