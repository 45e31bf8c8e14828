//! `Dense<IN, OUT, A>`: a fully connected layer over weights viewed in place.

use core::marker::PhantomData;

use nalgebra::SVector;

use crate::activation::Act;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;
use crate::{Error, kernels};

/// A fully connected layer with `IN` inputs, `OUT` units and activation `A`:
/// `y = A(x · Wᵀ + b)` (ONNX `Gemm` with `transB = 1`, then the activation).
#[derive(Clone, Copy, Debug, Default)]
pub struct Dense<const IN: usize, const OUT: usize, A: Act>(PhantomData<A>);

/// A [`Dense`] layer bound to its weights inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct DenseView<'a, const IN: usize, const OUT: usize, A: Act> {
    weight: &'a [f32],
    bias: &'a [f32],
    _act: PhantomData<A>,
}

impl<'a, const IN: usize, const OUT: usize, A: Act> DenseView<'a, IN, OUT, A> {
    /// Binds a layer to weight (`[OUT, IN]`, row-major) and bias (`[OUT]`) slices.
    pub fn new(weight: &'a [f32], bias: &'a [f32]) -> Result<Self, Error> {
        if weight.len() != IN * OUT || bias.len() != OUT {
            return Err(Error::TensorShape);
        }
        Ok(DenseView { weight, bias, _act: PhantomData })
    }

    /// The weight matrix, row-major `[OUT, IN]`.
    pub fn weight(&self) -> &'a [f32] {
        self.weight
    }

    /// The bias vector.
    pub fn bias(&self) -> &'a [f32] {
        self.bias
    }
}

impl<const IN: usize, const OUT: usize, A: Act> Layer for Dense<IN, OUT, A> {
    type Input = SVector<f32, IN>;
    type Output = SVector<f32, OUT>;
    type Bound<'a> = DenseView<'a, IN, OUT, A>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = IN + OUT;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::Dense { inputs, units, activation } = entry.spec else {
            return Err(Error::LayerKind);
        };
        if activation != A::KIND {
            return Err(Error::LayerKind);
        }
        if inputs as usize != IN || units as usize != OUT {
            return Err(Error::LayerShape);
        }
        DenseView::new(entry.param_f32(0)?, entry.param_f32(1)?)
    }
}

impl<const IN: usize, const OUT: usize, A: Act> Forward for DenseView<'_, IN, OUT, A> {
    type Input = SVector<f32, IN>;
    type Output = SVector<f32, OUT>;

    /// # Shapes
    /// `x`: `[IN]` → `[OUT]`.
    fn forward(&self, x: &SVector<f32, IN>) -> SVector<f32, OUT> {
        let mut y = SVector::<f32, OUT>::zeros();
        kernels::dense(self.weight, self.bias, x.as_slice(), y.as_mut_slice());
        A::apply(y.as_mut_slice());
        y
    }
}
