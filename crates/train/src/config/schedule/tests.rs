//! The `[train]` keys of schedules, class weights, Nesterov and `min_delta`:
//! what they become, their round trip, and clear errors for bad values.

use ember_nn::fit::EarlyStopping;
use ember_nn::optim::OptimizerConfig;

use super::*;
use crate::config::ModelConfig;

/// A binary text classifier whose `[train]` section ends with `extra`.
fn model(extra: &str) -> String {
    format!(
        "name = \"m\"\ntask = \"classify\"\ninput = [4]\n\
         layers = [{{ type = \"dense\", units = 1, activation = \"sigmoid\" }}]\n\
         [train]\nloss = \"bce\"\n{extra}\n"
    )
}

fn parse(extra: &str) -> Result<ModelConfig> {
    ModelConfig::from_toml(&model(extra))
}

fn err(extra: &str) -> String {
    parse(extra).expect_err(extra).to_string()
}

#[test]
fn keys_become_fit_settings() {
    let cfg = parse(
        "optimizer = \"sgd\"\nmomentum = 0.9\nnesterov = true\npatience = 3\nmin_delta = 0.01\n\
         class_weights = \"balanced\"\n\
         lr_schedule = { kind = \"plateau\", factor = 0.5, patience = 2, min_lr = 1e-5 }",
    )
    .unwrap();
    let fit = cfg.fit_config().unwrap();
    assert_eq!(fit.optimizer, OptimizerConfig::Sgd { lr: 0.01, momentum: 0.9, nesterov: true });
    assert_eq!(fit.early_stopping, Some(EarlyStopping { patience: 3, min_delta: 0.01, restore_best: true }));
    assert_eq!(fit.class_weights, Some(ClassWeights::Balanced));
    let want = LrSchedule::Plateau { factor: 0.5, patience: 2, min_lr: 1e-5, min_delta: 1e-4, cooldown: 0 };
    assert_eq!(fit.lr_schedule, Some(want));
    assert_eq!(ModelConfig::from_toml(&cfg.to_toml()).unwrap(), cfg, "round trip");

    let fit = parse("class_weights = [1.0, 4.5]\nlr_schedule = { kind = \"step\", every = 5 }")
        .unwrap()
        .fit_config()
        .unwrap();
    assert_eq!(fit.class_weights, Some(ClassWeights::Explicit(vec![1.0, 4.5])));
    assert_eq!(fit.lr_schedule, Some(LrSchedule::Step { factor: 0.5, every: 5 }));
    let s = "lr_schedule = { kind = \"exponential\", decay_rate = 0.96, decay_steps = 100, staircase = true }";
    let want = LrSchedule::Exponential { decay_rate: 0.96, decay_steps: 100, staircase: true };
    assert_eq!(parse(s).unwrap().fit_config().unwrap().lr_schedule, Some(want));
}

#[test]
fn absent_keys_change_nothing() {
    let cfg = parse("").unwrap();
    let fit = cfg.fit_config().unwrap();
    assert!(fit.lr_schedule.is_none() && fit.class_weights.is_none());
    let toml = cfg.to_toml();
    for key in ["nesterov", "min_delta", "lr_schedule", "class_weights"] {
        assert!(!toml.contains(key), "{key} written though unset:\n{toml}");
    }
}

#[test]
fn bad_values_are_clear_errors() {
    let cases = [
        ("lr_schedule = { kind = \"cosine\" }", "unknown lr_schedule kind \"cosine\" (step, exponential, plateau)"),
        ("lr_schedule = { kind = \"plateau\", factor = -0.5 }", "plateau factor must be in (0, 1), not -0.5"),
        ("lr_schedule = { kind = \"plateau\", factor = 2.0 }", "plateau factor must be in (0, 1), not 2"),
        ("lr_schedule = { kind = \"plateau\", min_lr = -1.0 }", "plateau min_lr must be a number ≥ 0"),
        ("lr_schedule = { kind = \"step\", factor = -0.5, every = 2 }", "step decay factor must be a positive"),
        ("lr_schedule = { kind = \"step\" }", "lr_schedule step needs every"),
        ("lr_schedule = { kind = \"step\", every = 0 }", "every must be at least 1"),
        ("lr_schedule = { kind = \"exponential\", decay_rate = 0.9 }", "needs decay_rate and decay_steps"),
        ("lr_schedule = { kind = \"step\", every = 2, patience = 3 }", "lr_schedule step takes no patience"),
        ("class_weights = \"even\"", "class_weights must be \"balanced\" or a list"),
        ("class_weights = [1.0, -2.0]", "class_weights: -2 is not a weight ≥ 0"),
        ("class_weights = [1.0]", "one weight per class"),
        ("nesterov = true", "nesterov applies to the sgd optimizer only"),
        ("min_delta = -0.1", "min_delta must be a number ≥ 0"),
    ];
    for (extra, want) in cases {
        let msg = err(extra);
        assert!(msg.contains(want), "{extra}: {msg}");
    }
    let ae = model("class_weights = \"balanced\"").replace("\"classify\"", "\"autoencoder\"");
    let msg = ModelConfig::from_toml(&ae).expect_err("an autoencoder with class weights").to_string();
    assert!(msg.contains("class_weights apply to classify models"), "{msg}");
    let mse = ModelConfig::from_toml(&model("class_weights = \"balanced\"").replace("\"bce\"", "\"mse\""));
    let msg = mse.expect_err("mse with class weights").to_string();
    assert!(msg.contains("class_weights apply to classifiers"), "{msg}");
}
