//! `Conv2d<H, W, C, F, KH, KW, P, A, HW, OHW>`: a 2-D convolution over an HWC
//! sample (see [`super::window`] for the layout and the pixel counts `HW`,
//! `OHW`). It calls exactly the kernel that [`crate::dynamic`] calls, so the
//! typed and the dynamic forward passes give the same bits.
//!
//! ```
//! use ember_runtime::{Conv2d, Error, Relu, TypedModel, Valid};
//! // A valid 3x3 kernel over 28x28 pixels leaves 26x26 = 676 of them.
//! type Conv = Conv2d<28, 28, 1, 16, 3, 3, Valid, Relu, 784, 676>;
//! assert_eq!(Conv::load(&[]).err(), Some(Error::TooShort));
//! ```
//!
//! A wrong pixel count stops compilation:
//!
//! ```compile_fail
//! use ember_runtime::{Conv2d, Relu, TypedModel, Valid};
//! type Conv = Conv2d<28, 28, 1, 16, 3, 3, Valid, Relu, 784, 784>;
//! let _ = Conv::load(&[]);
//! ```

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::sized;
use super::window::{Pad, window};
use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::{LayerSpec, Window2d};
use crate::{Error, kernels};

/// A 2-D convolution with stride 1 and activation `A` (ONNX `Conv` with
/// explicit zero pads, then the activation): an `H x W` map of `C` channels
/// becomes an `oh x ow` map of `F` channels under a `KH x KW` kernel with
/// padding `P` ([`Same`](super::Same) or [`Valid`](super::Valid)).
///
/// `HW` must be `H * W` and `OHW` must be `oh * ow` (for [`Same`](super::Same), `OHW = HW`;
/// for [`Valid`](super::Valid), `(H - KH + 1) * (W - KW + 1)`); both are checked at compile
/// time, when the layer is bound. Softmax is not allowed in a blob.
#[derive(Clone, Copy, Debug, Default)]
pub struct Conv2d<
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
>(PhantomData<(P, A)>);

/// A [`Conv2d`] bound to its weights inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct Conv2dView<
    'a,
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
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
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> Conv2dView<'a, H, W, C, F, KH, KW, P, A, HW, OHW>
{
    /// The window geometry, evaluated (and `HW`, `OHW` checked) at compile time.
    pub const GEOMETRY: Window2d = window(H, W, C, [KH, KW], 1, P::KIND, [HW, OHW]);

    /// Binds a layer to weight (`[F, KH, KW, C]`, OHWI) and bias (`[F]`) slices.
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(weight: &'a [f32], bias: &'a [f32]) -> Result<Self, Error> {
        const { Self::GEOMETRY };
        Ok(Conv2dView { weight: sized(weight, F * KH * KW * C)?, bias: sized(bias, F)?, _m: PhantomData })
    }

    /// The kernel, `[F, KH, KW, C]` row-major (OHWI).
    pub fn weight(&self) -> &'a [f32] {
        self.weight
    }

    /// The bias, `[F]`.
    pub fn bias(&self) -> &'a [f32] {
        self.bias
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> Layer for Conv2d<H, W, C, F, KH, KW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, F, OHW>;
    type Bound<'a> = Conv2dView<'a, H, W, C, F, KH, KW, P, A, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + F * OHW;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::Conv2d { height, width, channels, filters, kernel_h, kernel_w, padding, activation } =
            entry.spec
        else {
            return Err(Error::LayerKind);
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        let sizes = [height, width, channels, filters, kernel_h, kernel_w].map(|v| v as usize);
        if sizes != [H, W, C, F, KH, KW] || padding != P::KIND {
            return Err(Error::LayerShape);
        }
        Conv2dView::new(entry.param_f32(0)?, entry.param_f32(1)?)
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    P: Pad,
    A: Act,
    const HW: usize,
    const OHW: usize,
> Forward for Conv2dView<'_, H, W, C, F, KH, KW, P, A, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, F, OHW>;

    /// `y[oy, ox, f] = A(bias[f] + Σ weight[f, ky, kx, c] · x[oy + ky - pad_top, ox + kx - pad_left, c])`,
    /// padded cells being zeros.
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix, one column per pixel) →
    /// `[oh, ow, F]` HWC (an `F x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, F, OHW> {
        let mut y = SMatrix::<f32, F, OHW>::zeros();
        kernels::conv2d(&Self::GEOMETRY, self.weight, self.bias, x.as_slice(), y.as_mut_slice());
        A::apply(y.as_mut_slice());
        y
    }
}
