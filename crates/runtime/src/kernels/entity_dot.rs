//! The kernel of [`crate::spec::LayerSpec::EntityDot`] (entity embeddings,
//! per-column batch normalisation, pairwise dot products plus category
//! biases), shared by the typed layer and the dynamic interpreter.

use super::{batch_norm, dot};
use crate::Error;

/// The parameters of an EntityDot layer, as stored in a blob (`C` columns,
/// `R` table rows, vectors of `dim` values).
#[derive(Clone, Copy, Debug)]
pub struct EntityParams<'a> {
    /// The shared table, `[R, dim]` row-major (row `id` is category `id`).
    pub weight: &'a [f32],
    /// One bias per category, `[R]`.
    pub bias: &'a [f32],
    /// Batch-norm scale per column, `[C, dim]` (row `k` is column `k`).
    pub gamma: &'a [f32],
    /// Batch-norm shift per column, `[C, dim]`.
    pub beta: &'a [f32],
    /// Moving mean per column, `[C, dim]`.
    pub mean: &'a [f32],
    /// Moving variance per column, `[C, dim]`.
    pub var: &'a [f32],
    /// Batch-norm variance offset (finite and positive in a valid blob).
    pub epsilon: f32,
    /// Vector length.
    pub dim: usize,
}

impl EntityParams<'_> {
    /// Number of columns `C` (`gamma.len() / dim`; 0 when `dim` is 0).
    pub fn columns(&self) -> usize {
        self.gamma.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Number of table rows `R` (`weight.len() / dim`; 0 when `dim` is 0).
    pub fn rows(&self) -> usize {
        self.weight.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Scratch length (in `f32`) that [`entity_dot`] needs: `C * dim`.
    pub fn scratch_len(&self) -> usize {
        self.columns() * self.dim
    }

    /// Whether every slice has the length the others imply.
    fn consistent(&self) -> bool {
        let (c, d, r) = (self.columns(), self.dim, self.rows());
        d > 0
            && c > 0
            && self.gamma.len() == c * d
            && [self.beta, self.mean, self.var].iter().all(|t| t.len() == c * d)
            && self.weight.len() == r * d
            && self.bias.len() == r
    }
}

/// The EntityDot output for one sample of `C` category ids (global rows of
/// the shared table, column `k`'s id first at position `k`):
///
/// * `n_k = (weight[id_k] − mean_k) · s_k + beta_k` with
///   `s_k = gamma_k / sqrt(var_k + epsilon)`, elementwise: exactly
///   [`batch_norm`] over one position of `dim` channels with column `k`'s
///   parameters;
/// * `out = pairs + biases` where `pairs` sums [`dot`]`(n_j, n_k)` over
///   `j < k` in the order `(0, 1), (0, 2), …, (0, C−1), (1, 2), …` starting
///   from `0.0`, and `biases` sums `bias[id_k]` for `k = 0, 1, …` starting
///   from `0.0`.
///
/// The order is fixed, so every target computes the same bits.
///
/// # Shapes
/// `ids`: `C` ids, each below `R`; `normed`: scratch of at least `C * dim`
/// values ([`EntityParams::scratch_len`]; row `k` receives `n_k`). Returns one value.
///
/// # Errors
/// [`Error::TensorShape`] if the parameter lengths disagree (or `dim` is 0),
/// [`Error::BufferTooSmall`] if `normed` is short, [`Error::InputShape`] if
/// `ids` does not yield exactly `C` ids, [`Error::TokenOutOfRange`] for an
/// id `>= R`. Never panics.
pub fn entity_dot(p: &EntityParams<'_>, ids: impl IntoIterator<Item = u32>, normed: &mut [f32]) -> Result<f32, Error> {
    if !p.consistent() {
        return Err(Error::TensorShape);
    }
    let (c, d) = (p.columns(), p.dim);
    let normed = normed.get_mut(..c * d).ok_or(Error::BufferTooSmall)?;
    let mut biases = 0.0f32;
    let mut n = 0;
    for (k, id) in ids.into_iter().enumerate() {
        if k >= c {
            return Err(Error::InputShape);
        }
        let i = id as usize;
        if i >= p.rows() {
            return Err(Error::TokenOutOfRange);
        }
        // In range: `i * d + d <= weight.len()` (checked by `consistent`).
        let row = &p.weight[i * d..(i + 1) * d];
        biases += p.bias[i];
        let col = k * d..(k + 1) * d;
        let (g, b, m, v) = (&p.gamma[col.clone()], &p.beta[col.clone()], &p.mean[col.clone()], &p.var[col.clone()]);
        batch_norm(g, b, m, v, p.epsilon, row, &mut normed[col]);
        n += 1;
    }
    if n != c {
        return Err(Error::InputShape);
    }
    let mut pairs = 0.0f32;
    for j in 0..c {
        let nj = &normed[j * d..(j + 1) * d];
        for k in j + 1..c {
            pairs += dot(nj, &normed[k * d..(k + 1) * d]);
        }
    }
    Ok(pairs + biases)
}
