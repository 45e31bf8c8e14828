//! Activations over batches, forward and backward (from the output `y`).

use ember_runtime::Activation;

/// Applies `act` in place to `[batch, n]` pre-activations.
pub fn forward(act: Activation, y: &mut [f32], n: usize) {
    match act {
        Activation::Linear => {}
        Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Sigmoid => y.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        Activation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Softmax => y.chunks_mut(n).for_each(ember_runtime::activation::softmax),
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
