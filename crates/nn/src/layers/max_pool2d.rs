//! Max pooling on HWC samples: a memory-bound loop, one rayon task per group
//! of samples. The same layer trains [`LayerSpec::MaxPool1d`] (a map of
//! height 1, see `max_pool1d.rs`).

use ember_runtime::spec::{LayerSpec, Window2d};
use rayon::prelude::*;

use super::{ParamMut, TrainLayer};

/// Samples per rayon task.
const GROUP: usize = 16;

/// Max pooling over `pool x pool` windows with stride `pool`, or 1-D
/// windows with any stride.
pub struct MaxPool2dLayer {
    spec: LayerSpec,
    g: Window2d,
    /// For every output value of the last training pass, the index (within
    /// its sample) of the input value that won.
    argmax: Vec<u32>,
    y: Vec<f32>,
    dx: Vec<f32>,
}

impl MaxPool2dLayer {
    /// A pooling layer for a [`LayerSpec::MaxPool2d`] or [`LayerSpec::MaxPool1d`]
    /// (panics on another or invalid spec).
    pub fn new(spec: &LayerSpec) -> Self {
        let (LayerSpec::MaxPool2d { .. } | LayerSpec::MaxPool1d { .. }, Some(g), Ok(())) =
            (spec, spec.window(), spec.validate())
        else {
            panic!("not a valid maxpool spec: {spec:?}")
        };
        MaxPool2dLayer { spec: *spec, g, argmax: Vec::new(), y: Vec::new(), dx: Vec::new() }
    }
}

/// Pools one sample, recording the winners' input indices (the first
/// maximum wins, as in the runtime kernel). Branch-free inner loop over the
/// channels, so that it vectorises.
#[inline(always)]
fn pool_sample(g: &Window2d, x: &[f32], y: &mut [f32], arg: &mut [u32]) {
    let c = g.c;
    for (p, (out, arg)) in y.chunks_exact_mut(c).zip(arg.chunks_exact_mut(c)).enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        let (kx0, kx1, ix0) = g.columns(ox);
        let rows = (0..g.kh).filter_map(|ky| g.row(oy, ky));
        // Every window holds at least one input cell: start from the first.
        let first = (rows.clone().next().unwrap_or(0) * g.w + ix0) * c;
        out.copy_from_slice(&x[first..first + c]);
        arg.iter_mut().zip(first as u32..).for_each(|(a, i)| *a = i);
        for iy in rows {
            for ix in ix0..ix0 + (kx1 - kx0) {
                let at = (iy * g.w + ix) * c;
                let cell = &x[at..at + c];
                for (k, ((o, a), &v)) in out.iter_mut().zip(arg.iter_mut()).zip(cell).enumerate() {
                    let better = v > *o;
                    *o = if better { v } else { *o };
                    *a = if better { (at + k) as u32 } else { *a };
                }
            }
        }
    }
}

/// [`pool_sample`] for windows that [`tiles`] the input: every window lies
/// inside, so no bounds are worked out per window.
#[inline(always)]
fn pool_tiled(g: &Window2d, x: &[f32], y: &mut [f32], arg: &mut [u32]) {
    let c = g.c;
    for (p, (out, arg)) in y.chunks_exact_mut(c).zip(arg.chunks_exact_mut(c)).enumerate() {
        let (iy0, ix0) = ((p / g.ow) * g.kh, (p % g.ow) * g.kw);
        let first = (iy0 * g.w + ix0) * c;
        out.copy_from_slice(&x[first..first + c]);
        arg.iter_mut().zip(first as u32..).for_each(|(a, i)| *a = i);
        for iy in iy0..iy0 + g.kh {
            for ix in ix0..ix0 + g.kw {
                let at = (iy * g.w + ix) * c;
                let cell = &x[at..at + c];
                for (k, ((o, a), &v)) in out.iter_mut().zip(arg.iter_mut()).zip(cell).enumerate() {
                    let better = v > *o;
                    *o = if better { v } else { *o };
                    *a = if better { (at + k) as u32 } else { *a };
                }
            }
        }
    }
}

/// Whether the windows tile the input: stride = window, no dilation, no
/// padding cells, so every input cell is in exactly one window.
fn tiles(g: &Window2d) -> bool {
    let no_pad = g.pad_top == 0 && g.pad_left == 0;
    no_pad && g.sh == g.kh && g.sw == g.kw && g.dh == 1 && g.dw == 1 && g.oh * g.kh == g.h && g.ow * g.kw == g.w
}

