//! Depthwise 2-D convolution (depth multiplier 1) on HWC samples, weight
//! `[kh, kw, channels]`: direct loops over the window cells (every channel
//! at once, so they vectorise), one rayon task per group of samples;
//! per-group weight gradients are summed in group order, so results do not
//! depend on the number of threads.

use ember_runtime::Activation;
use ember_runtime::spec::{LayerSpec, Window2d};
use rand::{Rng, RngExt};
use rayon::prelude::*;

use super::{ParamMut, TrainLayer, activation};

/// Samples per rayon task.
const GROUP: usize = 8;

/// A trainable depthwise convolution.
pub struct DepthwiseConv2dLayer {
    spec: LayerSpec,
    g: Window2d,
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

impl DepthwiseConv2dLayer {
    /// Glorot-uniform kernel as Keras's `DepthwiseConv2D` (its kernel
    /// `[kh, kw, c, 1]`: fan-in `kh·kw·c`, fan-out `kh·kw`), zero bias.
    /// Panics if the spec is not a valid [`LayerSpec::DepthwiseConv2d`].
    pub fn new(spec: &LayerSpec, rng: &mut impl Rng) -> Self {
        let g = Self::geometry(spec);
        let window = g.kh * g.kw;
        let limit = (6.0 / (window * (g.c + 1)) as f64).sqrt() as f32;
        let weight = (0..window * g.c).map(|_| rng.random_range(-limit..limit)).collect();
        Self::from_params(spec, weight, vec![0.0; g.c])
    }

    /// A layer with the given weight (`[kh, kw, channels]`) and bias (`[channels]`).
    pub fn from_params(spec: &LayerSpec, weight: Vec<f32>, bias: Vec<f32>) -> Self {
        let g = Self::geometry(spec);
        assert_eq!(weight.len(), g.kh * g.kw * g.c, "depthwise weight must be [kh, kw, channels]");
        assert_eq!(bias.len(), g.c, "depthwise bias must be [channels]");
        DepthwiseConv2dLayer {
            spec: *spec,
            g,
            activation: spec.activation(),
            grad_w: vec![0.0; weight.len()],
            grad_b: vec![0.0; g.c],
            weight,
            bias,
            x: Vec::new(),
            y: Vec::new(),
            dz: Vec::new(),
            dx: Vec::new(),
        }
    }

    fn geometry(spec: &LayerSpec) -> Window2d {
        let (LayerSpec::DepthwiseConv2d { .. }, Some(g), Ok(())) = (spec, spec.window(), spec.validate()) else {
            panic!("not a valid depthwise conv2d spec: {spec:?}")
        };
        g
    }
}

/// Calls `f(output pixel, window cell, input offset)` for every window cell
/// inside the input, in window order.
#[inline(always)]
fn each_cell(g: &Window2d, mut f: impl FnMut(usize, usize, usize)) {
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            for ky in 0..g.kh {
                let Some(iy) = g.row(oy, ky) else { continue };
                for kx in 0..g.kw {
                    if let Some(ix) = g.col(ox, kx) {
                        f(oy * g.ow + ox, ky * g.kw + kx, (iy * g.w + ix) * g.c);
                    }
                }
            }
        }
    }
}

impl TrainLayer for DepthwiseConv2dLayer {
    fn spec(&self) -> LayerSpec {
        self.spec
    }

    /// # Shapes
    /// `x`: `[batch, h, w, c]` → `[batch, oh, ow, c]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        let g = self.g;
        let (in_len, out_len, c) = (g.h * g.w * g.c, g.oh * g.ow * g.c, g.c);
        assert_eq!(x.len(), batch * in_len, "depthwise input must be [batch, h, w, c]");
        if train {
            self.x.clear();
            self.x.extend_from_slice(x);
        }
        self.y.resize(batch * out_len, 0.0);
        let (w, b, act) = (&self.weight, &self.bias, self.activation);
        self.y.par_chunks_mut(GROUP * out_len).zip(x.par_chunks(GROUP * in_len)).for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(out_len).zip(x.chunks_exact(in_len)) {
                for out in y.chunks_exact_mut(c) {
                    out.copy_from_slice(b);
                }
                each_cell(&g, |p, cell, at| {
                    let (out, ws) = (&mut y[p * c..(p + 1) * c], &w[cell * c..(cell + 1) * c]);
                    out.iter_mut().zip(ws).zip(&x[at..at + c]).for_each(|((o, w), v)| *o += w * v);
                });
            }
            activation::forward(act, y, c);
        });
        &self.y
    }

    /// # Shapes
    /// `dy`: `[batch, oh, ow, c]` → `[batch, h, w, c]`.
    fn backward(&mut self, dy: &[f32], batch: usize, dy_is_preactivation: bool, need_dx: bool) -> &[f32] {
        let g = self.g;
        let (in_len, out_len, c) = (g.h * g.w * g.c, g.oh * g.ow * g.c, g.c);
        assert_eq!(dy.len(), batch * out_len, "depthwise output gradient must be [batch, oh, ow, c]");
        assert_eq!(self.x.len(), batch * in_len, "backward needs a training forward pass first");
        self.dz.clear();
        self.dz.extend_from_slice(dy);
        if !dy_is_preactivation {
            let act = self.activation;
            self.dz.par_chunks_mut(GROUP * out_len).zip(self.y.par_chunks(GROUP * out_len)).for_each(|(dz, y)| {
                activation::backward(act, y, dz, c);
            });
        }
        self.dx.clear();
        if need_dx {
            self.dx.resize(batch * in_len, 0.0);
        }
        let (w, x, dz) = (&self.weight, &self.x, &self.dz);
        let grads = |dz: &[f32], x: &[f32], mut dx: Option<&mut [f32]>| {
            let (mut gw, mut gb) = (vec![0.0f32; w.len()], vec![0.0f32; c]);
            for (s, (dz, x)) in dz.chunks_exact(out_len).zip(x.chunks_exact(in_len)).enumerate() {
                for d in dz.chunks_exact(c) {
                    gb.iter_mut().zip(d).for_each(|(g, d)| *g += d);
                }
                let mut dxs = dx.as_deref_mut().map(|d| &mut d[s * in_len..(s + 1) * in_len]);
                each_cell(&g, |p, cell, at| {
                    let d = &dz[p * c..(p + 1) * c];
                    let gws = &mut gw[cell * c..(cell + 1) * c];
                    gws.iter_mut().zip(d).zip(&x[at..at + c]).for_each(|((g, d), v)| *g += d * v);
                    if let Some(dxs) = dxs.as_deref_mut() {
                        let ws = &w[cell * c..(cell + 1) * c];
                        dxs[at..at + c].iter_mut().zip(d).zip(ws).for_each(|((g, d), w)| *g += d * w);
                    }
                });
            }
            (gw, gb)
        };
        let work = dz.par_chunks(GROUP * out_len).zip(x.par_chunks(GROUP * in_len));
        let parts: Vec<(Vec<f32>, Vec<f32>)> = if need_dx {
            work.zip(self.dx.par_chunks_mut(GROUP * in_len)).map(|((dz, x), dx)| grads(dz, x, Some(dx))).collect()
        } else {
            work.map(|(dz, x)| grads(dz, x, None)).collect()
        };
        self.grad_w.fill(0.0);
        self.grad_b.fill(0.0);
        for (gw, gb) in &parts {
            self.grad_w.iter_mut().zip(gw).for_each(|(g, v)| *g += v);
            self.grad_b.iter_mut().zip(gb).for_each(|(g, v)| *g += v);
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
