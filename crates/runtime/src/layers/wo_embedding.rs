//! `WoEmbedding<V, E, T>`: a weights-only embedding table (int8 rows with one
//! scale per row; see [`crate::quant::weights_only`]), borrowed from the blob.

use nalgebra::SMatrix;

use super::int8::expect_mode;
use crate::Error;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::qspec::QuantMode;
use crate::quant::weights_only;
use crate::spec::LayerSpec;
use crate::text::TokenIds;

/// A weights-only [`Embedding`](super::Embedding): `V` int8 rows of `E`
/// values, read for `T` ids per sample.
#[derive(Clone, Copy, Debug, Default)]
pub struct WoEmbedding<const V: usize, const E: usize, const T: usize>;

/// A [`WoEmbedding`] bound to its table inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct WoEmbeddingView<'a, const V: usize, const E: usize, const T: usize> {
    table: &'a [i8],
    scale: &'a [f32],
}

impl<'a, const V: usize, const E: usize, const T: usize> WoEmbeddingView<'a, V, E, T> {
    /// Binds a table (`[V, E]` int8) and its row scales (`[V]`).
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(table: &'a [i8], scale: &'a [f32]) -> Result<Self, Error> {
        if table.len() != V * E || scale.len() != V {
            return Err(Error::TensorShape);
        }
        Ok(WoEmbeddingView { table, scale })
    }

    /// Writes the vector of `id` (`scale[id] · row`) into `out`.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] if `id >= V`.
    ///
    /// # Shapes
    /// `out`: `[E]`.
    pub fn vector_into(&self, id: u32, out: &mut [f32]) -> Result<(), Error> {
        let i = id as usize;
        let (Some(row), Some(&s)) = (self.table.get(i * E..(i + 1) * E), self.scale.get(i)) else {
            return Err(Error::TokenOutOfRange);
        };
        weights_only::embedding_row(row, s, out);
        Ok(())
    }
}

impl<const V: usize, const E: usize, const T: usize> Layer for WoEmbedding<V, E, T> {
    type Input = TokenIds<V, T>;
    type Output = SMatrix<f32, E, T>;
    type Bound<'a> = WoEmbeddingView<'a, V, E, T>;
    const LAYERS: usize = 1;
    const PEAK_ACTIVATION_FLOATS: usize = T + E * T;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::Embedding { vocab, dim, seq_len } = entry.spec else {
            return Err(Error::LayerKind);
        };
        if (vocab as usize, dim as usize, seq_len as usize) != (V, E, T) {
            return Err(Error::LayerShape);
        }
        expect_mode(&entry, QuantMode::WeightsOnly)?;
        WoEmbeddingView::new(entry.param_i8(0)?, entry.param_f32(1)?)
    }
}

impl<const V: usize, const E: usize, const T: usize> Forward for WoEmbeddingView<'_, V, E, T> {
    type Input = TokenIds<V, T>;
    type Output = SMatrix<f32, E, T>;

    /// # Shapes
    /// `ids`: `[T]` (each `< V`) → `[T, E]` time-major (an `E x T` matrix).
    fn forward(&self, ids: &TokenIds<V, T>) -> SMatrix<f32, E, T> {
        let mut out = SMatrix::<f32, E, T>::zeros();
        for (col, &id) in out.as_mut_slice().chunks_exact_mut(E).zip(ids.ids()) {
            // ids below V are guaranteed by TokenIds.
            let _ = self.vector_into(id, col);
        }
        out
    }
}
