//! `Conv2dStrided<H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>`: a 2-D
//! convolution with strides and dilations over an HWC sample (see
//! [`super::window`] for the layout and the pixel counts `HW`, `OHW`), the
//! typed form of [`LayerSpec::Conv2dStrided`]. It calls exactly the kernel
//! that [`crate::dynamic`] calls.
//!
//! ```
//! use ember_runtime::{Conv2dStrided, Error, Relu, Same, TypedModel};
//! // A 3x3 kernel with stride 2 over 49x10 pixels leaves 25x5 of them.
//! type Conv = Conv2dStrided<49, 10, 1, 8, 3, 3, 2, 2, 1, 1, Same, Relu, 490, 125>;
//! assert_eq!(Conv::load(&[]).err(), Some(Error::TooShort));
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

/// A 2-D convolution (ONNX `Conv` with explicit zero pads, `strides = [SH,
/// SW]`, `dilations = [DH, DW]`, then the activation `A`): an `H x W` map of
/// `C` channels becomes an `oh x ow` map of `F` channels under a `KH x KW`
/// kernel with padding `P`. `HW = H * W` and `OHW = oh * ow` are checked at
/// compile time, when the layer is bound. Softmax is not allowed in a blob.
#[derive(Clone, Copy, Debug, Default)]
pub struct Conv2dStrided<
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

/// A [`Conv2dStrided`] bound to its weights inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct Conv2dStridedView<
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
    weight: &'a [f32],
    bias: &'a [f32],
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
> Conv2dStridedView<'a, H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    /// The window geometry, evaluated (and `HW`, `OHW` checked) at compile time.
    pub const GEOMETRY: Window2d = window_general([H, W, C], [KH, KW], [SH, SW], [DH, DW], P::KIND, [HW, OHW]);

    /// Binds a layer to weight (`[F, KH, KW, C]`, OHWI) and bias (`[F]`) slices.
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(weight: &'a [f32], bias: &'a [f32]) -> Result<Self, Error> {
        const { Self::GEOMETRY };
        Ok(Conv2dStridedView { weight: sized(weight, F * KH * KW * C)?, bias: sized(bias, F)?, _m: PhantomData })
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
> Layer for Conv2dStrided<H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, F, OHW>;
    type Bound<'a> = Conv2dStridedView<'a, H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + F * OHW;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::Conv2dStrided {
            height,
            width,
            channels,
            filters,
            kernel,
            stride,
            dilation,
            padding,
            activation,
        } = entry.spec
        else {
            return Err(Error::LayerKind);
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        let [kh, kw] = kernel;
        let [sh, sw] = stride;
        let [dh, dw] = dilation;
        let sizes = [height, width, channels, filters, kh, kw, sh, sw, dh, dw].map(|v| v as usize);
        if sizes != [H, W, C, F, KH, KW, SH, SW, DH, DW] || padding != P::KIND {
            return Err(Error::LayerShape);
        }
        Conv2dStridedView::new(entry.param_f32(0)?, entry.param_f32(1)?)
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
> Forward for Conv2dStridedView<'_, H, W, C, F, KH, KW, SH, SW, DH, DW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, F, OHW>;

    /// `y[oy, ox, f] = A(bias[f] + Σ weight[f, ky, kx, c] · x[oy·SH + ky·DH - pad_top, ox·SW + kx·DW - pad_left, c])`,
    /// padded cells being zeros.
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix) → `[oh, ow, F]` HWC (an `F x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, F, OHW> {
        let mut y = SMatrix::<f32, F, OHW>::zeros();
        kernels::conv2d(&Self::GEOMETRY, self.weight, self.bias, x.as_slice(), y.as_mut_slice());
        A::apply(y.as_mut_slice());
        y
    }
}
