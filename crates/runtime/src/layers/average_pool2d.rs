//! `AveragePool2d<H, W, C, KH, KW, SH, SW, P, HW, OHW>`: average pooling
//! over an HWC sample (see [`super::window`] for the layout and the pixel
//! counts `HW`, `OHW`), with the kernel that [`crate::dynamic`] calls.

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::window::{Pad, window_general};
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::{LayerSpec, Window2d};
use crate::{Error, kernels};

/// Average pooling over `KH x KW` windows moved by `SH` rows and `SW`
/// columns with padding `P` (ONNX `AveragePool`, `count_include_pad = 0`:
/// padded cells are not counted, as in Keras): an `H x W` map of `C`
/// channels becomes an `oh x ow` map. `HW = H * W` and `OHW = oh * ow` are
/// checked at compile time, when the layer is bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct AveragePool2d<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
>(PhantomData<P>);

/// A bound [`AveragePool2d`] (it has no tensors).
#[derive(Clone, Copy, Debug)]
pub struct AveragePool2dView<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
>(PhantomData<P>);

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
> AveragePool2dView<H, W, C, KH, KW, SH, SW, P, HW, OHW>
{
    /// The window geometry, evaluated (and `HW`, `OHW` checked) at compile time.
    pub const GEOMETRY: Window2d = window_general([H, W, C], [KH, KW], [SH, SW], [1, 1], P::KIND, [HW, OHW]);

    /// A pooling layer (checks `HW` and `OHW` at compile time).
    pub fn new() -> Self {
        const { Self::GEOMETRY };
        AveragePool2dView(PhantomData)
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
> Default for AveragePool2dView<H, W, C, KH, KW, SH, SW, P, HW, OHW>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
> Layer for AveragePool2d<H, W, C, KH, KW, SH, SW, P, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;
    type Bound<'a> = AveragePool2dView<H, W, C, KH, KW, SH, SW, P, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + C * OHW;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let LayerSpec::AveragePool2d { height, width, channels, pool, stride, padding } = cursor.next_layer()?.spec
        else {
            return Err(Error::LayerKind);
        };
        let sizes = [height, width, channels, pool[0], pool[1], stride[0], stride[1]].map(|v| v as usize);
        if sizes != [H, W, C, KH, KW, SH, SW] || padding != P::KIND {
            return Err(Error::LayerShape);
        }
        Ok(AveragePool2dView::new())
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P: Pad,
    const HW: usize,
    const OHW: usize,
> Forward for AveragePool2dView<H, W, C, KH, KW, SH, SW, P, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;

    /// `y[oy, ox, c]` = the mean of the `x[iy, ix, c]` inside window `(oy, ox)`.
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix) → `[oh, ow, C]` HWC (a `C x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, C, OHW> {
        let mut y = SMatrix::<f32, C, OHW>::zeros();
        kernels::average_pool2d(&Self::GEOMETRY, x.as_slice(), y.as_mut_slice());
        y
    }
}
