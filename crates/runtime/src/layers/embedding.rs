//! `Embedding<V, E, T>`: a table of `V` vectors of length `E`, looked up for
//! `T` token ids (ONNX `Gather` on axis 0). The table stays in place (flash).

use nalgebra::{SMatrix, SVector};

use crate::Error;
use crate::format::LayerCursor;
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;
use crate::text::TokenIds;

/// An embedding table of `V` rows of `E` values, read for `T` ids per sample.
#[derive(Clone, Copy, Debug, Default)]
pub struct Embedding<const V: usize, const E: usize, const T: usize>;

/// An [`Embedding`] bound to its table inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddingView<'a, const V: usize, const E: usize, const T: usize> {
    table: &'a [f32],
}

impl<'a, const V: usize, const E: usize, const T: usize> EmbeddingView<'a, V, E, T> {
    /// Binds a table (`[V, E]`, row-major).
    pub fn new(table: &'a [f32]) -> Result<Self, Error> {
        if table.len() != V * E {
            return Err(Error::TensorShape);
        }
        Ok(EmbeddingView { table })
    }

    /// The vector of one id, in place: the streaming entry point.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] if `id >= V`.
    pub fn vector(&self, id: u32) -> Result<SVector<f32, E>, Error> {
        self.row(id).map(SVector::from_column_slice).ok_or(Error::TokenOutOfRange)
    }

    /// Row `id` of the table, `None` if `id >= V`.
    pub fn row(&self, id: u32) -> Option<&'a [f32]> {
        let i = id as usize;
        if i >= V {
            return None;
        }
        self.table.get(i * E..(i + 1) * E)
    }

    /// The whole table, `[V, E]` row-major.
    pub fn table(&self) -> &'a [f32] {
        self.table
    }
}

impl<const V: usize, const E: usize, const T: usize> Layer for Embedding<V, E, T> {
    type Input = TokenIds<V, T>;
    type Output = SMatrix<f32, E, T>;
    type Bound<'a> = EmbeddingView<'a, V, E, T>;
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
        EmbeddingView::new(entry.param_f32(0)?)
    }
}

impl<const V: usize, const E: usize, const T: usize> Forward for EmbeddingView<'_, V, E, T> {
    type Input = TokenIds<V, T>;
    type Output = SMatrix<f32, E, T>;

    /// # Shapes
    /// `ids`: `[T]` (each `< V`, checked by [`TokenIds`]) → `[T, E]` time-major
    /// (column `t` of the `E x T` matrix is the vector of `ids[t]`).
    fn forward(&self, ids: &TokenIds<V, T>) -> SMatrix<f32, E, T> {
        let mut out = SMatrix::<f32, E, T>::zeros();
        for (col, &id) in out.as_mut_slice().chunks_exact_mut(E).zip(ids.ids()) {
            if let Some(row) = self.row(id) {
                col.copy_from_slice(row);
            }
        }
        out
    }
}
