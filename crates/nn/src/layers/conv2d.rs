//! 2-D convolution on HWC samples, `W` stored OHWI
//! `[filters, kh, kw, channels]`: im2col of a group of samples, then one GEMM
//! per group on one thread, groups spread over rayon. The same layer trains
//! [`LayerSpec::Conv2d`], its strided and dilated form
//! [`LayerSpec::Conv2dStrided`] and [`LayerSpec::Conv1d`] (a map of height
//! 1, see `conv1d.rs`).
//!
//! The backward pass of a stride-1 convolution (all but the strided and
//! dilated ones, and the direct one-input-channel kernel) is the convolution
//! of `dZ` in `transposed.rs`; the others use im2col of `X` and col2im.
//!
//! Groups have a fixed size that depends on the shapes only, and per-group
//! weight gradients are summed in group order, so results do not depend on
//! the number of threads.

mod thin;
mod transposed;

use ember_runtime::Activation;
use ember_runtime::spec::{LayerSpec, Window2d};
use rand::{Rng, RngExt};
use rayon::prelude::*;

use super::{ParamMut, TrainLayer, activation};
use crate::gemm::{Op, matmul_serial, matmul_serial_narrow};
use thin::{THIN_GROUP, Thin, thin_backward_group, thin_forward_group};

/// Most `f32` values of one group's patch matrix (1 MiB: stays in L2).
const PATCH_BUDGET: usize = 1 << 18;

/// A trainable 2-D convolution.
pub struct Conv2dLayer {
    spec: LayerSpec,
    g: Window2d,
    filters: usize,
    activation: Activation,
    weight: Vec<f32>,
    bias: Vec<f32>,
    grad_w: Vec<f32>,
    grad_b: Vec<f32>,
    x: Vec<f32>,
    y: Vec<f32>,
    dz: Vec<f32>,
    dx: Vec<f32>,
}

impl Conv2dLayer {
    /// Glorot-uniform kernel (Keras's default: fan-in `kh·kw·channels`,
    /// fan-out `kh·kw·filters`), zero bias. Panics if the spec is not a
    /// valid [`LayerSpec::Conv2d`], [`LayerSpec::Conv2dStrided`] or [`LayerSpec::Conv1d`].
    pub fn new(spec: &LayerSpec, rng: &mut impl Rng) -> Self {
        let (g, filters) = Self::geometry(spec);
        let window = g.kh * g.kw;
        let limit = (6.0 / (window * (g.c + filters)) as f64).sqrt() as f32;
        let weight = (0..filters * window * g.c).map(|_| rng.random_range(-limit..limit)).collect();
        Self::from_params(spec, weight, vec![0.0; filters])
    }

    /// A layer with the given weight (`[filters, kh, kw, channels]`) and bias (`[filters]`).
    pub fn from_params(spec: &LayerSpec, weight: Vec<f32>, bias: Vec<f32>) -> Self {
        let (g, filters) = Self::geometry(spec);
        assert_eq!(weight.len(), filters * g.kh * g.kw * g.c, "conv weight must be [filters, kh, kw, channels]");
        assert_eq!(bias.len(), filters, "conv bias must be [filters]");
        Conv2dLayer {
            spec: *spec,
            g,
            filters,
            activation: spec.activation(),
            grad_w: vec![0.0; weight.len()],
            grad_b: vec![0.0; filters],
            weight,
            bias,
            x: Vec::new(),
            y: Vec::new(),
            dz: Vec::new(),
            dx: Vec::new(),
        }
    }

    fn geometry(spec: &LayerSpec) -> (Window2d, usize) {
        let (
            LayerSpec::Conv2d { filters, .. }
            | LayerSpec::Conv2dStrided { filters, .. }
            | LayerSpec::Conv1d { filters, .. },
            Some(g),
            Ok(()),
        ) = (spec, spec.window(), spec.validate())
        else {
            panic!("not a valid conv2d or conv1d spec: {spec:?}")
        };
        (g, *filters as usize)
    }

    fn in_len(&self) -> usize {
        self.g.h * self.g.w * self.g.c
    }

