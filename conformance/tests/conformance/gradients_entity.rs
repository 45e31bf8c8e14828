//! The trainer's EntityDot layer and the two models of the embedding
//! presets against independent references written here: a naive `f64`
//! forward of the entity layer (gather, batch normalisation with the
//! batch's statistics, an explicit sum of every pairwise dot product plus
//! the category biases) differentiated by central finite differences of the
//! weighted output `Σ g ⊙ y` like `gradients_conv.rs`; the moving statistics
//! and the inference form; the word-embedding network
//! (`Embedding → Flatten → Dense + softmax`) under categorical cross-entropy
//! against central differences of the `f64` loss, fused and not; and a few
//! RMSprop steps of the entity network under MAE on a planted problem.

use ember_conformance::{
    act_f64, assert_grad, assert_nonzero, assert_parity, central_diff, dense_pre_f64, loss_f64, rng, to_f64, uniform,
};
use ember_nn::layers::{self, DenseLayer, EntityDotLayer, TrainLayer};
use ember_nn::loss::Loss;
use ember_nn::network::Network;
use ember_nn::optim::{OptimizerConfig, OptimizerState};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Keras's defaults for `BatchNormalization`.
const KERAS_MOMENTUM: f64 = 0.99;
const KERAS_EPSILON: f32 = 1e-3;

/// `Σ a ⊙ b`.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Parameter gradients of a layer, in spec order.
fn param_grads(layer: &mut dyn TrainLayer) -> Vec<Vec<f32>> {
    layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect()
}

fn param_values(layer: &dyn TrainLayer) -> Vec<Vec<f32>> {
    layer.params().into_iter().map(<[f32]>::to_vec).collect()
}

// ---------------------------------------------------------------------------
// The f64 reference of an EntityDot.
// ---------------------------------------------------------------------------

/// An EntityDot's sizes: column `k` owns `counts[k]` rows of the shared
/// table, after the rows of the columns before it.
#[derive(Clone, Debug)]
struct Entity {
    counts: Vec<usize>,
    dim: usize,
}

/// The parameters in spec order, in `f64`.
struct Params<'a> {
    weight: &'a [f64],
    bias: &'a [f64],
    gamma: &'a [f64],
    beta: &'a [f64],
}

impl Entity {
    fn columns(&self) -> usize {
        self.counts.len()
    }

    fn rows(&self) -> usize {
        self.counts.iter().sum()
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::EntityDot {
            columns: self.columns() as u32,
            rows: self.rows() as u32,
            dim: self.dim as u32,
            epsilon_bits: KERAS_EPSILON.to_bits(),
        }
    }

    /// Global row of category `cat` of column `k`.
    fn row(&self, k: usize, cat: usize) -> usize {
        assert!(cat < self.counts[k]);
        self.counts[..k].iter().sum::<usize>() + cat
    }

    /// `batch` samples of one random category per column, as `f32` ids.
    fn draw_ids(&self, batch: usize, r: &mut ChaCha8Rng) -> Vec<f32> {
        (0..batch)
            .flat_map(|_| {
                (0..self.columns()).map(|k| self.row(k, r.random_range(0..self.counts[k])) as f32).collect::<Vec<_>>()
            })
            .collect()
    }

    /// Random parameters: weight in `[-1, 1)`, bias in `[-0.5, 0.5)`, gamma
    /// in `[0.5, 1.5)`, beta and the moving mean in `[-0.5, 0.5)`, the
    /// moving variance in `[0.5, 1.5)`.
    fn draw_params(&self, r: &mut ChaCha8Rng) -> [Vec<f32>; 6] {
        let (rows, cd) = (self.rows(), self.columns() * self.dim);
        [
            uniform(r, rows * self.dim, -1.0, 1.0),
            uniform(r, rows, -0.5, 0.5),
            uniform(r, cd, 0.5, 1.5),
            uniform(r, cd, -0.5, 0.5),
            uniform(r, cd, -0.5, 0.5),
            uniform(r, cd, 0.5, 1.5),
        ]
    }

    /// The gathered rows `[batch, columns, dim]`.
    fn gather(&self, weight: &[f64], ids: &[f32]) -> Vec<f64> {
        ids.iter().flat_map(|&id| weight[id as usize * self.dim..][..self.dim].to_vec()).collect()
    }

