//! Activations over batches, forward and backward (from the output `y`).
//!
//! The exponentials are the branch-free ones of the recurrent layers (a few
//! ulps from libm's, and vectorised): a scalar `expf` per softmax entry was
//! 37% of an epoch of the 250-way word model (measured with perf).

use ember_runtime::Activation;

use crate::math::{exp, sigmoid, tanh};

/// Applies `act` in place to `[batch, n]` pre-activations.
pub fn forward(act: Activation, y: &mut [f32], n: usize) {
    match act {
        Activation::Linear => {}
        Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Sigmoid => y.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Activation::Tanh => y.iter_mut().for_each(|v| *v = tanh(*v)),
        Activation::Softmax => y.chunks_mut(n).for_each(softmax),
    }
}

/// Softmax of one row in place (as `ember_runtime::activation::softmax`,
/// with the fast exponential): the maximum is subtracted first.
fn softmax(y: &mut [f32]) {
    let max = y.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    y.iter_mut().for_each(|v| *v = exp(*v - max));
    let sum: f32 = y.iter().sum();
    if sum > 0.0 {
        let inv = 1.0 / sum;
        y.iter_mut().for_each(|v| *v *= inv);
    }
}

/// Turns `dy` (gradient at the output) into the gradient at the
/// pre-activation, in place, using the forward output `y`.
///
/// # Shapes
/// `y`, `dy`: `[batch, n]`.
pub fn backward(act: Activation, y: &[f32], dy: &mut [f32], n: usize) {
    match act {
        Activation::Linear => {}
        Activation::Relu => dy.iter_mut().zip(y).for_each(|(d, &y)| {
            if y <= 0.0 {
                *d = 0.0
            }
        }),
        Activation::Sigmoid => dy.iter_mut().zip(y).for_each(|(d, &y)| *d *= y * (1.0 - y)),
        Activation::Tanh => dy.iter_mut().zip(y).for_each(|(d, &y)| *d *= 1.0 - y * y),
        Activation::Softmax => {
            for (d, y) in dy.chunks_mut(n).zip(y.chunks(n)) {
                let dot: f32 = d.iter().zip(y).map(|(a, b)| a * b).sum();
                d.iter_mut().zip(y).for_each(|(d, &y)| *d = y * (*d - dot));
            }
        }
    }
}
