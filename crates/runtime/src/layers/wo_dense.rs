//! `WoDense<I, O, A>`: a weights-only fully connected layer (int8 weights with
//! one scale per row, f32 activations and bias; see
//! [`crate::quant::weights_only`]), weights borrowed from the blob.

use core::marker::PhantomData;

use nalgebra::SVector;

use super::int8::expect_mode;
use crate::Error;
use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::qspec::QuantMode;
use crate::quant::weights_only;
use crate::spec::LayerSpec;

/// A weights-only [`Dense`](super::Dense) layer with `I` inputs, `O` units and activation `A`.
#[derive(Clone, Copy, Debug, Default)]
pub struct WoDense<const I: usize, const O: usize, A: Act>(PhantomData<A>);

/// A [`WoDense`] bound to its tensors inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct WoDenseView<'a, const I: usize, const O: usize, A: Act> {
    weight: &'a [i8],
    scale: &'a [f32],
    bias: &'a [f32],
    _act: PhantomData<A>,
}

impl<'a, const I: usize, const O: usize, A: Act> WoDenseView<'a, I, O, A> {
    /// Binds weights (`[O, I]` int8), their row scales (`[O]`) and the bias (`[O]`).
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(weight: &'a [i8], scale: &'a [f32], bias: &'a [f32]) -> Result<Self, Error> {
        if weight.len() != I * O || scale.len() != O || bias.len() != O {
            return Err(Error::TensorShape);
        }
        Ok(WoDenseView { weight, scale, bias, _act: PhantomData })
    }
}

impl<const I: usize, const O: usize, A: Act> Layer for WoDense<I, O, A> {
    type Input = SVector<f32, I>;
    type Output = SVector<f32, O>;
    type Bound<'a> = WoDenseView<'a, I, O, A>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = I + O;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::Dense { inputs, units, activation } = entry.spec else {
            return Err(Error::LayerKind);
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        if (inputs as usize, units as usize) != (I, O) {
            return Err(Error::LayerShape);
        }
        expect_mode(&entry, QuantMode::WeightsOnly)?;
        WoDenseView::new(entry.param_i8(0)?, entry.param_f32(1)?, entry.param_f32(2)?)
    }
}

impl<const I: usize, const O: usize, A: Act> Forward for WoDenseView<'_, I, O, A> {
    type Input = SVector<f32, I>;
    type Output = SVector<f32, O>;

    /// `y = A(s_w · (W_q · x) + b)` per row.
    ///
    /// # Shapes
    /// `x`: `[I]` → `[O]`.
    fn forward(&self, x: &SVector<f32, I>) -> SVector<f32, O> {
        let mut y = SVector::<f32, O>::zeros();
        weights_only::dense(self.weight, self.scale, self.bias, x.as_slice(), y.as_mut_slice());
        A::apply(y.as_mut_slice());
        y
    }
}
