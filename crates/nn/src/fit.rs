//! The fit loop: shuffled mini-batches, validation split, early stopping,
//! progress reported to a [`FitObserver`], metric history and atomic
//! checkpoints with resume. The loop prints nothing.
//!
//! Reproducibility: the shuffle of epoch `e` and the input noise of each batch
//! come from ChaCha8 streams derived from `(seed, e, batch)`, never from state
//! carried between epochs, so a run resumed from a checkpoint takes exactly the
//! same steps as one that was never interrupted.

use std::path::PathBuf;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::checkpoint::Checkpoint;
use crate::error::NnError;
use crate::loss::Loss;
use crate::metrics;
use crate::network::Network;
use crate::optim::{OptimizerState, l2_penalty};
use crate::schedule::{ScheduleState, target_classes};

pub use crate::history::{EarlyStopping, EpochRecord, FitConfig, History, format_record};
pub use crate::observer::{FitObserver, NoObserver};

/// Mixed into the seed of the (fixed) noise on validation inputs.
pub const VALIDATION_NOISE_SEED: u64 = 0x5EED_F7A1;

/// Inputs and targets, row-major.
pub struct TrainData<'a> {
    /// Inputs `[n, input_len]`.
    pub x: &'a [f32],
    /// Targets `[n, output_len]`, or `[n, 1]` class indices for sparse
    /// categorical cross-entropy ([`Loss::target_len`]).
    pub y: &'a [f32],
}

/// A transformation of each training batch's inputs (for example noise for a
/// denoising autoencoder), given a seed unique to the epoch and batch.
pub type InputTransform<'a> = &'a (dyn Fn(&mut [f32], u64) + Sync);

/// Options that do not change the result.
#[derive(Default)]
pub struct FitOptions<'a> {
    /// Where to write a checkpoint after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// Continue from this checkpoint.
    pub resume: Option<Checkpoint>,
    /// Receives the progress (none: the run is silent, as with [`NoObserver`]).
    pub observer: Option<&'a mut dyn FitObserver>,
    /// Applied to training inputs (validation inputs get it with a fixed seed).
    pub input_transform: Option<InputTransform<'a>>,
}

/// Samples held out for validation: `floor(n · split)`, taken from the end (Keras's `validation_split`).
pub fn validation_count(n: usize, split: f32) -> usize {
    ((n as f64 * split as f64).floor() as usize).min(n)
}

fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

fn gather(src: &[f32], width: usize, idx: &[usize], dst: &mut Vec<f32>) {
    dst.clear();
    for &i in idx {
        dst.extend_from_slice(&src[i * width..(i + 1) * width]);
    }
}

/// Loss (and accuracy) of `net` on `x`/`y` without training; fails on
/// inputs the first layer does not take (see [`Network::check_input`]).
pub fn evaluate(
    net: &mut Network,
    loss: Loss,
    l2: f32,
    x: &[f32],
    y: &[f32],
    accuracy: bool,
) -> Result<(f64, Option<f64>), NnError> {
    net.check_input(x)?;
    check_labels(net, loss, y)?;
    Ok(evaluate_checked(net, loss, l2, x, y, accuracy))
}

/// For [`Loss::SparseCce`]: every target is a class index of the output.
fn check_labels(net: &Network, loss: Loss, y: &[f32]) -> Result<(), NnError> {
    if loss == Loss::SparseCce {
        let classes = net.output_len();
        if let Some(sample) = y.iter().position(|&v| !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes)) {
            return Err(NnError::Label { sample, value: y[sample], classes });
        }
    }
    Ok(())
}

/// [`evaluate`] on inputs already checked.
fn evaluate_checked(
    net: &mut Network,
    loss: Loss,
    l2: f32,
    x: &[f32],
    y: &[f32],
    accuracy: bool,
) -> (f64, Option<f64>) {
    let out_len = net.output_len();
    let pred = net.predict(x);
    let n = pred.len() / out_len.max(1);
    let mut grad = Vec::new();
    let value = loss.value_and_grad(&pred, y, n, false, &mut grad) + penalty(net, l2);
    (value, accuracy.then(|| batch_accuracy(loss, &pred, y, out_len)))
}

/// Accuracy of a batch: against class indices for [`Loss::SparseCce`],
/// against one-hot rows (or 0/1 targets) otherwise.
fn batch_accuracy(loss: Loss, pred: &[f32], y: &[f32], out_len: usize) -> f64 {
    if loss == Loss::SparseCce {
        metrics::sparse_accuracy(pred, y, out_len)
    } else {
        metrics::accuracy(pred, y, out_len)
    }
}

