//! `Flatten<R, C, N>` and `Dropout<R, C>`: layers that move no data.

use nalgebra::{SMatrix, SVector};

use crate::Error;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;

/// Flattens an `R x C` matrix (`C` steps of `R` features, time-major in
/// memory, or `C = h·w` pixels of `R` channels of an HWC map) into a vector
/// of `N = R * C` values (ONNX `Flatten`, axis 1).
/// `N` is checked at compile time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten<const R: usize, const C: usize, const N: usize>;

/// A bound [`Flatten`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FlattenView<const R: usize, const C: usize, const N: usize>;

impl<const R: usize, const C: usize, const N: usize> Layer for Flatten<R, C, N> {
    type Input = SMatrix<f32, R, C>;
    type Output = SVector<f32, N>;
    type Bound<'a> = FlattenView<R, C, N>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = 2 * N;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        const { assert!(R * C == N, "Flatten<R, C, N> needs N = R * C") };
        let entry = cursor.next_layer()?;
        match entry.spec {
            LayerSpec::Flatten { dims } => {
                // A vector `[N]`, or any shape whose innermost dimension is
                // `R` (a sequence `[C, R]`, an image map `[h, w, R]` with `C = h·w`).
                let ok = match dims.as_slice() {
                    [n] => *n as usize == N && C == 1,
                    [.., r] => *r as usize == R && dims.elements() == N,
                    [] => false,
                };
                if !ok {
                    return Err(Error::LayerShape);
                }
            }
            _ => return Err(Error::LayerKind),
        }
        Ok(FlattenView)
    }
}

impl<const R: usize, const C: usize, const N: usize> Forward for FlattenView<R, C, N> {
    type Input = SMatrix<f32, R, C>;
    type Output = SVector<f32, N>;

    /// # Shapes
    /// `[C, R]` time-major (an `R x C` matrix) → `[N]`, the same memory order.
    fn forward(&self, x: &SMatrix<f32, R, C>) -> SVector<f32, N> {
        SVector::from_column_slice(x.as_slice())
    }
}

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
        match cursor.next_layer()?.spec {
            LayerSpec::Dropout { len, .. } if len as usize == R * C => Ok(DropoutView),
            LayerSpec::Dropout { .. } => Err(Error::LayerShape),
            _ => Err(Error::LayerKind),
        }
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
