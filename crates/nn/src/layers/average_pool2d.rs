//! Average pooling on HWC samples that does not count padding (ONNX
//! `AveragePool` with `count_include_pad = 0`, Keras `"same"`), for
//! [`LayerSpec::AveragePool2d`] and [`LayerSpec::AveragePool1d`] (a map of
//! height 1). One rayon task per group of samples.

use ember_runtime::spec::{LayerSpec, Window2d};
use rayon::prelude::*;

use super::{ParamMut, TrainLayer};

/// Samples per rayon task.
const GROUP: usize = 16;

/// Average pooling over the spec's windows.
pub struct AveragePool2dLayer {
    spec: LayerSpec,
    g: Window2d,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl AveragePool2dLayer {
    /// The layer of a [`LayerSpec::AveragePool2d`] or
    /// [`LayerSpec::AveragePool1d`] (panics on another or invalid spec).
    pub fn new(spec: &LayerSpec) -> Self {
        let (LayerSpec::AveragePool2d { .. } | LayerSpec::AveragePool1d { .. }, Some(g), Ok(())) =
            (spec, spec.window(), spec.validate())
        else {
            panic!("not a valid average pooling spec: {spec:?}")
        };
        AveragePool2dLayer { spec: *spec, g, y: Vec::new(), dx: Vec::new() }
    }
}

/// Calls `f(output pixel, input offset, 1 / cells)` for every input cell
/// under every window of one sample, cells in window order.
#[inline(always)]
fn each_cell(g: &Window2d, mut f: impl FnMut(usize, usize, f32)) {
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let p = oy * g.ow + ox;
            let scale = 1.0 / g.cells(oy, ox).max(1) as f32;
            for ky in 0..g.kh {
                let Some(iy) = g.row(oy, ky) else { continue };
                for kx in 0..g.kw {
                    if let Some(ix) = g.col(ox, kx) {
                        f(p, (iy * g.w + ix) * g.c, scale);
                    }
                }
            }
        }
    }
}

impl TrainLayer for AveragePool2dLayer {
    fn spec(&self) -> LayerSpec {
        self.spec
    }

    /// # Shapes
    /// `x`: `[batch, h, w, c]` → `[batch, oh, ow, c]`.
    fn forward(&mut self, x: &[f32], batch: usize, _train: bool) -> &[f32] {
        let g = self.g;
        let (in_len, out_len, c) = (g.h * g.w * g.c, g.oh * g.ow * g.c, g.c);
        assert_eq!(x.len(), batch * in_len, "average pooling input must be [batch, h, w, c]");
        self.y.clear();
        self.y.resize(batch * out_len, 0.0);
        self.y.par_chunks_mut(GROUP * out_len).zip(x.par_chunks(GROUP * in_len)).for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(out_len).zip(x.chunks_exact(in_len)) {
                let mut sums = vec![0.0f32; out_len];
                each_cell(&g, |p, at, _| {
                    sums[p * c..(p + 1) * c].iter_mut().zip(&x[at..at + c]).for_each(|(s, v)| *s += v);
                });
                for oy in 0..g.oh {
                    for ox in 0..g.ow {
                        let p = oy * g.ow + ox;
                        let n = g.cells(oy, ox).max(1) as f32;
                        y[p * c..(p + 1) * c].iter_mut().zip(&sums[p * c..(p + 1) * c]).for_each(|(o, s)| *o = s / n);
                    }
                }
            }
        });
        &self.y
    }

    /// Spreads each output gradient evenly over the cells of its window.
    ///
    /// # Shapes
    /// `dy`: `[batch, oh, ow, c]` → `[batch, h, w, c]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _pre: bool, need_dx: bool) -> &[f32] {
        let g = self.g;
        let (in_len, out_len, c) = (g.h * g.w * g.c, g.oh * g.ow * g.c, g.c);
        assert_eq!(dy.len(), batch * out_len, "average pooling output gradient must be [batch, oh, ow, c]");
        self.dx.clear();
        if !need_dx {
            return &self.dx;
        }
        self.dx.resize(batch * in_len, 0.0);
        self.dx.par_chunks_mut(in_len).zip(dy.par_chunks(out_len)).for_each(|(dx, dy)| {
            each_cell(&g, |p, at, scale| {
                dx[at..at + c].iter_mut().zip(&dy[p * c..(p + 1) * c]).for_each(|(d, v)| *d += v * scale);
            });
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
