//! The terminal face of the fit loop: a progress bar per epoch (on stderr,
//! hidden when it is not a terminal) and one printed line per epoch.

use ember_export::ModelSummary;
use ember_nn::fit::{EpochRecord, FitObserver, format_record};
use indicatif::{ProgressBar, ProgressStyle};

/// Draws the fit loop's progress as `ember train` always has.
#[derive(Default)]
pub struct TerminalProgress {
    bar: Option<ProgressBar>,
}

/// A [`TerminalProgress`] for one training run (an
/// `ember_train::train::TrainOptions` observer factory).
pub fn observer() -> Box<dyn FitObserver> {
    Box::new(TerminalProgress::default())
}

impl FitObserver for TerminalProgress {
    fn on_summary(&mut self, summary: &ModelSummary) {
        print!("{}", summary.table());
    }

    fn on_epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{epoch}/{epochs}"));
        self.bar = Some(bar);
    }

    fn on_batch(&mut self, _epoch: usize, batch: usize, _batches: usize, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if (batch - 1).is_multiple_of(8) {
                bar.set_message(format!("loss {loss:.4}"));
            }
        }
    }

    fn on_batches_done(&mut self, _epoch: usize) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn on_epoch_end(&mut self, record: &EpochRecord, epochs: usize) {
        println!("{}", format_record(record, epochs));
    }

    fn on_lr_reduced(&mut self, epoch: usize, lr: f64) {
        println!("epoch {epoch}: reducing the learning rate to {lr:.3e} (plateau)");
    }

    fn on_early_stop(&mut self, _epoch: usize, patience: usize) {
        println!("early stopping: no improvement for {patience} epochs");
    }
}
