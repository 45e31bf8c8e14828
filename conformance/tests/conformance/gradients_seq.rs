//! The sequence layers of the trainer (Embedding, Flatten, Dropout,
//! SimpleRNN, LSTM) against independent references: a naive `f64`
//! implementation of the ONNX `RNN` and `LSTM` equations written here, and
//! central finite differences of it for every backward pass.

use ember_conformance::{assert_grad, assert_nonzero, assert_parity, central_diff, rng, to_f64, uniform};
use ember_nn::layers::{self, DropoutLayer, EmbeddingLayer, FlattenLayer, LstmLayer, SimpleRnnLayer, TrainLayer};
use ember_nn::network::Network;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, RecurrentDims, ValueKind};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------
// The ONNX RNN / LSTM equations in f64, one sample at a time.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Rnn,
    Lstm,
}

/// Sizes of a recurrent layer.
#[derive(Clone, Copy, Debug)]
struct Rec {
    kind: Kind,
    inputs: usize,
    units: usize,
    seq_len: usize,
    seq: bool,
    dirs: usize,
}

impl Rec {
    fn gates(&self) -> usize {
        if self.kind == Kind::Lstm { 4 } else { 1 }
    }

    fn spec(&self) -> LayerSpec {
        let (inputs, units, seq_len) = (self.inputs as u32, self.units as u32, self.seq_len as u32);
        let (return_sequences, bidirectional) = (self.seq, self.dirs == 2);
        match self.kind {
            Kind::Rnn => LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences, bidirectional },
            Kind::Lstm => LayerSpec::Lstm { inputs, units, seq_len, return_sequences, bidirectional },
        }
    }

    fn dims(&self) -> RecurrentDims {
        self.spec().recurrent().expect("a recurrent spec")
    }

    fn in_len(&self) -> usize {
        self.seq_len * self.inputs
    }

    fn out_len(&self) -> usize {
        self.dirs * self.units * if self.seq { self.seq_len } else { 1 }
    }

    /// The trainer's layer with these parameters.
    fn layer(&self, w: &[f32], r: &[f32], b: &[f32]) -> Box<dyn TrainLayer> {
        let (w, r, b) = (w.to_vec(), r.to_vec(), b.to_vec());
        match self.kind {
            Kind::Rnn => Box::new(SimpleRnnLayer::from_params(self.dims(), w, r, b)),
            Kind::Lstm => Box::new(LstmLayer::from_params(self.dims(), w, r, b)),
        }
    }

    /// Random parameters: `W`, `R` uniform in `±scale`, biases in `±0.5`
    /// (`Rb` too, so that the frozen half is exercised with a non-zero value).
    fn params(&self, scale: f32, r: &mut ChaCha8Rng) -> [Vec<f32>; 3] {
        let gh = self.gates() * self.units;
        [
            uniform(r, self.dirs * gh * self.inputs, -scale, scale),
            uniform(r, self.dirs * gh * self.units, -scale, scale),
            uniform(r, self.dirs * 2 * gh, -0.5, 0.5),
        ]
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// ONNX `RNN` (tanh) or `LSTM` (gates i, o, f, c) over a batch, in `f64`:
/// `z = Wb + Rb + W·x_t + R·h_{t-1}` per direction, the reverse direction
/// reading the steps backwards; outputs per step `[fwd h_t, bwd h_t]` or the
/// last states `[fwd after step T-1, bwd after step 0]`.
fn rec_ref(c: &Rec, w: &[f64], r: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
    let (ni, h, t_len, gh) = (c.inputs, c.units, c.seq_len, c.gates() * c.units);
    let mut y = Vec::new();
    for xs in x.chunks(c.in_len()) {
        let mut per_step = vec![vec![0.0; c.dirs * h]; t_len];
        let mut last = vec![0.0; c.dirs * h];
        for dir in 0..c.dirs {
            let (wd, rd, bd) = (&w[dir * gh * ni..][..gh * ni], &r[dir * gh * h..][..gh * h], &b[dir * 2 * gh..]);
            let (mut hs, mut cs) = (vec![0.0; h], vec![0.0; h]);
            let order: Vec<usize> = if dir == 0 { (0..t_len).collect() } else { (0..t_len).rev().collect() };
            for t in order {
                let xt = &xs[t * ni..][..ni];
                let z: Vec<f64> = (0..gh)
                    .map(|g| {
                        let wx: f64 = (0..ni).map(|i| wd[g * ni + i] * xt[i]).sum();
                        let rh: f64 = (0..h).map(|j| rd[g * h + j] * hs[j]).sum();
                        bd[g] + bd[gh + g] + wx + rh
                    })
                    .collect();
                hs = match c.kind {
                    Kind::Rnn => z.iter().map(|v| v.tanh()).collect(),
                    Kind::Lstm => (0..h)
                        .map(|j| {
                            let (i, o, f, g) =
                                (sigmoid(z[j]), sigmoid(z[h + j]), sigmoid(z[2 * h + j]), z[3 * h + j].tanh());
                            cs[j] = f * cs[j] + i * g;
                            o * cs[j].tanh()
                        })
                        .collect(),
                };
                per_step[t][dir * h..][..h].copy_from_slice(&hs);
            }
            last[dir * h..][..h].copy_from_slice(&hs);
        }
        if c.seq {
            per_step.iter().for_each(|s| y.extend_from_slice(s));
        } else {
            y.extend(last);
        }
    }
    y
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

// ---------------------------------------------------------------------------
// Recurrent layers: forward against the reference, gradients against finite
// differences.
// ---------------------------------------------------------------------------

fn check_rec_forward(c: Rec, batch: usize, seed: u64) {
    let mut r = rng(seed);
    let [w, rw, b] = c.params(0.6, &mut r);
    let x = uniform(&mut r, batch * c.in_len(), -1.5, 1.5);
    let want = rec_ref(&c, &to_f64(&w), &to_f64(&rw), &to_f64(&b), &to_f64(&x));
    let mut layer = c.layer(&w, &rw, &b);
    assert_eq!(layer.spec(), c.spec());
    for train in [false, true] {
        let got = layer.forward(&x, batch, train).to_vec();
        assert_parity(&format!("{c:?} batch {batch} forward (train {train})"), &got, &want);
    }
}

#[test]
fn rnn_and_lstm_forward_match_the_onnx_equations() {
    for (i, kind) in [Kind::Rnn, Kind::Lstm].into_iter().enumerate() {
        for (j, (seq, dirs)) in [(false, 1), (true, 1), (false, 2), (true, 2)].into_iter().enumerate() {
            let c = Rec { kind, inputs: 3, units: 5, seq_len: 7, seq, dirs };
            let s = 10 * i as u64 + j as u64;
            check_rec_forward(c, 1, s);
            // Several chunks (and, at inference, several rounds of chunks).
            check_rec_forward(c, 19, s + 100);
            check_rec_forward(c, 70, s + 200);
        }
    }
}

/// Checks every gradient of a recurrent layer: `backward(g)` against central
/// differences of `Σ g ⊙ y` over `W`, `R`, `Wb` and `x`; `Rb`'s gradient is
/// exactly zero although the loss depends on it.
fn check_rec_grads(c: Rec, batch: usize, scale: f32, seed: u64) {
    let mut r = rng(seed);
    let [w, rw, b] = c.params(scale, &mut r);
    let x = uniform(&mut r, batch * c.in_len(), -1.0, 1.0);
    let g = uniform(&mut r, batch * c.out_len(), -1.0, 1.0);
    let mut layer = c.layer(&w, &rw, &b);
    // A pass over other data first: buffers are reused and must not leak.
    let other = uniform(&mut r, (batch + 3) * c.in_len(), -1.0, 1.0);
    layer.forward(&other, batch + 3, true);
    layer.backward(&vec![0.5; (batch + 3) * c.out_len()], batch + 3, false, true);

    layer.forward(&x, batch, true);
    let dx = layer.backward(&g, batch, false, true).to_vec();
    let grads: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    let (wf, rf, bf, xf, gf) = (to_f64(&w), to_f64(&rw), to_f64(&b), to_f64(&x), to_f64(&g));
    let what = format!("{c:?} batch {batch}");
    let num_w = central_diff(|w| dot(&rec_ref(&c, w, &rf, &bf, &xf), &gf), &wf);
    let num_r = central_diff(|r| dot(&rec_ref(&c, &wf, r, &bf, &xf), &gf), &rf);
    let num_b = central_diff(|b| dot(&rec_ref(&c, &wf, &rf, b, &xf), &gf), &bf);
    let num_x = central_diff(|x| dot(&rec_ref(&c, &wf, &rf, &bf, x), &gf), &xf);
    for (name, num) in [("w", &num_w), ("r", &num_r), ("b", &num_b), ("x", &num_x)] {
        assert_nonzero(&format!("{what}: {name}"), num);
    }
    assert_grad(&format!("{what}: w"), &grads[0], &num_w);
    assert_grad(&format!("{what}: r"), &grads[1], &num_r);
    assert_grad(&format!("{what}: x"), &dx, &num_x);
    let gh = c.gates() * c.units;
    for dir in 0..c.dirs {
        let (wb, rb) = grads[2][dir * 2 * gh..][..2 * gh].split_at(gh);
        let (num_wb, num_rb) = num_b[dir * 2 * gh..][..2 * gh].split_at(gh);
        assert_grad(&format!("{what}: Wb of direction {dir}"), wb, num_wb);
        assert_nonzero(&format!("{what}: Rb of direction {dir}"), num_rb);
        assert!(rb.iter().all(|&v| v == 0.0), "{what}: the frozen Rb has a gradient {rb:?}");
    }

    // Without the input gradient the parameter gradients are the same.
    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, false, false).is_empty());
    let again: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    assert_eq!(again, grads, "{what}: need_dx = false changes the parameter gradients");
}

