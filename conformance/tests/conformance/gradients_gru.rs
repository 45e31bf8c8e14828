//! The trainer's GRU (`ember_nn::layers::GruLayer`) against independent
//! references: the naive `f64` ONNX `GRU` (`linear_before_reset = 1`) in
//! `ember_conformance::reference::gru`, and central finite differences of it
//! for every gradient (`W`, `R`, both bias halves, the input), through 20+
//! steps, in one and two directions, returning sequences or the last state,
//! and stacked.

use ember_conformance::reference::gru::gru_f64;
use ember_conformance::{assert_grad, assert_nonzero, assert_parity, central_diff, rng, to_f64, uniform};
use ember_nn::layers::{self, GruLayer, TrainLayer};
use ember_runtime::spec::{LayerSpec, RecurrentDims};
use rand_chacha::ChaCha8Rng;

/// Sizes of a GRU layer.
#[derive(Clone, Copy, Debug)]
struct Gru {
    inputs: usize,
    units: usize,
    seq_len: usize,
    seq: bool,
    dirs: usize,
}

impl Gru {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Gru {
            inputs: self.inputs as u32,
            units: self.units as u32,
            seq_len: self.seq_len as u32,
            return_sequences: self.seq,
            bidirectional: self.dirs == 2,
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

    fn layer(&self, p: &[Vec<f32>; 3]) -> GruLayer {
        GruLayer::from_params(self.dims(), p[0].clone(), p[1].clone(), p[2].clone())
    }

    /// Random parameters: `W`, `R` uniform in `±scale`, both biases in `±0.5`.
    fn params(&self, scale: f32, r: &mut ChaCha8Rng) -> [Vec<f32>; 3] {
        self.params_keeping(scale, 0.0, r)
    }

    /// As [`Gru::params`], with `keep` added to the update gate's `Wb`: the
    /// larger, the longer the state remembers (`h_t ≈ h_{t-1}` as `z → 1`).
    fn params_keeping(&self, scale: f32, keep: f32, r: &mut ChaCha8Rng) -> [Vec<f32>; 3] {
        let gh = 3 * self.units;
        let mut b = uniform(r, self.dirs * 2 * gh, -0.5, 0.5);
        for dir in 0..self.dirs {
            b[dir * 2 * gh..][..self.units].iter_mut().for_each(|v| *v += keep);
        }
        [
            uniform(r, self.dirs * gh * self.inputs, -scale, scale),
            uniform(r, self.dirs * gh * self.units, -scale, scale),
            b,
        ]
    }

