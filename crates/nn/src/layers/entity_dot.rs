//! Entity embeddings of categorical columns with per-column batch
//! normalisation and pairwise interactions ([`LayerSpec::EntityDot`]): a
//! factorisation machine over batch-normalised embeddings, trained with a
//! sparse table gradient.

use ember_runtime::spec::{Dims, LayerSpec};
use rand::Rng;

use super::embedding::{self, TouchedRows, is_id};
use super::{BatchNormLayer, ParamMut, TrainLayer};
use crate::error::NnError;

/// A trainable [`LayerSpec::EntityDot`]: one row id per column looks up
/// `e_k = weight[id_k]`, a batch normalisation per (column, dimension) gives
/// `n_k`, and the output is `Σ_{j<k} n_j · n_k + Σ_k bias[id_k]`.
///
/// Parameters, in [`LayerSpec::param`] order: `weight` `[rows, dim]`, `bias`
/// `[rows]`, and the normalisation's `gamma`, `beta`, moving mean and moving
/// variance, each `[columns, dim]` (row `k` = column `k`).
///
/// The normalisation is a [`BatchNormLayer`] over the `[batch, columns·dim]`
/// gathered embeddings (channel `k·dim + d` is dimension `d` of column `k`,
/// the memory layout of `[columns, dim]`): training normalises with the
/// batch's statistics (biased variance) and moves the moving averages with
/// Keras's momentum; inference uses the moving averages exactly as the
/// runtime does.
///
/// The gradients of `weight` and `bias` are sparse: only the rows of ids in
/// the last batch are non-zero. Backward zeroes just the rows the previous
/// batch touched (or the whole tables when that is cheaper), so the rest of
/// those gradients must not be written through [`TrainLayer::params_mut`].
pub struct EntityDotLayer {
    columns: usize,
    rows: usize,
    dim: usize,
    epsilon: f32,
    weight: Vec<f32>,
    grad_w: Vec<f32>,
    bias: Vec<f32>,
    grad_b: Vec<f32>,
    /// The normalisation of the `[batch, columns·dim]` gathered embeddings.
    norm: BatchNormLayer,
    /// Ids of the last forward pass, `[batch, columns]`.
    ids: Vec<u32>,
    /// Gathered embeddings of the last forward pass, `[batch, columns·dim]`.
    e: Vec<f32>,
    /// Normalised embeddings of the last training pass, `[batch, columns·dim]`.
    n: Vec<f32>,
    /// Gradient at the normalised embeddings, `[batch, columns·dim]`.
    dn: Vec<f32>,
    /// Rows of `grad_w` and `grad_b` that may be non-zero (the ids of the last backward pass).
    touched: TouchedRows,
    pending: bool,
    y: Vec<f32>,
}

impl EntityDotLayer {
    /// Keras's default initial state: `weight` uniform in `[-0.05, 0.05)`
    /// (the `Embedding` default, drawn as [`super::EmbeddingLayer::new`]
    /// does), `bias` 0, `gamma` 1, `beta` 0, moving mean 0, moving variance 1.
    pub fn new(columns: usize, rows: usize, dim: usize, epsilon: f32, rng: &mut impl Rng) -> Self {
        let weight = embedding::keras_uniform(rows * dim, rng);
        let cd = columns * dim;
        let params = [weight, vec![0.0; rows], vec![1.0; cd], vec![0.0; cd], vec![0.0; cd], vec![1.0; cd]];
        Self::from_params(columns, rows, dim, epsilon, params)
    }

    /// A layer with the given `weight` (`[rows, dim]`), `bias` (`[rows]`),
    /// `gamma`, `beta`, moving mean and moving variance (each `[columns, dim]`).
    pub fn from_params(columns: usize, rows: usize, dim: usize, epsilon: f32, params: [Vec<f32>; 6]) -> Self {
        assert!(columns > 0 && rows > 0 && dim > 0, "entitydot sizes must be non-zero");
        assert!(rows <= u32::MAX as usize, "entitydot table too large");
        let cd = u32::try_from(columns * dim).expect("entitydot columns·dim too large");
        let [weight, bias, gamma, beta, mean, var] = params;
        assert_eq!(weight.len(), rows * dim, "entitydot weight must be [rows, dim]");
        assert_eq!(bias.len(), rows, "entitydot bias must be [rows]");
        let stats = [gamma, beta, mean, var];
        assert!(
            stats.iter().all(|p| p.len() == cd as usize),
            "entitydot gamma, beta, mean, var must be [columns, dim]"
        );
        EntityDotLayer {
            columns,
            rows,
            dim,
            epsilon,
            grad_w: vec![0.0; weight.len()],
            weight,
            grad_b: vec![0.0; rows],
            bias,
            norm: BatchNormLayer::from_params(Dims::d1(cd), epsilon, stats),
            ids: Vec::new(),
            e: Vec::new(),
            n: Vec::new(),
            dn: Vec::new(),
            touched: TouchedRows::new(rows),
            pending: false,
            y: Vec::new(),
        }
    }

    /// Zeroes the rows of `grad_w` and `grad_b` touched by the previous
    /// backward pass (or the whole tables when most rows were).
    fn clear_touched(&mut self) {
        self.touched.clear(&mut [(&mut self.grad_w, self.dim), (&mut self.grad_b, 1)]);
    }
}

/// Checks that `x` (`[samples, columns]`) holds row ids in `0..rows`; the
/// error names the first bad value's sample and column. Which column a row
/// belongs to is not checked.
pub fn check_row_ids(x: &[f32], columns: usize, rows: usize) -> Result<(), NnError> {
    match x.iter().position(|&v| !is_id(v, rows)) {
        Some(k) => Err(row_error(x[k], k, columns, rows)),
        None => Ok(()),
    }
}

