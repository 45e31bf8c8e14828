//! Max and average pooling of int8 HWC tensors. The output has the input's
//! scale and zero point (as TFLite requires), so no requantization is needed;
//! padded positions are ignored (ONNX `MaxPool`, and `AveragePool` with
//! `count_include_pad = 0`).

use super::conv::Conv2dGeometry;
use crate::Error;

/// The window of a pooling layer (`geometry.k_*`, strides and pads; `in_c`
/// is the channel count, kept by the pool).
pub type PoolGeometry = Conv2dGeometry;

fn check(g: &PoolGeometry, x: &[i8], y: &[i8]) -> Result<(usize, usize), Error> {
    let (oh, ow) = g.output().ok_or(Error::LayerShape)?;
    if x.len() != g.in_h * g.in_w * g.in_c || y.len() != oh * ow * g.in_c {
        return Err(Error::InputShape);
    }
    Ok((oh, ow))
}

/// Calls `f(pixel)` with the index `iy · in_w + ix` of every valid input
/// pixel under the window of output `(oy, ox)`.
#[inline(always)]
fn taps(g: &PoolGeometry, oy: usize, ox: usize, mut f: impl FnMut(usize)) {
    for ky in 0..g.k_h {
        let Some(iy) = (oy * g.stride_h + ky).checked_sub(g.pads[0]).filter(|&v| v < g.in_h) else { continue };
        for kx in 0..g.k_w {
            let Some(ix) = (ox * g.stride_w + kx).checked_sub(g.pads[1]).filter(|&v| v < g.in_w) else { continue };
            f(iy * g.in_w + ix);
        }
    }
}

/// Calls `f(channel, value)` for every input element under the window of
/// output `(oy, ox)`.
#[inline(always)]
fn window(g: &PoolGeometry, x: &[i8], oy: usize, ox: usize, mut f: impl FnMut(usize, i8)) {
    taps(g, oy, ox, |pix| {
        for (c, &v) in x[pix * g.in_c..][..g.in_c].iter().enumerate() {
            f(c, v);
        }
    });
}

/// Max pooling; an all-padding window gives −128.
///
/// # Shapes
/// `x`: `[in_h, in_w, C]`; `y`: `[out_h, out_w, C]`.
///
/// # Errors
/// [`Error::LayerShape`] for a window that does not fit, [`Error::InputShape`]
/// for wrong buffer lengths.
pub fn max_pool_i8(g: &PoolGeometry, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
    let (_, ow) = check(g, x, y)?;
    for (p, out) in y.chunks_exact_mut(g.in_c).enumerate() {
        out.fill(i8::MIN);
        window(g, x, p / ow, p % ow, |c, v| out[c] = out[c].max(v));
    }
    Ok(())
}

/// Average pooling over the valid (non-padded) elements, the quotient rounded
/// half away from zero as TFLite's reference does, then clamped to
/// `[act_min, act_max]`. An all-padding window gives the clamp of 0.
///
/// # Shapes
/// `x`: `[in_h, in_w, C]`; `y`: `[out_h, out_w, C]`.
///
/// # Errors
/// [`Error::LayerShape`] for a window that does not fit, [`Error::InputShape`]
/// for wrong buffer lengths.
pub fn avg_pool_i8(g: &PoolGeometry, x: &[i8], y: &mut [i8], act_min: i8, act_max: i8) -> Result<(), Error> {
    let (_, ow) = check(g, x, y)?;
    for (p, out) in y.chunks_exact_mut(g.in_c).enumerate() {
        let (oy, ox) = (p / ow, p % ow);
        for (c, yc) in out.iter_mut().enumerate() {
            let (mut sum, mut count) = (0i32, 0i32);
            taps(g, oy, ox, |pix| {
                sum += x[pix * g.in_c + c] as i32;
                count += 1;
            });
            let avg = match count {
                0 => 0,
                n if sum >= 0 => (sum + n / 2) / n,
                n => (sum - n / 2) / n,
            };
            *yc = avg.clamp(act_min as i32, act_max as i32) as i8;
        }
    }
    Ok(())
}
