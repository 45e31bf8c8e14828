//! The trainer's hand-written backward passes, losses, GEMM and optimizers
//! against independent references: central finite differences of a naive
//! `f64` forward pass and loss (`ember_conformance`), a naive `f64` matrix
//! product, and the optimizers' update formulas written out in `f64`.

use ember_conformance::{
    F32_PARITY, act_f64, assert_grad, central_diff, dense, dense_pre_f64, forward_f64, input_spec, loss_f64,
    random_params, rng, to_f64, uniform,
};
use ember_nn::gemm::{Op, matmul};
use ember_nn::layers::{DenseLayer, ParamMut, TrainLayer};
use ember_nn::loss::Loss;
use ember_nn::network::Network;
use ember_nn::optim::{OptimizerConfig, OptimizerState};
use ember_runtime::spec::{Activation, IoSpec, LayerSpec};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

const ACTIVATIONS: [Activation; 5] =
    [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax];

/// Smallest `|pre-activation|` allowed next to a ReLU: finite differences
/// with step 1e-5 then never cross the kink.
const KINK_MARGIN: f64 = 0.02;

// ---------------------------------------------------------------------------
// Dense layer.
// ---------------------------------------------------------------------------

/// A dense layer's weights, bias and a batch of inputs whose pre-activations
/// all stay [`KINK_MARGIN`] away from 0 (drawn again until they do).
fn dense_case(inputs: usize, units: usize, batch: usize, r: &mut ChaCha8Rng) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    loop {
        let w = uniform(r, inputs * units, -1.0, 1.0);
        let b = uniform(r, units, -0.5, 0.5);
        let x = uniform(r, batch * inputs, -1.5, 1.5);
        let (wf, bf) = (to_f64(&w), to_f64(&b));
        let clear = x.chunks(inputs).all(|s| dense_pre_f64(&wf, &bf, &to_f64(s)).iter().all(|z| z.abs() > KINK_MARGIN));
        if clear {
            return (w, b, x);
        }
    }
}

/// `Σ g ⊙ act(x·Wᵀ + b)` over the batch, in `f64` (`act` skipped when `pre`):
/// its gradients are what `backward(g)` must return.
fn weighted_output(act: Activation, pre: bool, w: &[f64], b: &[f64], x: &[f64], g: &[f64]) -> f64 {
    let n_in = x.len() / (g.len() / b.len());
    x.chunks(n_in)
        .zip(g.chunks(b.len()))
        .map(|(xs, gs)| {
            let mut z = dense_pre_f64(w, b, xs);
            if !pre {
                act_f64(act, &mut z);
            }
            z.iter().zip(gs).map(|(z, g)| z * g).sum::<f64>()
        })
        .sum()
}

fn check_dense_layer(inputs: usize, units: usize, batch: usize, act: Activation, pre: bool, seed: u64) {
    let mut r = rng(seed);
    let (w, b, x) = dense_case(inputs, units, batch, &mut r);
    let g = uniform(&mut r, batch * units, -1.0, 1.0);
    let mut layer = DenseLayer::from_params(inputs, units, act, w.clone(), b.clone());
    // A first pass on other data: buffers are reused and must not leak into the second.
    let (_, _, x_other) = dense_case(inputs, units, batch + 1, &mut r);
    layer.forward(&x_other, batch + 1, true);
    layer.backward(&vec![1.0; (batch + 1) * units], batch + 1, pre, true);

    layer.forward(&x, batch, true);
    let dx = layer.backward(&g, batch, pre, true).to_vec();
    let grads: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    let (wf, bf, xf, gf) = (to_f64(&w), to_f64(&b), to_f64(&x), to_f64(&g));
    let what = format!("dense {inputs}->{units} {act:?}{} batch {batch}", if pre { " (pre-activation)" } else { "" });
    let num_w = central_diff(|w| weighted_output(act, pre, w, &bf, &xf, &gf), &wf);
    let num_b = central_diff(|b| weighted_output(act, pre, &wf, b, &xf, &gf), &bf);
    let num_x = central_diff(|x| weighted_output(act, pre, &wf, &bf, x, &gf), &xf);
    if inputs * units > 1 {
        ember_conformance::assert_nonzero(&what, &num_w);
    }
    assert_grad(&format!("{what}: weight"), &grads[0], &num_w);
    assert_grad(&format!("{what}: bias"), &grads[1], &num_b);
    assert_grad(&format!("{what}: input"), &dx, &num_x);

    // Without the input gradient, the parameter gradients are the same.
    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, pre, false).is_empty());
    let again: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    assert_eq!(again, grads, "{what}: need_dx = false changes the parameter gradients");
}

