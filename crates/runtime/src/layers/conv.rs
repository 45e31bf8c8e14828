//! Image layers on HWC samples: [`Conv2d`], [`MaxPool2d`], [`Upsample2d`] and
//! [`BatchNorm`] (which also normalises vectors and sequences).
//!
//! A sample of `H x W` pixels of `C` channels is stored HWC (channels
//! innermost, row-major), which is the column-major `SMatrix<f32, C, HW>`
//! with `HW = H * W`: one column per pixel, pixels in row-major order. The
//! pixel counts `HW` and `OHW` are const generics of their own (stable Rust
//! cannot compute them from the others in a type); every layer checks them
//! against `H`, `W` and the window geometry at compile time, when it is bound.
//!
//! Each layer calls exactly the kernel that [`crate::dynamic`] calls, so the
//! typed and the dynamic forward passes give the same bits.
//!
//! ```
//! use ember_runtime::{Conv2d, Error, Model, Relu, Valid};
//! // A valid 3x3 kernel over 28x28 pixels leaves 26x26 = 676 of them.
//! type Conv = Conv2d<28, 28, 1, 16, 3, 3, Valid, Relu, 784, 676>;
//! assert_eq!(Conv::load(&[]).err(), Some(Error::TooShort));
//! ```
//!
//! A wrong pixel count stops compilation:
//!
//! ```compile_fail
//! use ember_runtime::{Conv2d, Model, Relu, Valid};
//! type Conv = Conv2d<28, 28, 1, 16, 3, 3, Valid, Relu, 784, 784>;
//! let _ = Conv::load(&[]);
//! ```

use core::marker::PhantomData;

use nalgebra::SMatrix;

use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::{LayerSpec, Padding, Window2d};
use crate::{Error, kernels};

/// A border handling ([`Padding`]) as a type parameter of a window layer.
pub trait Pad {
    /// The padding this type stands for (checked against the blob).
    const KIND: Padding;
}

/// Keras `"same"` padding: `out = ceil(n / stride)` (see [`Padding::Same`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Same;

/// Keras `"valid"` padding: only windows wholly inside the input (see [`Padding::Valid`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Valid;

impl Pad for Same {
    const KIND: Padding = Padding::Same;
}

impl Pad for Valid {
    const KIND: Padding = Padding::Valid;
}

/// The geometry of a window layer over `[h, w, c]`, for use in constants:
/// stops compilation when no window fits (a kernel larger than a
/// valid-padded input, or a zero size) or when the pixel counts `[hw, ohw]`
/// are not `h * w` and `oh * ow`.
const fn window(
    h: usize,
    w: usize,
    c: usize,
    k: [usize; 2],
    stride: usize,
    padding: Padding,
    px: [usize; 2],
) -> Window2d {
    let Some(g) = Window2d::new(h, w, c, k[0], k[1], stride, padding) else {
        panic!("no window fits: a kernel larger than a valid-padded input, or a zero size");
    };
    assert!(px[0] == h * w, "the input pixel count HW must be H * W");
    assert!(px[1] == g.oh * g.ow, "the output pixel count OHW must be oh * ow of the window geometry");
    g
}

/// Checks a view's parameter length (already guaranteed by `Blob::parse`).
fn sized(t: &[f32], len: usize) -> Result<&[f32], Error> {
    if t.len() == len { Ok(t) } else { Err(Error::TensorShape) }
}

// ---------------------------------------------------------------------------
// Conv2d
// ---------------------------------------------------------------------------

