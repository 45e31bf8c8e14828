//! Int8 fully connected layer (ONNX `QLinearMatMul` + bias, TFLite
//! `FullyConnected`), after CMSIS-NN's `arm_fully_connected_s8`.
//!
//! `y[o] = clamp(zp_y + M[o] · (b[o] + Σᵢ (x[i] − zp_x) · W[o, i]))`, with
//! `W` int8 symmetric per output channel, `b` the `i32` bias, `M[o] =
//! s_x · s_W[o] / s_y`. The input-offset term `−zp_x · Σᵢ W[o, i]` does not
//! depend on the input: [`fold_input_offset`] adds it to the bias once, when
//! the layer is bound, and the kernel is then a plain int8 dot product per row.

use super::OutputStage;
use super::dot::{dot_i8, dot4_i8};
use super::fixed::{QuantizedMultiplier, requantize};
use crate::Error;

/// `out[o] = bias[o] − input_zero_point · Σᵢ weights[o, i]` (CMSIS-NN's
/// kernel sums), for `weights` of shape `[outputs, inputs]` row-major.
///
/// # Errors
/// [`Error::LayerShape`] if the lengths disagree or a folded bias leaves the
/// `i32` range.
pub fn fold_input_offset(
    weights: &[i8],
    bias: &[i32],
    input_zero_point: i32,
    inputs: usize,
    out: &mut [i32],
) -> Result<(), Error> {
    let outputs = bias.len();
    if inputs == 0 || weights.len() != outputs * inputs || out.len() != outputs {
        return Err(Error::LayerShape);
    }
    for ((o, row), &b) in out.iter_mut().zip(weights.chunks_exact(inputs)).zip(bias) {
        let sum: i64 = row.iter().map(|&w| w as i64).sum();
        let v = b as i64 - input_zero_point as i64 * sum;
        *o = i32::try_from(v).map_err(|_| Error::LayerShape)?;
    }
    Ok(())
}

/// A bound int8 dense layer: views of its weights, folded bias and per-channel
/// multipliers (all may live in flash).
#[derive(Clone, Copy, Debug)]
pub struct QDense<'a> {
    weights: &'a [i8],
    folded_bias: &'a [i32],
    multipliers: &'a [QuantizedMultiplier],
    inputs: usize,
    stage: OutputStage,
}

impl<'a> QDense<'a> {
    /// Binds the parts: `weights` `[outputs, inputs]`, `folded_bias` from
    /// [`fold_input_offset`] (`outputs` long), `multipliers` one per output
    /// channel (or a single one for per-tensor quantization).
    ///
    /// # Errors
    /// [`Error::LayerShape`] if the lengths disagree.
    pub fn new(
        weights: &'a [i8],
        folded_bias: &'a [i32],
        multipliers: &'a [QuantizedMultiplier],
        inputs: usize,
        stage: OutputStage,
    ) -> Result<Self, Error> {
        let outputs = folded_bias.len();
        let per_channel_ok = multipliers.len() == outputs || multipliers.len() == 1;
        if inputs == 0 || weights.len() != outputs * inputs || !per_channel_ok {
            return Err(Error::LayerShape);
        }
        Ok(Self { weights, folded_bias, multipliers, inputs, stage })
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.folded_bias.len()
    }

    /// Forward pass.
    ///
    /// # Shapes
    /// `x`: `[inputs]` int8 with the input zero point the bias was folded
    /// with; `y`: `[outputs]` int8.
    ///
    /// # Errors
    /// [`Error::InputShape`] if `x` or `y` has the wrong length.
    pub fn forward(&self, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
        if x.len() != self.inputs || y.len() != self.outputs() {
            return Err(Error::InputShape);
        }
        let n = self.inputs;
        let m = |o: usize| self.multipliers[if self.multipliers.len() == 1 { 0 } else { o }];
        // four rows at a time share each input load (dot4_i8), then the rest one by one
        let blocked = y.len() - y.len() % 4;
        for (b, ys) in y[..blocked].chunks_exact_mut(4).enumerate() {
            let o = 4 * b;
            let w = |k: usize| &self.weights[(o + k) * n..(o + k + 1) * n];
            let acc = dot4_i8(x, [w(0), w(1), w(2), w(3)]);
            for (k, (yo, a)) in ys.iter_mut().zip(acc).enumerate() {
                *yo = requantize(self.folded_bias[o + k].wrapping_add(a), m(o + k), self.stage);
            }
        }
        for (o, yo) in y.iter_mut().enumerate().skip(blocked) {
            let acc = self.folded_bias[o].wrapping_add(dot_i8(x, &self.weights[o * n..(o + 1) * n]));
            *yo = requantize(acc, m(o), self.stage);
        }
        Ok(())
    }
}
