//! Learning-rate schedules as Keras defines them: step decay (the usual
//! `LearningRateScheduler` function), `ExponentialDecay` and the
//! `ReduceLROnPlateau` callback; and class weights (Keras's `class_weight`).
//!
//! A schedule's state ([`ScheduleState`]) lives in the checkpoint, so a
//! resumed run goes on with the same learning rate, plateau counter and best
//! loss as one that was never interrupted.

use serde::{Deserialize, Serialize};

/// How the learning rate changes during training (none: it stays the
/// optimizer's).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// Step decay: epoch `e` (0-based) trains with `lr0 · factor^floor(e / every)`.
    Step {
        /// Multiplier applied every `every` epochs (> 0).
        factor: f64,
        /// Epochs between two drops (≥ 1).
        every: usize,
    },
    /// Keras `ExponentialDecay`: the update after `step` earlier updates uses
    /// `lr0 · decay_rate^(step / decay_steps)` (the exponent floored when `staircase`).
    Exponential {
        /// Decay rate (> 0).
        decay_rate: f64,
        /// Updates (batches) per decay period (≥ 1).
        decay_steps: u64,
        /// Decay in whole periods.
        staircase: bool,
    },
    /// Keras `ReduceLROnPlateau` on the monitored loss (the validation loss
    /// when there is validation data, else the training loss).
    Plateau {
        /// `new_lr = lr · factor`, in (0, 1) (Keras default 0.1).
        factor: f64,
        /// Epochs without improvement before a reduction (Keras default 10).
        patience: usize,
        /// Lower bound of the learning rate (default 0).
        min_lr: f64,
        /// Smallest decrease that counts as an improvement (default 1e-4).
        min_delta: f64,
        /// Epochs after a reduction during which no epoch counts as a wait (default 0).
        cooldown: usize,
    },
}

/// Where a schedule stands: saved in checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// The current learning rate of a plateau schedule (an `f32`, as Keras's variable).
    pub lr: f32,
    /// Best monitored loss so far (infinite before the first epoch).
    pub best: f64,
    /// Epochs without improvement.
    pub wait: usize,
    /// Epochs of cooldown left.
    pub cooldown_counter: usize,
}

impl ScheduleState {
    /// The state before the first epoch, with the optimizer's learning rate `lr0`.
    pub fn new(lr0: f32) -> Self {
        ScheduleState { lr: lr0, best: f64::INFINITY, wait: 0, cooldown_counter: 0 }
    }
}

fn positive(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(format!("{name} must be a positive number, not {v}")) }
}

fn non_negative(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(format!("{name} must be a number ≥ 0, not {v}")) }
}

impl LrSchedule {
    /// Lower-case name: `step`, `exponential`, `plateau`.
    pub fn name(&self) -> &'static str {
        match self {
            LrSchedule::Step { .. } => "step",
            LrSchedule::Exponential { .. } => "exponential",
            LrSchedule::Plateau { .. } => "plateau",
        }
    }

    /// Checks the settings; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            LrSchedule::Step { factor, every } => {
                positive("step decay factor", factor)?;
                if every == 0 {
                    return Err("step decay every must be at least 1 epoch".into());
                }
            }
            LrSchedule::Exponential { decay_rate, decay_steps, .. } => {
                positive("exponential decay_rate", decay_rate)?;
                if decay_steps == 0 {
                    return Err("exponential decay_steps must be at least 1".into());
                }
            }
            LrSchedule::Plateau { factor, min_lr, min_delta, .. } => {
                if !(factor > 0.0 && factor < 1.0) {
                    return Err(format!("plateau factor must be in (0, 1), not {factor}"));
                }
                non_negative("plateau min_lr", min_lr)?;
                non_negative("plateau min_delta", min_delta)?;
            }
        }
        Ok(())
    }

    /// The learning rate of the update made after `step` earlier updates, in
    /// epoch `epoch` (0-based), for base rate `lr0` and state `state`.
    pub fn lr(&self, lr0: f32, state: &ScheduleState, epoch: usize, step: u64) -> f32 {
        match *self {
            LrSchedule::Step { factor, every } => (lr0 as f64 * factor.powi((epoch / every) as i32)) as f32,
            LrSchedule::Exponential { decay_rate, decay_steps, staircase } => {
                let mut p = step as f64 / decay_steps as f64;
                if staircase {
                    p = p.floor();
                }
                (lr0 as f64 * decay_rate.powf(p)) as f32
            }
            LrSchedule::Plateau { .. } => state.lr,
        }
    }

    /// Keras's `ReduceLROnPlateau.on_epoch_end` for the monitored loss
    /// `current`: returns the new learning rate when it was reduced.
    pub fn end_epoch(&self, state: &mut ScheduleState, current: f64) -> Option<f32> {
        let LrSchedule::Plateau { factor, patience, min_lr, min_delta, cooldown } = *self else {
            return None;
        };
        if state.cooldown_counter > 0 {
            state.cooldown_counter -= 1;
            state.wait = 0;
        }
        if current < state.best - min_delta {
            state.best = current;
            state.wait = 0;
        } else if state.cooldown_counter == 0 {
            state.wait += 1;
            if state.wait >= patience {
                let old = state.lr as f64;
                if old > min_lr as f32 as f64 {
                    state.lr = (old * factor).max(min_lr) as f32;
                    state.cooldown_counter = cooldown;
                    state.wait = 0;
                    return Some(state.lr);
                }
            }
        }
        None
    }
}

/// Class weights of a classifier: each training sample's loss is scaled by
/// its class's weight (Keras's `class_weight`; validation losses are not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClassWeights {
    /// `n_samples / (n_classes · count_c)` over the training samples, with
    /// `n_classes` the classes present (scikit-learn's `"balanced"`).
    Balanced,
    /// One weight per class.
    Explicit(Vec<f32>),
}

/// The class of each target row: `t ≥ 0.5` for one sigmoid output, else
/// the index of the largest target (one-hot rows).
pub fn target_classes(y: &[f32], out_len: usize) -> Vec<usize> {
    if out_len <= 1 {
        return y.iter().map(|&t| usize::from(t >= 0.5)).collect();
    }
    y.chunks(out_len)
        .map(|row| row.iter().enumerate().fold(0, |best, (i, &v)| if v > row[best] { i } else { best }))
        .collect()
}

impl ClassWeights {
    /// The weight of each of the `n_classes` classes, for training targets `y`
    /// of `out_len` values per sample.
    pub fn resolve(&self, y: &[f32], out_len: usize) -> Result<Vec<f32>, String> {
        let n_classes = out_len.max(2);
        match self {
            ClassWeights::Explicit(w) => {
                if w.len() != n_classes {
                    return Err(format!("{} class weights given, the model has {n_classes} classes", w.len()));
                }
                if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                    return Err(format!("class weight {bad} is not a number ≥ 0"));
                }
                Ok(w.clone())
            }
            ClassWeights::Balanced => {
                let classes = target_classes(y, out_len);
                let mut counts = vec![0usize; n_classes];
                for &c in &classes {
                    counts[c] += 1;
                }
                let present = counts.iter().filter(|&&c| c > 0).count().max(1);
                let n = classes.len() as f64;
                Ok(counts.iter().map(|&c| if c == 0 { 1.0 } else { (n / (present * c) as f64) as f32 }).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests;