    /// Mean and biased variance of every (column, dim) channel over the batch.
    fn batch_stats(&self, e: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let cd = self.columns() * self.dim;
        let n = (e.len() / cd) as f64;
        let mut mean = vec![0.0; cd];
        for (i, v) in e.iter().enumerate() {
            mean[i % cd] += v / n;
        }
        let mut var = vec![0.0; cd];
        for (i, v) in e.iter().enumerate() {
            var[i % cd] += (v - mean[i % cd]).powi(2) / n;
        }
        (mean, var)
    }

    /// `(e - mean) / sqrt(var + ε) · gamma + beta` per (column, dim) channel.
    fn normalise(&self, e: &[f64], p: &Params<'_>, mean: &[f64], var: &[f64]) -> Vec<f64> {
        let cd = self.columns() * self.dim;
        let eps = KERAS_EPSILON as f64;
        e.iter()
            .enumerate()
            .map(|(i, v)| {
                let k = i % cd;
                (v - mean[k]) / (var[k] + eps).sqrt() * p.gamma[k] + p.beta[k]
            })
            .collect()
    }

    /// `Σ_{j<k} n_j · n_k + Σ_k bias[id_k]` per sample, every pair written out.
    fn interact(&self, n: &[f64], ids: &[f32], bias: &[f64]) -> Vec<f64> {
        let (c, d) = (self.columns(), self.dim);
        n.chunks(c * d)
            .zip(ids.chunks(c))
            .map(|(ns, is)| {
                let mut out = 0.0;
                for j in 0..c {
                    for k in j + 1..c {
                        out += dot(&ns[j * d..][..d], &ns[k * d..][..d]);
                    }
                }
                out + is.iter().map(|&id| bias[id as usize]).sum::<f64>()
            })
            .collect()
    }

    /// The training-mode output: normalised with the batch's statistics.
    fn train_f64(&self, p: &Params<'_>, ids: &[f32]) -> Vec<f64> {
        let e = self.gather(p.weight, ids);
        let (mean, var) = self.batch_stats(&e);
        self.interact(&self.normalise(&e, p, &mean, &var), ids, p.bias)
    }

    /// The inference-mode output: normalised with given statistics.
    fn infer_f64(&self, p: &Params<'_>, mean: &[f64], var: &[f64], ids: &[f32]) -> Vec<f64> {
        let e = self.gather(p.weight, ids);
        self.interact(&self.normalise(&e, p, mean, var), ids, p.bias)
    }
}

/// `|got - want| <= 1e-6 · (|old| + |stat|) + 1e-9`: the moving average is
/// computed in `f32` (`1 - 0.99f32` is 1e-6 off 0.01, relative).
fn assert_moving(what: &str, got: &[f32], old: &[f64], stat: &[f64]) {
    assert_eq!(got.len(), old.len(), "{what}: length");
    for k in 0..got.len() {
        let want = KERAS_MOMENTUM * old[k] + (1.0 - KERAS_MOMENTUM) * stat[k];
        let tol = 1e-6 * (old[k].abs() + stat[k].abs()) + 1e-9;
        let got = got[k] as f64;
        assert!((got - want).abs() <= tol, "{what}[{k}]: {got:e}, want {want:e} (diff {:e})", (got - want).abs());
    }
}

// ---------------------------------------------------------------------------
// Training-mode gradients.
// ---------------------------------------------------------------------------

