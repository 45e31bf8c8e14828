//! Embedding (ONNX `Gather` on axis 0): token ids → rows of a table, with a
//! sparse backward pass.

use ember_runtime::spec::LayerSpec;
use rand::{Rng, RngExt};

use super::{ParamMut, TrainLayer};
use crate::error::NnError;

/// A trainable embedding table `weight` `[vocab, dim]` (row `i` is the
/// vector of id `i`).
///
/// The gradient is sparse: only the rows of ids in the last batch are
/// non-zero. Backward zeroes just the rows the previous batch touched (or
/// the whole table when that is cheaper), so the rest of the gradient must
/// not be written through [`TrainLayer::params_mut`].
pub struct EmbeddingLayer {
    vocab: usize,
    dim: usize,
    seq_len: usize,
    weight: Vec<f32>,
    grad: Vec<f32>,
    /// Ids of the last training batch, `[batch, seq_len]`.
    ids: Vec<u32>,
    /// Rows of `grad` that may be non-zero (the ids of the last backward pass).
    touched: TouchedRows,
    pending: bool,
    y: Vec<f32>,
}

impl EmbeddingLayer {
    /// Keras's default initialiser: uniform in `[-0.05, 0.05)`.
    pub fn new(vocab: usize, dim: usize, seq_len: usize, rng: &mut impl Rng) -> Self {
        Self::from_params(vocab, dim, seq_len, keras_uniform(vocab * dim, rng))
    }

    /// A layer with the given table (`[vocab, dim]`).
    pub fn from_params(vocab: usize, dim: usize, seq_len: usize, weight: Vec<f32>) -> Self {
        assert!(vocab > 0 && dim > 0 && seq_len > 0, "embedding sizes must be non-zero");
        assert!(vocab <= u32::MAX as usize, "embedding vocabulary too large");
        assert_eq!(weight.len(), vocab * dim, "embedding weight must be [vocab, dim]");
        EmbeddingLayer {
            vocab,
            dim,
            seq_len,
            grad: vec![0.0; weight.len()],
            weight,
            ids: Vec::new(),
            touched: TouchedRows::new(vocab),
            pending: false,
            y: Vec::new(),
        }
    }
}

/// Whether `v` is an id in `0..n`: a whole number, not NaN.
pub(super) fn is_id(v: f32, n: usize) -> bool {
    v >= 0.0 && v < n as f32 && v.fract() == 0.0 && (v as usize) < n
}

/// Checks that `x` (`[samples, seq_len]`) holds token ids in `0..vocab`;
/// the error names the first bad value's sample and position.
pub fn check_token_ids(x: &[f32], seq_len: usize, vocab: usize) -> Result<(), NnError> {
    match x.iter().position(|&v| !is_id(v, vocab)) {
        Some(k) => Err(token_error(x[k], k, seq_len, vocab)),
        None => Ok(()),
    }
}

/// The error for value `value` at flat index `k` of `[samples, seq_len]` ids.
fn token_error(value: f32, k: usize, seq_len: usize, vocab: usize) -> NnError {
    NnError::TokenId { value, sample: k / seq_len.max(1), position: k % seq_len.max(1), vocab }
}

/// `len` values uniform in `[-0.05, 0.05)`, Keras's default embedding
/// initialiser (also drawn by [`super::EntityDotLayer::new`]).
pub(super) fn keras_uniform(len: usize, rng: &mut impl Rng) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-0.05f32..0.05)).collect()
}

impl TrainLayer for EmbeddingLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Embedding { vocab: self.vocab as u32, dim: self.dim as u32, seq_len: self.seq_len as u32 }
    }

    /// Looks up every id.
    ///
    /// Panics on an id that is not an integer in `0..vocab` (the fit loop
    /// validates its data with [`check_token_ids`] first; this is a last
    /// line of defence, never a clamp).
    ///
    /// # Shapes
    /// `x`: `[batch, seq_len]` token ids stored as `f32` → `[batch, seq_len, dim]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        assert_eq!(x.len(), batch * self.seq_len, "embedding input must be [batch, seq_len]");
        self.ids.clear();
        self.y.clear();
        for (k, &v) in x.iter().enumerate() {
            if !is_id(v, self.vocab) {
                panic!("embedding: {}", token_error(v, k, self.seq_len, self.vocab));
            }
            let id = v as usize;
            self.ids.push(id as u32);
            self.y.extend_from_slice(&self.weight[id * self.dim..][..self.dim]);
        }
        self.pending = train;
        &self.y
    }

    /// Accumulates `dy` into the gradient rows of the ids seen (repeated ids
    /// add up). Token ids have no gradient: the returned slice is always empty.
    ///
    /// # Shapes
    /// `dy`: `[batch, seq_len, dim]` → `[]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _dy_is_preactivation: bool, _need_dx: bool) -> &[f32] {
        assert!(self.pending, "backward needs a training forward pass first");
        assert_eq!(self.ids.len(), batch * self.seq_len, "backward batch differs from the forward batch");
        assert_eq!(dy.len(), self.ids.len() * self.dim, "embedding output gradient must be [batch, seq_len, dim]");
        self.pending = false;
        let dim = self.dim;
        self.touched.clear(&mut [(&mut self.grad, dim)]);
        for (&id, d) in self.ids.iter().zip(dy.chunks_exact(dim)) {
            let id = id as usize;
            self.grad[id * dim..][..dim].iter_mut().zip(d).for_each(|(g, d)| *g += d);
            self.touched.mark(id);
        }
        self.touched.done();
        &[]
    }

    fn params(&self) -> Vec<&[f32]> {
        vec![&self.weight]
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        vec![ParamMut { value: &mut self.weight, grad: &mut self.grad, regularized: false }]
    }
}

/// The rows of a table's gradients that may be non-zero (the ids of the
/// last backward pass), so that a sparse update clears only those.
pub(super) struct TouchedRows {
    rows: Vec<u32>,
    /// Marks of the rows collected since the last [`TouchedRows::done`] (all false between passes).
    seen: Vec<bool>,
}

impl TouchedRows {
    /// No row touched, in a table of `rows` rows.
    pub(super) fn new(rows: usize) -> Self {
        TouchedRows { rows: Vec::new(), seen: vec![false; rows] }
    }

    /// Zeroes the touched rows of each gradient (`(values, values per row)`),
    /// or the whole gradients when most rows were touched, and forgets them.
    pub(super) fn clear(&mut self, grads: &mut [(&mut [f32], usize)]) {
        let whole = self.rows.len() * 2 >= self.seen.len();
        for (g, width) in grads.iter_mut() {
            if whole {
                g.fill(0.0);
            } else {
                for &id in &self.rows {
                    g[id as usize * *width..][..*width].fill(0.0);
                }
            }
        }
        self.rows.clear();
    }

    /// Records that row `id` received a gradient.
    pub(super) fn mark(&mut self, id: usize) {
        if !self.seen[id] {
            self.seen[id] = true;
            self.rows.push(id as u32);
        }
    }

    /// Ends a backward pass (resets the marks, keeps the rows for the next [`TouchedRows::clear`]).
    pub(super) fn done(&mut self) {
        for &id in &self.rows {
            self.seen[id as usize] = false;
        }
    }
}
