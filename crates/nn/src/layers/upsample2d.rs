//! Nearest-neighbour upsampling on HWC samples: memory-bound loops, one
//! rayon task per sample.

use ember_runtime::spec::LayerSpec;
use rayon::prelude::*;

use super::{ParamMut, TrainLayer};

/// Nearest-neighbour upsampling by an integer factor.
pub struct Upsample2dLayer {
    h: usize,
    w: usize,
    c: usize,
    factor: usize,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl Upsample2dLayer {
    /// Upsamples `[h, w, c]` samples by `factor` in both directions.
    pub fn new(h: usize, w: usize, c: usize, factor: usize) -> Self {
        assert!(h * w * c * factor > 0, "upsample sizes must be non-zero");
        Upsample2dLayer { h, w, c, factor, y: Vec::new(), dx: Vec::new() }
    }
}

crate::simd_fn! {
    /// One sample's input gradient: each input cell gets the sum of its
    /// `factor²` copies, added row by row of the output (in the output's
    /// order), without a clearing pass.
    ///
    /// # Shapes
    /// `dy`: `[h·factor, w·factor, c]` → `dx`: `[h, w, c]` (overwritten).
    fn upsample_backward(w: usize, c: usize, s: usize, dy: &[f32], dx: &mut [f32]) {
        let row_out = w * s * c;
        for (dx_row, dy_rows) in dx.chunks_exact_mut(w * c).zip(dy.chunks_exact(row_out * s)) {
            for (r, dy_row) in dy_rows.chunks_exact(row_out).enumerate() {
                for (cell, d) in dx_row.chunks_exact_mut(c).zip(dy_row.chunks_exact(s * c)) {
                    for (j, d) in d.chunks_exact(c).enumerate() {
                        if r == 0 && j == 0 {
                            cell.copy_from_slice(d);
                        } else {
                            cell.iter_mut().zip(d).for_each(|(a, b)| *a += b);
                        }
                    }
                }
            }
        }
    }
}

impl TrainLayer for Upsample2dLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Upsample2d {
            height: self.h as u32,
            width: self.w as u32,
            channels: self.c as u32,
            factor: self.factor as u32,
        }
    }

    /// # Shapes
    /// `x`: `[batch, h, w, c]` → `[batch, h·factor, w·factor, c]`.
    fn forward(&mut self, x: &[f32], batch: usize, _train: bool) -> &[f32] {
        let (h, w, c, s) = (self.h, self.w, self.c, self.factor);
        let (in_len, out_len) = (h * w * c, h * w * c * s * s);
        assert_eq!(x.len(), batch * in_len, "upsample input must be [batch, h, w, c]");
        self.y.resize(batch * out_len, 0.0);
        self.y.par_chunks_mut(out_len).zip(x.par_chunks(in_len)).for_each(|(y, x)| {
            ember_runtime::kernels::upsample2d(h, w, c, s, x, y);
        });
        &self.y
    }

    /// Sums the gradients of the `factor²` copies of each input value.
    ///
    /// # Shapes
    /// `dy`: `[batch, h·factor, w·factor, c]` → `[batch, h, w, c]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _pre: bool, need_dx: bool) -> &[f32] {
        let (h, w, c, s) = (self.h, self.w, self.c, self.factor);
        let (in_len, out_len) = (h * w * c, h * w * c * s * s);
        assert_eq!(dy.len(), batch * out_len, "upsample output gradient has the wrong shape");
        if !need_dx {
            self.dx.clear();
            return &self.dx;
        }
        // Every value is written below: no clearing pass.
        self.dx.resize(batch * in_len, 0.0);
        self.dx.par_chunks_mut(in_len).zip(dy.par_chunks(out_len)).for_each(|(dx, dy)| {
            upsample_backward(w, c, s, dy, dx);
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
