//! The fit loop: reproducibility, resume from a checkpoint, early stopping,
//! convergence of a linear autoencoder to PCA's error, and bad input.

use std::path::PathBuf;

use ember_conformance::{dense, forward_f64, input_spec, rng, to_f64, uniform};
use ember_data::make_blobs;
use ember_export::Model;
use ember_nn::checkpoint::Checkpoint;
use ember_nn::fit::{EarlyStopping, FitConfig, FitOptions, History, TrainData, fit};
use ember_nn::loss::Loss;
use ember_nn::network::Network;
use ember_nn::optim::OptimizerConfig;
use ember_runtime::spec::{Activation, LayerSpec};
use ember_train::pca::Pca;
use ember_train::presets;
use rand::RngExt;

fn ae_specs() -> Vec<LayerSpec> {
    vec![dense(3, 2, Activation::Linear), dense(2, 3, Activation::Linear)]
}

fn ae_net(seed: u64) -> Network {
    Network::init("ae", input_spec(3), &ae_specs(), seed)
}

fn blobs(n: usize, seed: u64) -> Vec<f32> {
    make_blobs(n, 3, 1.0, seed).x
}

fn config(epochs: usize, seed: u64) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 16,
        validation_split: 0.2,
        loss: Loss::Mse,
        optimizer: OptimizerConfig::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 },
        l2: 0.0,
        seed,
        early_stopping: None,
        accuracy: false,
        lr_schedule: None,
        class_weights: None,
    }
}

fn bits(values: &[Vec<f32>]) -> Vec<Vec<u32>> {
    values.iter().map(|v| v.iter().map(|x| x.to_bits()).collect()).collect()
}

/// Trains a fresh autoencoder (initialised with `init_seed`) on `x`.
fn train(x: &[f32], cfg: &FitConfig, init_seed: u64, opts: FitOptions<'_>) -> (Network, History) {
    let mut net = ae_net(init_seed);
    let history = fit(&mut net, TrainData { x, y: x }, cfg, opts).expect("training succeeds");
    (net, history)
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fit").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// History without the wall-clock seconds.
fn records(h: &History) -> Vec<(usize, u64, Option<u64>)> {
    h.epochs.iter().map(|e| (e.epoch, e.loss.to_bits(), e.val_loss.map(f64::to_bits))).collect()
}

#[test]
fn same_seed_gives_bitwise_identical_weights() {
    let x = blobs(200, 1);
    let cfg = config(4, 7);
    let (a, ha) = train(&x, &cfg, 3, FitOptions::default());
    let (b, hb) = train(&x, &cfg, 3, FitOptions::default());
    assert_eq!(bits(&a.param_values()), bits(&b.param_values()));
    assert_eq!(records(&ha), records(&hb));
    assert_ne!(bits(&a.param_values()), bits(&ae_net(3).param_values()), "training changed the weights");
}

#[test]
fn different_seeds_give_different_weights() {
    let x = blobs(200, 1);
    let (a, _) = train(&x, &config(4, 7), 3, FitOptions::default());
    let (b, _) = train(&x, &config(4, 8), 3, FitOptions::default());
    assert_ne!(bits(&a.param_values()), bits(&b.param_values()), "the shuffle seed matters");
    let (c, _) = train(&x, &config(4, 7), 4, FitOptions::default());
    assert_ne!(bits(&a.param_values()), bits(&c.param_values()), "the initialisation seed matters");
    assert_ne!(bits(&ae_net(3).param_values()), bits(&ae_net(4).param_values()));
}

/// Stops a run after `n` epochs, resumes it from its checkpoint to `m`, and
/// compares with an uninterrupted `m`-epoch run.
fn check_resume(cfg: FitConfig, n: usize, m: usize, name: &str) {
    let x = blobs(160, 2);
    let mut full_cfg = cfg.clone();
    full_cfg.epochs = m;
    let (full, full_history) = train(&x, &full_cfg, 5, FitOptions::default());

    let dir = scratch_dir(name);
    let ck = dir.join("checkpoint.bin");
    let mut first_cfg = cfg.clone();
    first_cfg.epochs = n;
    let (_, first) = train(&x, &first_cfg, 5, FitOptions { checkpoint: Some(ck.clone()), ..FitOptions::default() });
    assert_eq!(first.epochs.len(), n);
    let saved = Checkpoint::load(&ck).expect("checkpoint readable");
    assert_eq!(saved.history.epochs.len(), n);
    // Resume into a network with other weights: the checkpoint must replace them.
    let (resumed, history) = train(&x, &full_cfg, 99, FitOptions { resume: Some(saved), ..FitOptions::default() });
    assert_eq!(records(&history), records(&full_history), "{name}: the resumed history differs");
    assert_eq!(history.best_epoch, full_history.best_epoch, "{name}: best epoch");
    assert_eq!(bits(&resumed.param_values()), bits(&full.param_values()), "{name}: resumed weights differ");
}

#[test]
fn resume_gives_bitwise_the_same_weights() {
    check_resume(config(6, 11), 2, 6, "adam");
    let mut sgd = config(5, 12);
    sgd.optimizer = OptimizerConfig::Sgd { lr: 0.001, momentum: 0.9, nesterov: true };
    sgd.l2 = 1e-3;
    check_resume(sgd, 3, 5, "sgd");
}

#[test]
fn resume_after_the_best_epoch_with_restore_best() {
    // Validation loss is lowest around epoch 6 and rises after: a run
    // stopped at epoch 10 has restored epoch 6's weights, but its resumed
    // continuation must still take the steps of the uninterrupted run.
    let (x, y, model) = diverging_validation();
    let mut cfg = config(14, 3);
    cfg.batch_size = 8;
    cfg.optimizer = OptimizerConfig::Sgd { lr: 0.01, momentum: 0.0, nesterov: false };
    cfg.early_stopping = Some(EarlyStopping { patience: 100, min_delta: 0.0, restore_best: true });
    let run = |cfg: &FitConfig, opts: FitOptions<'_>| {
        let mut net = Network::from_model(&model);
        let h = fit(&mut net, TrainData { x: &x, y: &y }, cfg, opts).unwrap();
        (net, h)
    };
    let (full, full_h) = run(&cfg, FitOptions::default());
    let best = full_h.best_epoch.unwrap();
    assert!(best < 10, "the best epoch ({best}) comes before the interruption");
    let ck = scratch_dir("after-best").join("checkpoint.bin");
    let first_cfg = FitConfig { epochs: 10, ..cfg.clone() };
    run(&first_cfg, FitOptions { checkpoint: Some(ck.clone()), ..FitOptions::default() });
    let saved = Checkpoint::load(&ck).unwrap();
    let (resumed, h) = run(&cfg, FitOptions { resume: Some(saved), ..FitOptions::default() });
    assert_eq!(records(&h), records(&full_h), "the resumed epochs differ from the uninterrupted run");
    assert_eq!(h.best_epoch, full_h.best_epoch);
    assert_eq!(bits(&resumed.param_values()), bits(&full.param_values()));
}

