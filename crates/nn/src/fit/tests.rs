//! The fit loop without a terminal: observer events, and bad ids as errors.

use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};

use super::*;
use crate::observer::Recorder;
use crate::optim::OptimizerConfig;

fn config(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 4,
        validation_split: 0.2,
        loss: Loss::Mse,
        optimizer: OptimizerConfig::Sgd { lr: 0.05, momentum: 0.0, nesterov: false },
        l2: 0.0,
        seed: 3,
        early_stopping: None,
        accuracy: false,
        lr_schedule: None,
        class_weights: None,
    }
}

fn io(kind: ValueKind, n: u32) -> IoSpec {
    IoSpec { kind, dims: Dims::d1(n), range: None }
}

/// Token ids `[n, 2]` in `0..5` → an embedding, flattened, to one unit.
fn embedding_net() -> Network {
    let specs = [
        LayerSpec::Embedding { vocab: 5, dim: 3, seq_len: 2 },
        LayerSpec::Flatten { dims: Dims::d2(2, 3) },
        LayerSpec::Dense { inputs: 6, units: 1, activation: Activation::Linear },
    ];
    Network::init("emb", io(ValueKind::TokenIds, 2), &specs, 1)
}

fn token_ids(n: usize) -> Vec<f32> {
    (0..2 * n).map(|i| (i * 7 % 5) as f32).collect()
}

#[test]
fn observer_sees_every_step_in_order() {
    let x = token_ids(10);
    let y: Vec<f32> = (0..10).map(|i| i as f32 / 10.0).collect();
    let dir = std::env::temp_dir().join(format!("ember-nn-fit-observer-{}", std::process::id()));
    let ck = dir.join("checkpoint.bin");
    let mut rec = Recorder::default();
    let opts = FitOptions { checkpoint: Some(ck.clone()), observer: Some(&mut rec), ..FitOptions::default() };
    let history = fit(&mut embedding_net(), TrainData { x: &x, y: &y }, &config(2), opts).unwrap();
    assert_eq!(history.epochs.len(), 2);
    let ck_line = |e: usize| format!("checkpoint {e} {}", ck.display());
    let want = [
        "start 1/2 2".to_string(),
        "batch 1 1/2".into(),
        "batch 1 2/2".into(),
        "trained 1".into(),
        "end 1/2".into(),
        ck_line(1),
        "start 2/2 2".into(),
        "batch 2 1/2".into(),
        "batch 2 2/2".into(),
        "trained 2".into(),
        "end 2/2".into(),
        ck_line(2),
    ];
    assert_eq!(rec.0, want);

    // A resumed run reports where it goes on from, and the same model as an
    // unobserved run results.
    let mut rec = Recorder::default();
    let resume = Some(Checkpoint::load(&ck).unwrap());
    let mut resumed = embedding_net();
    let opts = FitOptions { resume, observer: Some(&mut rec), ..FitOptions::default() };
    fit(&mut resumed, TrainData { x: &x, y: &y }, &config(3), opts).unwrap();
    assert_eq!(rec.0[0], "resume 2/3");
    assert_eq!(rec.0[1], "start 3/3 2");
    let mut straight = embedding_net();
    fit(&mut straight, TrainData { x: &x, y: &y }, &config(3), FitOptions::default()).unwrap();
    assert_eq!(resumed.param_values(), straight.param_values());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn early_stop_is_reported() {
    let x = token_ids(10);
    let y = vec![0.5; 10];
    let mut cfg = config(50);
    cfg.early_stopping = Some(EarlyStopping { patience: 1, min_delta: 1e9, restore_best: false });
    let mut rec = Recorder::default();
    let opts = FitOptions { observer: Some(&mut rec), ..FitOptions::default() };
    let h = fit(&mut embedding_net(), TrainData { x: &x, y: &y }, &cfg, opts).unwrap();
    assert!(h.stopped_early && h.epochs.len() == 2, "{h:?}");
    assert_eq!(rec.0.last().unwrap(), "stop 2 1");
}

#[test]
fn out_of_range_token_id_is_an_error_naming_the_sample() {
    for bad in [5.0, -1.0, 2.5, 1e9] {
        let mut x = token_ids(10);
        x[13] = bad;
        let y = vec![0.0; 10];
        let mut net = embedding_net();
        let before = net.param_values();
        let err = fit(&mut net, TrainData { x: &x, y: &y }, &config(1), FitOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("input {bad} at sample 6, position 1 is not a token id in 0..5")), "{msg}");
        assert_eq!(net.param_values(), before, "weights untouched on bad data");
        let err = evaluate(&mut net, Loss::Mse, 0.0, &x, &y, false).unwrap_err();
        assert!(matches!(err, NnError::TokenId { sample: 6, position: 1, vocab: 5, .. }), "{err}");
    }
}

#[test]
fn out_of_range_category_is_an_error_naming_the_sample() {
    let spec = LayerSpec::EntityDot { columns: 2, rows: 6, dim: 2, epsilon_bits: 1e-3f32.to_bits() };
    let mut net = Network::init("ent", io(ValueKind::TokenIds, 2), &[spec], 1);
    let mut x: Vec<f32> = (0..20).map(|i| (i % 6) as f32).collect();
    let y = vec![0.0; 10];
    assert!(evaluate(&mut net, Loss::Mse, 0.0, &x, &y, false).is_ok());
    x[7] = 6.0;
    let err = fit(&mut net, TrainData { x: &x, y: &y }, &config(1), FitOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "input 6 at sample 3, column 1 is not a row id in 0..6");
}