    /// The reference over a batch.
    fn reference(&self, w: &[f64], r: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
        let params = [w.to_vec(), r.to_vec(), b.to_vec()];
        x.chunks(self.in_len()).flat_map(|s| gru_f64(self.dims(), &params, s)).collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

const MODES: [(bool, usize); 4] = [(false, 1), (true, 1), (false, 2), (true, 2)];

#[test]
fn forward_matches_the_onnx_equations() {
    for (j, (seq, dirs)) in MODES.into_iter().enumerate() {
        let c = Gru { inputs: 3, units: 5, seq_len: 7, seq, dirs };
        // One sample, several chunks, and (at inference) several rounds of chunks.
        for (k, batch) in [1, 19, 70].into_iter().enumerate() {
            let mut r = rng(10 * j as u64 + k as u64);
            let p = c.params(0.6, &mut r);
            let x = uniform(&mut r, batch * c.in_len(), -1.5, 1.5);
            let want = c.reference(&to_f64(&p[0]), &to_f64(&p[1]), &to_f64(&p[2]), &to_f64(&x));
            let mut layer = c.layer(&p);
            assert_eq!(layer.spec(), c.spec());
            for train in [false, true] {
                let got = layer.forward(&x, batch, train).to_vec();
                assert_parity(&format!("{c:?} batch {batch} forward (train {train})"), &got, &want);
            }
        }
    }
}

/// Checks every gradient of a GRU: `backward(g)` against central
/// differences of `Σ g ⊙ y` over `W`, `R`, `b` (both `Wb` and `Rb`: a GRU
/// trains both) and `x`.
fn check_grads(c: Gru, batch: usize, scale: f32, keep: f32, seed: u64) {
    let mut r = rng(seed);
    let p = c.params_keeping(scale, keep, &mut r);
    let x = uniform(&mut r, batch * c.in_len(), -1.0, 1.0);
    let g = uniform(&mut r, batch * c.out_len(), -1.0, 1.0);
    let mut layer = c.layer(&p);
    // A pass over other data first: buffers are reused and must not leak.
    let other = uniform(&mut r, (batch + 3) * c.in_len(), -1.0, 1.0);
    layer.forward(&other, batch + 3, true);
    layer.backward(&vec![0.5; (batch + 3) * c.out_len()], batch + 3, false, true);

    layer.forward(&x, batch, true);
    let dx = layer.backward(&g, batch, false, true).to_vec();
    let grads: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    let (wf, rf, bf, xf, gf) = (to_f64(&p[0]), to_f64(&p[1]), to_f64(&p[2]), to_f64(&x), to_f64(&g));
    let what = format!("{c:?} batch {batch}");
    let num = [
        central_diff(|w| dot(&c.reference(w, &rf, &bf, &xf), &gf), &wf),
        central_diff(|r| dot(&c.reference(&wf, r, &bf, &xf), &gf), &rf),
        central_diff(|b| dot(&c.reference(&wf, &rf, b, &xf), &gf), &bf),
        central_diff(|x| dot(&c.reference(&wf, &rf, &bf, x), &gf), &xf),
    ];
    for (name, (got, num)) in ["w", "r", "b", "x"].into_iter().zip(grads.iter().chain([&dx]).zip(&num)) {
        assert_nonzero(&format!("{what}: {name}"), num);
        assert_grad(&format!("{what}: {name}"), got, num);
    }
    // Rb_h is a parameter of its own (inside the reset gate's product).
    let h = c.units;
    for dir in 0..c.dirs {
        let (wb_h, rb_h) = (&num[2][dir * 6 * h + 2 * h..][..h], &num[2][dir * 6 * h + 5 * h..][..h]);
        assert!(wb_h.iter().zip(rb_h).any(|(a, b)| (a - b).abs() > 1e-3), "{what}: Rb_h acts as Wb_h");
    }

    // Without the input gradient the parameter gradients are the same.
    layer.forward(&x, batch, true);
    assert!(layer.backward(&g, batch, false, false).is_empty());
    let again: Vec<Vec<f32>> = layer.params_mut().into_iter().map(|p| p.grad.to_vec()).collect();
    assert_eq!(again, grads, "{what}: need_dx = false changes the parameter gradients");
}

#[test]
fn gradients_both_directions_and_return_modes() {
    for (j, (seq, dirs)) in MODES.into_iter().enumerate() {
        check_grads(Gru { inputs: 3, units: 4, seq_len: 5, seq, dirs }, 3, 0.7, 0.0, 100 + j as u64);
    }
    // Several chunks.
    check_grads(Gru { inputs: 2, units: 3, seq_len: 4, seq: true, dirs: 2 }, 17, 0.7, 0.0, 110);
}

#[test]
fn gradients_through_long_sequences() {
    const KEEP: f32 = 2.5;
    // Back-propagation through 20 to 24 steps, with an update gate biased
    // towards keeping the state, so that the first steps still matter at
    // the last output.
    let cases = [
        Gru { inputs: 2, units: 3, seq_len: 24, seq: false, dirs: 1 },
        Gru { inputs: 2, units: 2, seq_len: 21, seq: false, dirs: 2 },
        Gru { inputs: 2, units: 2, seq_len: 20, seq: true, dirs: 2 },
        Gru { inputs: 3, units: 2, seq_len: 22, seq: true, dirs: 1 },
    ];
    for (k, c) in cases.into_iter().enumerate() {
        let seed = 200 + k as u64;
        check_grads(c, 2, 1.0, KEEP, seed);
        // The gradient of the last output reaches the first step.
        let mut r = rng(seed + 10);
        let p = c.params_keeping(1.0, KEEP, &mut r);
        let x = uniform(&mut r, c.in_len(), -1.0, 1.0);
        let mut g = vec![0.0; c.out_len()];
        let last = if c.seq { c.out_len() - c.dirs * c.units } else { 0 };
        g[last..][..c.units].fill(1.0); // the forward direction's state after step T-1
        let (wf, rf, bf, gf) = (to_f64(&p[0]), to_f64(&p[1]), to_f64(&p[2]), to_f64(&g));
        let xf = to_f64(&x);
        let first_step = central_diff(
            |x0| {
                let mut xs = xf.clone();
                xs[..c.inputs].copy_from_slice(x0);
                dot(&c.reference(&wf, &rf, &bf, &xs), &gf)
            },
            &xf[..c.inputs],
        );
        let mut layer = c.layer(&p);
        layer.forward(&x, 1, true);
        let dx = layer.backward(&g, 1, false, true).to_vec();
        assert_grad(&format!("{c:?}: dx at step 0"), &dx[..c.inputs], &first_step);
        assert!(first_step.iter().any(|v| v.abs() > 1e-4), "{c:?}: step 0 barely matters: {first_step:?}");
    }
}

#[test]
fn stacked_bidirectional_sequences_into_last() {
    let a = Gru { inputs: 2, units: 3, seq_len: 6, seq: true, dirs: 2 };
    let b = Gru { inputs: 6, units: 3, seq_len: 6, seq: false, dirs: 1 };
    let batch = 3;
    let mut r = rng(300);
    let (pa, pb) = (a.params(0.7, &mut r), b.params(0.7, &mut r));
    let x = uniform(&mut r, batch * a.in_len(), -1.0, 1.0);
    let g = uniform(&mut r, batch * b.out_len(), -1.0, 1.0);
    let (mut la, mut lb) = (a.layer(&pa), b.layer(&pb));
    let mid = la.forward(&x, batch, true).to_vec();
    lb.forward(&mid, batch, true);
    let dmid = lb.backward(&g, batch, false, true).to_vec();
    let dx = la.backward(&dmid, batch, false, true).to_vec();

    let mut all: Vec<Vec<f64>> = pa.iter().chain(&pb).map(|p| to_f64(p)).collect();
    all.push(to_f64(&x));
    let gf = to_f64(&g);
    let loss = |v: &[Vec<f64>]| {
        let mid = a.reference(&v[0], &v[1], &v[2], &v[6]);
        dot(&b.reference(&v[3], &v[4], &v[5], &mid), &gf)
    };
    let analytic: Vec<Vec<f32>> =
        la.params_mut().into_iter().chain(lb.params_mut()).map(|p| p.grad.to_vec()).chain([dx]).collect();
    for (k, got) in analytic.iter().enumerate() {
        let num = central_diff(
            |p| {
                let mut v = all.clone();
                v[k] = p.to_vec();
                loss(&v)
            },
            &all[k],
        );
        let what = format!("stacked GRU, tensor {k}");
        assert_nonzero(&what, &num);
        assert_grad(&what, got, &num);
    }
}

#[test]
fn init_follows_keras() {
    let mut r = rng(400);
    for c in [
        Gru { inputs: 3, units: 6, seq_len: 2, seq: false, dirs: 2 },
        Gru { inputs: 5, units: 4, seq_len: 2, seq: true, dirs: 1 },
    ] {
        let layer = layers::init(&c.spec(), &mut r);
        assert_eq!(layer.spec(), c.spec());
        let p = layer.params();
        for (i, v) in p.iter().enumerate() {
            assert_eq!(v.len(), c.spec().param(i).unwrap().dims.elements(), "{c:?}: parameter {i}");
        }
        let (h, gh) = (c.units, 3 * c.units);
        let limit = (6.0 / (c.inputs + gh) as f32).sqrt();
        assert!(p[0].iter().all(|v| v.abs() <= limit), "{c:?}: W outside the glorot limit");
        assert!(p[0].iter().any(|v| v.abs() > limit / 2.0), "{c:?}: W not spread over the glorot range");
        for dir in 0..c.dirs {
            // R: orthonormal columns (the transpose of Keras's orthogonal kernel).
            let rd = &p[1][dir * gh * h..][..gh * h];
            for a in 0..h {
                for b in 0..h {
                    let d: f64 = (0..gh).map(|g| rd[g * h + a] as f64 * rd[g * h + b] as f64).sum();
                    assert!((d - if a == b { 1.0 } else { 0.0 }).abs() < 1e-5, "{c:?}: R columns {a}, {b}: {d}");
                }
            }
        }
        assert!(p[2].iter().all(|&v| v == 0.0), "{c:?}: Keras's GRU biases start at zero");
        // from_spec keeps the given values.
        let values: Vec<Vec<f32>> = p.iter().map(|v| v.to_vec()).collect();
        let loaded = layers::from_spec(&c.spec(), values.clone());
        assert_eq!(loaded.spec(), c.spec());
        assert_eq!(loaded.params().iter().map(|p| p.to_vec()).collect::<Vec<_>>(), values);
    }
}
