//! [`FitObserver`]: how the fit loop reports its progress. The loop itself
//! prints nothing; a command-line tool draws progress bars and per-epoch
//! lines from these callbacks, a test or a library program passes none.

use std::path::Path;

use ember_export::ModelSummary;

use crate::history::EpochRecord;

/// Callbacks of the fit loop, in the order they come: [`on_resume`] once
/// (resumed runs only), then per epoch [`on_epoch_start`], [`on_batch`]
/// per training batch, [`on_batches_done`], [`on_epoch_end`], then
/// [`on_lr_reduced`] when a plateau schedule lowers the learning rate,
/// [`on_early_stop`] when early stopping ends the run and
/// [`on_checkpoint`] when a checkpoint was written.
///
/// Every method does nothing by default. Epochs and batches are 1-based.
/// Observers cannot change the training: a run gives the same model with
/// any observer.
///
/// [`on_resume`]: FitObserver::on_resume
/// [`on_epoch_start`]: FitObserver::on_epoch_start
/// [`on_batch`]: FitObserver::on_batch
/// [`on_batches_done`]: FitObserver::on_batches_done
/// [`on_epoch_end`]: FitObserver::on_epoch_end
/// [`on_lr_reduced`]: FitObserver::on_lr_reduced
/// [`on_early_stop`]: FitObserver::on_early_stop
/// [`on_checkpoint`]: FitObserver::on_checkpoint
#[allow(unused_variables)] // the default methods ignore their arguments
pub trait FitObserver {
    /// The model about to be trained (sent by the caller of the fit loop
    /// before it starts, not by the loop itself).
    fn on_summary(&mut self, summary: &ModelSummary) {}

    /// A run resumed from a checkpoint holding `done` of its `epochs` epochs.
    fn on_resume(&mut self, done: usize, epochs: usize) {}

    /// Epoch `epoch` of `epochs` starts; it trains on `batches` mini-batches.
    fn on_epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {}

    /// Training batch `batch` of `batches` of epoch `epoch` is done; `loss`
    /// is the mean loss over the epoch's samples so far (without the L2
    /// penalty).
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) {}

    /// The training batches of epoch `epoch` are done; validation follows.
    fn on_batches_done(&mut self, epoch: usize) {}

    /// Epoch `record.epoch` of `epochs` is done (training and validation).
    fn on_epoch_end(&mut self, record: &EpochRecord, epochs: usize) {}

    /// A plateau schedule lowered the learning rate to `lr` after epoch `epoch`.
    fn on_lr_reduced(&mut self, epoch: usize, lr: f64) {}

    /// Early stopping ends the run after epoch `epoch`: the monitored loss
    /// did not improve for `patience` epochs.
    fn on_early_stop(&mut self, epoch: usize, patience: usize) {}

    /// The checkpoint of epoch `epoch` was written to `path`.
    fn on_checkpoint(&mut self, epoch: usize, path: &Path) {}
}

/// An observer that ignores everything: the fit loop's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl FitObserver for NoObserver {}

/// Records every callback, for tests of the order of events.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Recorder(pub(crate) Vec<String>);

#[cfg(test)]
impl FitObserver for Recorder {
    fn on_resume(&mut self, done: usize, epochs: usize) {
        self.0.push(format!("resume {done}/{epochs}"));
    }
    fn on_epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.0.push(format!("start {epoch}/{epochs} {batches}"));
    }
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) {
        assert!(loss.is_finite());
        self.0.push(format!("batch {epoch} {batch}/{batches}"));
    }
    fn on_batches_done(&mut self, epoch: usize) {
        self.0.push(format!("trained {epoch}"));
    }
    fn on_epoch_end(&mut self, record: &EpochRecord, epochs: usize) {
        self.0.push(format!("end {}/{epochs}", record.epoch));
    }
    fn on_early_stop(&mut self, epoch: usize, patience: usize) {
        self.0.push(format!("stop {epoch} {patience}"));
    }
    fn on_checkpoint(&mut self, epoch: usize, path: &Path) {
        self.0.push(format!("checkpoint {epoch} {}", path.display()));
    }
}
