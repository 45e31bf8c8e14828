//! Dense (fully connected) layer: `y = act(x · Wᵀ + b)`, `W` stored `[out, in]`.

use ember_runtime::Activation;
use ember_runtime::spec::LayerSpec;
use rand::{Rng, RngExt};

use super::{ParamMut, TrainLayer, activation};
use crate::gemm::{Op, matmul};

/// A trainable dense layer.
pub struct DenseLayer {
    inputs: usize,
    units: usize,
    activation: Activation,
    weight: Vec<f32>,
    bias: Vec<f32>,
    grad_w: Vec<f32>,
    grad_b: Vec<f32>,
    x: Vec<f32>,
    y: Vec<f32>,
    dz: Vec<f32>,
    dx: Vec<f32>,
}

impl DenseLayer {
    /// Glorot-uniform weights (Keras's default), zero bias.
    pub fn new(inputs: usize, units: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        let limit = (6.0 / (inputs + units) as f64).sqrt() as f32;
        let weight = (0..inputs * units).map(|_| rng.random_range(-limit..limit)).collect();
        Self::from_params(inputs, units, activation, weight, vec![0.0; units])
    }

    /// A layer with the given weight (`[units, inputs]`) and bias (`[units]`).
    pub fn from_params(inputs: usize, units: usize, activation: Activation, weight: Vec<f32>, bias: Vec<f32>) -> Self {
        assert_eq!(weight.len(), inputs * units, "dense weight must be [units, inputs]");
        assert_eq!(bias.len(), units, "dense bias must be [units]");
        DenseLayer {
            inputs,
            units,
            activation,
            grad_w: vec![0.0; weight.len()],
            grad_b: vec![0.0; units],
            weight,
            bias,
            x: Vec::new(),
            y: Vec::new(),
            dz: Vec::new(),
            dx: Vec::new(),
        }
    }
}

impl TrainLayer for DenseLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Dense { inputs: self.inputs as u32, units: self.units as u32, activation: self.activation }
    }

    /// # Shapes
    /// `x`: `[batch, inputs]` → `[batch, units]`.
    fn forward(&mut self, x: &[f32], batch: usize, train: bool) -> &[f32] {
        assert_eq!(x.len(), batch * self.inputs, "dense input must be [batch, inputs]");
        if train {
            self.x.clear();
            self.x.extend_from_slice(x);
        }
        self.y.resize(batch * self.units, 0.0);
        for row in self.y.chunks_mut(self.units) {
            row.copy_from_slice(&self.bias);
        }
        matmul(batch, self.units, self.inputs, x, Op::N, &self.weight, Op::T, &mut self.y, true);
        activation::forward(self.activation, &mut self.y, self.units);
        &self.y
    }

    /// # Shapes
    /// `dy`: `[batch, units]` → `[batch, inputs]`.
    fn backward(&mut self, dy: &[f32], batch: usize, dy_is_preactivation: bool, need_dx: bool) -> &[f32] {
        assert_eq!(dy.len(), batch * self.units, "dense output gradient must be [batch, units]");
        assert_eq!(self.x.len(), batch * self.inputs, "backward needs a training forward pass first");
        self.dz.clear();
        self.dz.extend_from_slice(dy);
        if !dy_is_preactivation {
            activation::backward(self.activation, &self.y, &mut self.dz, self.units);
        }
        // dW = dZᵀ · X, db = Σ_batch dZ
        matmul(self.units, self.inputs, batch, &self.dz, Op::T, &self.x, Op::N, &mut self.grad_w, false);
        self.grad_b.fill(0.0);
        for row in self.dz.chunks(self.units) {
            self.grad_b.iter_mut().zip(row).for_each(|(g, d)| *g += d);
        }
        if !need_dx {
            self.dx.clear();
            return &self.dx;
        }
        // dX = dZ · W
        self.dx.resize(batch * self.inputs, 0.0);
        matmul(batch, self.inputs, self.units, &self.dz, Op::N, &self.weight, Op::N, &mut self.dx, false);
        &self.dx
    }

    fn params(&self) -> Vec<&[f32]> {
        vec![&self.weight, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        vec![
            ParamMut { value: &mut self.weight, grad: &mut self.grad_w, regularized: true },
            ParamMut { value: &mut self.bias, grad: &mut self.grad_b, regularized: false },
        ]
    }
}