/// Checks one training batch against the reference: the forward output,
/// the moving statistics it moves, and the gradients of weight, bias, gamma
/// and beta against central differences of `Σ g ⊙ y` (the batch's
/// statistics couple the samples: differences over the whole batch). The
/// rows of the table no id of the batch names must have exactly zero
/// gradients, whatever the previous batch touched.
fn check_batch(what: &str, ent: &Entity, layer: &mut EntityDotLayer, ids: &[f32], r: &mut ChaCha8Rng) {
    let batch = ids.len() / ent.columns();
    let before: Vec<Vec<f64>> = param_values(layer).iter().map(|p| to_f64(p)).collect();
    let p = Params { weight: &before[0], bias: &before[1], gamma: &before[2], beta: &before[3] };
    let g = uniform(r, batch, -1.0, 1.0);
    let gf = to_f64(&g);

    let y = layer.forward(ids, batch, true).to_vec();
    assert_parity(&format!("{what}: training forward"), &y, &ent.train_f64(&p, ids));
    let (bm, bv) = ent.batch_stats(&ent.gather(p.weight, ids));
    let after = param_values(layer);
    assert_moving(&format!("{what}: moving mean"), &after[4], &before[4], &bm);
    assert_moving(&format!("{what}: moving variance (biased)"), &after[5], &before[5], &bv);
    assert_eq!(
        after[..4].iter().map(|v| to_f64(v)).collect::<Vec<_>>(),
        before[..4],
        "{what}: forward moved a parameter"
    );

    assert!(layer.backward(&g, batch, false, true).is_empty(), "{what}: row ids have no gradient");
    let grads = param_grads(layer);
    assert_eq!(grads.len(), 6, "{what}: weight, bias, gamma, beta, mean, var");
    let weighted = |p: &Params<'_>| dot(&ent.train_f64(p, ids), &gf);
    let num_w = central_diff(|w| weighted(&Params { weight: w, ..p }), p.weight);
    let num_b = central_diff(|b| weighted(&Params { bias: b, ..p }), p.bias);
    let num_gamma = central_diff(|gm| weighted(&Params { gamma: gm, ..p }), p.gamma);
    let num_beta = central_diff(|bt| weighted(&Params { beta: bt, ..p }), p.beta);
    if batch > 1 {
        assert_nonzero(&format!("{what}: weight"), &num_w);
        assert_nonzero(&format!("{what}: gamma"), &num_gamma);
    }
    assert_nonzero(&format!("{what}: bias"), &num_b);
    assert_nonzero(&format!("{what}: beta"), &num_beta);
    assert_grad(&format!("{what}: weight"), &grads[0], &num_w);
    assert_grad(&format!("{what}: bias"), &grads[1], &num_b);
    assert_grad(&format!("{what}: gamma"), &grads[2], &num_gamma);
    assert_grad(&format!("{what}: beta"), &grads[3], &num_beta);
    assert!(grads[4..].iter().all(|g| g.iter().all(|&v| v == 0.0)), "{what}: moving statistics get gradients");

    let used: Vec<usize> = ids.iter().map(|&id| id as usize).collect();
    for row in (0..ent.rows()).filter(|row| !used.contains(row)) {
        assert!(grads[0][row * ent.dim..][..ent.dim].iter().all(|&v| v == 0.0), "{what}: weight row {row} unused");
        assert_eq!(grads[1][row], 0.0, "{what}: bias row {row} unused");
    }

    // The flags mean nothing here: the same gradients (the statistics move
    // again, so restore them first).
    let mut again = EntityDotLayer::from_params(
        ent.columns(),
        ent.rows(),
        ent.dim,
        KERAS_EPSILON,
        std::array::from_fn(|i| before[i].iter().map(|&v| v as f32).collect()),
    );
    again.forward(ids, batch, true);
    assert!(again.backward(&g, batch, true, false).is_empty(), "{what}: need_dx = false");
    assert_eq!(param_grads(&mut again), grads, "{what}: the flags change the gradients");
}

/// Column counts of the checks: a column of one category (all samples
/// share its row: zero batch variance) among columns with repeats.
fn entity() -> Entity {
    Entity { counts: vec![3, 4, 1, 5], dim: 3 }
}

#[test]
fn entity_dot_gradients_with_batch_statistics() {
    let ent = entity();
    let mut r = rng(1);
    let params = ent.draw_params(&mut r);
    let mut layer = EntityDotLayer::from_params(ent.columns(), ent.rows(), ent.dim, KERAS_EPSILON, params);
    assert_eq!(layer.spec(), ent.spec());

    // Many rows (the whole-table reset next time), then few rows, then
    // other few rows (the per-row reset), then one sample.
    let wide = ent.draw_ids(9, &mut r);
    let r1 = |k, c| ent.row(k, c) as f32;
    // Samples 0 and 1 share every row but column 3's; rows repeat within columns.
    let few = vec![
        r1(0, 1),
        r1(1, 2),
        r1(2, 0),
        r1(3, 4),
        r1(0, 1),
        r1(1, 2),
        r1(2, 0),
        r1(3, 0),
        r1(0, 0),
        r1(1, 2),
        r1(2, 0),
        r1(3, 4),
    ];
    let other = vec![r1(0, 2), r1(1, 0), r1(2, 0), r1(3, 1), r1(0, 2), r1(1, 3), r1(2, 0), r1(3, 2)];
    let one = vec![r1(0, 0), r1(1, 1), r1(2, 0), r1(3, 3)];
    for (i, ids) in [&wide, &few, &other, &one, &wide].into_iter().enumerate() {
        let batch = ids.len() / ent.columns();
        check_batch(&format!("entitydot {:?} batch {i} ({batch} samples)", ent.counts), &ent, &mut layer, ids, &mut r);
    }
}