#[test]
fn dense_gradients_every_activation() {
    for (i, act) in ACTIVATIONS.into_iter().enumerate() {
        let s = 100 * i as u64;
        check_dense_layer(3, 4, 5, act, false, s);
        check_dense_layer(1, 1, 1, act, false, s + 1);
        check_dense_layer(7, 2, 3, act, false, s + 2);
        check_dense_layer(2, 6, 4, act, false, s + 3);
    }
}

#[test]
fn dense_gradients_at_the_pre_activation() {
    for (i, act) in ACTIVATIONS.into_iter().enumerate() {
        check_dense_layer(4, 3, 3, act, true, 1000 + i as u64);
    }
}

#[test]
fn dense_forward_matches_the_reference() {
    for (i, act) in ACTIVATIONS.into_iter().enumerate() {
        let mut r = rng(2000 + i as u64);
        let (w, b, x) = dense_case(5, 4, 6, &mut r);
        let mut layer = DenseLayer::from_params(5, 4, act, w.clone(), b.clone());
        let got = layer.forward(&x, 6, false).to_vec();
        let want = forward_f64(&[dense(5, 4, act)], &[to_f64(&w), to_f64(&b)], &to_f64(&x));
        ember_conformance::assert_parity(&format!("trainer dense {act:?}"), &got, &want);
    }
}

// ---------------------------------------------------------------------------
// Losses.
// ---------------------------------------------------------------------------

/// Targets and predictions for a loss: probabilities in (0.05, 0.95) for the
/// cross-entropies (per-sample distributions for CCE), and differences
/// `|y - t| > 0.05` for MAE.
fn loss_case(loss: Loss, batch: usize, n: usize, r: &mut ChaCha8Rng) -> (Vec<f32>, Vec<f32>) {
    match loss {
        Loss::Mse => (uniform(r, batch * n, -2.0, 2.0), uniform(r, batch * n, -2.0, 2.0)),
        Loss::Mae => {
            let t = uniform(r, batch * n, -2.0, 2.0);
            let y = t
                .iter()
                .map(|&t| {
                    let sign = if r.random_range(0..2) == 0 { -1.0 } else { 1.0 };
                    t + sign * r.random_range(0.05..1.0)
                })
                .collect();
            (y, t)
        }
        Loss::Bce => (uniform(r, batch * n, 0.05, 0.95), uniform(r, batch * n, 0.0, 1.0)),
        Loss::Cce => (distributions(batch, n, r), distributions(batch, n, r)),
        // Differences on both sides of delta = 1, away from the kink.
        Loss::Huber => {
            let t = uniform(r, batch * n, -2.0, 2.0);
            let y = t
                .iter()
                .enumerate()
                .map(|(i, &t)| {
                    let sign = if r.random_range(0..2) == 0 { -1.0 } else { 1.0 };
                    let d = if i % 2 == 0 { r.random_range(0.05..0.9) } else { r.random_range(1.1..2.5) };
                    t + sign * d
                })
                .collect();
            (y, t)
        }
        Loss::SparseCce => (distributions(batch, n, r), labels(batch, n, r)),
    }
}

/// `batch` class indices below `n`, as `f32`.
fn labels(batch: usize, n: usize, r: &mut ChaCha8Rng) -> Vec<f32> {
    (0..batch).map(|_| r.random_range(0..n) as f32).collect()
}

/// `batch` probability vectors of length `n` with entries above 0.05 / n.
fn distributions(batch: usize, n: usize, r: &mut ChaCha8Rng) -> Vec<f32> {
    (0..batch)
        .flat_map(|_| {
            let v = uniform(r, n, 0.1, 1.0);
            let s: f32 = v.iter().sum();
            v.into_iter().map(move |x| x / s)
        })
        .collect()
}

