//! Composing typed layers into a model and binding it to a blob.

use core::marker::PhantomData;

use crate::Error;
use crate::format::{Blob, LayerCursor};

/// A bound layer or model: an infallible, allocation-free forward pass.
pub trait Forward {
    /// One input sample.
    type Input;
    /// One output sample.
    type Output;
    /// Runs one sample.
    ///
    /// # Shapes
    /// Given by the implementing type's const generics.
    fn forward(&self, x: &Self::Input) -> Self::Output;
}

/// A layer type: sizes as const generics, bound to a blob's tensors by [`Layer::bind`].
pub trait Layer {
    /// One input sample.
    type Input;
    /// One output sample.
    type Output;
    /// The layer bound to its tensors in a blob.
    type Bound<'a>: Forward<Input = Self::Input, Output = Self::Output>;
    /// Number of blob layers this type consumes.
    const LAYERS: usize;
    /// Largest number of `f32` activations alive at once (input and output of
    /// the widest layer): the model's activation RAM is `4 *` this, known at
    /// compile time.
    const PEAK_ACTIVATION_FLOATS: usize;
    /// Takes this type's layers from the cursor and checks kinds and sizes.
    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error>;
}

/// Two layers applied one after the other. Nest for longer models:
/// `Chain<A, Chain<B, C>>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Chain<A, B>(PhantomData<(A, B)>);

/// A bound [`Chain`].
#[derive(Clone, Copy, Debug)]
pub struct ChainView<A, B> {
    /// The first layer.
    pub first: A,
    /// The second layer.
    pub second: B,
}

impl<A: Layer, B: Layer<Input = A::Output>> Layer for Chain<A, B> {
    type Input = A::Input;
    type Output = B::Output;
    type Bound<'a> = ChainView<A::Bound<'a>, B::Bound<'a>>;
    const LAYERS: usize = A::LAYERS + B::LAYERS;
    const PEAK_ACTIVATION_FLOATS: usize = if A::PEAK_ACTIVATION_FLOATS > B::PEAK_ACTIVATION_FLOATS {
        A::PEAK_ACTIVATION_FLOATS
    } else {
        B::PEAK_ACTIVATION_FLOATS
    };

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let first = A::bind(cursor)?;
        let second = B::bind(cursor)?;
        Ok(ChainView { first, second })
    }
}

impl<A: Forward, B: Forward<Input = A::Output>> Forward for ChainView<A, B> {
    type Input = A::Input;
    type Output = B::Output;

    /// # Shapes
    /// `A::Input` → `A::Output` = `B::Input` → `B::Output`.
    fn forward(&self, x: &A::Input) -> B::Output {
        self.second.forward(&self.first.forward(x))
    }
}

/// A whole model: any [`Layer`] type bound to all the layers of a blob.
pub trait Model: Layer {
    /// Activation RAM in bytes, known at compile time.
    const ACTIVATION_BYTES: usize = Self::PEAK_ACTIVATION_FLOATS * 4;

    /// Checks the blob (magic, version, CRC, every shape) and binds this type
    /// to its tensors in place; no copy, no allocation.
    fn load(bytes: &[u8]) -> Result<Self::Bound<'_>, Error> {
        let blob = Blob::parse(bytes)?;
        let mut cursor = blob.cursor();
        let bound = Self::bind(&mut cursor)?;
        cursor.finish()?;
        Ok(bound)
    }
}

impl<T: Layer> Model for T {}
