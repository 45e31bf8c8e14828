//! Activations, as types for the typed runtime and as one function for the
//! dynamic interpreter. Both run the same code.

use crate::spec::Activation;

/// Applies `act` in place to one sample's output vector.
pub fn apply(act: Activation, y: &mut [f32]) {
    match act {
        Activation::Linear => {}
        Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Sigmoid => y.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Activation::Tanh => y.iter_mut().for_each(|v| *v = libm::tanhf(*v)),
        Activation::Softmax => softmax(y),
    }
}

/// The logistic function `1 / (1 + e^-x)`.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// Softmax in place, shifted by the maximum for stability.
pub fn softmax(y: &mut [f32]) {
    let max = y.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in y.iter_mut() {
        *v = libm::expf(*v - max);
        sum += *v;
    }
    if sum > 0.0 {
        y.iter_mut().for_each(|v| *v /= sum);
    }
}

/// An activation as a type parameter of a typed layer.
pub trait Act {
    /// The activation this type stands for (checked against the blob).
    const KIND: Activation;
    /// Applies the activation in place.
    #[inline]
    fn apply(y: &mut [f32]) {
        apply(Self::KIND, y)
    }
}

macro_rules! act_type {
    ($(#[$doc:meta] $name:ident => $kind:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;
        impl Act for $name {
            const KIND: Activation = Activation::$kind;
        }
    )*};
}

act_type! {
    /// Identity.
    Linear => Linear,
    /// `max(x, 0)`.
    Relu => Relu,
    /// Logistic sigmoid.
    Sigmoid => Sigmoid,
    /// Hyperbolic tangent.
    Tanh => Tanh,
    /// Softmax over the output vector.
    Softmax => Softmax,
}