/// A 2-D convolution with stride 1 and activation `A` (ONNX `Conv` with
/// explicit zero pads, then the activation): an `H x W` map of `C` channels
/// becomes an `oh x ow` map of `F` channels under a `KH x KW` kernel with
/// padding `P` ([`Same`] or [`Valid`]).
///
/// `HW` must be `H * W` and `OHW` must be `oh * ow` (for [`Same`], `OHW = HW`;
/// for [`Valid`], `(H - KH + 1) * (W - KW + 1)`); both are checked at compile
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
        match entry.spec {
            LayerSpec::Conv2d { height, width, channels, filters, kernel_h, kernel_w, padding, activation } => {
                if activation != A::KIND {
                    return Err(Error::LayerKind);
                }
                let sizes = [height, width, channels, filters, kernel_h, kernel_w].map(|v| v as usize);
                if sizes != [H, W, C, F, KH, KW] || padding != P::KIND {
                    return Err(Error::LayerShape);
                }
            }
            _ => return Err(Error::LayerKind),
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

// ---------------------------------------------------------------------------
// MaxPool2d
// ---------------------------------------------------------------------------

/// Max pooling over `S x S` windows moved by `S` with padding `P` (ONNX
/// `MaxPool` with `strides = kernel_shape`; padded cells never win): an
/// `H x W` map of `C` channels becomes an `oh x ow` map of `C` channels
/// ([`Same`]: `oh = ceil(H / S)`; [`Valid`]: `oh = H / S`).
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
        match cursor.next_layer()?.spec {
            LayerSpec::MaxPool2d { height, width, channels, pool, padding } => {
                let sizes = [height, width, channels, pool].map(|v| v as usize);
                if sizes != [H, W, C, S] || padding != P::KIND {
                    return Err(Error::LayerShape);
                }
            }
            _ => return Err(Error::LayerKind),
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

// ---------------------------------------------------------------------------
// Upsample2d
// ---------------------------------------------------------------------------

/// Nearest-neighbour upsampling by `S` in both directions (Keras
/// `UpSampling2D`, ONNX `Resize` nearest): an `H x W` map of `C` channels
/// becomes an `S·H x S·W` map, output pixel `(y, x)` copying input pixel
/// `(y / S, x / S)`.
///
/// `HW = H * W` and `OHW = H * S * W * S` are checked at compile time, when
/// the layer is bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct Upsample2d<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize>;

/// A bound [`Upsample2d`] (it has no tensors).
#[derive(Clone, Copy, Debug)]
pub struct Upsample2dView<
    const H: usize,
    const W: usize,
    const C: usize,
    const S: usize,
    const HW: usize,
    const OHW: usize,
>;

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize>
    Upsample2dView<H, W, C, S, HW, OHW>
{
    /// Evaluated at compile time: stops compilation unless `HW = H * W` and
    /// `OHW = H * S * W * S` (and `S > 0`).
    pub const SIZES: () = {
        assert!(HW == H * W, "Upsample2d<H, W, C, S, HW, OHW> needs HW = H * W");
        assert!(OHW == H * S * W * S, "Upsample2d<H, W, C, S, HW, OHW> needs OHW = H * S * W * S");
        assert!(S > 0, "Upsample2d<H, W, C, S, HW, OHW> needs S > 0");
    };

    /// An upsampling layer (checks `HW` and `OHW` at compile time).
    pub fn new() -> Self {
        const { Self::SIZES };
        Upsample2dView
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize> Default
    for Upsample2dView<H, W, C, S, HW, OHW>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize> Layer
    for Upsample2d<H, W, C, S, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;
    type Bound<'a> = Upsample2dView<H, W, C, S, HW, OHW>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * HW + C * OHW;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        match cursor.next_layer()?.spec {
            LayerSpec::Upsample2d { height, width, channels, factor } => {
                if [height, width, channels, factor].map(|v| v as usize) != [H, W, C, S] {
                    return Err(Error::LayerShape);
                }
            }
            _ => return Err(Error::LayerKind),
        }
        Ok(Upsample2dView::new())
    }
}

impl<const H: usize, const W: usize, const C: usize, const S: usize, const HW: usize, const OHW: usize> Forward
    for Upsample2dView<H, W, C, S, HW, OHW>
{
    type Input = SMatrix<f32, C, HW>;
    type Output = SMatrix<f32, C, OHW>;

    /// `y[oy, ox, c] = x[oy / S, ox / S, c]`.
    ///
    /// # Shapes
    /// `x`: `[H, W, C]` HWC (a `C x HW` matrix) → `[H·S, W·S, C]` HWC (a `C x OHW` matrix).
    fn forward(&self, x: &SMatrix<f32, C, HW>) -> SMatrix<f32, C, OHW> {
        const { Self::SIZES };
        let mut y = SMatrix::<f32, C, OHW>::zeros();
        kernels::upsample2d(H, W, C, S, x.as_slice(), y.as_mut_slice());
        y
    }
}

// ---------------------------------------------------------------------------
// BatchNorm
// ---------------------------------------------------------------------------

/// Batch normalisation in inference form (ONNX `BatchNormalization`) over
/// `N` positions of `C` channels: `y = (x - mean) / sqrt(var + epsilon) ·
/// gamma + beta` per channel.
///
/// The channel is the innermost dimension of the value before it: an HWC map
/// `[H, W, C]` is `BatchNorm<C, { H * W }>`, a vector `[F]` is
/// `BatchNorm<F, 1>`, a sequence `[T, F]` is `BatchNorm<F, T>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BatchNorm<const C: usize, const N: usize>;

/// A [`BatchNorm`] bound to its parameters inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct BatchNormView<'a, const C: usize, const N: usize> {
    gamma: &'a [f32],
    beta: &'a [f32],
    mean: &'a [f32],
    var: &'a [f32],
    epsilon: f32,
}