#[test]
fn rnn_gradients_both_directions_and_return_modes() {
    for (j, (seq, dirs)) in [(false, 1), (true, 1), (false, 2), (true, 2)].into_iter().enumerate() {
        let c = Rec { kind: Kind::Rnn, inputs: 3, units: 4, seq_len: 5, seq, dirs };
        check_rec_grads(c, 3, 0.7, 300 + j as u64);
    }
    // Several chunks.
    check_rec_grads(Rec { kind: Kind::Rnn, inputs: 2, units: 3, seq_len: 4, seq: true, dirs: 2 }, 17, 0.7, 310);
}

#[test]
fn lstm_gradients_both_directions_and_return_modes() {
    for (j, (seq, dirs)) in [(false, 1), (true, 1), (false, 2), (true, 2)].into_iter().enumerate() {
        let c = Rec { kind: Kind::Lstm, inputs: 3, units: 3, seq_len: 5, seq, dirs };
        check_rec_grads(c, 3, 0.7, 400 + j as u64);
    }
    check_rec_grads(Rec { kind: Kind::Lstm, inputs: 2, units: 2, seq_len: 4, seq: false, dirs: 2 }, 17, 0.7, 410);
}

#[test]
fn gradients_through_long_sequences() {
    // Back-propagation through 24 and 21 steps, with weights large enough
    // that the first steps still matter at the last output.
    let rnn = Rec { kind: Kind::Rnn, inputs: 2, units: 3, seq_len: 24, seq: false, dirs: 1 };
    let lstm = Rec { kind: Kind::Lstm, inputs: 2, units: 2, seq_len: 21, seq: false, dirs: 2 };
    for (c, seed) in [(rnn, 500), (lstm, 501)] {
        check_rec_grads(c, 2, 1.0, seed);
        // The gradient reaches the first step (forward direction).
        let mut r = rng(seed + 10);
        let [w, rw, b] = c.params(1.0, &mut r);
        let x = uniform(&mut r, c.in_len(), -1.0, 1.0);
        let g = vec![1.0; c.out_len()];
        let (wf, rf, bf) = (to_f64(&w), to_f64(&rw), to_f64(&b));
        let gf = to_f64(&g);
        let mut xf = to_f64(&x);
        let first_step: Vec<f64> = (0..c.inputs)
            .map(|i| {
                let orig = xf[i];
                xf[i] = orig + 1e-5;
                let up = dot(&rec_ref(&c, &wf, &rf, &bf, &xf), &gf);
                xf[i] = orig - 1e-5;
                let down = dot(&rec_ref(&c, &wf, &rf, &bf, &xf), &gf);
                xf[i] = orig;
                (up - down) / 2e-5
            })
            .collect();
        let mut layer = c.layer(&w, &rw, &b);
        layer.forward(&x, 1, true);
        let dx = layer.backward(&g, 1, false, true).to_vec();
        assert_grad(&format!("{c:?}: dx at step 0"), &dx[..c.inputs], &first_step);
        assert!(first_step.iter().any(|v| v.abs() > 1e-4), "{c:?}: step 0 barely matters: {first_step:?}");
    }
}

