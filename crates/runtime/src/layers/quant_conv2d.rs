//! `QConv2d<H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>`: an int8 2-D
//! convolution (the int8 form of [`Conv2d`](super::Conv2d) and
//! [`Conv2dStrided`](super::Conv2dStrided); see [`crate::quant::int8`]): f32
//! HWC in and out, int8 weights and arithmetic, weights borrowed from the blob.

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::int8::{bind_int8, i8_floats};
use super::window::{Pad, window_general};
use crate::Error;
use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::quant::{Int8Layer, Int8Shape};
use crate::spec::{LayerSpec, Window2d};

/// An int8 convolution with `F` filters of `KH x KW` over an `H x W x C` map,
/// strides `SH, SW`, dilations `DH, DW`, padding `P`, activation `A`; `HW =
/// H * W` and `OHW = oh * ow` (checked at compile time).
#[derive(Clone, Copy, Debug, Default)]
#[allow(clippy::type_complexity)]
pub struct QConv2d<
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
>(PhantomData<(P, A)>);

/// A [`QConv2d`] bound to its tensors inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct QConv2dView<
    'a,
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> {
    layer: Int8Layer<'a>,
    _m: PhantomData<(P, A)>,
}

impl<
    'a,
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> QConv2dView<'a, H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    /// The window geometry, evaluated (and `HW`, `OHW` checked) at compile time.
    pub const GEOMETRY: Window2d = window_general([H, W, C], [KH, KW], [SH, SW], [DH, DW], P::KIND, [HW, OHW]);

    /// The bound int8 layer.
    pub fn layer(&self) -> &Int8Layer<'a> {
        &self.layer
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> Layer for QConv2d<H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, F, OHW>;
    type Bound<'a> = QConv2dView<'a, H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + F * OHW + i8_floats(C * HW);

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let g = const { QConv2dView::<'static, H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>::GEOMETRY };
        let entry = cursor.next_layer()?;
        let (filters, activation) = match entry.spec {
            LayerSpec::Conv2d { filters, activation, .. } | LayerSpec::Conv2dStrided { filters, activation, .. } => {
                (filters, activation)
            }
            _ => return Err(Error::LayerKind),
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        if filters as usize != F || entry.spec.window() != Some(g) {
            return Err(Error::LayerShape);
        }
        let layer = bind_int8(&entry, Int8Shape::Conv(g), F, activation)?;
        Ok(QConv2dView { layer, _m: PhantomData })
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> Forward for QConv2dView<'_, H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, F, OHW>;

    /// Quantizes `x`, runs the int8 convolution, dequantizes (or applies the
    /// f32 activation).
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix) → `[oh, ow, F]` (an `F x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, F, OHW> {
        let mut xq = SMatrix::<i8, C, HW>::zeros();
        let mut y = SMatrix::<f32, F, OHW>::zeros();
        // The sizes were checked when binding, so this cannot fail.
        let _ = self.layer.run(x.as_slice(), xq.as_mut_slice(), y.as_mut_slice());
        y
    }
}