impl<'a, const C: usize, const N: usize> BatchNormView<'a, C, N> {
    /// Binds a layer to its per-channel `gamma`, `beta`, `mean` and `var`
    /// (each `[C]`) and `epsilon`.
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(
        gamma: &'a [f32],
        beta: &'a [f32],
        mean: &'a [f32],
        var: &'a [f32],
        epsilon: f32,
    ) -> Result<Self, Error> {
        Ok(BatchNormView {
            gamma: sized(gamma, C)?,
            beta: sized(beta, C)?,
            mean: sized(mean, C)?,
            var: sized(var, C)?,
            epsilon,
        })
    }

    /// The scale, `[C]`.
    pub fn gamma(&self) -> &'a [f32] {
        self.gamma
    }

    /// The shift, `[C]`.
    pub fn beta(&self) -> &'a [f32] {
        self.beta
    }

    /// The moving mean, `[C]`.
    pub fn mean(&self) -> &'a [f32] {
        self.mean
    }

    /// The moving variance, `[C]`.
    pub fn var(&self) -> &'a [f32] {
        self.var
    }

    /// The variance offset.
    pub fn epsilon(&self) -> f32 {
        self.epsilon
    }
}

impl<const C: usize, const N: usize> Layer for BatchNorm<C, N> {
    type Input = SMatrix<f32, C, N>;
    type Output = SMatrix<f32, C, N>;
    type Bound<'a> = BatchNormView<'a, C, N>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = 2 * C * N;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let epsilon = match entry.spec {
            LayerSpec::BatchNorm { dims, epsilon_bits } => {
                let last = dims.as_slice().last().map(|&c| c as usize);
                if last != Some(C) || dims.elements() != C * N {
                    return Err(Error::LayerShape);
                }
                f32::from_bits(epsilon_bits)
            }
            _ => return Err(Error::LayerKind),
        };
        let p = |i| entry.param_f32(i);
        BatchNormView::new(p(0)?, p(1)?, p(2)?, p(3)?, epsilon)
    }
}

impl<const C: usize, const N: usize> Forward for BatchNormView<'_, C, N> {
    type Input = SMatrix<f32, C, N>;
    type Output = SMatrix<f32, C, N>;

    /// `y[n, k] = x[n, k] · s[k] + t[k]` with `s = gamma / sqrt(var + epsilon)`
    /// and `t = beta - mean · s`.
    ///
    /// # Shapes
    /// `x`: `[N, C]` (a `C x N` matrix, channels innermost) → the same.
    fn forward(&self, x: &SMatrix<f32, C, N>) -> SMatrix<f32, C, N> {
        let mut y = SMatrix::<f32, C, N>::zeros();
        kernels::batch_norm(self.gamma, self.beta, self.mean, self.var, self.epsilon, x.as_slice(), y.as_mut_slice());
        y
    }
}