#[test]
fn stacked_rnn_sequences_into_lstm_last() {
    let a = Rec { kind: Kind::Rnn, inputs: 2, units: 3, seq_len: 6, seq: true, dirs: 2 };
    let b = Rec { kind: Kind::Lstm, inputs: 6, units: 3, seq_len: 6, seq: false, dirs: 1 };
    let batch = 3;
    let mut r = rng(600);
    let pa = a.params(0.7, &mut r);
    let pb = b.params(0.7, &mut r);
    let x = uniform(&mut r, batch * a.in_len(), -1.0, 1.0);
    let g = uniform(&mut r, batch * b.out_len(), -1.0, 1.0);
    let (mut la, mut lb) = (a.layer(&pa[0], &pa[1], &pa[2]), b.layer(&pb[0], &pb[1], &pb[2]));
    let mid = la.forward(&x, batch, true).to_vec();
    lb.forward(&mid, batch, true);
    let dmid = lb.backward(&g, batch, false, true).to_vec();
    let dx = la.backward(&dmid, batch, false, true).to_vec();

    let mut all: Vec<Vec<f64>> = pa.iter().chain(&pb).map(|p| to_f64(p)).collect();
    all.push(to_f64(&x));
    let gf = to_f64(&g);
    let loss = |v: &[Vec<f64>]| {
        let mid = rec_ref(&a, &v[0], &v[1], &v[2], &v[6]);
        dot(&rec_ref(&b, &v[3], &v[4], &v[5], &mid), &gf)
    };
    let analytic: Vec<Vec<f32>> = la
        .params_mut()
        .into_iter()
        .chain(lb.params_mut())
        .map(|p| p.grad.to_vec())
        .chain(std::iter::once(dx))
        .collect();
    for (k, got) in analytic.iter().enumerate() {
        let num = central_diff(
            |p| {
                let mut v = all.clone();
                v[k] = p.to_vec();
                loss(&v)
            },
            &all[k],
        );
        let what = format!("stacked RNN -> LSTM, tensor {k}");
        assert_nonzero(&what, &num);
        if k == 2 || k == 5 {
            // b: check Wb; Rb is frozen.
            let gh = if k == 2 { 3 } else { 12 };
            for (dir, (gb, nb)) in got.chunks(2 * gh).zip(num.chunks(2 * gh)).enumerate() {
                assert_grad(&format!("{what}, Wb {dir}"), &gb[..gh], &nb[..gh]);
                assert!(gb[gh..].iter().all(|&v| v == 0.0), "{what}: Rb has a gradient");
            }
        } else {
            assert_grad(&what, got, &num);
        }
    }
}

