//! `QDense<I, O, A>`: an int8 fully connected layer (see
//! [`crate::quant::int8`]): f32 in and out, int8 weights and arithmetic,
//! weights borrowed from the blob. It runs the same code as the interpreter.

use core::marker::PhantomData;

use nalgebra::SVector;

use super::int8::{bind_int8, i8_floats};
use crate::Error;
use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::quant::{Int8Layer, Int8Shape};
use crate::spec::LayerSpec;

/// An int8 [`Dense`](super::Dense) layer with `I` inputs, `O` units and activation `A`.
#[derive(Clone, Copy, Debug, Default)]
pub struct QDense<const I: usize, const O: usize, A: Act>(PhantomData<A>);

/// A [`QDense`] bound to its tensors inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct QDenseView<'a, const I: usize, const O: usize, A: Act> {
    layer: Int8Layer<'a>,
    _act: PhantomData<A>,
}

impl<'a, const I: usize, const O: usize, A: Act> QDenseView<'a, I, O, A> {
    /// The bound int8 layer.
    pub fn layer(&self) -> &Int8Layer<'a> {
        &self.layer
    }
}

impl<const I: usize, const O: usize, A: Act> Layer for QDense<I, O, A> {
    type Input = SVector<f32, I>;
    type Output = SVector<f32, O>;
    type Bound<'a> = QDenseView<'a, I, O, A>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = I + O + i8_floats(I);

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
        let layer = bind_int8(&entry, Int8Shape::Dense { inputs: I }, O, activation)?;
        Ok(QDenseView { layer, _act: PhantomData })
    }
}

impl<const I: usize, const O: usize, A: Act> Forward for QDenseView<'_, I, O, A> {
    type Input = SVector<f32, I>;
    type Output = SVector<f32, O>;

    /// Quantizes `x`, runs the int8 kernel, dequantizes (or applies the f32
    /// activation).
    ///
    /// # Shapes
    /// `x`: `[I]` → `[O]`.
    fn forward(&self, x: &SVector<f32, I>) -> SVector<f32, O> {
        let mut xq = SVector::<i8, I>::zeros();
        let mut y = SVector::<f32, O>::zeros();
        // The sizes were checked when binding, so this cannot fail.
        let _ = self.layer.run(x.as_slice(), xq.as_mut_slice(), y.as_mut_slice());
        y
    }
}