    fn out_len(&self) -> usize {
        self.g.oh * self.g.ow * self.filters
    }

    fn window_len(&self) -> usize {
        self.g.kh * self.g.kw * self.g.c
    }

    /// Samples per group: the patch matrix stays within [`PATCH_BUDGET`].
    fn group(&self) -> usize {
        (PATCH_BUDGET / (self.g.oh * self.g.ow * self.window_len()).max(1)).max(1)
    }
}

/// Patch matrix of `samples` HWC samples: row `(s, oy, ox)` holds the window
/// `[kh, kw, c]` under that output pixel (zeros outside the input).
///
/// # Shapes
/// `x`: `[samples, h, w, c]` → `patches`: `[samples · oh · ow, kh · kw · c]`.
fn im2col(g: &Window2d, x: &[f32], samples: usize, patches: &mut Vec<f32>) {
    if g.dw != 1 {
        return im2col_cells(g, x, samples, patches);
    }
    let (in_len, row_len) = (g.h * g.w * g.c, g.kw * g.c);
    // Every value is written below (zeros for cells outside the input), so
    // the buffer is not cleared first.
    patches.resize(samples * g.oh * g.ow * g.kh * row_len, 0.0);
    let mut rows = patches.chunks_exact_mut(g.kh * row_len);
    for xs in x.chunks_exact(in_len).take(samples) {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let patch = rows.next().expect("one patch row per output pixel");
                let (kx0, kx1, ix0) = g.columns(ox);
                let span = (kx1 - kx0) * g.c;
                for (ky, dst) in patch.chunks_exact_mut(row_len).enumerate() {
                    let (before, rest) = dst.split_at_mut(kx0 * g.c);
                    let (inside, after) = rest.split_at_mut(span);
                    before.fill(0.0);
                    after.fill(0.0);
                    match g.row(oy, ky) {
                        Some(iy) => {
                            let at = (iy * g.w + ix0) * g.c;
                            inside.copy_from_slice(&xs[at..at + span]);
                        }
                        None => inside.fill(0.0),
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every patch value back onto the input
/// cell it was copied from.
///
/// # Shapes
/// `patches`: `[samples · oh · ow, kh · kw · c]` → `dx`: `[samples, h, w, c]` (added to).
fn col2im(g: &Window2d, patches: &[f32], dx: &mut [f32]) {
    if g.dw != 1 {
        return col2im_cells(g, patches, dx);
    }
    let (in_len, row_len) = (g.h * g.w * g.c, g.kw * g.c);
    let mut rows = patches.chunks_exact(g.kh * row_len);
    for dxs in dx.chunks_exact_mut(in_len) {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let patch = rows.next().expect("one patch row per output pixel");
                let (kx0, kx1, ix0) = g.columns(ox);
                let span = (kx1 - kx0) * g.c;
                for ky in 0..g.kh {
                    if let Some(iy) = g.row(oy, ky) {
                        let at = (iy * g.w + ix0) * g.c;
                        let from = ky * row_len + kx0 * g.c;
                        dxs[at..at + span].iter_mut().zip(&patch[from..from + span]).for_each(|(d, p)| *d += p);
                    }
                }
            }
        }
    }
}

/// [`im2col`] one window cell at a time (dilated columns are not contiguous).
fn im2col_cells(g: &Window2d, x: &[f32], samples: usize, patches: &mut Vec<f32>) {
    let (in_len, c) = (g.h * g.w * g.c, g.c);
    patches.resize(samples * g.oh * g.ow * g.kh * g.kw * c, 0.0);
    let mut rows = patches.chunks_exact_mut(g.kh * g.kw * c);
    for xs in x.chunks_exact(in_len).take(samples) {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let patch = rows.next().expect("one patch row per output pixel");
                for (cell, dst) in patch.chunks_exact_mut(c).enumerate() {
                    let (ky, kx) = (cell / g.kw, cell % g.kw);
                    match (g.row(oy, ky), g.col(ox, kx)) {
                        (Some(iy), Some(ix)) => {
                            let at = (iy * g.w + ix) * c;
                            dst.copy_from_slice(&xs[at..at + c]);
                        }
                        _ => dst.fill(0.0),
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col_cells`].
fn col2im_cells(g: &Window2d, patches: &[f32], dx: &mut [f32]) {
    let (in_len, c) = (g.h * g.w * g.c, g.c);
    let mut rows = patches.chunks_exact(g.kh * g.kw * c);
    for dxs in dx.chunks_exact_mut(in_len) {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let patch = rows.next().expect("one patch row per output pixel");
                for (cell, src) in patch.chunks_exact(c).enumerate() {
                    let (ky, kx) = (cell / g.kw, cell % g.kw);
                    if let (Some(iy), Some(ix)) = (g.row(oy, ky), g.col(ox, kx)) {
                        let at = (iy * g.w + ix) * c;
                        dxs[at..at + c].iter_mut().zip(src).for_each(|(d, p)| *d += p);
                    }
                }
            }
        }
    }
}

/// Samples per rayon task for copies and element-wise passes.
const COPY_GROUP: usize = 16;

impl TrainLayer for Conv2dLayer {
    fn spec(&self) -> LayerSpec {
        self.spec
    }

    /// # Shapes
    /// `x`: `[batch, h, w, c]` → `[batch, oh, ow, filters]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        let (in_len, out_len, k, f) = (self.in_len(), self.out_len(), self.window_len(), self.filters);
        assert_eq!(x.len(), batch * in_len, "conv input must be [batch, h, w, c]");
        if train {
            self.x.resize(x.len(), 0.0);
            let chunk = COPY_GROUP * in_len;
            self.x.par_chunks_mut(chunk).zip(x.par_chunks(chunk)).for_each(|(d, s)| d.copy_from_slice(s));
        }
        self.y.resize(batch * out_len, 0.0);
        let group = self.group();
        let (g, weight, bias, act) = (&self.g, &self.weight, &self.bias, self.activation);
        if let Some(thin) = Thin::of(g, f) {
            let wt = thin.weights(g, weight);
            self.y.par_chunks_mut(THIN_GROUP * out_len).zip(x.par_chunks(THIN_GROUP * in_len)).for_each(|(y, x)| {
                thin_forward_group(thin, g, &wt, bias, x, y, in_len, out_len);
                activation::forward(act, y, f);
            });
            return &self.y;
        }
        self.y.par_chunks_mut(group * out_len).zip(x.par_chunks(group * in_len)).for_each_init(
            <(Vec<f32>, Vec<f32>)>::default,
            |(patches, t), (y, x)| {
                let samples = x.len() / in_len;
                im2col(g, x, samples, patches);
                for row in y.chunks_exact_mut(f) {
                    row.copy_from_slice(bias);
                }
                matmul_serial_narrow(y.len() / f, f, k, patches, Op::N, weight, Op::T, y, true, t);
                activation::forward(act, y, f);
            },
        );
        &self.y
    }

    /// # Shapes
    /// `dy`: `[batch, oh, ow, filters]` → `[batch, h, w, c]`.
    fn backward(&mut self, dy: &[f32], batch: usize, dy_is_preactivation: bool, need_dx: bool) -> &[f32] {
        let (in_len, out_len, k, f) = (self.in_len(), self.out_len(), self.window_len(), self.filters);
        assert_eq!(dy.len(), batch * out_len, "conv output gradient must be [batch, oh, ow, filters]");
        assert_eq!(self.x.len(), batch * in_len, "backward needs a training forward pass first");
        // dZ and the bias gradient, per fixed group of samples in parallel,
        // the groups' sums then added in order.
        self.dz.resize(dy.len(), 0.0);
        let (act, chunk) = (self.activation, COPY_GROUP * out_len);
        let bias_parts: Vec<Vec<f32>> = self
            .dz
            .par_chunks_mut(chunk)
            .zip(dy.par_chunks(chunk))
            .zip(self.y.par_chunks(chunk))
            .map(|((dz, dy), y)| {
                dz.copy_from_slice(dy);
                if !dy_is_preactivation {
                    activation::backward(act, y, dz, f);
                }
                let mut gb = vec![0.0; f];
                for row in dz.chunks_exact(f) {
                    gb.iter_mut().zip(row).for_each(|(g, d)| *g += d);
                }
                gb
            })
            .collect();
        self.grad_b.fill(0.0);
        for part in &bias_parts {
            self.grad_b.iter_mut().zip(part).for_each(|(g, d)| *g += d);
        }
        // Stride 1: both gradients from one im2col of dZ, except for one
        // input channel (there dZ's patches would be `filters` times the
        // input's: the direct kernel below wins).
        let one_channel = Thin::of(&self.g, f) == Some(Thin::OneChannel);
        if let (Some(gt), false) = (transposed::geometry(&self.g, f), one_channel) {
            // Overwritten whole: not cleared first.
            if need_dx {
                self.dx.resize(batch * in_len, 0.0);
            } else {
                self.dx.clear();
            }
            let dx = need_dx.then_some(&mut self.dx[..]);
            transposed::backward(&self.g, &gt, &self.weight, &self.dz, &self.x, dx, &mut self.grad_w);
            return &self.dx;
        }
        let group = self.group();
        self.dx.clear();
        if need_dx {
            self.dx.resize(batch * in_len, 0.0);
        }
        let (g, weight) = (&self.g, &self.weight);
        if let Some(thin) = Thin::of(g, f) {
            let wt = thin.weights(g, weight);
            let work = self.dz.par_chunks(THIN_GROUP * out_len).zip(self.x.par_chunks(THIN_GROUP * in_len));
            let backward = |dz: &[f32], x: &[f32], dx: Option<&mut [f32]>| {
                let mut gw = vec![0.0; f * k];
                thin_backward_group(thin, g, &wt, dz, x, &mut gw, dx, in_len, out_len);
                gw
            };
            let partials: Vec<Vec<f32>> = if need_dx {
                work.zip(self.dx.par_chunks_mut(THIN_GROUP * in_len))
                    .map(|((dz, x), dx)| backward(dz, x, Some(dx)))
                    .collect()
            } else {
                work.map(|(dz, x)| backward(dz, x, None)).collect()
            };
            let mut gw = vec![0.0; f * k];
            for p in &partials {
                gw.iter_mut().zip(p).for_each(|(g, v)| *g += v);
            }
            thin.store_grad(g, f, &gw, &mut self.grad_w);
            return &self.dx;
        }
        let work = self.dz.par_chunks(group * out_len).zip(self.x.par_chunks(group * in_len));
        // dW per group (summed below in group order); dX = col2im(dZ · W).
        let partials: Vec<Vec<f32>> = if need_dx {
            work.zip(self.dx.par_chunks_mut(group * in_len))
                .map_init(
                    || (Vec::new(), Vec::new()),
                    |(patches, dpatches), ((dz, x), dx)| {
                        let rows = dz.len() / f;
                        im2col(g, x, x.len() / in_len, patches);
                        let mut gw = vec![0.0; f * k];
                        matmul_serial(f, k, rows, dz, Op::T, patches, Op::N, &mut gw, false);
                        dpatches.resize(rows * k, 0.0);
                        matmul_serial(rows, k, f, dz, Op::N, weight, Op::N, dpatches, false);
                        col2im(g, dpatches, dx);
                        gw
                    },
                )
                .collect()
        } else {
            work.map_init(Vec::new, |patches, (dz, x)| {
                let rows = dz.len() / f;
                im2col(g, x, x.len() / in_len, patches);
                let mut gw = vec![0.0; f * k];
                matmul_serial(f, k, rows, dz, Op::T, patches, Op::N, &mut gw, false);
                gw
            })
            .collect()
        };
        self.grad_w.fill(0.0);
        for p in &partials {
            self.grad_w.iter_mut().zip(p).for_each(|(g, v)| *g += v);
        }
        &self.dx
    }

    fn params(&self) -> Vec<&[f32]> {
        vec![&self.weight, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        vec![
            ParamMut { value: &mut self.weight, grad: &mut self.grad_w, regularized: true },
            ParamMut { value: &mut self.bias, grad: &mut self.grad_b, regularized: false },
        ]
    }
}