#[test]
fn entity_dot_gradients_wider() {
    // More columns and dimensions, rows shared across columns too (the layer
    // does not know the column ranges; the sums must still add up).
    let ent = Entity { counts: vec![2, 6, 3, 4, 2, 3], dim: 5 };
    let mut r = rng(2);
    let mut layer =
        EntityDotLayer::from_params(ent.columns(), ent.rows(), ent.dim, KERAS_EPSILON, ent.draw_params(&mut r));
    let ids = ent.draw_ids(7, &mut r);
    check_batch("entitydot 6 columns", &ent, &mut layer, &ids, &mut r);
    let shared: Vec<f32> = (0..5 * ent.columns()).map(|_| r.random_range(0..6) as f32).collect();
    check_batch("entitydot rows shared across columns", &ent, &mut layer, &shared, &mut r);
}

// ---------------------------------------------------------------------------
// Moving statistics and inference.
// ---------------------------------------------------------------------------

#[test]
fn entity_dot_inference_uses_the_moving_statistics() {
    for (seed, ent) in [(10, entity()), (11, Entity { counts: vec![5, 3, 7, 2, 4, 6, 3, 2], dim: 16 })] {
        let what = format!("entitydot {:?} dim {}", ent.counts, ent.dim);
        let mut r = rng(seed);
        let params = ent.draw_params(&mut r);
        let mut layer = EntityDotLayer::from_params(ent.columns(), ent.rows(), ent.dim, KERAS_EPSILON, params.clone());
        let (mut mean, mut var) = (to_f64(&params[4]), to_f64(&params[5]));
        let wf = to_f64(&params[0]);
        for step in 0..3 {
            let ids = ent.draw_ids(6 + step, &mut r);
            let (bm, bv) = ent.batch_stats(&ent.gather(&wf, &ids));
            layer.forward(&ids, 6 + step, true);
            let p = param_values(&layer);
            assert_moving(&format!("{what}: moving mean after step {step}"), &p[4], &mean, &bm);
            assert_moving(&format!("{what}: moving variance after step {step}"), &p[5], &var, &bv);
            (mean, var) = (to_f64(&p[4]), to_f64(&p[5]));
        }

        let stats = param_values(&layer);
        let pf: Vec<Vec<f64>> = stats.iter().map(|p| to_f64(p)).collect();
        let p = Params { weight: &pf[0], bias: &pf[1], gamma: &pf[2], beta: &pf[3] };
        for batch in [1, 5] {
            let ids = ent.draw_ids(batch, &mut r);
            let y = layer.forward(&ids, batch, false).to_vec();
            assert_parity(&format!("{what}: inference batch {batch}"), &y, &ent.infer_f64(&p, &pf[4], &pf[5], &ids));
            assert_eq!(param_values(&layer), stats, "{what}: an inference pass moves a parameter");
        }
    }
}

#[test]
fn entity_dot_backward_needs_a_training_pass() {
    let ent = entity();
    let mut r = rng(12);
    let mut layer =
        EntityDotLayer::from_params(ent.columns(), ent.rows(), ent.dim, KERAS_EPSILON, ent.draw_params(&mut r));
    let ids = ent.draw_ids(3, &mut r);
    layer.forward(&ids, 3, false);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        layer.backward(&[1.0; 3], 3, false, false);
    }));
    assert!(result.is_err(), "backward after an inference pass must panic");
}

