//! Direct kernels for the thin convolutions, where im2col + GEMM is slow:
//! one output channel (the last layer of an image decoder) and one input
//! channel (the first layer on a grey image).

use ember_runtime::kernels::dot;
use ember_runtime::spec::Window2d;

/// Samples per rayon task on the thin paths.
pub(super) const THIN_GROUP: usize = 8;

/// Direct kernels for the thin convolutions, where im2col + GEMM is slow:
/// one output channel (the last layer of an image decoder) and one input
/// channel (the first layer on a grey image).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Thin {
    /// `filters = 1`: one dot product per window row (the runtime kernel).
    OneFilter,
    /// `channels = 1`: each input pixel scales a row of filters.
    OneChannel,
}

impl Thin {
    pub(super) fn of(g: &Window2d, filters: usize) -> Option<Self> {
        if g.dw != 1 {
            None
        } else if filters == 1 {
            Some(Thin::OneFilter)
        } else if g.c == 1 {
            Some(Thin::OneChannel)
        } else {
            None
        }
    }

    /// The weights in this path's layout: OHWI as stored for
    /// [`Thin::OneFilter`]; `[kh·kw, filters]` for [`Thin::OneChannel`].
    pub(super) fn weights(self, g: &Window2d, weight: &[f32]) -> Vec<f32> {
        match self {
            Thin::OneFilter => weight.to_vec(),
            Thin::OneChannel => transpose(weight, weight.len() / (g.kh * g.kw), g.kh * g.kw),
        }
    }

    /// Writes the gradient accumulated in this path's layout as OHWI.
    pub(super) fn store_grad(self, g: &Window2d, filters: usize, gw: &[f32], grad_w: &mut [f32]) {
        match self {
            Thin::OneFilter => grad_w.copy_from_slice(gw),
            Thin::OneChannel => grad_w.copy_from_slice(&transpose(gw, g.kh * g.kw, filters)),
        }
    }

    /// One sample, before the activation.
    ///
    /// # Shapes
    /// `x`: `[h, w, c]` → `y`: `[oh, ow, filters]`.
    #[inline(always)]
    fn forward(self, g: &Window2d, wt: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
        match self {
            Thin::OneFilter => one_filter_forward(g, wt, bias[0], x, y),
            Thin::OneChannel => match bias.len() {
                8 => one_channel_forward::<8>(g, wt, bias, x, y),
                16 => one_channel_forward::<16>(g, wt, bias, x, y),
                32 => one_channel_forward::<32>(g, wt, bias, x, y),
                _ => one_channel_forward_any(g, wt, bias, x, y),
            },
        }
    }

    /// One sample: adds the weight gradient (this path's layout) into `gw`
    /// and, if asked, writes the input gradient.
    ///
    /// # Shapes
    /// `dz`: `[oh, ow, filters]` (at the pre-activation), `x`: `[h, w, c]`,
    /// `dx`: `[h, w, c]` (overwritten).
    #[inline(always)]
    fn backward(self, g: &Window2d, wt: &[f32], dz: &[f32], x: &[f32], gw: &mut [f32], mut dx: Option<&mut [f32]>) {
        if let Some(dx) = dx.as_deref_mut() {
            dx.fill(0.0);
        }
        let f = gw.len() / (g.kh * g.kw * g.c);
        match (self, f) {
            (Thin::OneFilter, _) => one_filter_backward(g, wt, dz, x, gw, dx),
            (Thin::OneChannel, 8) => one_channel_backward::<8>(g, wt, dz, x, gw, dx),
            (Thin::OneChannel, 16) => one_channel_backward::<16>(g, wt, dz, x, gw, dx),
            (Thin::OneChannel, 32) => one_channel_backward::<32>(g, wt, dz, x, gw, dx),
            (Thin::OneChannel, _) => one_channel_backward_any(g, wt, dz, x, gw, dx),
        }
    }
}

/// [`Thin::backward`] for one output channel: each window row of the input
/// adds into the weight gradient, each weight row into the input gradient.
#[inline(always)]
fn one_filter_backward(g: &Window2d, w: &[f32], dz: &[f32], x: &[f32], gw: &mut [f32], mut dx: Option<&mut [f32]>) {
    for (p, &d) in dz.iter().enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        let (kx0, kx1, ix0) = g.columns(ox);
        let span = (kx1 - kx0) * g.c;
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            let (at, wo) = ((iy * g.w + ix0) * g.c, (ky * g.kw + kx0) * g.c);
            let xs = &x[at..at + span];
            gw[wo..wo + span].iter_mut().zip(xs).for_each(|(g, x)| *g += d * x);
            if let Some(dx) = dx.as_deref_mut() {
                let ws = &w[wo..wo + span];
                dx[at..at + span].iter_mut().zip(ws).for_each(|(g, w)| *g += d * w);
            }
        }
    }
}