#[test]
fn resume_with_early_stopping_configured() {
    // Patience long enough not to stop, restore_best on: stopping at epoch N
    // must not hand the resumed run the best weights instead of the last.
    let mut cfg = config(12, 13);
    cfg.optimizer = OptimizerConfig::Sgd { lr: 0.002, momentum: 0.9, nesterov: false };
    cfg.early_stopping = Some(EarlyStopping { patience: 100, min_delta: 0.0, restore_best: true });
    check_resume(cfg, 6, 12, "early-stopping");
}

/// A 1 -> 1 linear model trained towards `y = x` while the validation
/// targets are `y = -x`: starting from `w = -2`, the validation error
/// `(w + 1)²·E[x²]` first falls, then rises once `w` passes -1.
fn diverging_validation() -> (Vec<f32>, Vec<f32>, Model) {
    let mut r = rng(21);
    let n = 100;
    let x: Vec<f32> = (0..n).map(|_| r.random_range(-1.0..1.0)).collect();
    let n_val = 20; // floor(100 * 0.2)
    let y: Vec<f32> = x.iter().enumerate().map(|(i, &v)| if i < n - n_val { v } else { -v }).collect();
    let model =
        Model::new("line", input_spec(1), vec![dense(1, 1, Activation::Linear)], vec![vec![-2.0], vec![0.0]]).unwrap();
    (x, y, model)
}

