//! Update rules against updates worked out by hand.

use super::*;

/// Two updates of one weight `w = 1` with the constant gradient 0.5.
fn two_updates(cfg: OptimizerConfig) -> [f32; 2] {
    let mut state = OptimizerState::default();
    let (mut w, mut g) = ([1.0f32], [0.5f32]);
    let mut out = [0.0; 2];
    for o in &mut out {
        g[0] = 0.5;
        state.update(&cfg, &mut [ParamMut { value: &mut w, grad: &mut g, regularized: false }], 0.0);
        *o = w[0];
    }
    out
}

#[test]
fn nesterov_momentum_matches_keras_by_hand() {
    // Keras SGD (nesterov=True): v ← m·v − lr·g; w ← w + m·v − lr·g, with lr 0.1, m 0.9.
    // 1: v = −0.05, w = 1 − 0.045 − 0.05 = 0.905.
    // 2: v = −0.045 − 0.05 = −0.095, w = 0.905 − 0.0855 − 0.05 = 0.7695.
    let got = two_updates(OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: true });
    assert!((got[0] - 0.905).abs() < 1e-6 && (got[1] - 0.7695).abs() < 1e-6, "{got:?}");
    // Plain momentum: w ← w + v: 0.95, then 0.95 − 0.095 = 0.855.
    let got = two_updates(OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false });
    assert!((got[0] - 0.95).abs() < 1e-6 && (got[1] - 0.855).abs() < 1e-6, "{got:?}");
}

#[test]
fn with_lr_changes_only_the_rate() {
    let a = OptimizerConfig::from_name("adam", None).unwrap();
    assert_eq!(a.with_lr(0.5).lr(), 0.5);
    assert_eq!(a.with_lr(a.lr()), a);
    assert_eq!(OptimizerConfig::from_name("sgd", Some(0.3)).unwrap().lr(), 0.3);
}
