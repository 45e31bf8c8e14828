//! `Conv1d<L, C, F, K, S, D, P, A, OL>`: a 1-D convolution over a
//! time-major sample `[L, C]` (channels last), computed by the 2-D kernel on
//! a map of height 1, the kernel that [`crate::dynamic`] calls.
//!
//! ```
//! use ember_runtime::{Conv1d, Error, Relu, Same, TypedModel};
//! // 3 channels over 50 steps, 8 filters of 5 cells, stride 2: 25 steps out.
//! type Conv = Conv1d<50, 3, 8, 5, 2, 1, Same, Relu, 25>;
//! assert_eq!(Conv::load(&[]).err(), Some(Error::TooShort));
//! ```
//!
//! A wrong output length stops compilation:
//!
//! ```compile_fail
//! use ember_runtime::{Conv1d, Relu, Same, TypedModel};
//! type Conv = Conv1d<50, 3, 8, 5, 2, 1, Same, Relu, 50>;
//! let _ = Conv::load(&[]);
//! ```

use core::marker::PhantomData;

use nalgebra::SMatrix;

use super::sized;
use super::window::{Pad, window1d};
use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::{LayerSpec, Window2d};
use crate::{Error, kernels};

/// A 1-D convolution with activation `A` (ONNX `Conv` on `[N, C, L]` with
/// explicit zero pads, then the activation): `L` steps of `C` channels
/// become `OL` steps of `F` channels under a `K`-cell kernel whose cells are
/// `D` steps apart, moved by `S` steps, padding `P`.
///
/// `OL` must be the output length of the window geometry
/// ([`Same`](super::Same): `ceil(L / S)`; [`Valid`](super::Valid):
/// `(L - (K - 1) * D - 1) / S + 1`); it is checked at compile time, when the
/// layer is bound. Softmax is not allowed in a blob.
#[derive(Clone, Copy, Debug, Default)]
pub struct Conv1d<
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

/// A [`Conv1d`] bound to its weights inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct Conv1dView<
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
    weight: &'a [f32],
    bias: &'a [f32],
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
> Conv1dView<'a, L, C, F, K, S, D, P, A, OL>
{
    /// The window geometry (a map of height 1), evaluated (and `OL` checked) at compile time.
    pub const GEOMETRY: Window2d = window1d(L, C, K, S, D, P::KIND, OL);

    /// Binds a layer to weight (`[F, K, C]`) and bias (`[F]`) slices.
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(weight: &'a [f32], bias: &'a [f32]) -> Result<Self, Error> {
        const { Self::GEOMETRY };
        Ok(Conv1dView { weight: sized(weight, F * K * C)?, bias: sized(bias, F)?, _m: PhantomData })
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
> Layer for Conv1d<L, C, F, K, S, D, P, A, OL>
{
    type Input = SMatrix<f32, C, L>;
    type Output = SMatrix<f32, F, OL>;
    type Bound<'a> = Conv1dView<'a, L, C, F, K, S, D, P, A, OL>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = C * L + F * OL;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::Conv1d { length, channels, filters, kernel, stride, dilation, padding, activation } = entry.spec
        else {
            return Err(Error::LayerKind);
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        let sizes = [length, channels, filters, kernel, stride, dilation].map(|v| v as usize);
        if sizes != [L, C, F, K, S, D] || padding != P::KIND {
            return Err(Error::LayerShape);
        }
        Conv1dView::new(entry.param_f32(0)?, entry.param_f32(1)?)
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
> Forward for Conv1dView<'_, L, C, F, K, S, D, P, A, OL>
{
    type Input = SMatrix<f32, C, L>;
    type Output = SMatrix<f32, F, OL>;

    /// `y[t, f] = A(bias[f] + Σ_{k, c} weight[f, k, c] · x[t·S + k·D - pad, c])`,
    /// padded steps being zeros.
    ///
    /// # Shapes
    /// `x`: `[L, C]` time-major (a `C x L` matrix, one column per step) →
    /// `[OL, F]` (an `F x OL` matrix).
    fn forward(&self, x: &SMatrix<f32, C, L>) -> SMatrix<f32, F, OL> {
        let mut y = SMatrix::<f32, F, OL>::zeros();
        kernels::conv2d(&Self::GEOMETRY, self.weight, self.bias, x.as_slice(), y.as_mut_slice());
        A::apply(y.as_mut_slice());
        y
    }
}
