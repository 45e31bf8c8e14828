//! Format 2 checkpoints (before learning-rate schedules and class weights),
//! read into today's [`Checkpoint`]: the run had no schedule and no class
//! weights, every epoch trained with the optimizer's learning rate.

use serde::Deserialize;

use super::Checkpoint;
use crate::fit::EarlyStopping;
use crate::history::{EpochRecord, FitConfig, History};
use crate::loss::Loss;
use crate::optim::{OptimizerConfig, OptimizerState};
use crate::schedule::ScheduleState;

/// `FitConfig` of format 2.
#[derive(Deserialize)]
struct ConfigV2 {
    epochs: usize,
    batch_size: usize,
    validation_split: f32,
    loss: Loss,
    optimizer: OptimizerConfig,
    l2: f32,
    seed: u64,
    early_stopping: Option<EarlyStopping>,
    accuracy: bool,
}

/// `EpochRecord` of format 2.
#[derive(Deserialize)]
struct RecordV2 {
    epoch: usize,
    loss: f64,
    val_loss: Option<f64>,
    accuracy: Option<f64>,
    val_accuracy: Option<f64>,
    seconds: f64,
}

/// `History` of format 2.
#[derive(Deserialize)]
struct HistoryV2 {
    epochs: Vec<RecordV2>,
    best_epoch: Option<usize>,
    stopped_early: bool,
}

/// The payload of format 2.
#[derive(Deserialize)]
pub(super) struct CheckpointV2 {
    config: ConfigV2,
    params: Vec<Vec<f32>>,
    optimizer: OptimizerState,
    history: HistoryV2,
    best: Option<(f64, Vec<Vec<f32>>)>,
    wait: usize,
}

impl From<CheckpointV2> for Checkpoint {
    fn from(c: CheckpointV2) -> Self {
        let k = c.config;
        let lr = k.optimizer.lr();
        let config = FitConfig {
            epochs: k.epochs,
            batch_size: k.batch_size,
            validation_split: k.validation_split,
            loss: k.loss,
            optimizer: k.optimizer,
            l2: k.l2,
            seed: k.seed,
            early_stopping: k.early_stopping,
            accuracy: k.accuracy,
            lr_schedule: None,
            class_weights: None,
        };
        let epochs = c
            .history
            .epochs
            .into_iter()
            .map(|e| EpochRecord {
                epoch: e.epoch,
                loss: e.loss,
                val_loss: e.val_loss,
                accuracy: e.accuracy,
                val_accuracy: e.val_accuracy,
                seconds: e.seconds,
                lr: lr as f64,
            })
            .collect();
        Checkpoint {
            config,
            params: c.params,
            optimizer: c.optimizer,
            history: History { epochs, best_epoch: c.history.best_epoch, stopped_early: c.history.stopped_early },
            best: c.best,
            wait: c.wait,
            schedule: ScheduleState::new(lr),
        }
    }
}
