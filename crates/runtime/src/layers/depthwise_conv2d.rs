//! `DepthwiseConv2d<H, W, C, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>`: a
//! depthwise 2-D convolution (depth multiplier 1) over an HWC sample (see
//! [`super::window`] for the layout and the pixel counts `HW`, `OHW`), with
//! the kernel that [`crate::dynamic`] calls.
//!
//! ```
//! use ember_runtime::{DepthwiseConv2d, Error, Relu, Same, TypedModel};
//! type Dw = DepthwiseConv2d<25, 5, 8, 3, 3, 1, 1, 1, 1, Same, Relu, 125, 125>;
//! assert_eq!(Dw::load(&[]).err(), Some(Error::TooShort));
//! ```

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::sized;
use super::window::{Pad, window_general};
use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::{LayerSpec, Window2d};
use crate::{Error, kernels};

/// A depthwise convolution (ONNX `Conv` with `group = C`, explicit zero
/// pads, `strides = [SH, SW]`, `dilations = [DH, DW]`, then the activation
/// `A`): each of the `C` channels of an `H x W` map is convolved with its own
/// `KH x KW` kernel, giving an `oh x ow` map of `C` channels. `HW = H * W`
/// and `OHW = oh * ow` are checked at compile time, when the layer is bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct DepthwiseConv2d<
    const H: usize,
    const W: usize,
    const C: usize,
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

/// A [`DepthwiseConv2d`] bound to its weights inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct DepthwiseConv2dView<
    'a,
    const H: usize,
    const W: usize,
    const C: usize,
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
    weight: &'a [f32],
    bias: &'a [f32],
    _m: PhantomData<(P, A)>,
}

impl<
    'a,
    const H: usize,
    const W: usize,
    const C: usize,
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
> DepthwiseConv2dView<'a, H, W, C, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    /// The window geometry, evaluated (and `HW`, `OHW` checked) at compile time.
    pub const GEOMETRY: Window2d = window_general([H, W, C], [KH, KW], [SH, SW], [DH, DW], P::KIND, [HW, OHW]);

    /// Binds a layer to weight (`[KH, KW, C]`) and bias (`[C]`) slices.
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(weight: &'a [f32], bias: &'a [f32]) -> Result<Self, Error> {
        const { Self::GEOMETRY };
        Ok(DepthwiseConv2dView { weight: sized(weight, KH * KW * C)?, bias: sized(bias, C)?, _m: PhantomData })
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
    const DH: usize,
    const DW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> Layer for DepthwiseConv2d<H, W, C, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;
    type Bound<'a> = DepthwiseConv2dView<'a, H, W, C, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + C * OHW;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::DepthwiseConv2d { height, width, channels, kernel, stride, dilation, padding, activation } =
            entry.spec
        else {
            return Err(Error::LayerKind);
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        let [kh, kw] = kernel;
        let [sh, sw] = stride;
        let [dh, dw] = dilation;
        let sizes = [height, width, channels, kh, kw, sh, sw, dh, dw].map(|v| v as usize);
        if sizes != [H, W, C, KH, KW, SH, SW, DH, DW] || padding != P::KIND {
            return Err(Error::LayerShape);
        }
        DepthwiseConv2dView::new(entry.param_f32(0)?, entry.param_f32(1)?)
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
    const DH: usize,
    const DW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> Forward for DepthwiseConv2dView<'_, H, W, C, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;

    /// `y[oy, ox, c] = A(bias[c] + Σ weight[ky, kx, c] · x[oy·SH + ky·DH - pad_top, ox·SW + kx·DW - pad_left, c])`,
    /// padded cells being zeros.
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix) → `[oh, ow, C]` HWC (a `C x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, C, OHW> {
        let mut y = SMatrix::<f32, C, OHW>::zeros();
        kernels::depthwise_conv2d(&Self::GEOMETRY, self.weight, self.bias, x.as_slice(), y.as_mut_slice());
        A::apply(y.as_mut_slice());
        y
    }
}
