//! [`RunObserver`]: the observer every task hands the fit loop. It keeps
//! `OUT/history.csv` (Keras's `CSVLogger`) up to date after every epoch and
//! passes each event on to the command line's observer, which first gets
//! the model summary.

use std::path::{Path, PathBuf};

use ember_export::ModelSummary;
use ember_nn::checkpoint::Checkpoint;
use ember_nn::fit::{EpochRecord, FitObserver, History};
use ember_nn::network::Network;

use crate::error::{Result, TrainError};
use crate::output::TrainOptions;

/// The observer of one training run.
pub(crate) struct RunObserver {
    inner: Option<Box<dyn FitObserver>>,
    csv: PathBuf,
    history: History,
    error: Option<TrainError>,
}

impl RunObserver {
    /// Makes the run's observer: sends `net`'s summary to the command line's
    /// observer (if any) and starts the CSV log from the checkpoint's epochs
    /// when resuming.
    pub(crate) fn new(opts: &TrainOptions, net: &Network, resume: Option<&Checkpoint>) -> Result<Self> {
        let mut inner = opts.observer.map(|make| make());
        if let Some(o) = inner.as_mut() {
            o.on_summary(&ModelSummary::of(&net.to_model()?)?);
        }
        let history =
            History { epochs: resume.map(|c| c.history.epochs.clone()).unwrap_or_default(), ..History::default() };
        Ok(RunObserver { inner, csv: opts.out.join("history.csv"), history, error: None })
    }

    /// This observer as the fit loop takes it.
    pub(crate) fn as_dyn(&mut self) -> Option<&mut dyn FitObserver> {
        Some(self)
    }

    /// The first error writing the CSV log met, if any.
    pub(crate) fn finish(self) -> Result<()> {
        self.error.map_or(Ok(()), Err)
    }
}

impl FitObserver for RunObserver {
    fn on_resume(&mut self, done: usize, epochs: usize) {
        if let Some(o) = self.inner.as_mut() {
            o.on_resume(done, epochs);
        }
    }
    fn on_epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        if let Some(o) = self.inner.as_mut() {
            o.on_epoch_start(epoch, epochs, batches);
        }
    }
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) {
        if let Some(o) = self.inner.as_mut() {
            o.on_batch(epoch, batch, batches, loss);
        }
    }
    fn on_batches_done(&mut self, epoch: usize) {
        if let Some(o) = self.inner.as_mut() {
            o.on_batches_done(epoch);
        }
    }
    fn on_epoch_end(&mut self, record: &EpochRecord, epochs: usize) {
        self.history.epochs.push(record.clone());
        if self.error.is_none()
            && let Err(e) = crate::write_file(&self.csv, self.history.to_csv().as_bytes())
        {
            self.error = Some(e);
        }
        if let Some(o) = self.inner.as_mut() {
            o.on_epoch_end(record, epochs);
        }
    }
    fn on_lr_reduced(&mut self, epoch: usize, lr: f64) {
        if let Some(o) = self.inner.as_mut() {
            o.on_lr_reduced(epoch, lr);
        }
    }
    fn on_early_stop(&mut self, epoch: usize, patience: usize) {
        if let Some(o) = self.inner.as_mut() {
            o.on_early_stop(epoch, patience);
        }
    }
    fn on_checkpoint(&mut self, epoch: usize, path: &Path) {
        if let Some(o) = self.inner.as_mut() {
            o.on_checkpoint(epoch, path);
        }
    }
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};

    use super::*;

    fn record(epoch: usize) -> EpochRecord {
        EpochRecord {
            epoch,
            loss: 1.0 / epoch as f64,
            val_loss: None,
            accuracy: Some(0.5),
            val_accuracy: None,
            seconds: 0.25,
            lr: 0.001,
        }
    }

    #[test]
    fn the_csv_grows_with_every_epoch() {
        let out = std::env::temp_dir().join(format!("ember-train-runlog-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let opts = TrainOptions { out: out.clone(), ..TrainOptions::default() };
        let io = IoSpec { kind: ValueKind::F32, dims: Dims::d1(2), range: None };
        let net =
            Network::init("n", io, &[LayerSpec::Dense { inputs: 2, units: 1, activation: Activation::Linear }], 1);
        let mut obs = RunObserver::new(&opts, &net, None).unwrap();
        let csv = out.join("history.csv");
        obs.on_epoch_end(&record(1), 3);
        let one = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(one, "epoch,loss,val_loss,accuracy,val_accuracy,lr,seconds\n1,1,,0.5,,0.001,0.25\n");
        obs.on_epoch_end(&record(2), 3);
        let two = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(two, format!("{one}2,0.5,,0.5,,0.001,0.25\n"));
        obs.finish().unwrap();
        std::fs::remove_dir_all(out).unwrap();
    }
}