fn penalty(net: &Network, l2: f32) -> f64 {
    let params: Vec<&[f32]> = net.layers.iter().flat_map(|l| l.params()).collect();
    let reg: Vec<bool> = net
        .layers
        .iter()
        .flat_map(|l| {
            let spec = l.spec();
            (0..spec.param_count()).map(move |p| spec.param(p).is_some_and(|p| p.regularized))
        })
        .collect();
    l2_penalty(&params, &reg, l2)
}

/// Trains `net` on `data`; returns the history (including epochs done before a resume).
///
/// Fails, before any step, on data of the wrong shape, NaN or infinite
/// values, inputs the first layer does not take (an out-of-range token or
/// row id, named with its sample), bad settings or an unfit checkpoint; and
/// during training when the loss diverges or a checkpoint cannot be written.
pub fn fit(net: &mut Network, data: TrainData<'_>, cfg: &FitConfig, opts: FitOptions<'_>) -> Result<History, NnError> {
    let (in_len, out_len) = (net.input_len(), cfg.loss.target_len(net.output_len()));
    if in_len == 0 || !data.x.len().is_multiple_of(in_len) {
        return Err(NnError::InputShape { values: data.x.len(), sample_len: in_len });
    }
    let n = data.x.len() / in_len;
    if data.y.len() != n * out_len {
        return Err(NnError::TargetShape { samples: n, per_sample: out_len, got: data.y.len() });
    }
    if let Some(index) = data.x.iter().chain(data.y).position(|v| !v.is_finite()) {
        return Err(NnError::NonFinite { index });
    }
    net.check_input(data.x)?;
    check_labels(net, cfg.loss, data.y)?;
    if cfg.batch_size == 0 {
        return Err(NnError::BatchSize);
    }
    if !(0.0..1.0).contains(&cfg.validation_split) {
        return Err(NnError::ValidationSplit(cfg.validation_split));
    }
    let n_val = validation_count(n, cfg.validation_split);
    let n_train = n - n_val;
    if n_train == 0 {
        return Err(NnError::NoTrainingSamples);
    }
    if let Some(s) = &cfg.lr_schedule {
        s.validate().map_err(NnError::Schedule)?;
    }
    let mut silent = NoObserver;
    let observer: &mut dyn FitObserver = match opts.observer {
        Some(o) => o,
        None => &mut silent,
    };
    let (x_train, x_val) = data.x.split_at(n_train * in_len);
    let (y_train, y_val) = data.y.split_at(n_train * out_len);
    // Each training sample's class weight, when the run has class weights.
    let sample_weights = match &cfg.class_weights {
        None => None,
        Some(_) if !matches!(cfg.loss, Loss::Bce | Loss::Cce) => {
            return Err(NnError::ClassWeights("class weights need a classifier's loss, bce or cce".into()));
        }
        Some(cw) => {
            let by_class = cw.resolve(y_train, out_len).map_err(NnError::ClassWeights)?;
            Some(target_classes(y_train, out_len).into_iter().map(|c| by_class[c]).collect::<Vec<f32>>())
        }
    };
    let mut x_val = x_val.to_vec();
    if let Some(t) = opts.input_transform {
        t(&mut x_val, cfg.seed ^ VALIDATION_NOISE_SEED);
    }

    let fused = net.layers.last().is_some_and(|l| cfg.loss.fuses_with(l.spec().activation()));
    let mut state = OptimizerState::default();
    let mut history = History::default();
    let mut best: Option<(f64, Vec<Vec<f32>>)> = None;
    let mut wait = 0usize;
    let lr0 = cfg.optimizer.lr();
    let mut schedule = ScheduleState::new(lr0);
    if let Some(ck) = opts.resume {
        ck.check_compatible(net, cfg)?;
        net.set_param_values(&ck.params);
        state = ck.optimizer;
        history = ck.history;
        best = ck.best;
        wait = ck.wait;
        schedule = ck.schedule;
        observer.on_resume(history.epochs.len(), cfg.epochs);
    }

    let width = net.output_len();
    let batches = n_train.div_ceil(cfg.batch_size);
    let (mut xb, mut yb, mut wb, mut grad) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let first_epoch = if history.stopped_early { cfg.epochs } else { history.epochs.len() };
    for epoch in first_epoch..cfg.epochs {
        let start = Instant::now();
        let mut order: Vec<usize> = (0..n_train).collect();
        order.shuffle(&mut stream_rng(cfg.seed, 1 + epoch as u64));
        observer.on_epoch_start(epoch + 1, cfg.epochs, batches);
        let (mut loss_sum, mut correct) = (0f64, 0f64);
        let mut epoch_lr = lr0;
        for (b, idx) in order.chunks(cfg.batch_size).enumerate() {
            gather(x_train, in_len, idx, &mut xb);
            gather(y_train, out_len, idx, &mut yb);
            if let Some(t) = opts.input_transform {
                t(&mut xb, cfg.seed ^ ((epoch as u64) << 32) ^ b as u64);
            }
            let pred = net.forward(&xb, idx.len(), true);
            let value = match &sample_weights {
                None => cfg.loss.value_and_grad(pred, &yb, idx.len(), fused, &mut grad),
                Some(w) => {
                    wb.clear();
                    wb.extend(idx.iter().map(|&i| w[i]));
                    cfg.loss.weighted_value_and_grad(pred, &yb, &wb, fused, &mut grad)
                }
            };
            if cfg.accuracy {
                correct += batch_accuracy(cfg.loss, pred, &yb, width) * idx.len() as f64;
            }
            if !value.is_finite() {
                return Err(NnError::Diverged { value, epoch: epoch + 1, batch: b + 1 });
            }
            loss_sum += value * idx.len() as f64;
            net.backward(&grad, idx.len(), fused);
            let optimizer = match &cfg.lr_schedule {
                None => cfg.optimizer,
                Some(s) => cfg.optimizer.with_lr(s.lr(lr0, &schedule, epoch, state.step)),
            };
            if b == 0 {
                epoch_lr = optimizer.lr();
            }
            state.update(&optimizer, &mut net.params_mut(), cfg.l2);
            let running = loss_sum / ((b * cfg.batch_size + idx.len()) as f64);
            observer.on_batch(epoch + 1, b + 1, batches, running);
        }
        observer.on_batches_done(epoch + 1);
        let loss = loss_sum / n_train as f64 + penalty(net, cfg.l2);
        let accuracy = cfg.accuracy.then(|| correct / n_train as f64);
        let (val_loss, val_accuracy) = if n_val > 0 {
            let (l, a) = evaluate_checked(net, cfg.loss, cfg.l2, &x_val, y_val, cfg.accuracy);
            (Some(l), a)
        } else {
            (None, None)
        };
        let record = EpochRecord {
            epoch: epoch + 1,
            loss,
            val_loss,
            accuracy,
            val_accuracy,
            seconds: start.elapsed().as_secs_f64(),
            lr: epoch_lr as f64,
        };
        observer.on_epoch_end(&record, cfg.epochs);
        let monitored = val_loss.unwrap_or(loss);
        history.epochs.push(record);
        let min_delta = cfg.early_stopping.map_or(0.0, |e| e.min_delta);
        if best.as_ref().is_none_or(|(b, _)| monitored < b - min_delta) {
            best = Some((monitored, net.param_values()));
            history.best_epoch = Some(epoch + 1);
            wait = 0;
        } else {
            wait += 1;
        }
        if let Some(new) = cfg.lr_schedule.and_then(|s| s.end_epoch(&mut schedule, monitored)) {
            observer.on_lr_reduced(epoch + 1, new as f64);
        }
        if let Some(es) = cfg.early_stopping
            && wait >= es.patience
        {
            history.stopped_early = true;
            observer.on_early_stop(epoch + 1, es.patience);
        }
        // The checkpoint holds the last epoch's weights (a resumed run goes on
        // from them); the best ones are put back only once training ends.
        if let Some(path) = &opts.checkpoint {
            Checkpoint {
                config: cfg.clone(),
                params: net.param_values(),
                optimizer: state.clone(),
                history: history.clone(),
                best: best.clone(),
                wait,
                schedule,
            }
            .save(path)?;
            observer.on_checkpoint(epoch + 1, path);
        }
        if history.stopped_early {
            break;
        }
    }
    match (&best, cfg.early_stopping.is_some_and(|e| e.restore_best)) {
        (Some((_, params)), true) => net.set_param_values(params),
        _ => history.best_epoch = history.epochs.last().map(|e| e.epoch),
    }
    Ok(history)
}

#[cfg(test)]
mod tests;