#[test]
fn entity_dot_rejects_bad_ids() {
    for bad in [14.0, -1.0, 2.5, f32::NAN, 1e9] {
        let result = std::panic::catch_unwind(|| {
            let ent = entity();
            let mut layer = EntityDotLayer::new(ent.columns(), ent.rows(), ent.dim, KERAS_EPSILON, &mut rng(0));
            layer.forward(&[0.0, 3.0, 7.0, 8.0, 1.0, bad, 7.0, 9.0], 2, false).to_vec()
        });
        let err = result.expect_err("a bad id must panic");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("not a row id in 0..13") && msg.contains("sample 1, column 1"), "{bad}: {msg}");
    }
}

#[test]
fn entity_dot_init_and_from_spec() {
    let ent = entity();
    let spec = ent.spec();
    let (rows, cd) = (ent.rows(), ent.columns() * ent.dim);
    let layer = layers::init(&spec, &mut rng(20));
    assert_eq!(layer.spec(), spec);
    let p = param_values(layer.as_ref());
    for (i, v) in p.iter().enumerate() {
        assert_eq!(v.len(), spec.param(i).expect("six parameters").dims.elements(), "parameter {i} length");
    }
    assert!(p[0].iter().all(|v| (-0.05..0.05).contains(v)), "weight uniform in [-0.05, 0.05)");
    assert!(p[0].iter().any(|&v| v != 0.0) && p[0].iter().any(|&v| v < 0.0), "weight drawn, both signs");
    assert_eq!(p[1], vec![0.0; rows], "bias 0");
    assert_eq!(p[2..], [vec![1.0; cd], vec![0.0; cd], vec![0.0; cd], vec![1.0; cd]], "gamma 1, beta 0, mean 0, var 1");
    // The same draw from the same stream; from_spec keeps the given values.
    assert_eq!(param_values(layers::init(&spec, &mut rng(20)).as_ref()), p);
    let values = ent.draw_params(&mut rng(21)).to_vec();
    let loaded = layers::from_spec(&spec, values.clone());
    assert_eq!(loaded.spec(), spec);
    assert_eq!(param_values(loaded.as_ref()), values);
}

// ---------------------------------------------------------------------------
// The word-embedding network under categorical cross-entropy.
// ---------------------------------------------------------------------------

/// `Embedding{vocab, 5, 3} → Flatten{[3, 5]} → Dense{15, vocab, Softmax}` in
/// `f64`: the three rows side by side, then a dense softmax.
fn ngram_f64(vocab: usize, table: &[f64], w: &[f64], b: &[f64], ids: &[f32]) -> Vec<f64> {
    assert_eq!(table.len(), vocab * 5);
    ids.chunks(3)
        .flat_map(|s| {
            let x: Vec<f64> = s.iter().flat_map(|&id| table[id as usize * 5..][..5].to_vec()).collect();
            let mut z = dense_pre_f64(w, b, &x);
            act_f64(Activation::Softmax, &mut z);
            z
        })
        .collect()
}

fn check_ngram_network(vocab: usize, batch: usize, fused: bool, seed: u64) {
    let specs = [
        LayerSpec::Embedding { vocab: vocab as u32, dim: 5, seq_len: 3 },
        LayerSpec::Flatten { dims: Dims::d2(3, 5) },
        LayerSpec::Dense { inputs: 15, units: vocab as u32, activation: Activation::Softmax },
    ];
    assert!(Loss::Cce.fuses_with(specs[2].activation()));
    let mut r = rng(seed);
    let limit = (6.0 / (15 + vocab) as f32).sqrt();
    let params = [
        uniform(&mut r, vocab * 5, -1.0, 1.0),
        uniform(&mut r, vocab * 15, -limit, limit),
        uniform(&mut r, vocab, -0.1, 0.1),
    ];
    // Repeated words within and across samples; one-hot next words.
    let ids: Vec<f32> = (0..batch * 3).map(|_| r.random_range(0..vocab.min(5)) as f32).collect();
    let t: Vec<f32> = (0..batch)
        .flat_map(|_| {
            let next = r.random_range(0..vocab);
            (0..vocab).map(move |i| if i == next { 1.0 } else { 0.0 })
        })
        .collect();
    let layers = vec![
        layers::from_spec(&specs[0], vec![params[0].clone()]),
        layers::from_spec(&specs[1], vec![]),
        layers::from_spec(&specs[2], vec![params[1].clone(), params[2].clone()]),
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(3), range: None };
    let mut net = Network { name: "ngram".into(), input, layers };
    let pred = net.forward(&ids, batch, true).to_vec();
    let mut grad = Vec::new();
    Loss::Cce.value_and_grad(&pred, &t, batch, fused, &mut grad);
    net.backward(&grad, batch, fused);
    let grads: Vec<Vec<f32>> = net.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    assert_eq!(grads.len(), 3, "table, dense weight, dense bias");

    let pf: Vec<Vec<f64>> = params.iter().map(|p| to_f64(p)).collect();
    let tf = to_f64(&t);
    assert_parity("ngram forward", &pred, &ngram_f64(vocab, &pf[0], &pf[1], &pf[2], &ids));
    for (i, g) in grads.iter().enumerate() {
        let num = central_diff(
            |p| {
                let mut all = pf.clone();
                all[i] = p.to_vec();
                loss_f64(Loss::Cce, &ngram_f64(vocab, &all[0], &all[1], &all[2], &ids), &tf, batch)
            },
            &pf[i],
        );
        let what =
            format!("ngram V={vocab} batch {batch}{}: parameter tensor {i}", if fused { " (fused)" } else { "" });
        assert_nonzero(&what, &num);
        assert_grad(&what, g, &num);
    }
}