#[test]
fn init_follows_keras() {
    let mut r = rng(700);
    for c in [
        Rec { kind: Kind::Rnn, inputs: 3, units: 6, seq_len: 2, seq: false, dirs: 2 },
        Rec { kind: Kind::Lstm, inputs: 5, units: 4, seq_len: 2, seq: true, dirs: 2 },
    ] {
        let layer = layers::init(&c.spec(), &mut r);
        assert_eq!(layer.spec(), c.spec());
        let p = layer.params();
        for (i, v) in p.iter().enumerate() {
            assert_eq!(v.len(), c.spec().param(i).unwrap().dims.elements(), "{c:?}: parameter {i}");
        }
        let (h, gh) = (c.units, c.gates() * c.units);
        let limit = (6.0 / (c.inputs + gh) as f32).sqrt();
        assert!(p[0].iter().all(|v| v.abs() <= limit), "{c:?}: W outside the glorot limit");
        for dir in 0..c.dirs {
            // R: orthonormal columns (the transpose of Keras's orthogonal kernel).
            let rd = &p[1][dir * gh * h..][..gh * h];
            for a in 0..h {
                for b in 0..h {
                    let d: f64 = (0..gh).map(|g| rd[g * h + a] as f64 * rd[g * h + b] as f64).sum();
                    assert!((d - if a == b { 1.0 } else { 0.0 }).abs() < 1e-5, "{c:?}: R columns {a}, {b}: {d}");
                }
            }
            // Bias zero but the LSTM forget gate's Wb (block 2 of i, o, f, c) = 1.
            let bd = &p[2][dir * 2 * gh..][..2 * gh];
            for (k, &v) in bd.iter().enumerate() {
                let forget = c.kind == Kind::Lstm && (2 * h..3 * h).contains(&k);
                assert_eq!(v, if forget { 1.0 } else { 0.0 }, "{c:?}: bias {k}");
            }
        }
    }
    let emb = layers::init(&LayerSpec::Embedding { vocab: 50, dim: 4, seq_len: 3 }, &mut r);
    assert!(emb.params()[0].iter().all(|v| v.abs() <= 0.05));
    // from_spec keeps the given values.
    for spec in [
        Rec { kind: Kind::Lstm, inputs: 2, units: 3, seq_len: 4, seq: false, dirs: 1 }.spec(),
        LayerSpec::Embedding { vocab: 5, dim: 2, seq_len: 3 },
    ] {
        let values: Vec<Vec<f32>> = layers::init(&spec, &mut r).params().iter().map(|p| p.to_vec()).collect();
        let loaded = layers::from_spec(&spec, values.clone());
        assert_eq!(loaded.spec(), spec);
        assert_eq!(loaded.params().iter().map(|p| p.to_vec()).collect::<Vec<_>>(), values);
    }
}

