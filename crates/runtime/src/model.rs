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

/// A whole typed model: any [`Layer`] type bound to all the layers of a blob.
///
/// Implemented for every [`Layer`] (a single layer or a [`Chain`]); the
/// exporter names such a type after its model (`pub type MnistEncoder =
/// Chain<...>;`), and a board runs it as `BoardModel`.
pub trait TypedModel: Layer {
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

impl<T: Layer> TypedModel for T {}

/// A model input or output sample viewed as a flat list of `f32` values
/// (token ids as exact integers): how firmware and host tools feed a typed
/// model without knowing its shapes.
pub trait Sample: Sized {
    /// Number of values.
    const LEN: usize;
    /// Builds a sample from exactly [`Sample::LEN`] values.
    ///
    /// # Errors
    /// [`Error::InputShape`] for a wrong count; for token ids,
    /// [`Error::TokenOutOfRange`] for a value that is not an id below the vocabulary.
    fn from_values(values: impl IntoIterator<Item = f32>) -> Result<Self, Error>;
    /// The values, in memory order.
    fn for_each_value(&self, f: impl FnMut(f32));
}

impl<const R: usize, const C: usize> Sample for nalgebra::SMatrix<f32, R, C> {
    const LEN: usize = R * C;
    fn from_values(values: impl IntoIterator<Item = f32>) -> Result<Self, Error> {
        let mut out = Self::zeros();
        let mut n = 0;
        for v in values {
            *out.as_mut_slice().get_mut(n).ok_or(Error::InputShape)? = v;
            n += 1;
        }
        if n == Self::LEN { Ok(out) } else { Err(Error::InputShape) }
    }
    fn for_each_value(&self, f: impl FnMut(f32)) {
        self.iter().copied().for_each(f)
    }
}

impl<const V: usize, const T: usize> Sample for crate::text::TokenIds<V, T> {
    const LEN: usize = T;
    fn from_values(values: impl IntoIterator<Item = f32>) -> Result<Self, Error> {
        let mut ids = [0u32; T];
        let mut n = 0;
        for v in values {
            if !(v >= 0.0 && v < V as f32 && libm::truncf(v) == v) {
                return Err(Error::TokenOutOfRange);
            }
            *ids.get_mut(n).ok_or(Error::InputShape)? = v as u32;
            n += 1;
        }
        if n == T { Self::new(ids) } else { Err(Error::InputShape) }
    }
    fn for_each_value(&self, f: impl FnMut(f32)) {
        self.ids().iter().map(|&i| i as f32).for_each(f)
    }
}
