//! Global average pooling ([`LayerSpec::GlobalAveragePool`]): the mean of
//! each channel over the steps of a sequence or the pixels of a map.

use ember_runtime::spec::{Dims, LayerSpec};
use rayon::prelude::*;

use super::{ParamMut, TrainLayer};

/// Samples per rayon task.
const GROUP: usize = 64;

/// `[n, c]` (a sequence or a flattened map) → `[c]`.
pub struct GlobalAveragePoolLayer {
    dims: Dims,
    c: usize,
    n: usize,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl GlobalAveragePoolLayer {
    /// The layer over samples of `dims` (rank 2 or 3; the last is the channel).
    pub fn new(dims: Dims) -> Self {
        let c = *dims.as_slice().last().expect("dims are never empty") as usize;
        GlobalAveragePoolLayer { dims, c, n: dims.elements() / c.max(1), y: Vec::new(), dx: Vec::new() }
    }
}

impl TrainLayer for GlobalAveragePoolLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::GlobalAveragePool { dims: self.dims }
    }

    /// # Shapes
    /// `x`: `[batch, n, c]` → `[batch, c]`.
    fn forward(&mut self, x: &[f32], batch: usize, _train: bool) -> &[f32] {
        let (c, in_len) = (self.c, self.n * self.c);
        assert_eq!(x.len(), batch * in_len, "global pooling input must be [batch, ...dims]");
        self.y.clear();
        self.y.resize(batch * c, 0.0);
        let n = self.n as f32;
        self.y.par_chunks_mut(GROUP * c).zip(x.par_chunks(GROUP * in_len)).for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(c).zip(x.chunks_exact(in_len)) {
                for cell in x.chunks_exact(c) {
                    y.iter_mut().zip(cell).for_each(|(o, v)| *o += v);
                }
                y.iter_mut().for_each(|o| *o /= n);
            }
        });
        &self.y
    }

    /// Every step or pixel gets `dy / n`.
    ///
    /// # Shapes
    /// `dy`: `[batch, c]` → `[batch, n, c]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _pre: bool, need_dx: bool) -> &[f32] {
        let (c, in_len) = (self.c, self.n * self.c);
        assert_eq!(dy.len(), batch * c, "global pooling output gradient must be [batch, c]");
        self.dx.clear();
        if !need_dx {
            return &self.dx;
        }
        self.dx.resize(batch * in_len, 0.0);
        let scale = 1.0 / self.n as f32;
        self.dx.par_chunks_mut(in_len).zip(dy.par_chunks(c)).for_each(|(dx, dy)| {
            for cell in dx.chunks_exact_mut(c) {
                cell.iter_mut().zip(dy).for_each(|(d, v)| *d = v * scale);
            }
        });
        &self.dx
    }

    fn params(&self) -> Vec<&[f32]> {
        Vec::new()
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        Vec::new()
    }
}
