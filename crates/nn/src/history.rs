//! What the fit loop is told and what it records: its configuration, early
//! stopping, and the per-epoch history. A checkpoint stores these and an
//! observer sees them, so they live apart from the loop itself.

use serde::{Deserialize, Serialize};

use crate::loss::Loss;
use crate::optim::OptimizerConfig;
use crate::schedule::{ClassWeights, LrSchedule};

/// Early stopping on the monitored loss (validation loss when there is validation data).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Smallest decrease that counts as an improvement.
    pub min_delta: f64,
    /// Put back the weights of the best epoch when training ends.
    pub restore_best: bool,
}

/// Everything that decides how a network is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    /// Epochs to run (in total, counting epochs done before a resume).
    pub epochs: usize,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Fraction of the samples, taken from the end before shuffling, held out for validation.
    pub validation_split: f32,
    /// Loss.
    pub loss: Loss,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// L2 penalty factor on kernels.
    pub l2: f32,
    /// Seed for shuffling and noise.
    pub seed: u64,
    /// Early stopping, if any.
    pub early_stopping: Option<EarlyStopping>,
    /// Report accuracy (for classifiers).
    pub accuracy: bool,
    /// Learning-rate schedule (none: the optimizer's rate throughout).
    pub lr_schedule: Option<LrSchedule>,
    /// Class weights of a classifier (`bce` or `cce` loss), if any.
    pub class_weights: Option<ClassWeights>,
}

/// One epoch's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss (L2 penalty included).
    pub loss: f64,
    /// Validation loss, if there is validation data.
    pub val_loss: Option<f64>,
    /// Training accuracy, when requested.
    pub accuracy: Option<f64>,
    /// Validation accuracy, when requested.
    pub val_accuracy: Option<f64>,
    /// Wall-clock seconds of the epoch (training and validation).
    pub seconds: f64,
    /// Learning rate of the epoch's first update.
    pub lr: f64,
}

/// The metric history of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
    /// Epoch whose weights the network holds at the end (1-based).
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

/// The columns of [`History::to_csv`].
pub const CSV_HEADER: &str = "epoch,loss,val_loss,accuracy,val_accuracy,lr,seconds";

impl History {
    /// The history as CSV (Keras's `CSVLogger`): [`CSV_HEADER`], then one
    /// line per epoch; numbers in their shortest exact form, absent values empty.
    pub fn to_csv(&self) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        let mut s = format!("{CSV_HEADER}\n");
        for e in &self.epochs {
            s += &format!(
                "{},{},{},{},{},{},{}\n",
                e.epoch,
                e.loss,
                opt(e.val_loss),
                opt(e.accuracy),
                opt(e.val_accuracy),
                e.lr,
                e.seconds
            );
        }
        s
    }
}

/// The line a command-line observer prints for an epoch.
pub fn format_record(r: &EpochRecord, epochs: usize) -> String {
    let mut s = format!("epoch {}/{epochs}  loss {:.5}", r.epoch, r.loss);
    if let Some(a) = r.accuracy {
        s += &format!("  accuracy {a:.4}");
    }
    if let Some(v) = r.val_loss {
        s += &format!("  val_loss {v:.5}");
    }
    if let Some(a) = r.val_accuracy {
        s += &format!("  val_accuracy {a:.4}");
    }
    s + &format!("  lr {:.3e}  {:.2}s", r.lr, r.seconds)
}
