//! Schedules against the Keras formulas written out here, in the fit loop
//! and across a resume; class weights against hand counts and finite
//! differences.

use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};

use super::*;
use crate::checkpoint::Checkpoint;
use crate::fit::{FitConfig, FitOptions, TrainData, fit};
use crate::loss::Loss;
use crate::network::Network;
use crate::optim::OptimizerConfig;

const LR0: f32 = 0.05;

fn net() -> Network {
    let io = IoSpec { kind: ValueKind::F32, dims: Dims::d1(3), range: None };
    Network::init("s", io, &[LayerSpec::Dense { inputs: 3, units: 1, activation: Activation::Linear }], 5)
}

/// 20 samples: 4 batches of 4 for training, 4 for validation.
fn data() -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..60).map(|i| ((i * 13 % 7) as f32 - 3.0) / 3.0).collect();
    let y: Vec<f32> = x.chunks(3).map(|r| r[0] - 0.5 * r[1] + 0.25 * r[2]).collect();
    (x, y)
}

fn config(epochs: usize, lr_schedule: Option<LrSchedule>) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 4,
        validation_split: 0.2,
        loss: Loss::Mse,
        optimizer: OptimizerConfig::Sgd { lr: LR0, momentum: 0.0, nesterov: false },
        l2: 0.0,
        seed: 9,
        early_stopping: None,
        accuracy: false,
        lr_schedule,
        class_weights: None,
    }
}

fn lrs(cfg: &FitConfig) -> Vec<f64> {
    let (x, y) = data();
    let h = fit(&mut net(), TrainData { x: &x, y: &y }, cfg, FitOptions::default()).unwrap();
    h.epochs.iter().map(|e| e.lr).collect()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-6 * w.abs(), "{got:?} vs {want:?}");
    }
}

#[test]
fn step_decay_follows_the_formula() {
    let s = LrSchedule::Step { factor: 0.5, every: 2 };
    // lr0 · 0.5^floor(e / 2) for epochs e = 0..7.
    let want: Vec<f64> = (0..7).map(|e| LR0 as f64 * 0.5f64.powi(e / 2)).collect();
    assert_close(&lrs(&config(7, Some(s))), &want);
}

#[test]
fn exponential_decay_follows_keras() {
    // 4 updates per epoch: epoch e starts after 4e updates.
    for staircase in [false, true] {
        let s = LrSchedule::Exponential { decay_rate: 0.9, decay_steps: 3, staircase };
        let want: Vec<f64> = (0..5)
            .map(|e| {
                let p = (4 * e) as f64 / 3.0;
                LR0 as f64 * 0.9f64.powf(if staircase { p.floor() } else { p })
            })
            .collect();
        assert_close(&lrs(&config(5, Some(s))), &want);
        // And every step, not just each epoch's first.
        let state = ScheduleState::new(LR0);
        for step in 0..30u64 {
            let p = step as f64 / 3.0;
            let w = LR0 as f64 * 0.9f64.powf(if staircase { p.floor() } else { p });
            assert_close(&[s.lr(LR0, &state, 0, step) as f64], &[w]);
        }
    }
}

#[test]
fn plateau_follows_keras_by_hand() {
    let s = LrSchedule::Plateau { factor: 0.5, patience: 2, min_lr: 0.3, min_delta: 0.01, cooldown: 1 };
    let mut st = ScheduleState::new(1.0);
    // Worked by hand from Keras's ReduceLROnPlateau.on_epoch_end:
    // epoch 1: 1.0 < inf → best 1.0. 2: 0.995 is no improvement (min_delta) → wait 1.
    // 3: wait 2 ≥ 2 → lr 0.5, cooldown 1, wait 0. 4: cooldown 1 → 0, wait 0; no
    // improvement, cooldown now 0 → wait 1. 5: 0.5 < 0.99 → best, wait 0.
    // 6, 7: wait 1, 2 → lr max(0.25, 0.3) = 0.3. 8: cooldown → 0; wait 1.
    // 9: wait 2, but lr 0.3 is not above min_lr: no change.
    let losses = [1.0, 0.995, 0.999, 1.2, 0.5, 0.6, 0.6, 0.6, 0.6];
    let want = [1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3];
    let reduced_at = [3, 7];
    for (i, (&l, &w)) in losses.iter().zip(&want).enumerate() {
        let r = s.end_epoch(&mut st, l);
        assert_eq!(r.is_some(), reduced_at.contains(&(i + 1)), "epoch {}", i + 1);
        assert_close(&[st.lr as f64], &[w]);
    }
}