crate::simd_fn! {
    /// The input gradient of tiling windows, one sample after another:
    /// each input cell gets its window's output gradient where it won,
    /// zero elsewhere.
    fn route_tiled_group(g: &Window2d, dy: &[f32], arg: &[u32], dx: &mut [f32], in_len: usize, out_len: usize) {
        let c = g.c;
        let samples = dx.chunks_exact_mut(in_len).zip(dy.chunks_exact(out_len)).zip(arg.chunks_exact(out_len));
        for ((dx, dy), arg) in samples {
            for (p, (d, a)) in dy.chunks_exact(c).zip(arg.chunks_exact(c)).enumerate() {
                let (oy, ox) = (p / g.ow, p % g.ow);
                for iy in oy * g.kh..(oy + 1) * g.kh {
                    for ix in ox * g.kw..(ox + 1) * g.kw {
                        let at = (iy * g.w + ix) * c;
                        let cell = &mut dx[at..at + c];
                        for (k, ((o, &d), &a)) in cell.iter_mut().zip(d).zip(a).enumerate() {
                            *o = if a as usize == at + k { d } else { 0.0 };
                        }
                    }
                }
            }
        }
    }
}

crate::simd_fn! {
    /// [`pool_sample`] on a group of samples.
    fn pool_group(g: &Window2d, x: &[f32], y: &mut [f32], arg: &mut [u32], in_len: usize, out_len: usize) {
        let samples = y.chunks_exact_mut(out_len).zip(arg.chunks_exact_mut(out_len));
        let tiled = tiles(g);
        for ((y, arg), x) in samples.zip(x.chunks_exact(in_len)) {
            if tiled {
                pool_tiled(g, x, y, arg);
            } else {
                pool_sample(g, x, y, arg);
            }
        }
    }
}

impl TrainLayer for MaxPool2dLayer {
    fn spec(&self) -> LayerSpec {
        self.spec
    }

    /// # Shapes
    /// `x`: `[batch, h, w, c]` → `[batch, oh, ow, c]`.
    fn forward(&mut self, x: &[f32], batch: usize, _train: bool) -> &[f32] {
        let g = self.g;
        let (in_len, out_len) = (g.h * g.w * g.c, g.oh * g.ow * g.c);
        assert_eq!(x.len(), batch * in_len, "maxpool input must be [batch, h, w, c]");
        self.y.resize(batch * out_len, 0.0);
        self.argmax.resize(batch * out_len, 0);
        self.y
            .par_chunks_mut(GROUP * out_len)
            .zip(self.argmax.par_chunks_mut(GROUP * out_len))
            .zip(x.par_chunks(GROUP * in_len))
            .for_each(|((y, arg), x)| pool_group(&g, x, y, arg, in_len, out_len));
        &self.y
    }

    /// Routes each output gradient to the input value that won.
    ///
    /// # Shapes
    /// `dy`: `[batch, oh, ow, c]` → `[batch, h, w, c]`.
    fn backward(&mut self, dy: &[f32], batch: usize, _pre: bool, need_dx: bool) -> &[f32] {
        let g = self.g;
        let (in_len, out_len) = (g.h * g.w * g.c, g.oh * g.ow * g.c);
        assert_eq!(dy.len(), batch * out_len, "maxpool output gradient must be [batch, oh, ow, c]");
        assert_eq!(self.argmax.len(), batch * out_len, "backward needs a forward pass first");
        if !need_dx {
            self.dx.clear();
            return &self.dx;
        }
        // Every value is written below: no clearing pass.
        self.dx.resize(batch * in_len, 0.0);
        let (dx, argmax) = (&mut self.dx, &self.argmax);
        if tiles(&g) {
            // Every input cell lies in exactly one window: write each cell
            // once (the winner's gradient or zero), no clearing pass.
            let chunk = GROUP * in_len;
            dx.par_chunks_mut(chunk)
                .zip(dy.par_chunks(GROUP * out_len))
                .zip(argmax.par_chunks(GROUP * out_len))
                .for_each(|((dx, dy), arg)| route_tiled_group(&g, dy, arg, dx, in_len, out_len));
        } else {
            dx.par_chunks_mut(in_len).zip(dy.par_chunks(out_len)).zip(argmax.par_chunks(out_len)).for_each(
                |((dx, dy), arg)| {
                    dx.fill(0.0);
                    for (&d, &a) in dy.iter().zip(arg) {
                        dx[a as usize] += d;
                    }
                },
            );
        }
        &self.dx
    }

    fn params(&self) -> Vec<&[f32]> {
        Vec::new()
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        Vec::new()
    }
}