// ---------------------------------------------------------------------------
// Embedding, Flatten, Dropout.
// ---------------------------------------------------------------------------

/// `Σ g ⊙ table[ids]` in `f64`.
fn embedding_ref(table: &[f64], dim: usize, ids: &[f32], g: &[f64]) -> f64 {
    ids.iter().enumerate().map(|(k, &id)| dot(&table[id as usize * dim..][..dim], &g[k * dim..][..dim])).sum()
}

#[test]
fn embedding_forward_and_sparse_gradient() {
    let (vocab, dim, seq_len) = (40, 3, 5);
    let mut r = rng(800);
    let table = uniform(&mut r, vocab * dim, -1.0, 1.0);
    let mut layer = EmbeddingLayer::from_params(vocab, dim, seq_len, table.clone());
    let tf = to_f64(&table);
    // Repeated ids within a sample and across samples; then a batch with
    // other ids (rows of the first must be zero again), then one touching
    // most of the table (the whole-table reset path) and a last small one.
    let batches: [Vec<f32>; 4] = [
        vec![3., 3., 7., 0., 3., 7., 7., 39., 1., 3.],
        vec![5., 6., 5., 5., 12.],
        (0..40).map(|i| ((i * 7) % 37) as f32).collect(),
        vec![2., 2., 2., 2., 2., 9., 9., 9., 9., 9., 1., 1., 1., 1., 1.],
    ];
    for (k, ids) in batches.iter().enumerate() {
        let batch = ids.len() / seq_len;
        let y = layer.forward(ids, batch, true).to_vec();
        let want: Vec<f64> = ids.iter().flat_map(|&id| tf[id as usize * dim..][..dim].to_vec()).collect();
        assert_parity(&format!("embedding batch {k} forward"), &y, &want);
        let g = uniform(&mut r, batch * seq_len * dim, -1.0, 1.0);
        let dx = layer.backward(&g, batch, false, true);
        assert!(dx.is_empty(), "token ids have no gradient");
        let gf = to_f64(&g);
        let num = central_diff(|t| embedding_ref(t, dim, ids, &gf), &tf);
        let grad = layer.params_mut().remove(0).grad.to_vec();
        assert_grad(&format!("embedding batch {k}"), &grad, &num);
    }
}