#[test]
fn early_stopping_stops_and_restores_the_best_epoch() {
    let (x, y, model) = diverging_validation();
    let mut cfg = config(60, 3);
    cfg.batch_size = 8;
    cfg.optimizer = OptimizerConfig::Sgd { lr: 0.01, momentum: 0.0, nesterov: false };
    let patience = 3;
    cfg.early_stopping = Some(EarlyStopping { patience, min_delta: 0.0, restore_best: true });
    let dir = scratch_dir("early");
    let ck = dir.join("checkpoint.bin");
    let mut net = Network::from_model(&model);
    let h = fit(
        &mut net,
        TrainData { x: &x, y: &y },
        &cfg,
        FitOptions { checkpoint: Some(ck.clone()), ..FitOptions::default() },
    )
    .unwrap();

    assert!(h.stopped_early, "validation loss rises, so training stops early");
    let best = h.best_epoch.expect("a best epoch");
    let val: Vec<f64> = h.epochs.iter().map(|e| e.val_loss.unwrap()).collect();
    assert!(best > 1 && best < val.len(), "best epoch {best} of {} (val {val:?})", val.len());
    assert_eq!(h.epochs.len(), best + patience, "stops `patience` epochs after the best");
    let min = val.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(val[best - 1], min, "the best epoch has the lowest validation loss");
    assert!(val[best..].iter().all(|&v| v >= min));

    // The restored weights are the weights after `best` epochs of the same run.
    let mut plain = cfg.clone();
    plain.epochs = best;
    plain.early_stopping = None;
    let mut reference = Network::from_model(&model);
    fit(&mut reference, TrainData { x: &x, y: &y }, &plain, FitOptions::default()).unwrap();
    assert_eq!(bits(&net.param_values()), bits(&reference.param_values()));
    // Their validation loss, computed here in f64, is the recorded best.
    let params: Vec<Vec<f64>> = net.param_values().iter().map(|p| to_f64(p)).collect();
    let pred = forward_f64(&net.specs(), &params, &to_f64(&x[80..]));
    let mse = pred.iter().zip(&y[80..]).map(|(p, &t)| (p - t as f64).powi(2)).sum::<f64>() / 20.0;
    assert!((mse - min).abs() <= 1e-5 * min, "val MSE of the restored weights {mse} vs recorded best {min}");
    // The checkpoint holds the last epoch's weights (a resume goes on from
    // them) and, separately, the best ones.
    let saved = Checkpoint::load(&ck).unwrap();
    assert!(saved.history.stopped_early);
    let mut all = cfg.clone();
    all.epochs = h.epochs.len();
    all.early_stopping = None;
    let mut last = Network::from_model(&model);
    fit(&mut last, TrainData { x: &x, y: &y }, &all, FitOptions::default()).unwrap();
    assert_eq!(bits(&saved.params), bits(&last.param_values()));
    assert_eq!(bits(&saved.best.expect("best saved").1), bits(&net.param_values()));
}

#[test]
fn early_stopping_without_restore_keeps_the_last_weights() {
    let (x, y, model) = diverging_validation();
    let mut cfg = config(60, 3);
    cfg.batch_size = 8;
    cfg.optimizer = OptimizerConfig::Sgd { lr: 0.01, momentum: 0.0, nesterov: false };
    cfg.early_stopping = Some(EarlyStopping { patience: 2, min_delta: 0.0, restore_best: false });
    let mut net = Network::from_model(&model);
    let h = fit(&mut net, TrainData { x: &x, y: &y }, &cfg, FitOptions::default()).unwrap();
    assert!(h.stopped_early);
    let mut plain = cfg.clone();
    plain.epochs = h.epochs.len();
    plain.early_stopping = None;
    let mut reference = Network::from_model(&model);
    fit(&mut reference, TrainData { x: &x, y: &y }, &plain, FitOptions::default()).unwrap();
    assert_eq!(bits(&net.param_values()), bits(&reference.param_values()));
}

#[test]
fn linear_autoencoder_reaches_pca_error() {
    let preset = presets::preset("blobs-ae").expect("preset");
    let cfg = preset.fit_config().unwrap();
    let x = blobs(600, preset.train.seed);
    let mut net = Network::init("blobs_ae", input_spec(3), &preset.layer_specs().unwrap(), preset.train.seed);
    fit(&mut net, TrainData { x: &x, y: &x }, &cfg, FitOptions::default()).unwrap();
    let n = x.len() / 3;
    let n_val = (n as f64 * cfg.validation_split as f64).floor() as usize;
    let (train_x, val_x) = x.split_at((n - n_val) * 3);
    let params: Vec<Vec<f64>> = net.param_values().iter().map(|p| to_f64(p)).collect();
    let recon = forward_f64(&net.specs(), &params, &to_f64(val_x));
    let ae = recon.iter().zip(val_x).map(|(r, &v)| (r - v as f64).powi(2)).sum::<f64>() / val_x.len() as f64;
    let pca = Pca::fit(train_x, n - n_val, 3, 2).reconstruction_mse(val_x);
    let total = {
        // The error of reconstructing every point by the training mean: a
        // useless model's error, to show the comparison is not vacuous.
        let mean: Vec<f64> = (0..3)
            .map(|j| train_x.iter().skip(j).step_by(3).map(|&v| v as f64).sum::<f64>() / (n - n_val) as f64)
            .collect();
        val_x.iter().enumerate().map(|(i, &v)| (v as f64 - mean[i % 3]).powi(2)).sum::<f64>() / val_x.len() as f64
    };
    assert!(pca < 0.5 * total, "PCA {pca} should explain most of the variance {total}");
    assert!(ae <= 1.1 * pca, "autoencoder validation MSE {ae} is not within 10% of PCA's {pca}");
}

