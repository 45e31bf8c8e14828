//! `Flatten<R, C, N>`: a layer that moves no data, only the shape changes.

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
        let LayerSpec::Flatten { dims } = entry.spec else {
            return Err(Error::LayerKind);
        };
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