fn check_loss_value(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= F32_PARITY * (1.0 + want.abs()), "{what}: loss {got} vs reference {want}");
}

fn check_loss(loss: Loss, batch: usize, n: usize, seed: u64) {
    let mut r = rng(seed);
    let (y, t) = loss_case(loss, batch, n, &mut r);
    let mut grad = Vec::new();
    let value = loss.value_and_grad(&y, &t, batch, false, &mut grad);
    let tf = to_f64(&t);
    let what = format!("{loss:?} {batch}x{n}");
    check_loss_value(&what, value, loss_f64(loss, &to_f64(&y), &tf, batch));
    let num = central_diff(|y| loss_f64(loss, y, &tf, batch), &to_f64(&y));
    ember_conformance::assert_nonzero(&what, &num);
    assert_grad(&what, &grad, &num);
}

/// The loss's gradient at the pre-activation of a final `act` layer (fused).
fn check_fused_loss(loss: Loss, act: Activation, batch: usize, n: usize, seed: u64) {
    assert!(loss.fuses_with(act));
    let mut r = rng(seed);
    let z = uniform(&mut r, batch * n, -3.0, 3.0);
    let t = match loss {
        Loss::Cce => distributions(batch, n, &mut r),
        Loss::SparseCce => labels(batch, n, &mut r),
        _ => uniform(&mut r, batch * n, 0.0, 1.0),
    };
    let probs = |z: &[f64]| -> Vec<f64> {
        z.chunks(n)
            .flat_map(|s| {
                let mut s = s.to_vec();
                act_f64(act, &mut s);
                s
            })
            .collect()
    };
    let y: Vec<f32> = probs(&to_f64(&z)).iter().map(|&p| p as f32).collect();
    let mut grad = Vec::new();
    let tf = to_f64(&t);
    let value = loss.value_and_grad(&y, &t, batch, true, &mut grad);
    let what = format!("{loss:?} fused with {act:?} {batch}x{n}");
    check_loss_value(&what, value, loss_f64(loss, &to_f64(&y), &tf, batch));
    let num = central_diff(|z| loss_f64(loss, &probs(z), &tf, batch), &to_f64(&z));
    ember_conformance::assert_nonzero(&what, &num);
    assert_grad(&what, &grad, &num);
}

#[test]
fn mse_gradient() {
    check_loss(Loss::Mse, 4, 3, 1);
    check_loss(Loss::Mse, 1, 1, 2);
}

#[test]
fn mae_gradient() {
    check_loss(Loss::Mae, 4, 3, 3);
    check_loss(Loss::Mae, 2, 5, 4);
}

#[test]
fn bce_gradient() {
    check_loss(Loss::Bce, 4, 3, 5);
    check_loss(Loss::Bce, 1, 7, 6);
}

#[test]
fn bce_fused_with_sigmoid_gradient() {
    check_fused_loss(Loss::Bce, Activation::Sigmoid, 4, 3, 7);
    check_fused_loss(Loss::Bce, Activation::Sigmoid, 2, 1, 8);
}

#[test]
fn cce_gradient() {
    check_loss(Loss::Cce, 4, 3, 9);
    check_loss(Loss::Cce, 3, 10, 10);
}

#[test]
fn cce_fused_with_softmax_gradient() {
    check_fused_loss(Loss::Cce, Activation::Softmax, 4, 3, 11);
    check_fused_loss(Loss::Cce, Activation::Softmax, 2, 10, 12);
}