#[test]
fn nan_or_infinite_training_data_is_an_error() {
    let mut x = blobs(50, 4);
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        x[37] = bad;
        let mut net = ae_net(1);
        let before = bits(&net.param_values());
        let err = fit(&mut net, TrainData { x: &x, y: &x }, &config(2, 1), FitOptions::default()).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("NaN") || msg.contains("infinite"), "unclear message: {msg}");
        assert_eq!(bits(&net.param_values()), before, "weights untouched on bad data");
    }
    // NaN only in the targets.
    let x = blobs(50, 4);
    let mut y = x.clone();
    y[3] = f32::NAN;
    let err = fit(&mut ae_net(1), TrainData { x: &x, y: &y }, &config(2, 1), FitOptions::default()).unwrap_err();
    assert!(format!("{err:#}").contains("NaN"), "{err:#}");
}

#[test]
fn inconsistent_training_data_is_an_error() {
    let x = blobs(50, 4);
    let cases: [(&[f32], &[f32], FitConfig); 4] = [
        (&x[..149], &x[..149], config(1, 1)),
        (&x, &x[..147], config(1, 1)),
        (&x, &x, FitConfig { batch_size: 0, ..config(1, 1) }),
        (&x, &x, FitConfig { validation_split: 1.0, ..config(1, 1) }),
    ];
    for (xs, ys, cfg) in cases {
        assert!(fit(&mut ae_net(1), TrainData { x: xs, y: ys }, &cfg, FitOptions::default()).is_err());
    }
}

#[test]
fn diverging_training_is_an_error_not_a_nan_model() {
    let x: Vec<f32> = uniform(&mut rng(5), 300, -100.0, 100.0);
    let mut cfg = config(50, 1);
    cfg.optimizer = OptimizerConfig::Sgd { lr: 10.0, momentum: 0.0, nesterov: false };
    let err = fit(&mut ae_net(1), TrainData { x: &x, y: &x }, &cfg, FitOptions::default()).unwrap_err();
    assert!(format!("{err:#}").contains("learning rate"), "{err:#}");
}

/// A valid checkpoint of a short run, its bytes and its config.
fn checkpoint_bytes(name: &str) -> (PathBuf, Vec<u8>, FitConfig) {
    let dir = scratch_dir(name);
    let ck = dir.join("checkpoint.bin");
    let mut cfg = config(2, 9);
    cfg.early_stopping = Some(EarlyStopping { patience: 5, min_delta: 0.0, restore_best: true });
    train(&blobs(60, 3), &cfg, 1, FitOptions { checkpoint: Some(ck.clone()), ..FitOptions::default() });
    let bytes = std::fs::read(&ck).unwrap();
    (ck, bytes, cfg)
}

/// Loads `bytes` as a checkpoint and, if that works, resumes a 4-epoch run
/// from it: every step may fail, none may panic.
fn load_and_resume(path: &std::path::Path, bytes: &[u8], cfg: &FitConfig) -> anyhow::Result<()> {
    std::fs::write(path, bytes)?;
    let ck = Checkpoint::load(path)?;
    let x = blobs(60, 3);
    let mut cfg = cfg.clone();
    cfg.epochs = 4;
    fit(&mut ae_net(1), TrainData { x: &x, y: &x }, &cfg, FitOptions { resume: Some(ck), ..FitOptions::default() })?;
    Ok(())
}

