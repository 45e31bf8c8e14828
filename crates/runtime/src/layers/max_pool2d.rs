//! `MaxPool2d<H, W, C, S, P, HW, OHW>`: max pooling over an HWC sample (see
//! [`super::window`] for the layout and the pixel counts `HW`, `OHW`), with
//! the kernel that [`crate::dynamic`] calls.

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::window::{Pad, window};
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::{LayerSpec, Window2d};
use crate::{Error, kernels};

/// Max pooling over `S x S` windows moved by `S` with padding `P` (ONNX
/// `MaxPool` with `strides = kernel_shape`; padded cells never win): an
/// `H x W` map of `C` channels becomes an `oh x ow` map of `C` channels
/// ([`Same`](super::Same): `oh = ceil(H / S)`; [`Valid`](super::Valid): `oh = H / S`).
///
/// `HW = H * W` and `OHW = oh * ow` are checked at compile time, when the
/// layer is bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct MaxPool2d<
    const H: usize,
    const W: usize,
    const C: usize,
    const S: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
>(PhantomData<P>);

/// A bound [`MaxPool2d`] (it has no tensors).
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2dView<
    const H: usize,
    const W: usize,
    const C: usize,
    const S: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
>(PhantomData<P>);

impl<const H: usize, const W: usize, const C: usize, const S: usize, P: Pad, const HW: usize, const OHW: usize>
    MaxPool2dView<H, W, C, S, P, HW, OHW>
{
    /// The window geometry, evaluated (and `HW`, `OHW` checked) at compile time.
    pub const GEOMETRY: Window2d = window(H, W, C, [S, S], S, P::KIND, [HW, OHW]);

    /// A pooling layer (checks `HW` and `OHW` at compile time).
    pub fn new() -> Self {
        const { Self::GEOMETRY };
        MaxPool2dView(PhantomData)
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, P: Pad, const HW: usize, const OHW: usize> Default
    for MaxPool2dView<H, W, C, S, P, HW, OHW>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, P: Pad, const HW: usize, const OHW: usize> Layer
    for MaxPool2d<H, W, C, S, P, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;
    type Bound<'a> = MaxPool2dView<H, W, C, S, P, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + C * OHW;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let LayerSpec::MaxPool2d { height, width, channels, pool, padding } = cursor.next_layer()?.spec else {
            return Err(Error::LayerKind);
        };
        let sizes = [height, width, channels, pool].map(|v| v as usize);
        if sizes != [H, W, C, S] || padding != P::KIND {
            return Err(Error::LayerShape);
        }
        Ok(MaxPool2dView::new())
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, P: Pad, const HW: usize, const OHW: usize> Forward
    for MaxPool2dView<H, W, C, S, P, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;

    /// `y[oy, ox, c]` = the largest `x[iy, ix, c]` under window `(oy, ox)`.
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix) → `[oh, ow, C]` HWC (a `C x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, C, OHW> {
        let mut y = SMatrix::<f32, C, OHW>::zeros();
        kernels::max_pool2d(&Self::GEOMETRY, x.as_slice(), y.as_mut_slice());
        y
    }
}
