//! Int8 2-D convolution and depthwise convolution over HWC tensors (TFLite's
//! layouts: input `[H, W, C]`, conv weights `[C_out, KH, KW, C_in]` (OHWI),
//! depthwise weights `[KH, KW, C_in · multiplier]`), with per-output-channel
//! requantization. Padded positions hold the input zero point (the real 0.0),
//! so they add nothing to `Σ (x − zp_x) · w` and are skipped.

use super::OutputStage;
use super::fixed::{QuantizedMultiplier, requantize};
use crate::Error;

/// The shape of a 2-D window over an HWC tensor: input size, kernel, stride
/// and explicit pads (ONNX `pads` = `[top, left, bottom, right]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// Input height, width and channels.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Kernel height.
    pub k_h: usize,
    /// Kernel width.
    pub k_w: usize,
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Pads `[top, left, bottom, right]`.
    pub pads: [usize; 4],
}

impl Conv2dGeometry {
    /// Output height and width, or `None` if the window does not fit or a
    /// size is zero.
    pub fn output(&self) -> Option<(usize, usize)> {
        let h = self.in_h + self.pads[0] + self.pads[2];
        let w = self.in_w + self.pads[1] + self.pads[3];
        if self.in_c == 0 || self.k_h == 0 || self.k_w == 0 || self.stride_h == 0 || self.stride_w == 0 {
            return None;
        }
        if h < self.k_h || w < self.k_w || self.in_h == 0 || self.in_w == 0 {
            return None;
        }
        Some(((h - self.k_h) / self.stride_h + 1, (w - self.k_w) / self.stride_w + 1))
    }

    /// Input row and column under kernel tap `(ky, kx)` of output `(oy, ox)`,
    /// or `None` in the padding.
    #[inline(always)]
    fn tap(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.stride_h + ky).checked_sub(self.pads[0])?;
        let ix = (ox * self.stride_w + kx).checked_sub(self.pads[1])?;
        (iy < self.in_h && ix < self.in_w).then_some((iy, ix))
    }
}

/// A bound int8 convolution (weights OHWI, `i32` bias, per-channel multipliers).
#[derive(Clone, Copy, Debug)]
pub struct QConv2d<'a> {
    /// Window geometry.
    pub geometry: Conv2dGeometry,
    /// Weights `[C_out, KH, KW, C_in]`, symmetric int8.
    pub weights: &'a [i8],
    /// Bias `[C_out]`, scale `s_x · s_w[c]`.
    pub bias: &'a [i32],
    /// One multiplier per output channel, `s_x · s_w[c] / s_y`.
    pub multipliers: &'a [QuantizedMultiplier],
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point and clamp.
    pub stage: OutputStage,
}

impl QConv2d<'_> {
    /// Forward pass.
    ///
    /// # Shapes
    /// `x`: `[in_h, in_w, in_c]`; `y`: `[out_h, out_w, C_out]` (HWC).
    ///
    /// # Errors
    /// [`Error::LayerShape`] if the parts disagree, [`Error::InputShape`] if
    /// `x` or `y` has the wrong length.
    pub fn forward(&self, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
        let g = &self.geometry;
        let (oh, ow) = g.output().ok_or(Error::LayerShape)?;
        let oc = self.bias.len();
        let taps = g.k_h * g.k_w * g.in_c;
        if self.weights.len() != oc * taps || self.multipliers.len() != oc {
            return Err(Error::LayerShape);
        }
        if x.len() != g.in_h * g.in_w * g.in_c || y.len() != oh * ow * oc {
            return Err(Error::InputShape);
        }
        let zp = self.input_zero_point;
        for (p, out) in y.chunks_exact_mut(oc).enumerate() {
            let (oy, ox) = (p / ow, p % ow);
            for (c, yc) in out.iter_mut().enumerate() {
                let w = &self.weights[c * taps..(c + 1) * taps];
                let mut acc = self.bias[c];
                for ky in 0..g.k_h {
                    for kx in 0..g.k_w {
                        let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else { continue };
                        let xs = &x[(iy * g.in_w + ix) * g.in_c..][..g.in_c];
                        let ws = &w[(ky * g.k_w + kx) * g.in_c..][..g.in_c];
                        for (&xv, &wv) in xs.iter().zip(ws) {
                            acc = acc.wrapping_add((xv as i32 - zp) * wv as i32);
                        }
                    }
                }
                *yc = requantize(acc, self.multipliers[c], self.stage);
            }
        }
        Ok(())
    }
}

/// A bound int8 depthwise convolution: output channel `c · multiplier + m`
/// reads input channel `c` only.
#[derive(Clone, Copy, Debug)]
pub struct QDepthwise<'a> {
    /// Window geometry (`in_c` is the input channel count).
    pub geometry: Conv2dGeometry,
    /// Channel multiplier (outputs per input channel, ≥ 1).
    pub multiplier: usize,
    /// Weights `[KH, KW, in_c · multiplier]`, symmetric int8.
    pub weights: &'a [i8],
    /// Bias `[in_c · multiplier]`.
    pub bias: &'a [i32],
    /// One multiplier per output channel.
    pub multipliers: &'a [QuantizedMultiplier],
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point and clamp.
    pub stage: OutputStage,
}

impl QDepthwise<'_> {
    /// Forward pass.
    ///
    /// # Shapes
    /// `x`: `[in_h, in_w, in_c]`; `y`: `[out_h, out_w, in_c · multiplier]`.
    ///
    /// # Errors
    /// [`Error::LayerShape`] if the parts disagree, [`Error::InputShape`] if
    /// `x` or `y` has the wrong length.
    pub fn forward(&self, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
        let g = &self.geometry;
        let (oh, ow) = g.output().ok_or(Error::LayerShape)?;
        let oc = g.in_c * self.multiplier;
        let ok = self.multiplier > 0
            && self.weights.len() == g.k_h * g.k_w * oc
            && self.bias.len() == oc
            && self.multipliers.len() == oc;
        if !ok {
            return Err(Error::LayerShape);
        }
        if x.len() != g.in_h * g.in_w * g.in_c || y.len() != oh * ow * oc {
            return Err(Error::InputShape);
        }
        let zp = self.input_zero_point;
        for (p, out) in y.chunks_exact_mut(oc).enumerate() {
            let (oy, ox) = (p / ow, p % ow);
            for (c, yc) in out.iter_mut().enumerate() {
                let ic = c / self.multiplier;
                let mut acc = self.bias[c];
                for ky in 0..g.k_h {
                    for kx in 0..g.k_w {
                        let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else { continue };
                        let xv = x[(iy * g.in_w + ix) * g.in_c + ic] as i32 - zp;
                        let wv = self.weights[(ky * g.k_w + kx) * oc + c] as i32;
                        acc = acc.wrapping_add(xv * wv);
                    }
                }
                *yc = requantize(acc, self.multipliers[c], self.stage);
            }
        }
        Ok(())
    }
}