/// A plateau schedule that never sees an improvement after epoch 1.
fn stuck_plateau() -> FitConfig {
    let s = LrSchedule::Plateau { factor: 0.5, patience: 1, min_lr: 0.0, min_delta: 1e9, cooldown: 0 };
    config(6, Some(s))
}

#[test]
fn plateau_in_the_fit_loop_and_across_a_resume() {
    let cfg = stuck_plateau();
    // The rate an epoch trains with is lowered after each stuck epoch (patience 1).
    let want: Vec<f64> = (0..6).map(|e| LR0 as f64 * 0.5f64.powi((e - 1).max(0))).collect();
    assert_close(&lrs(&cfg), &want);

    let dir = std::env::temp_dir().join(format!("ember-nn-schedule-resume-{}", std::process::id()));
    let ck = dir.join("checkpoint.bin");
    let (x, y) = data();
    let first = FitConfig { epochs: 3, ..cfg.clone() };
    let opts = FitOptions { checkpoint: Some(ck.clone()), ..FitOptions::default() };
    fit(&mut net(), TrainData { x: &x, y: &y }, &first, opts).unwrap();
    let saved = Checkpoint::load(&ck).unwrap();
    assert_eq!(saved.schedule.lr, (LR0 as f64 * 0.25) as f32, "the checkpoint holds the lowered rate");
    let mut resumed = net();
    let opts = FitOptions { resume: Some(saved), ..FitOptions::default() };
    let h_resumed = fit(&mut resumed, TrainData { x: &x, y: &y }, &cfg, opts).unwrap();
    let mut straight = net();
    let h_straight = fit(&mut straight, TrainData { x: &x, y: &y }, &cfg, FitOptions::default()).unwrap();
    assert_eq!(resumed.param_values(), straight.param_values());
    let lr_of = |h: &crate::fit::History| h.epochs.iter().map(|e| e.lr).collect::<Vec<_>>();
    assert_eq!(lr_of(&h_resumed), lr_of(&h_straight));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_settings_are_clear_errors() {
    let cases = [
        (LrSchedule::Plateau { factor: 1.5, patience: 1, min_lr: 0.0, min_delta: 0.0, cooldown: 0 }, "factor"),
        (LrSchedule::Plateau { factor: -0.5, patience: 1, min_lr: 0.0, min_delta: 0.0, cooldown: 0 }, "factor"),
        (LrSchedule::Plateau { factor: 0.5, patience: 1, min_lr: -1.0, min_delta: 0.0, cooldown: 0 }, "min_lr"),
        (LrSchedule::Step { factor: -0.5, every: 1 }, "factor"),
        (LrSchedule::Step { factor: 0.5, every: 0 }, "every"),
        (LrSchedule::Exponential { decay_rate: 0.0, decay_steps: 1, staircase: false }, "decay_rate"),
        (LrSchedule::Exponential { decay_rate: 0.5, decay_steps: 0, staircase: false }, "decay_steps"),
    ];
    let (x, y) = data();
    for (s, word) in cases {
        let mut n = net();
        let before = n.param_values();
        let err = fit(&mut n, TrainData { x: &x, y: &y }, &config(1, Some(s)), FitOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("learning-rate schedule") && msg.contains(word), "{msg}");
        assert_eq!(n.param_values(), before);
    }
}

#[test]
fn balanced_weights_match_hand_counts() {
    // Binary: 6 of class 0, 2 of class 1 → 8 / (2 · 6), 8 / (2 · 2).
    let y = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let w = ClassWeights::Balanced.resolve(&y, 1).unwrap();
    assert_eq!(w, vec![8.0 / 12.0, 2.0]);
    // One-hot, 3 classes, counts 1, 3, 0: the 2 classes present count.
    let y = [0., 1., 0., 1., 0., 0., 0., 1., 0., 0., 1., 0.];
    let w = ClassWeights::Balanced.resolve(&y, 3).unwrap();
    assert_eq!(w, vec![2.0, 4.0 / 6.0, 1.0]);
    let err = ClassWeights::Explicit(vec![1.0]).resolve(&y, 3).unwrap_err();
    assert!(err.contains("1 class weights given, the model has 3 classes"), "{err}");
    assert!(ClassWeights::Explicit(vec![1.0, -1.0]).resolve(&[0.0], 1).is_err());
}

/// The weighted loss `(1/B) Σ wᵢ Lᵢ` in f64, written from Keras's definitions.
fn weighted_reference(loss: Loss, y: &[f64], t: &[f64], w: &[f64]) -> f64 {
    let n = y.len() / w.len();
    let eps = crate::loss::EPS as f64;
    let per_sample = |i: usize| -> f64 {
        let (y, t) = (&y[i * n..(i + 1) * n], &t[i * n..(i + 1) * n]);
        let terms = y.iter().zip(t).map(|(&y, &t)| {
            let p = y.clamp(eps, 1.0 - eps);
            match loss {
                Loss::Bce => -(t * p.ln() + (1.0 - t) * (1.0 - p).ln()),
                _ => -t * p.ln(),
            }
        });
        let sum: f64 = terms.sum();
        if loss == Loss::Bce { sum / n as f64 } else { sum }
    };
    (0..w.len()).map(|i| w[i] * per_sample(i)).sum::<f64>() / w.len() as f64
}

#[test]
fn class_weights_scale_the_loss_and_its_gradient() {
    let w = [0.5f32, 3.0, 1.25];
    let cases: [(Loss, Vec<f32>, Vec<f32>); 2] = [
        (Loss::Bce, vec![0.2, 0.7, 0.9, 0.1, 0.4, 0.6], vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0]),
        (Loss::Cce, vec![0.2, 0.5, 0.3, 0.1, 0.1, 0.8], vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
    ];
    for (loss, y, t) in cases {
        let weights = if loss == Loss::Cce { &w[..2] } else { &w[..3] };
        let mut grad = Vec::new();
        let value = loss.weighted_value_and_grad(&y, &t, weights, false, &mut grad);
        let f = |y: &[f64]| {
            let t: Vec<f64> = t.iter().map(|&v| v as f64).collect();
            let w: Vec<f64> = weights.iter().map(|&v| v as f64).collect();
            weighted_reference(loss, y, &t, &w)
        };
        let y64: Vec<f64> = y.iter().map(|&v| v as f64).collect();
        assert!((value - f(&y64)).abs() < 1e-6, "{loss:?}: {value} vs {}", f(&y64));
        for i in 0..y.len() {
            let h = 1e-6;
            let (mut up, mut down) = (y64.clone(), y64.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (f(&up) - f(&down)) / (2.0 * h);
            assert!((grad[i] as f64 - fd).abs() < 1e-4 * fd.abs().max(1.0), "{loss:?} [{i}]: {} vs {fd}", grad[i]);
        }
        // Fused at a sigmoid/softmax output: wᵢ · (p − t) / B (/ n for bce).
        loss.weighted_value_and_grad(&y, &t, weights, true, &mut grad);
        let n = y.len() / weights.len();
        for i in 0..y.len() {
            let per = if loss == Loss::Bce { n as f32 } else { 1.0 };
            let want = weights[i / n] * (y[i] - t[i]) / weights.len() as f32 / per;
            assert!((grad[i] - want).abs() < 1e-7, "{loss:?} fused [{i}]");
        }
    }
}

#[test]
fn class_weights_need_a_classifier_loss() {
    let (x, y) = data();
    let mut cfg = config(1, None);
    cfg.class_weights = Some(ClassWeights::Balanced);
    let err = fit(&mut net(), TrainData { x: &x, y: &y }, &cfg, FitOptions::default()).unwrap_err();
    assert!(err.to_string().contains("class weights need a classifier's loss"), "{err}");
}

#[test]
fn balanced_weights_move_the_boundary_towards_the_rare_class() {
    // x in [0, 1), positive when x ≥ 0.85: 15 % positives.
    let x: Vec<f32> = (0..200).map(|i| ((i * 37) % 200) as f32 / 200.0).collect();
    let y: Vec<f32> = x.iter().map(|&v| f32::from(u8::from(v >= 0.85))).collect();
    let io = IoSpec { kind: ValueKind::F32, dims: Dims::d1(1), range: None };
    let spec = [LayerSpec::Dense { inputs: 1, units: 1, activation: Activation::Sigmoid }];
    let positives = |weights: Option<ClassWeights>| {
        let mut n = Network::init("w", io, &spec, 3);
        let cfg = FitConfig {
            loss: Loss::Bce,
            validation_split: 0.0,
            batch_size: 20,
            class_weights: weights,
            optimizer: OptimizerConfig::Sgd { lr: 0.5, momentum: 0.0, nesterov: false },
            ..config(20, None)
        };
        fit(&mut n, TrainData { x: &x, y: &y }, &cfg, FitOptions::default()).unwrap();
        n.predict(&x).iter().filter(|&&p| p >= 0.5).count()
    };
    let (plain, balanced) = (positives(None), positives(Some(ClassWeights::Balanced)));
    // 30 true positives: unweighted training under-predicts them, balanced
    // weights (0.59 and 3.33) predict more.
    assert!(plain < 30 && balanced > plain, "{plain} vs {balanced}");
}
