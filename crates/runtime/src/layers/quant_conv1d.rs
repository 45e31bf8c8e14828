//! `QConv1d<L, C, F, K, S, D, P, A, OL>`: an int8 1-D convolution (the int8
//! form of [`Conv1d`](super::Conv1d); see [`crate::quant::int8`]): f32 in and
//! out, int8 weights and arithmetic, weights borrowed from the blob.

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::int8::{bind_int8, i8_floats};
use super::window::{Pad, window1d};
use crate::Error;
use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::quant::{Int8Layer, Int8Shape};
use crate::spec::{LayerSpec, Window2d};

/// An int8 1-D convolution: `F` filters of `K` taps `D` apart over a `[L, C]`
/// sequence, stride `S`, padding `P`, activation `A`, `OL` output steps
/// (checked at compile time).
#[derive(Clone, Copy, Debug, Default)]
pub struct QConv1d<
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    P: Pad,
    A: Act,
    const OL: usize,
>(PhantomData<(P, A)>);

/// A [`QConv1d`] bound to its tensors inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct QConv1dView<
    'a,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    P: Pad,
    A: Act,
    const OL: usize,
> {
    layer: Int8Layer<'a>,
    _m: PhantomData<(P, A)>,
}

impl<
    'a,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    P: Pad,
    A: Act,
    const OL: usize,
> QConv1dView<'a, L, C, F, K, S, D, P, A, OL>
{
    /// The window geometry (a map of height 1), checked at compile time.
    pub const GEOMETRY: Window2d = window1d(L, C, K, S, D, P::KIND, OL);

    /// The bound int8 layer.
    pub fn layer(&self) -> &Int8Layer<'a> {
        &self.layer
    }
}

impl<
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    P: Pad,
    A: Act,
    const OL: usize,
> Layer for QConv1d<L, C, F, K, S, D, P, A, OL>
{
    type Input = SMatrix<f32, C, L>;
    type Output = SMatrix<f32, F, OL>;
    type Bound<'a> = QConv1dView<'a, L, C, F, K, S, D, P, A, OL>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * L + F * OL + i8_floats(C * L);

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let g = const { QConv1dView::<'static, L, C, F, K, S, D, P, A, OL>::GEOMETRY };
        let entry = cursor.next_layer()?;
        let LayerSpec::Conv1d { filters, activation, .. } = entry.spec else {
            return Err(Error::LayerKind);
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        if filters as usize != F || entry.spec.window() != Some(g) {
            return Err(Error::LayerShape);
        }
        let layer = bind_int8(&entry, Int8Shape::Conv(g), F, activation)?;
        Ok(QConv1dView { layer, _m: PhantomData })
    }
}

impl<
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    P: Pad,
    A: Act,
    const OL: usize,
> Forward for QConv1dView<'_, L, C, F, K, S, D, P, A, OL>
{
    type Input = SMatrix<f32, C, L>;
    type Output = SMatrix<f32, F, OL>;

    /// Quantizes `x`, runs the int8 convolution, dequantizes (or applies the
    /// f32 activation).
    ///
    /// # Shapes
    /// `x`: `[L, C]` (a `C x L` matrix) → `[OL, F]` (an `F x OL` matrix).
    fn forward(&self, x: &SMatrix<f32, C, L>) -> SMatrix<f32, F, OL> {
        let mut xq = SMatrix::<i8, C, L>::zeros();
        let mut y = SMatrix::<f32, F, OL>::zeros();
        // The sizes were checked when binding, so this cannot fail.
        let _ = self.layer.run(x.as_slice(), xq.as_mut_slice(), y.as_mut_slice());
        y
    }
}
