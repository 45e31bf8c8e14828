//! `AveragePool1d<L, C, K, S, P, OL>`: average pooling over a time-major sample
//! `[L, C]`, computed by the 2-D kernel on a map of height 1 (the kernel
//! that [`crate::dynamic`] calls).

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::window::{Pad, window1d};
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::{LayerSpec, Window2d};
use crate::{Error, kernels};

/// Average pooling over `K`-step windows moved by `S` steps with padding `P`
/// (ONNX `AveragePool` on `[N, C, L]`, `count_include_pad = 0`: padded cells are not counted): `L` steps of `C`
/// channels become `OL` steps. `OL` is checked at compile time, when the
/// layer is bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct AveragePool1d<const L: usize, const C: usize, const K: usize, const S: usize, P: Pad, const OL: usize>(
    PhantomData<P>,
);

/// A bound [`AveragePool1d`] (it has no tensors).
#[derive(Clone, Copy, Debug)]
pub struct AveragePool1dView<const L: usize, const C: usize, const K: usize, const S: usize, P: Pad, const OL: usize>(
    PhantomData<P>,
);

impl<const L: usize, const C: usize, const K: usize, const S: usize, P: Pad, const OL: usize>
    AveragePool1dView<L, C, K, S, P, OL>
{
    /// The window geometry, evaluated (and `OL` checked) at compile time.
    pub const GEOMETRY: Window2d = window1d(L, C, K, S, 1, P::KIND, OL);

    /// A pooling layer (checks `OL` at compile time).
    pub fn new() -> Self {
        const { Self::GEOMETRY };
        AveragePool1dView(PhantomData)
    }
}

impl<const L: usize, const C: usize, const K: usize, const S: usize, P: Pad, const OL: usize> Default
    for AveragePool1dView<L, C, K, S, P, OL>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const L: usize, const C: usize, const K: usize, const S: usize, P: Pad, const OL: usize> Layer
    for AveragePool1d<L, C, K, S, P, OL>
{
    type Input = SMatrix<f32, C, L>;
    type Output = SMatrix<f32, C, OL>;
    type Bound<'a> = AveragePool1dView<L, C, K, S, P, OL>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * L + C * OL;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let LayerSpec::AveragePool1d { length, channels, pool, stride, padding } = cursor.next_layer()?.spec else {
            return Err(Error::LayerKind);
        };
        if [length, channels, pool, stride].map(|v| v as usize) != [L, C, K, S] || padding != P::KIND {
            return Err(Error::LayerShape);
        }
        Ok(AveragePool1dView::new())
    }
}

impl<const L: usize, const C: usize, const K: usize, const S: usize, P: Pad, const OL: usize> Forward
    for AveragePool1dView<L, C, K, S, P, OL>
{
    type Input = SMatrix<f32, C, L>;
    type Output = SMatrix<f32, C, OL>;

    /// `y[t, c]` = the mean of the `x[i, c]` inside window `t` (padding not counted).
    ///
    /// # Shapes
    /// `x`: `[L, C]` (a `C x L` matrix) → `[OL, C]` (a `C x OL` matrix).
    fn forward(&self, x: &SMatrix<f32, C, L>) -> SMatrix<f32, C, OL> {
        let mut y = SMatrix::<f32, C, OL>::zeros();
        kernels::average_pool2d(&Self::GEOMETRY, x.as_slice(), y.as_mut_slice());
        y
    }
}
