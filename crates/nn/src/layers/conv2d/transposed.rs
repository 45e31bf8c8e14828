//! The backward pass of a stride-1, undilated convolution as a convolution
//! of the output gradient: one im2col of `dZ` over the input grid (the
//! kernel turned by 180°, the padding mirrored) gives both gradients by
//! GEMM, `dX = dP · W'` and `dW' = dPᵀ · X`, with no im2col of the input and
//! no scatter (col2im) of patch gradients.
//!
//! Groups have a fixed size that depends on the shapes only, and per-group
//! weight gradients are summed in group order, so results do not depend on
//! the number of threads.

use ember_runtime::spec::Window2d;
use rayon::prelude::*;

use super::{PATCH_BUDGET, im2col};
use crate::gemm::{Op, matmul_serial_narrow};

/// The window that runs over `dZ` (`[oh, ow, filters]`) to give the input
/// gradient on the input grid (`[h, w]`): window cell `(ky', kx')` is the
/// forward cell `(kh-1-ky', kw-1-kx')`. `None` for a strided or dilated
/// convolution.
pub(super) fn geometry(g: &Window2d, filters: usize) -> Option<Window2d> {
    let unit = g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1;
    if !unit || g.pad_top >= g.kh || g.pad_left >= g.kw {
        return None;
    }
    Some(Window2d {
        h: g.oh,
        w: g.ow,
        c: filters,
        kh: g.kh,
        kw: g.kw,
        sh: 1,
        sw: 1,
        dh: 1,
        dw: 1,
        oh: g.h,
        ow: g.w,
        pad_top: g.kh - 1 - g.pad_top,
        pad_left: g.kw - 1 - g.pad_left,
    })
}

/// Index in the turned layout `[kh, kw, filters, c]` of OHWI weight
/// `(f, ky, kx, 0)`.
fn turned(g: &Window2d, filters: usize, f: usize, ky: usize, kx: usize) -> usize {
    (((g.kh - 1 - ky) * g.kw + (g.kw - 1 - kx)) * filters + f) * g.c
}

/// Both gradients of a stride-1 convolution. `gt` is [`geometry`]'s window;
/// `grad_w` (OHWI) is overwritten, `dx` (if given) too.
///
/// # Shapes
/// `dz`: `[batch, oh, ow, filters]` (at the pre-activation), `x` and `dx`:
/// `[batch, h, w, c]`, `weight` and `grad_w`: `[filters, kh, kw, c]`.
pub(super) fn backward(
    g: &Window2d,
    gt: &Window2d,
    weight: &[f32],
    dz: &[f32],
    x: &[f32],
    dx: Option<&mut [f32]>,
    grad_w: &mut [f32],
) {
    let (f, c) = (gt.c, g.c);
    let (in_len, out_len, kt) = (g.h * g.w * c, g.oh * g.ow * f, g.kh * g.kw * f);
    let group = (PATCH_BUDGET / (g.h * g.w * kt).max(1)).max(1);
    let mut wt = vec![0.0; weight.len()];
    for fi in 0..f {
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let (from, to) = (((fi * g.kh + ky) * g.kw + kx) * c, turned(g, f, fi, ky, kx));
                wt[to..to + c].copy_from_slice(&weight[from..from + c]);
            }
        }
    }
    let wt = &wt;
    let run = |(dp, t): &mut (Vec<f32>, Vec<f32>), dz: &[f32], x: &[f32], dx: Option<&mut [f32]>| {
        let samples = x.len() / in_len;
        let pixels = samples * g.h * g.w;
        im2col(gt, dz, samples, dp);
        let mut gw = vec![0.0; kt * c];
        matmul_serial_narrow(kt, c, pixels, dp, Op::T, x, Op::N, &mut gw, false, t);
        if let Some(dx) = dx {
            matmul_serial_narrow(pixels, c, kt, dp, Op::N, wt, Op::N, dx, false, t);
        }
        gw
    };
    let work = dz.par_chunks(group * out_len).zip(x.par_chunks(group * in_len));
    let partials: Vec<Vec<f32>> = match dx {
        Some(dx) => work
            .zip(dx.par_chunks_mut(group * in_len))
            .map_init(Default::default, |s, ((dz, x), dx)| run(s, dz, x, Some(dx)))
            .collect(),
        None => work.map_init(Default::default, |s, (dz, x)| run(s, dz, x, None)).collect(),
    };
    let mut gw = vec![0.0; kt * c];
    for p in &partials {
        gw.iter_mut().zip(p).for_each(|(g, v)| *g += v);
    }
    for fi in 0..f {
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let (to, from) = (((fi * g.kh + ky) * g.kw + kx) * c, turned(g, f, fi, ky, kx));
                grad_w[to..to + c].copy_from_slice(&gw[from..from + c]);
            }
        }
    }
}
