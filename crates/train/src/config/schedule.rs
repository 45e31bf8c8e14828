//! The `[train]` keys of Keras's `fit` extras: a learning-rate schedule
//! (`lr_schedule = { kind = "plateau", factor = 0.5, patience = 3 }`) and
//! class weights (`class_weights = "balanced"` or `[1.0, 4.0]`).

use ember_nn::loss::Loss;
use ember_nn::optim::OptimizerConfig;
use ember_nn::schedule::{ClassWeights, LrSchedule};
use serde::{Deserialize, Serialize};

use super::TrainConfig;
use crate::error::{Result, TrainError, bad_config};

/// `skip_serializing_if` of a key that is off by default.
pub(super) fn is_false(b: &bool) -> bool {
    !*b
}

/// `skip_serializing_if` of a key that is 0 by default.
pub(super) fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The Keras `fit` extras of `t` for loss `loss`, checked: sets Nesterov
/// momentum on `optimizer` (SGD only), checks `min_delta`, and returns the
/// schedule and class weights (bce or cce only).
pub(super) fn fit_extras(
    t: &TrainConfig,
    loss: Loss,
    optimizer: &mut OptimizerConfig,
) -> Result<(Option<LrSchedule>, Option<ClassWeights>)> {
    match optimizer {
        OptimizerConfig::Sgd { nesterov, .. } => *nesterov = t.nesterov,
        _ if t.nesterov => bad_config!("nesterov applies to the sgd optimizer only, not {}", t.optimizer),
        _ => {}
    }
    if !(t.min_delta.is_finite() && t.min_delta >= 0.0) {
        bad_config!("min_delta must be a number ≥ 0, not {}", t.min_delta);
    }
    let lr_schedule = t.lr_schedule.as_ref().map(LrScheduleConfig::to_schedule).transpose()?;
    let class_weights = t.class_weights.as_ref().map(ClassWeightsConfig::to_weights).transpose()?;
    if class_weights.is_some() && !matches!(loss, Loss::Bce | Loss::Cce) {
        bad_config!("class_weights apply to classifiers (loss bce or cce), not loss {}", t.loss);
    }
    Ok((lr_schedule, class_weights))
}

/// A learning-rate schedule as a model file writes it: `kind` and the
/// settings of that kind (the others must be absent).
///
/// - `step`: `every` (epochs, required), `factor` (0.5): epoch `e` (0-based)
///   trains with `lr · factor^floor(e / every)`;
/// - `exponential`: `decay_rate`, `decay_steps` (updates; both required),
///   `staircase` (false): Keras `ExponentialDecay`;
/// - `plateau`: `factor` (0.1), `patience` (10), `min_lr` (0), `min_delta`
///   (1e-4), `cooldown` (0): Keras `ReduceLROnPlateau` on the validation loss
///   (the training loss without a validation split).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrScheduleConfig {
    /// `step`, `exponential` or `plateau`.
    pub kind: String,
    /// Multiplier (step, plateau).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Epochs between drops (step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<usize>,
    /// Decay rate (exponential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_rate: Option<f64>,
    /// Updates per decay period (exponential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_steps: Option<u64>,
    /// Decay in whole periods (exponential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staircase: Option<bool>,
    /// Epochs without improvement before a reduction (plateau).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// Lower bound of the learning rate (plateau).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_lr: Option<f64>,
    /// Smallest decrease that counts as an improvement (plateau).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_delta: Option<f64>,
    /// Epochs of rest after a reduction (plateau).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<usize>,
}

impl LrScheduleConfig {
    /// The keys given, by name.
    fn given(&self) -> Vec<&'static str> {
        let keys = [
            ("factor", self.factor.is_some()),
            ("every", self.every.is_some()),
            ("decay_rate", self.decay_rate.is_some()),
            ("decay_steps", self.decay_steps.is_some()),
            ("staircase", self.staircase.is_some()),
            ("patience", self.patience.is_some()),
            ("min_lr", self.min_lr.is_some()),
            ("min_delta", self.min_delta.is_some()),
            ("cooldown", self.cooldown.is_some()),
        ];
        keys.iter().filter(|(_, g)| *g).map(|(k, _)| *k).collect()
    }

    /// The schedule, checked: an unknown kind, a key of another kind, a
    /// missing required key or a value out of range is an error naming it.
    pub fn to_schedule(&self) -> Result<LrSchedule> {
        let (allowed, schedule): (&[&str], _) = match self.kind.as_str() {
            "step" => {
                let Some(every) = self.every else {
                    bad_config!("lr_schedule step needs every (epochs between drops)")
                };
                (&["factor", "every"], LrSchedule::Step { factor: self.factor.unwrap_or(0.5), every })
            }
            "exponential" => {
                let (Some(decay_rate), Some(decay_steps)) = (self.decay_rate, self.decay_steps) else {
                    bad_config!("lr_schedule exponential needs decay_rate and decay_steps");
                };
                let staircase = self.staircase.unwrap_or(false);
                (
                    &["decay_rate", "decay_steps", "staircase"],
                    LrSchedule::Exponential { decay_rate, decay_steps, staircase },
                )
            }
            "plateau" => (
                &["factor", "patience", "min_lr", "min_delta", "cooldown"],
                LrSchedule::Plateau {
                    factor: self.factor.unwrap_or(0.1),
                    patience: self.patience.unwrap_or(10),
                    min_lr: self.min_lr.unwrap_or(0.0),
                    min_delta: self.min_delta.unwrap_or(1e-4),
                    cooldown: self.cooldown.unwrap_or(0),
                },
            ),
            k => bad_config!("unknown lr_schedule kind {k:?} (step, exponential, plateau)"),
        };
        if let Some(k) = self.given().into_iter().find(|k| !allowed.contains(k)) {
            bad_config!("lr_schedule {} takes no {k} (it takes {})", self.kind, allowed.join(", "));
        }
        schedule.validate().map_err(|e| TrainError::config(format!("lr_schedule: {e}")))?;
        Ok(schedule)
    }
}

/// Class weights as a model file writes them: `"balanced"` or one weight per class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassWeightsConfig {
    /// `"balanced"`.
    Named(String),
    /// One weight per class, in class order (for one sigmoid output: class 0, class 1).
    List(Vec<f32>),
}

impl ClassWeightsConfig {
    /// The class weights, checked (the count against the classes is checked
    /// when training starts).
    pub fn to_weights(&self) -> Result<ClassWeights> {
        match self {
            ClassWeightsConfig::Named(n) if n == "balanced" => Ok(ClassWeights::Balanced),
            ClassWeightsConfig::Named(n) => {
                bad_config!("class_weights must be \"balanced\" or a list of weights, one per class, not {n:?}")
            }
            ClassWeightsConfig::List(w) => {
                if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                    bad_config!("class_weights: {bad} is not a weight ≥ 0");
                }
                if w.len() < 2 {
                    bad_config!("class_weights needs one weight per class (at least 2), got {}", w.len());
                }
                Ok(ClassWeights::Explicit(w.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests;