/// The error for value `value` at flat index `k` of `[samples, columns]` ids.
fn row_error(value: f32, k: usize, columns: usize, rows: usize) -> NnError {
    NnError::RowId { value, sample: k / columns.max(1), column: k % columns.max(1), rows }
}

/// `Σ_{j<k} n_j · n_k` of one sample's normalised embeddings (`[columns, dim]`),
/// in `f64`, as `½ (|Σ_k n_k|² − Σ_k |n_k|²)`; `sum` receives `Σ_k n_k`.
fn pairwise(n: &[f32], dim: usize, sum: &mut [f64]) -> f64 {
    sum.fill(0.0);
    let mut sq = 0f64;
    for nk in n.chunks_exact(dim) {
        for (s, &v) in sum.iter_mut().zip(nk) {
            let v = v as f64;
            *s += v;
            sq += v * v;
        }
    }
    0.5 * (sum.iter().map(|s| s * s).sum::<f64>() - sq)
}

impl TrainLayer for EntityDotLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::EntityDot {
            columns: self.columns as u32,
            rows: self.rows as u32,
            dim: self.dim as u32,
            epsilon_bits: self.epsilon.to_bits(),
        }
    }

    /// Looks up every id, normalises (training: the batch's statistics,
    /// moving averages updated; inference: the moving averages) and sums the
    /// pairwise dot products (in `f64`) and the category biases.
    ///
    /// Panics on an id that is not an integer in `0..rows` (the fit loop
    /// validates its data with [`check_row_ids`] first; this is a last line
    /// of defence, never a clamp). Which column a row belongs to is not
    /// checked here.
    ///
    /// # Shapes
    /// `x`: `[batch, columns]` global row ids stored as `f32` → `[batch, 1]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        let (c, dim) = (self.columns, self.dim);
        assert_eq!(x.len(), batch * c, "entitydot input must be [batch, columns]");
        self.ids.clear();
        self.e.clear();
        for (k, &v) in x.iter().enumerate() {
            if !is_id(v, self.rows) {
                panic!("entitydot: {}", row_error(v, k, c, self.rows));
            }
            let id = v as usize;
            self.ids.push(id as u32);
            self.e.extend_from_slice(&self.weight[id * dim..][..dim]);
        }
        let n = self.norm.forward(&self.e, batch, train);
        let mut sum = vec![0f64; dim];
        self.y.clear();
        for (ns, ids) in n.chunks_exact(c * dim).zip(self.ids.chunks_exact(c)) {
            let bias: f64 = ids.iter().map(|&id| self.bias[id as usize] as f64).sum();
            self.y.push((pairwise(ns, dim, &mut sum) + bias) as f32);
        }
        if train {
            self.n.clear();
            self.n.extend_from_slice(n);
        }
        self.pending = train;
        &self.y
    }

    /// `∂/∂n_k = dy · (Σ_j n_j − n_k)`, back through the normalisation
    /// (its `gamma` and `beta` gradients; zero for the moving statistics),
    /// accumulated into the `weight` rows of the ids seen; `∂/∂bias[id_k] = dy`
    /// (repeated ids add up). Row ids have no gradient: the returned slice
    /// is always empty, and the activation flags mean nothing here.
    ///
    /// # Shapes
    /// `dy`: `[batch, 1]` → `[]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _dy_is_preactivation: bool, _need_dx: bool) -> &[f32] {
        assert!(self.pending, "backward needs a training forward pass first");
        let (c, dim) = (self.columns, self.dim);
        assert_eq!(self.ids.len(), batch * c, "backward batch differs from the forward batch");
        assert_eq!(dy.len(), batch, "entitydot output gradient must be [batch, 1]");
        self.pending = false;
        self.clear_touched();

        self.dn.resize(self.n.len(), 0.0);
        let mut sum = vec![0f64; dim];
        for ((dn, ns), &d) in self.dn.chunks_exact_mut(c * dim).zip(self.n.chunks_exact(c * dim)).zip(dy) {
            pairwise(ns, dim, &mut sum);
            for (dk, nk) in dn.chunks_exact_mut(dim).zip(ns.chunks_exact(dim)) {
                for ((g, &v), &s) in dk.iter_mut().zip(nk).zip(&sum) {
                    *g = (d as f64 * (s - v as f64)) as f32;
                }
            }
        }
        let de = self.norm.backward(&self.dn, batch, false, true);
        for ((ids, de), &d) in self.ids.chunks_exact(c).zip(de.chunks_exact(c * dim)).zip(dy) {
            for (&id, dek) in ids.iter().zip(de.chunks_exact(dim)) {
                let id = id as usize;
                self.grad_w[id * dim..][..dim].iter_mut().zip(dek).for_each(|(g, d)| *g += d);
                self.grad_b[id] += d;
                self.touched.mark(id);
            }
        }
        self.touched.done();
        &[]
    }

    fn params(&self) -> Vec<&[f32]> {
        let mut p = vec![&self.weight[..], &self.bias[..]];
        p.extend(self.norm.params());
        p
    }

    /// `weight` and `bias` with their sparse gradients, then the
    /// normalisation's `gamma`, `beta` and moving statistics (the latter
    /// with a zero gradient, as [`BatchNormLayer::params_mut`]).
    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        let mut p = vec![
            ParamMut { value: &mut self.weight, grad: &mut self.grad_w, regularized: false },
            ParamMut { value: &mut self.bias, grad: &mut self.grad_b, regularized: false },
        ];
        p.extend(self.norm.params_mut());
        p
    }
}
