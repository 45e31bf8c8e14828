//! The `Dense` reference, ONNX `Gemm` (`transB = 1`) then the activation:
//! `y = act(x · Wᵀ + b)` with `W` row-major `[units, inputs]`.

use ember_runtime::spec::{Activation, LayerSpec};

use super::act_f64;

/// Pre-activations of one dense layer for one sample, in `f64`:
/// `z[o] = b[o] + Σ_i W[o, i] x[i]` with `W` row-major `[units, inputs]`.
///
/// # Shapes
/// `w`: `[units, inputs]`; `b`: `[units]`; `x`: `[inputs]` → `[units]`.
pub fn dense_pre_f64(w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
    let n_in = x.len();
    b.iter()
        .enumerate()
        .map(|(o, &bo)| bo + w[o * n_in..(o + 1) * n_in].iter().zip(x).map(|(w, x)| w * x).sum::<f64>())
        .collect()
}

/// One sample through one dense layer: [`dense_pre_f64`], then the activation.
///
/// # Shapes
/// `w`: `[units, inputs]`; `b`: `[units]`; `x`: `[inputs]` → `[units]`.
pub fn dense_f64(w: &[f64], b: &[f64], activation: Activation, x: &[f64]) -> Vec<f64> {
    let mut z = dense_pre_f64(w, b, x);
    act_f64(activation, &mut z);
    z
}

/// The naive `f64` forward pass of dense layers over a batch.
///
/// # Shapes
/// `params`: per layer `[units, inputs]` weight then `[units]` bias;
/// `x`: `[batch, inputs of layer 0]` → `[batch, units of the last layer]`.
pub fn forward_f64(layers: &[LayerSpec], params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    let n_in = layers[0].input_len();
    let mut out = Vec::new();
    for sample in x.chunks(n_in) {
        let mut cur = sample.to_vec();
        for (l, spec) in layers.iter().enumerate() {
            cur = dense_f64(&params[2 * l], &params[2 * l + 1], spec.activation(), &cur);
        }
        out.extend(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_of_known_values() {
        // W = [[1, 2], [-3, 0.5]], b = [0.5, -1], x = [1, 2]: z = [5.5, -3].
        let (w, b) = ([1.0, 2.0, -3.0, 0.5], [0.5, -1.0]);
        assert_eq!(dense_pre_f64(&w, &b, &[1.0, 2.0]), [5.5, -3.0]);
        assert_eq!(dense_f64(&w, &b, Activation::Relu, &[1.0, 2.0]), [5.5, 0.0]);
    }
}