#[test]
fn losses_fuse_only_with_their_activation() {
    for loss in [Loss::Mse, Loss::Mae, Loss::Bce, Loss::Cce] {
        for act in ACTIVATIONS {
            let want = matches!((loss, act), (Loss::Bce, Activation::Sigmoid) | (Loss::Cce, Activation::Softmax));
            assert_eq!(loss.fuses_with(act), want, "{loss:?} + {act:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// A 3-layer network, end to end.
// ---------------------------------------------------------------------------

fn network_case(specs: &[LayerSpec], batch: usize, r: &mut ChaCha8Rng) -> (Vec<Vec<f32>>, Vec<f32>) {
    // Redraw until every ReLU pre-activation is clear of the kink.
    loop {
        let params = random_params(specs, r);
        let x = uniform(r, batch * specs[0].input_len(), -1.5, 1.5);
        let pf: Vec<Vec<f64>> = params.iter().map(|p| to_f64(p)).collect();
        let mut ok = true;
        for s in x.chunks(specs[0].input_len()) {
            let mut cur = to_f64(s);
            for (l, spec) in specs.iter().enumerate() {
                let mut z = dense_pre_f64(&pf[2 * l], &pf[2 * l + 1], &cur);
                if spec.activation() == Activation::Relu && z.iter().any(|z| z.abs() < KINK_MARGIN) {
                    ok = false;
                }
                act_f64(spec.activation(), &mut z);
                cur = z;
            }
        }
        if ok {
            return (params, x);
        }
    }
}

fn check_network(specs: &[LayerSpec], loss: Loss, fused: bool, seed: u64) {
    let mut r = rng(seed);
    let batch = 4;
    let (params, x) = network_case(specs, batch, &mut r);
    let n_out = specs.last().unwrap().output_len();
    let (_, t) = loss_case(loss, batch, n_out, &mut r);
    let layers: Vec<Box<dyn TrainLayer>> = specs
        .iter()
        .enumerate()
        .map(|(l, s)| {
            Box::new(DenseLayer::from_params(
                s.input_len(),
                s.output_len(),
                s.activation(),
                params[2 * l].clone(),
                params[2 * l + 1].clone(),
            )) as Box<dyn TrainLayer>
        })
        .collect();
    let input: IoSpec = input_spec(specs[0].input_len());
    let mut net = Network { name: "grad".into(), input, layers };
    let pred = net.forward(&x, batch, true).to_vec();
    let mut grad = Vec::new();
    loss.value_and_grad(&pred, &t, batch, fused, &mut grad);
    net.backward(&grad, batch, fused);
    let grads: Vec<Vec<f32>> = net.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();

    let (xf, tf) = (to_f64(&x), to_f64(&t));
    let pf: Vec<Vec<f64>> = params.iter().map(|p| to_f64(p)).collect();
    for (i, g) in grads.iter().enumerate() {
        let num = central_diff(
            |p| {
                let mut all = pf.clone();
                all[i] = p.to_vec();
                loss_f64(loss, &forward_f64(specs, &all, &xf), &tf, batch)
            },
            &pf[i],
        );
        let what = format!("{loss:?}{} network, parameter tensor {i}", if fused { " (fused)" } else { "" });
        ember_conformance::assert_nonzero(&what, &num);
        assert_grad(&what, g, &num);
    }
}

#[test]
fn network_cce_softmax_end_to_end() {
    let specs = [dense(4, 5, Activation::Tanh), dense(5, 6, Activation::Relu), dense(6, 3, Activation::Softmax)];
    check_network(&specs, Loss::Cce, true, 1);
    // The same through the softmax's own backward pass (not fused).
    check_network(&specs, Loss::Cce, false, 1);
}

#[test]
fn network_bce_sigmoid_end_to_end() {
    let specs = [dense(3, 4, Activation::Relu), dense(4, 4, Activation::Sigmoid), dense(4, 2, Activation::Sigmoid)];
    check_network(&specs, Loss::Bce, true, 2);
    check_network(&specs, Loss::Bce, false, 2);
}

#[test]
fn network_mse_and_mae_end_to_end() {
    let specs = [dense(5, 3, Activation::Linear), dense(3, 4, Activation::Tanh), dense(4, 5, Activation::Linear)];
    check_network(&specs, Loss::Mse, false, 3);
    check_network(&specs, Loss::Mae, false, 4);
    let specs = [dense(2, 8, Activation::Relu), dense(8, 8, Activation::Relu), dense(8, 2, Activation::Relu)];
    check_network(&specs, Loss::Mse, false, 5);
}

// ---------------------------------------------------------------------------
// GEMM.
// ---------------------------------------------------------------------------

/// `|c - naive| <= GEMM_TOL(k) · (Σ_p |a_ip b_pj| + |c0_ij|)`: the standard
/// forward error bound of an `f32` dot product of length `k`, `γ_k ≈ k·u`
/// (with `u = f32::EPSILON / 2`, doubled for safety).
fn gemm_tol(k: usize) -> f64 {
    (k as f64 + 2.0) * f32::EPSILON as f64
}

fn check_matmul(m: usize, n: usize, k: usize, seed: u64) {
    let mut r = rng(seed);
    let a = uniform(&mut r, m * k, -1.0, 1.0);
    let b = uniform(&mut r, k * n, -1.0, 1.0);
    let c0 = uniform(&mut r, m * n, -1.0, 1.0);
    for op_a in [Op::N, Op::T] {
        for op_b in [Op::N, Op::T] {
            let at = |i: usize, p: usize| if op_a == Op::N { a[i * k + p] } else { a[p * m + i] } as f64;
            let bt = |p: usize, j: usize| if op_b == Op::N { b[p * n + j] } else { b[j * k + p] } as f64;
            for accumulate in [false, true] {
                let mut c = c0.clone();
                matmul(m, n, k, &a, op_a, &b, op_b, &mut c, accumulate);
                for i in 0..m {
                    for j in 0..n {
                        let (mut want, mut mag) = (0f64, 0f64);
                        for p in 0..k {
                            want += at(i, p) * bt(p, j);
                            mag += (at(i, p) * bt(p, j)).abs();
                        }
                        let init = if accumulate { c0[i * n + j] as f64 } else { 0.0 };
                        want += init;
                        let got = c[i * n + j] as f64;
                        assert!(
                            (got - want).abs() <= gemm_tol(k) * (mag + init.abs()),
                            "{m}x{n}x{k} {op_a:?}{op_b:?} acc={accumulate}: c[{i},{j}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn matmul_odd_shapes() {
    for (i, &(m, n, k)) in
        [(1, 1, 1), (37, 11, 23), (17, 1, 33), (1, 19, 5), (33, 65, 129), (16, 16, 1), (65, 3, 2)].iter().enumerate()
    {
        check_matmul(m, n, k, i as u64);
    }
}

#[test]
fn matmul_large_and_thin_shapes() {
    // 1x784 · 784x128 (one sample through an MNIST layer), a 256-sample batch,
    // and the weight-gradient shape 128x256 · 256x784.
    check_matmul(1, 128, 784, 100);
    check_matmul(256, 128, 784, 101);
    check_matmul(128, 784, 256, 102);
}

#[test]
fn matmul_empty_inner_dimension() {
    let mut c = vec![3.0f32; 6];
    matmul(2, 3, 0, &[], Op::N, &[], Op::N, &mut c, true);
    assert_eq!(c, vec![3.0; 6], "C += A·B with k = 0 leaves C");
    matmul(2, 3, 0, &[], Op::N, &[], Op::T, &mut c, false);
    assert_eq!(c, vec![0.0; 6], "C = A·B with k = 0 is zero");
}

// ---------------------------------------------------------------------------
// Optimizers: one or two steps against the update formulas in f64.
// ---------------------------------------------------------------------------

/// `|w - w_ref| <= OPT_TOL · |w_ref - w_prev| + 4 ulp(w_ref)`: the update
/// itself to 1e-4 relative (it is computed in `f32`), plus the rounding of
/// the stored `f32` weight.
const OPT_TOL: f64 = 1e-4;

/// The formulas, per element, in f64. `slots` are the optimizer's two
/// per-element state values.
type Formula = dyn Fn(f64, f64, &mut [f64; 2], i32) -> f64;

/// Runs `steps` updates on a regularised weight and an unregularised bias,
/// and the same updates through `formula(w, g, slots, t) -> new w`.
fn check_optimizer(cfg: OptimizerConfig, l2: f32, grad_scale: f32, formula: &Formula, seed: u64) {
    let mut r = rng(seed);
    let mut w = [uniform(&mut r, 6, -1.0, 1.0), uniform(&mut r, 3, -1.0, 1.0)];
    let regularized = [true, false];
    let mut reference: Vec<Vec<f64>> = w.iter().map(|v| to_f64(v)).collect();
    let mut slots: Vec<Vec<[f64; 2]>> = w.iter().map(|v| vec![[0.0; 2]; v.len()]).collect();
    let mut state = OptimizerState::default();
    for t in 1..=3 {
        let mut grads: Vec<Vec<f32>> =
            w.iter().map(|v| uniform(&mut r, v.len(), -1.0, 1.0).iter().map(|g| g * grad_scale).collect()).collect();
        let prev = reference.clone();
        for p in 0..2 {
            for (i, wr) in reference[p].iter_mut().enumerate() {
                let mut g = grads[p][i] as f64;
                if regularized[p] {
                    g += 2.0 * l2 as f64 * *wr;
                }
                *wr = formula(*wr, g, &mut slots[p][i], t);
            }
        }
        let mut params: Vec<ParamMut<'_>> = w
            .iter_mut()
            .zip(grads.iter_mut())
            .zip(regularized)
            .map(|((value, grad), regularized)| ParamMut { value, grad, regularized })
            .collect();
        state.update(&cfg, &mut params, l2);
        assert_eq!(state.step, t as u64);
        for p in 0..2 {
            for i in 0..w[p].len() {
                let (got, want, before) = (w[p][i] as f64, reference[p][i], prev[p][i]);
                let tol = OPT_TOL * (want - before).abs() + 4.0 * f32::EPSILON as f64 * want.abs();
                assert!(
                    (got - want).abs() <= tol,
                    "{cfg:?} l2={l2}: step {t}, param {p}[{i}]: {got} vs {want} (update {:e})",
                    want - before
                );
            }
        }
    }
}

#[test]
fn sgd_plain_momentum_and_nesterov() {
    // Keras SGD: v = μ v - lr g; w += v, or w += μ v - lr g with Nesterov.
    let lr = 0.1f64;
    let plain = move |w: f64, g: f64, _: &mut [f64; 2], _: i32| w - lr * g;
    check_optimizer(OptimizerConfig::Sgd { lr: lr as f32, momentum: 0.0, nesterov: false }, 0.0, 1.0, &plain, 1);
    for nesterov in [false, true] {
        let mu = 0.9;
        let f = move |w: f64, g: f64, s: &mut [f64; 2], _: i32| {
            s[0] = mu * s[0] - lr * g;
            if nesterov { w + mu * s[0] - lr * g } else { w + s[0] }
        };
        let cfg = OptimizerConfig::Sgd { lr: lr as f32, momentum: mu as f32, nesterov };
        check_optimizer(cfg, 0.0, 1.0, &f, 2);
        check_optimizer(cfg, 0.05, 1.0, &f, 3);
    }
}

#[test]
fn adam_bias_corrected() {
    // Keras Adam: lr_t = lr·sqrt(1 - β2^t)/(1 - β1^t); m, v moving averages;
    // w -= lr_t·m/(sqrt(v) + ε).
    let (lr, b1, b2, eps) = (0.1f64, 0.9f64, 0.999f64, 1e-7f64);
    let f = move |w: f64, g: f64, s: &mut [f64; 2], t: i32| {
        let lr_t = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
        s[0] = b1 * s[0] + (1.0 - b1) * g;
        s[1] = b2 * s[1] + (1.0 - b2) * g * g;
        w - lr_t * s[0] / (s[1].sqrt() + eps)
    };
    let cfg = OptimizerConfig::Adam { lr: lr as f32, beta1: b1 as f32, beta2: b2 as f32, eps: eps as f32 };
    check_optimizer(cfg, 0.0, 1.0, &f, 4);
    check_optimizer(cfg, 0.01, 1.0, &f, 5);
    check_optimizer(cfg, 0.0, 1e-3, &f, 6);
}

#[test]
fn rmsprop() {
    // tf.keras 2 RMSprop without momentum (the trainer's documented rule):
    // v = ρ v + (1 - ρ) g²; w -= lr·g/(sqrt(v) + ε).
    let (lr, rho, eps) = (0.01, 0.9, 1e-7);
    let f = move |w: f64, g: f64, s: &mut [f64; 2], _: i32| {
        s[0] = rho * s[0] + (1.0 - rho) * g * g;
        w - lr * g / (s[0].sqrt() + eps)
    };
    let cfg = OptimizerConfig::Rmsprop { lr: lr as f32, rho: rho as f32, eps: eps as f32 };
    check_optimizer(cfg, 0.0, 1.0, &f, 7);
    check_optimizer(cfg, 0.02, 1.0, &f, 8);
}

#[test]
fn adadelta() {
    // Keras Adadelta: a = ρ a + (1 - ρ) g²; Δ = sqrt(d + ε)/sqrt(a + ε)·g;
    // d = ρ d + (1 - ρ) Δ²; w -= lr·Δ.
    let (lr, rho, eps) = (1.0, 0.95, 1e-7);
    let f = move |w: f64, g: f64, s: &mut [f64; 2], _: i32| {
        s[0] = rho * s[0] + (1.0 - rho) * g * g;
        let delta = (s[1] + eps).sqrt() / (s[0] + eps).sqrt() * g;
        s[1] = rho * s[1] + (1.0 - rho) * delta * delta;
        w - lr * delta
    };
    let cfg = OptimizerConfig::Adadelta { lr: lr as f32, rho: rho as f32, eps: eps as f32 };
    check_optimizer(cfg, 0.0, 1.0, &f, 9);
    check_optimizer(cfg, 0.1, 1.0, &f, 10);
}

#[test]
fn l2_applies_to_kernels_only() {
    // With a zero data gradient, plain SGD moves only the regularised tensor,
    // by exactly -lr·2·l2·w.
    let mut w = vec![0.5f32, -1.0, 2.0];
    let mut b = vec![0.5f32, -1.0];
    let (mut gw, mut gb) = (vec![0.0f32; 3], vec![0.0f32; 2]);
    let mut params = vec![
        ParamMut { value: &mut w, grad: &mut gw, regularized: true },
        ParamMut { value: &mut b, grad: &mut gb, regularized: false },
    ];
    let mut state = OptimizerState::default();
    state.update(&OptimizerConfig::Sgd { lr: 0.1, momentum: 0.0, nesterov: false }, &mut params, 0.25);
    for (got, w0) in w.iter().zip([0.5f64, -1.0, 2.0]) {
        let want = w0 - 0.1 * 2.0 * 0.25 * w0;
        assert!((*got as f64 - want).abs() <= 4.0 * f32::EPSILON as f64 * want.abs(), "{got} vs {want}");
    }
    assert_eq!(b, vec![0.5, -1.0], "the bias is not regularised");
}

#[test]
fn huber_gradient() {
    check_loss(Loss::Huber, 4, 3, 13);
    check_loss(Loss::Huber, 2, 5, 14);
}

#[test]
fn sparse_cce_gradient() {
    check_loss(Loss::SparseCce, 4, 3, 15);
    check_loss(Loss::SparseCce, 3, 10, 16);
}

#[test]
fn sparse_cce_fused_with_softmax_gradient() {
    check_fused_loss(Loss::SparseCce, Activation::Softmax, 4, 3, 17);
    check_fused_loss(Loss::SparseCce, Activation::Softmax, 2, 10, 18);
}

#[test]
fn sparse_cce_equals_cce_on_one_hot_rows() {
    let mut r = rng(19);
    let (batch, n) = (5, 4);
    let y = distributions(batch, n, &mut r);
    let t = labels(batch, n, &mut r);
    let one_hot: Vec<f32> =
        t.iter().flat_map(|&k| (0..n).map(move |j| if j == k as usize { 1.0 } else { 0.0 })).collect();
    for fused in [false, true] {
        let (mut g_sparse, mut g_dense) = (Vec::new(), Vec::new());
        let a = Loss::SparseCce.value_and_grad(&y, &t, batch, fused, &mut g_sparse);
        let b = Loss::Cce.value_and_grad(&y, &one_hot, batch, fused, &mut g_dense);
        check_loss_value("sparse vs dense CCE", a, b);
        assert_grad("sparse vs dense CCE", &g_sparse, &to_f64(&g_dense));
    }
}