#[test]
fn corrupt_checkpoint_is_an_error() {
    let (path, good, cfg) = checkpoint_bytes("corrupt");
    load_and_resume(&path, &good, &cfg).expect("the intact checkpoint resumes");
    // Every truncation.
    for n in 0..good.len() {
        let err = load_and_resume(&path, &good[..n], &cfg).expect_err("a truncated checkpoint is refused");
        let msg = format!("{err:#}");
        assert!(msg.contains("checkpoint"), "unclear message for {n} bytes: {msg}");
    }
    // Not a checkpoint at all.
    let mut b = good.clone();
    b[0] ^= 0xFF;
    assert!(format!("{:#}", load_and_resume(&path, &b, &cfg).unwrap_err()).contains("not an ember checkpoint"));
    // Missing file.
    assert!(Checkpoint::load(&path.with_extension("missing")).is_err());
}

#[test]
fn corrupt_checkpoint_never_panics() {
    let (path, good, cfg) = checkpoint_bytes("mutated");
    let mut r = rng(77);
    for _ in 0..300 {
        let mut b = good.clone();
        let i = r.random_range(8..b.len());
        match r.random_range(0..3) {
            0 => b[i] ^= 1 << r.random_range(0..8),
            1 => b[i] = r.random_range(0..=255),
            _ => {
                b.remove(i);
            }
        }
        let _ = load_and_resume(&path, &b, &cfg);
    }
}

#[test]
fn inconsistent_checkpoint_is_an_error() {
    // Checkpoints that decode but do not fit the network or the run.
    let (path, good, cfg) = checkpoint_bytes("inconsistent");
    std::fs::write(&path, &good).unwrap();
    let ck = Checkpoint::load(&path).unwrap();
    type Edit = Box<dyn Fn(&mut Checkpoint)>;
    let mut edits: Vec<Edit> = vec![
        Box::new(|c| {
            c.params[0].pop();
        }),
        Box::new(|c| c.params.truncate(3)),
        Box::new(|c| c.config.seed += 1),
        Box::new(|c| c.config.batch_size += 1),
    ];
    // The best weights and optimizer slots must fit too.
    // (A best loss of 0 is never beaten, so these weights get restored.)
    edits.push(Box::new(|c| {
        if let Some((loss, best)) = &mut c.best {
            *loss = 0.0;
            best[2].pop();
        }
    }));
    edits.push(Box::new(|c| c.optimizer.slot1[0].truncate(1)));
    let mut failures = Vec::new();
    for (i, edit) in edits.iter().enumerate() {
        let mut bad = ck.clone();
        edit(&mut bad);
        bad.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        match std::panic::catch_unwind(|| load_and_resume(&path, &bytes, &cfg)) {
            Ok(Err(_)) => {}
            Ok(Ok(())) => failures.push(format!("inconsistent checkpoint {i} was accepted")),
            Err(_) => failures.push(format!("inconsistent checkpoint {i} made training panic")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn train_reports_errors_on_the_fit_validation_split() {
    // `ember train`'s report compares the model with PCA on the validation
    // samples: exactly the ones `fit` held out (the last floor(n · split)).
    let mut preset = presets::preset("blobs-ae").unwrap();
    preset.train.epochs = 3;
    let out = scratch_dir("train-summary");
    let opts = ember_train::train::TrainOptions { out, ..Default::default() };
    let summary = ember_train::train::train(&preset, &opts).unwrap();
    let x = blobs(600, preset.train.seed);
    let n_val = (600.0 * preset.train.validation_split as f64).floor() as usize;
    let (train_x, val_x) = x.split_at((600 - n_val) * 3);
    let params: Vec<Vec<f64>> = summary.model.params.iter().map(|t| to_f64(&t.data)).collect();
    let recon = forward_f64(&summary.model.layers, &params, &to_f64(val_x));
    let mse = recon.iter().zip(val_x).map(|(r, &v)| (r - v as f64).powi(2)).sum::<f64>() / val_x.len() as f64;
    let last_val_loss = summary.history.epochs.last().unwrap().val_loss.unwrap();
    assert!((mse - last_val_loss).abs() <= 1e-5 * mse, "fit's val_loss {last_val_loss} vs {mse} on its split");
    assert!(
        (summary.val_mse - mse).abs() <= 1e-5 * mse,
        "the report's validation MSE {} is not the MSE on fit's {n_val} validation samples ({mse})",
        summary.val_mse
    );
    let pca = Pca::fit(train_x, 600 - n_val, 3, 2).reconstruction_mse(val_x);
    let reported = summary.pca_mse.expect("PCA baseline");
    assert!((reported - pca).abs() <= 1e-5 * pca, "the report's PCA MSE {reported} vs {pca} on fit's split");
}