#[test]
fn ngram_network_cce_softmax() {
    check_ngram_network(7, 5, true, 30);
    check_ngram_network(7, 5, false, 30);
    check_ngram_network(12, 1, true, 31);
}

// ---------------------------------------------------------------------------
// The entity network learns.
// ---------------------------------------------------------------------------

/// `EntityDot → Dense{1, 1, Relu}` under MAE with RMSprop on a planted
/// problem: targets `3 + Σ_k v[id_k] + u_{id_0} · u_{id_1}` from hidden
/// per-row values `v` and vectors `u`. The dense layer starts as the identity
/// shifted by the target mean (the preset folds the target scale there), so
/// the ReLU is active. After a few full-batch steps the training loss must
/// (averaged over the last steps) must have halved.
#[test]
fn entity_network_learns_a_planted_problem() {
    let ent = Entity { counts: vec![4, 5, 3], dim: 4 };
    let mut r = rng(40);
    let batch = 64;
    let v = uniform(&mut r, ent.rows(), -1.0, 1.0);
    let u = uniform(&mut r, ent.rows() * 2, -1.0, 1.0);
    let ids = ent.draw_ids(batch, &mut r);
    let t: Vec<f32> = ids
        .chunks(ent.columns())
        .map(|s| {
            let id: Vec<usize> = s.iter().map(|&i| i as usize).collect();
            let pair = u[id[0] * 2] * u[id[1] * 2] + u[id[0] * 2 + 1] * u[id[1] * 2 + 1];
            3.0 + id.iter().map(|&i| v[i]).sum::<f32>() + pair
        })
        .collect();
    let mean_t = t.iter().sum::<f32>() / batch as f32;
    let layers: Vec<Box<dyn TrainLayer>> = vec![
        Box::new(EntityDotLayer::new(ent.columns(), ent.rows(), ent.dim, KERAS_EPSILON, &mut r)),
        Box::new(DenseLayer::from_params(1, 1, Activation::Relu, vec![1.0], vec![mean_t])),
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(ent.columns() as u32), range: None };
    let mut net = Network { name: "entity".into(), input, layers };
    let cfg = OptimizerConfig::Rmsprop { lr: 0.01, rho: 0.9, eps: 1e-7 };
    let mut state = OptimizerState::default();
    let mut grad = Vec::new();
    let mut losses = Vec::new();
    for _ in 0..60 {
        let pred = net.forward(&ids, batch, true).to_vec();
        losses.push(Loss::Mae.value_and_grad(&pred, &t, batch, false, &mut grad));
        net.backward(&grad, batch, false);
        state.update(&cfg, &mut net.params_mut(), 0.0);
    }
    // Full-batch MAE steps oscillate: the mean of the last ten steps.
    let (first, last) = (losses[0], losses[losses.len() - 10..].iter().sum::<f64>() / 10.0);
    assert!(losses.iter().all(|l| l.is_finite()), "losses {losses:?}");
    assert!(last <= first / 2.0, "MAE {first} → {last}: did not halve ({losses:?})");
}