#[test]
fn embedding_rejects_bad_ids() {
    for bad in [7.0, -1.0, 2.5, f32::NAN, 1e9] {
        let result = std::panic::catch_unwind(|| {
            let mut layer = EmbeddingLayer::from_params(7, 2, 2, vec![0.0; 14]);
            layer.forward(&[1.0, bad], 1, false).to_vec()
        });
        let err = result.expect_err("a bad id must panic");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("not a token id in 0..7") && msg.contains("position 1"), "{bad}: {msg}");
    }
}

#[test]
fn flatten_is_the_identity() {
    let dims = Dims::new(&[2, 3, 2]).unwrap();
    let mut layer = FlattenLayer::new(dims);
    assert_eq!(layer.spec(), LayerSpec::Flatten { dims });
    let x: Vec<f32> = (0..24).map(|v| v as f32).collect();
    assert_eq!(layer.forward(&x, 2, true), &x[..]);
    assert_eq!(layer.backward(&x, 2, false, true), &x[..]);
    assert!(layer.backward(&x, 2, false, false).is_empty());
}

#[test]
fn dropout_masks_scale_and_route_the_gradient() {
    let len = 5000;
    let mut r = rng(900);
    let x: Vec<f32> = (0..2 * len).map(|_| r.random_range(0.5f32..1.5)).collect();
    let g = uniform(&mut r, 2 * len, -1.0, 1.0);

    // Rate 0 and inference: the identity, forwards and backwards.
    let mut none = DropoutLayer::new(len, 0, 1);
    assert_eq!(none.forward(&x, 2, true), &x[..]);
    assert_eq!(none.backward(&g, 2, false, true), &g[..]);
    let mut layer = DropoutLayer::new(len, 250_000, 1);
    assert_eq!(layer.spec(), LayerSpec::Dropout { len: len as u32, rate_ppm: 250_000 });
    assert_eq!(layer.forward(&x, 2, false), &x[..]);

    // Training: kept values scaled by 1 / (1 - 0.25), the rest zero; about
    // a quarter dropped; the gradient flows through kept values only.
    let y = layer.forward(&x, 2, true).to_vec();
    let dx = layer.backward(&g, 2, false, true).to_vec();
    let mut dropped = 0;
    for i in 0..2 * len {
        if y[i] == 0.0 {
            dropped += 1;
            assert_eq!(dx[i], 0.0, "gradient through a dropped value at {i}");
        } else {
            assert_eq!(y[i], x[i] * (1.0 / 0.75f32), "kept value {i} not scaled");
            assert_eq!(dx[i], g[i] * (1.0 / 0.75f32), "gradient of kept value {i} not scaled");
        }
    }
    let frac = dropped as f64 / (2 * len) as f64;
    assert!((0.23..0.27).contains(&frac), "dropped fraction {frac}");

    // A new mask each batch; the same seed draws the same masks.
    let y2 = layer.forward(&x, 2, true).to_vec();
    assert_ne!(y, y2, "the mask did not change between batches");
    let mut twin = DropoutLayer::new(len, 250_000, 1);
    assert_eq!(twin.forward(&x, 2, true), &y[..]);
}

#[test]
fn network_init_builds_every_sequence_layer() {
    let specs = [
        LayerSpec::Embedding { vocab: 20, dim: 4, seq_len: 6 },
        LayerSpec::Dropout { len: 24, rate_ppm: 100_000 },
        LayerSpec::Lstm { inputs: 4, units: 3, seq_len: 6, return_sequences: true, bidirectional: true },
        LayerSpec::Flatten { dims: Dims::d2(6, 6) },
        LayerSpec::Dense { inputs: 36, units: 1, activation: Activation::Sigmoid },
    ];
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(6), range: None };
    let mut net = Network::init("seq", input, &specs, 7);
    assert_eq!(net.specs(), specs);
    let x: Vec<f32> = (0..18).map(|i| ((i * 7) % 20) as f32).collect();
    let y = net.forward(&x, 3, true).to_vec();
    assert!(y.len() == 3 && y.iter().all(|p| *p > 0.0 && *p < 1.0), "{y:?}");
    net.backward(&[0.1, -0.2, 0.3], 3, true);
    assert!(net.params_mut().iter().any(|p| p.grad.iter().any(|g| *g != 0.0)), "no gradient reached the parameters");
    // The same seed gives the same weights.
    assert_eq!(Network::init("seq", input, &specs, 7).param_values(), net.param_values());
}
