//! The activations in `f64` (ONNX `Relu`, `Sigmoid`, `Tanh`, `Softmax` on
//! the last axis; `Linear` is the identity).

use ember_runtime::spec::Activation;

/// Applies an activation in `f64` to one sample's pre-activations (softmax
/// shifted by the maximum, as the exact result does not depend on it).
///
/// # Shapes
/// `z`: `[n]`, in place.
pub fn act_f64(act: Activation, z: &mut [f64]) {
    match act {
        Activation::Linear => {}
        Activation::Relu => z.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Sigmoid => z.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        Activation::Tanh => z.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Softmax => {
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
            z.iter_mut().for_each(|v| *v = (*v - max).exp() / sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_relu_clips() {
        let mut z = [1.0, 2.0, 3.0];
        act_f64(Activation::Softmax, &mut z);
        assert!((z.iter().sum::<f64>() - 1.0).abs() < 1e-12 && z[0] < z[1] && z[1] < z[2], "{z:?}");
        let mut r = [-1.0, 0.5];
        act_f64(Activation::Relu, &mut r);
        assert_eq!(r, [0.0, 0.5]);
    }
}