/// [`Thin::backward`] for one input channel, `F` filters: each input pixel
/// under the window scales the output gradient into a row of the `[kh·kw, F]`
/// weight gradient (fixed-size rows, so the loops unroll).
#[inline(always)]
fn one_channel_backward<const F: usize>(
    g: &Window2d,
    wt: &[f32],
    dz: &[f32],
    x: &[f32],
    gw: &mut [f32],
    mut dx: Option<&mut [f32]>,
) {
    for (p, d) in dz.chunks_exact(F).enumerate() {
        let d: &[f32; F] = d.try_into().expect("F gradients");
        let (oy, ox) = (p / g.ow, p % g.ow);
        let (kx0, kx1, ix0) = g.columns(ox);
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            for kx in kx0..kx1 {
                let at = iy * g.w + ix0 + kx - kx0;
                let v = x[at];
                let row = (ky * g.kw + kx) * F;
                let gr: &mut [f32; F] = (&mut gw[row..row + F]).try_into().expect("F weights");
                for k in 0..F {
                    gr[k] += v * d[k];
                }
                if let Some(dx) = dx.as_deref_mut() {
                    let wr: &[f32; F] = wt[row..row + F].try_into().expect("F weights");
                    dx[at] += wr.iter().zip(d).map(|(w, d)| w * d).sum::<f32>();
                }
            }
        }
    }
}

/// [`one_channel_backward`] for any number of filters.
#[inline(always)]
fn one_channel_backward_any(
    g: &Window2d,
    wt: &[f32],
    dz: &[f32],
    x: &[f32],
    gw: &mut [f32],
    mut dx: Option<&mut [f32]>,
) {
    let f = gw.len() / (g.kh * g.kw);
    for (p, d) in dz.chunks_exact(f).enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        let (kx0, kx1, ix0) = g.columns(ox);
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            for kx in kx0..kx1 {
                let at = iy * g.w + ix0 + kx - kx0;
                let v = x[at];
                let row = (ky * g.kw + kx) * f;
                gw[row..row + f].iter_mut().zip(d).for_each(|(g, d)| *g += v * d);
                if let Some(dx) = dx.as_deref_mut() {
                    dx[at] += wt[row..row + f].iter().zip(d).map(|(w, d)| w * d).sum::<f32>();
                }
            }
        }
    }
}

/// One output channel: one runtime `dot` per window row inside the input,
/// the runtime kernel's order (so the same bits), inlined into the SIMD build.
#[inline(always)]
fn one_filter_forward(g: &Window2d, w: &[f32], bias: f32, x: &[f32], y: &mut [f32]) {
    for (p, out) in y.iter_mut().enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        let (kx0, kx1, ix0) = g.columns(ox);
        let span = (kx1 - kx0) * g.c;
        let mut acc = bias;
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            let at = (iy * g.w + ix0) * g.c;
            let wo = (ky * g.kw + kx0) * g.c;
            acc += dot(&w[wo..wo + span], &x[at..at + span]);
        }
        *out = acc;
    }
}

/// One input channel, `F` filters held in registers: each input pixel under
/// the window scales a row of the `[kh·kw, F]` weights.
#[inline(always)]
fn one_channel_forward<const F: usize>(g: &Window2d, wt: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let bias: &[f32; F] = bias.try_into().expect("F biases");
    for (p, out) in y.chunks_exact_mut(F).enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        let mut acc = *bias;
        let (kx0, kx1, ix0) = g.columns(ox);
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            let xs = &x[iy * g.w + ix0..][..kx1 - kx0];
            for (kx, &v) in (kx0..kx1).zip(xs) {
                let w: &[f32; F] = wt[(ky * g.kw + kx) * F..][..F].try_into().expect("F weights");
                for k in 0..F {
                    acc[k] += v * w[k];
                }
            }
        }
        out.copy_from_slice(&acc);
    }
}

/// [`one_channel_forward`] for any number of filters.
#[inline(always)]
fn one_channel_forward_any(g: &Window2d, wt: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let f = bias.len();
    for (p, out) in y.chunks_exact_mut(f).enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        out.copy_from_slice(bias);
        let (kx0, kx1, ix0) = g.columns(ox);
        for ky in 0..g.kh {
            let Some(iy) = g.row(oy, ky) else { continue };
            let xs = &x[iy * g.w + ix0..][..kx1 - kx0];
            for (kx, &v) in (kx0..kx1).zip(xs) {
                let w = &wt[(ky * g.kw + kx) * f..][..f];
                out.iter_mut().zip(w).for_each(|(o, w)| *o += v * w);
            }
        }
    }
}

crate::simd_fn! {
    /// [`Thin::forward`] on a group of samples.
    pub(super) fn thin_forward_group(
        thin: Thin,
        g: &Window2d,
        wt: &[f32],
        bias: &[f32],
        x: &[f32],
        y: &mut [f32],
        in_len: usize,
        out_len: usize,
    ) {
        for (y, x) in y.chunks_exact_mut(out_len).zip(x.chunks_exact(in_len)) {
            thin.forward(g, wt, bias, x, y);
        }
    }
}

crate::simd_fn! {
    /// [`Thin::backward`] on a group of samples.
    pub(super) fn thin_backward_group(
        thin: Thin,
        g: &Window2d,
        wt: &[f32],
        dz: &[f32],
        x: &[f32],
        gw: &mut [f32],
        dx: Option<&mut [f32]>,
        in_len: usize,
        out_len: usize,
    ) {
        let mut dx = dx;
        for (s, (dz, x)) in dz.chunks_exact(out_len).zip(x.chunks_exact(in_len)).enumerate() {
            let dx = dx.as_deref_mut().map(|d| &mut d[s * in_len..(s + 1) * in_len]);
            thin.backward(g, wt, dz, x, gw, dx);
        }
    }
}

/// Row-major `[rows, cols]` → `[cols, rows]`.
fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; a.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = a[r * cols + c];
        }
    }
    t
}
