//! Optimizers with Keras's update rules and defaults, and L2 regularisation.

use serde::{Deserialize, Serialize};

use crate::layers::ParamMut;

/// Optimizer settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerConfig {
    /// Stochastic gradient descent with (optionally Nesterov) momentum.
    Sgd {
        /// Learning rate (Keras default 0.01).
        lr: f32,
        /// Momentum (0 for plain SGD).
        momentum: f32,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// Adam (Kingma & Ba), Keras's bias-corrected form.
    Adam {
        /// Learning rate (default 0.001).
        lr: f32,
        /// First-moment decay (0.9).
        beta1: f32,
        /// Second-moment decay (0.999).
        beta2: f32,
        /// Denominator epsilon (1e-7).
        eps: f32,
    },
    /// RMSprop.
    Rmsprop {
        /// Learning rate (default 0.001).
        lr: f32,
        /// Decay of the squared-gradient average (0.9).
        rho: f32,
        /// Denominator epsilon (1e-7).
        eps: f32,
    },
    /// Adadelta (Zeiler). The default learning rate is 1.0, as in the paper and
    /// Keras up to 2.2 (Keras 3 defaults to 0.001, which barely moves).
    Adadelta {
        /// Learning rate (default 1.0).
        lr: f32,
        /// Decay (0.95).
        rho: f32,
        /// Epsilon (1e-7).
        eps: f32,
    },
}

impl OptimizerConfig {
    /// The optimizer `name` (`sgd`, `adam`, `rmsprop`, `adadelta`) with its
    /// defaults, and `lr` if given.
    pub fn from_name(name: &str, lr: Option<f32>) -> Option<Self> {
        let mut cfg = match name {
            "sgd" => OptimizerConfig::Sgd { lr: 0.01, momentum: 0.0, nesterov: false },
            "adam" => OptimizerConfig::Adam { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-7 },
            "rmsprop" => OptimizerConfig::Rmsprop { lr: 0.001, rho: 0.9, eps: 1e-7 },
            "adadelta" => OptimizerConfig::Adadelta { lr: 1.0, rho: 0.95, eps: 1e-7 },
            _ => return None,
        };
        if let Some(new) = lr {
            cfg = cfg.with_lr(new);
        }
        Some(cfg)
    }

    /// The learning rate.
    pub fn lr(&self) -> f32 {
        match *self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Rmsprop { lr, .. }
            | OptimizerConfig::Adadelta { lr, .. } => lr,
        }
    }

    /// These settings with learning rate `new`.
    pub fn with_lr(mut self, new: f32) -> Self {
        match &mut self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Rmsprop { lr, .. }
            | OptimizerConfig::Adadelta { lr, .. } => *lr = new,
        }
        self
    }

    /// Lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adam { .. } => "adam",
            OptimizerConfig::Rmsprop { .. } => "rmsprop",
            OptimizerConfig::Adadelta { .. } => "adadelta",
        }
    }
}

/// Optimizer state: one or two slot vectors per parameter tensor, and the step count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Updates applied so far.
    pub step: u64,
    /// First slot per parameter (momentum, first moment, squared-gradient average).
    pub slot1: Vec<Vec<f32>>,
    /// Second slot per parameter (second moment, squared-update average).
    pub slot2: Vec<Vec<f32>>,
}

/// L2 penalty `l2 · Σ w²` over the regularised parameters (Keras's `l2(l2)`).
pub fn l2_penalty(params: &[&[f32]], regularized: &[bool], l2: f32) -> f64 {
    if l2 == 0.0 {
        return 0.0;
    }
    params
        .iter()
        .zip(regularized)
        .filter(|(_, r)| **r)
        .map(|(p, _)| p.iter().map(|&w| (w as f64) * (w as f64)).sum::<f64>())
        .sum::<f64>()
        * l2 as f64
}

impl OptimizerState {
    /// Applies one update to every parameter from its gradient, adding the L2
    /// gradient `2 · l2 · w` to regularised parameters first.
    pub fn update(&mut self, cfg: &OptimizerConfig, params: &mut [ParamMut<'_>], l2: f32) {
        if self.slot1.len() != params.len() {
            self.slot1 = params.iter().map(|p| vec![0.0; p.value.len()]).collect();
            self.slot2 = params.iter().map(|p| vec![0.0; p.value.len()]).collect();
        }
        self.step += 1;
        let t = self.step as i32;
        for ((p, s1), s2) in params.iter_mut().zip(&mut self.slot1).zip(&mut self.slot2) {
            let reg = if p.regularized { 2.0 * l2 } else { 0.0 };
            let values = p.value.iter_mut().zip(p.grad.iter()).zip(s1.iter_mut().zip(s2.iter_mut()));
            match *cfg {
                OptimizerConfig::Sgd { lr, momentum, nesterov } => {
                    for ((w, &g), (v, _)) in values {
                        let g = g + reg * *w;
                        *v = momentum * *v - lr * g;
                        *w += if nesterov { momentum * *v - lr * g } else { *v };
                    }
                }
                OptimizerConfig::Adam { lr, beta1, beta2, eps } => {
                    let lr_t = lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t));
                    for ((w, &g), (m, v)) in values {
                        let g = g + reg * *w;
                        *m = beta1 * *m + (1.0 - beta1) * g;
                        *v = beta2 * *v + (1.0 - beta2) * g * g;
                        *w -= lr_t * *m / (v.sqrt() + eps);
                    }
                }
                OptimizerConfig::Rmsprop { lr, rho, eps } => {
                    for ((w, &g), (v, _)) in values {
                        let g = g + reg * *w;
                        *v = rho * *v + (1.0 - rho) * g * g;
                        *w -= lr * g / (v.sqrt() + eps);
                    }
                }
                OptimizerConfig::Adadelta { lr, rho, eps } => {
                    for ((w, &g), (acc_g, acc_d)) in values {
                        let g = g + reg * *w;
                        *acc_g = rho * *acc_g + (1.0 - rho) * g * g;
                        let delta = (*acc_d + eps).sqrt() / (*acc_g + eps).sqrt() * g;
                        *acc_d = rho * *acc_d + (1.0 - rho) * delta * delta;
                        *w -= lr * delta;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
