//! Shared helpers of the ember conformance tests: seeded random models, the
//! naive `f64` references of every layer kind ([`reference`], one file per
//! kind) and of the losses, central finite differences, an independent
//! bitwise CRC-32 and tolerance checks.
//!
//! Everything here is written from the specifications
//! (`docs/ARCHITECTURE.md`, `crates/runtime/FORMAT.md`, the ONNX and Keras
//! definitions), never by calling the code under test, so that the tests
//! compare against an independent reference.

use ember_export::Model;
use ember_nn::loss::Loss;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use ember_verify::F32_PARITY;

pub mod keras;
pub mod preset_inputs;
pub mod qmodel;
pub mod reference;
pub mod support;

pub use reference::act_f64;
pub use reference::dense::{dense_pre_f64, forward_f64};

/// Relative tolerance of a gradient check: the trainer's analytic `f32`
/// gradient against central differences of the `f64` reference,
/// `|analytic - numeric| <= GRAD_TOL * |numeric| + GRAD_ABS`. Central
/// differences in `f64` with step [`FD_STEP`] are exact to about 1e-9 here,
/// so the tolerance covers the `f32` rounding of the analytic gradient
/// (sums of a few dozen O(1) terms: ~1e-6 relative), while a wrong factor,
/// sign or transposition is off by far more.
pub const GRAD_TOL: f64 = 1e-3;
/// Absolute floor of a gradient check, for gradient entries near zero: a
/// few `f32` ulps of the O(1) terms that cancel in them.
pub const GRAD_ABS: f64 = 1e-5;
/// Step of the central differences (on `f64` values of order 1: truncation
/// error ~h² ≈ 1e-10, rounding error ~1e-16 / h ≈ 1e-11).
pub const FD_STEP: f64 = 1e-5;

/// A ChaCha8 generator for `seed`.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` values uniform in `[lo, hi)`.
pub fn uniform(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// A dense layer spec.
pub fn dense(inputs: usize, units: usize, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { inputs: inputs as u32, units: units as u32, activation }
}

/// A flat `f32` input description of `n` values.
pub fn input_spec(n: usize) -> IoSpec {
    IoSpec { kind: ValueKind::F32, dims: Dims::d1(n as u32), range: None }
}

/// Glorot-uniform weights (`[units, inputs]`) and biases uniform in
/// `[-0.1, 0.1)` for every layer, in spec order.
pub fn random_params(layers: &[LayerSpec], rng: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
    let mut values = Vec::new();
    for l in layers {
        let (i, o) = (l.input_len(), l.output_len());
        let limit = (6.0 / (i + o) as f32).sqrt();
        values.push(uniform(rng, i * o, -limit, limit));
        values.push(uniform(rng, o, -0.1, 0.1));
    }
    values
}

/// A model of dense layers `(inputs, units, activation)` with seeded random
/// parameters ([`random_params`]).
pub fn random_model(name: &str, layers: &[(usize, usize, Activation)], seed: u64) -> Model {
    let specs: Vec<LayerSpec> = layers.iter().map(|&(i, o, a)| dense(i, o, a)).collect();
    let values = random_params(&specs, &mut rng(seed));
    Model::new(name, input_spec(specs[0].input_len()), specs, values).expect("a valid random model")
}

/// `f32` values widened to `f64`.
pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// The Keras losses in `f64`, without clamping (tests keep probabilities
/// away from 0 and 1): MSE, MAE and BCE are means over every element, CCE
/// is the mean over samples of `-Σ t ln y`, Huber (delta 1) is a mean over
/// every element, sparse CCE the mean over samples of `-ln y[label]`.
///
/// # Shapes
/// `y`: `[batch, n]`; `t`: `[batch, n]`, or `[batch]` class indices for sparse CCE.
pub fn loss_f64(loss: Loss, y: &[f64], t: &[f64], batch: usize) -> f64 {
    let n = y.len() as f64;
    match loss {
        Loss::Mse => y.iter().zip(t).map(|(y, t)| (y - t) * (y - t)).sum::<f64>() / n,
        Loss::Mae => y.iter().zip(t).map(|(y, t)| (y - t).abs()).sum::<f64>() / n,
        Loss::Bce => -y.iter().zip(t).map(|(p, t)| t * p.ln() + (1.0 - t) * (1.0 - p).ln()).sum::<f64>() / n,
        Loss::Cce => -y.iter().zip(t).map(|(p, t)| t * p.ln()).sum::<f64>() / batch as f64,
        // delta = 1: d²/2 inside, |d| - 1/2 outside.
        Loss::Huber => {
            y.iter()
                .zip(t)
                .map(|(y, t)| {
                    let d = (y - t).abs();
                    if d <= 1.0 { 0.5 * d * d } else { d - 0.5 }
                })
                .sum::<f64>()
                / n
        }
        // t holds one class index per sample.
        Loss::SparseCce => {
            let width = y.len() / batch;
            -t.iter().enumerate().map(|(b, &k)| y[b * width + k as usize].ln()).sum::<f64>() / batch as f64
        }
    }
}

/// Central differences `(f(x + h e_i) - f(x - h e_i)) / 2h` for every `i`.
pub fn central_diff(mut f: impl FnMut(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            p[i] = x[i] + FD_STEP;
            let up = f(&p);
            p[i] = x[i] - FD_STEP;
            let down = f(&p);
            p[i] = x[i];
            (up - down) / (2.0 * FD_STEP)
        })
        .collect()
}

/// Asserts an analytic gradient against finite differences within
/// [`GRAD_TOL`] (relative) + [`GRAD_ABS`], naming the first bad entry.
pub fn assert_grad(what: &str, analytic: &[f32], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len(), "{what}: gradient lengths differ");
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        let a = a as f64;
        assert!(
            (a - n).abs() <= GRAD_TOL * n.abs() + GRAD_ABS,
            "{what}[{i}]: analytic {a:e} vs finite differences {n:e} (diff {:e})",
            (a - n).abs()
        );
    }
}

/// Asserts that a reference gradient is not ~0 everywhere (a check against
/// it would be vacuous).
pub fn assert_nonzero(what: &str, numeric: &[f64]) {
    assert!(numeric.iter().any(|v| v.abs() > 1e-3), "{what}: the numeric gradient is ~0, the check would be vacuous");
}

/// Asserts `|got - want| <= F32_PARITY + F32_PARITY * |want|` elementwise.
pub fn assert_parity(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = (g as f64 - w).abs();
        assert!(d <= F32_PARITY + F32_PARITY * w.abs(), "{what}[{i}]: got {g:e}, want {w:e} (diff {d:e})");
    }
}

/// CRC-32 (IEEE 802.3 / zlib / PNG: reflected polynomial 0xEDB88320, initial
/// value and final xor 0xFFFFFFFF), one bit at a time: an implementation
/// independent of the runtime's table-driven one.
pub fn crc32_bitwise(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A buffer whose data starts `offset` bytes past a 16-byte boundary.
pub struct OffsetBuf {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl OffsetBuf {
    /// Copies `bytes` to `offset` bytes (below 16) past a 16-byte boundary.
    pub fn new(bytes: &[u8], offset: usize) -> Self {
        assert!(offset < 16, "offset must be below 16");
        let mut raw = vec![0u8; bytes.len() + 32];
        let start = (16 - raw.as_ptr() as usize % 16) % 16 + offset;
        raw[start..start + bytes.len()].copy_from_slice(bytes);
        OffsetBuf { raw, start, len: bytes.len() }
    }

    /// The bytes, at the requested misalignment.
    pub fn bytes(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

/// The typed encoder of the `conv-ae` preset (28x28x1 → 4x4x8), as
/// `ember export --rust` names it; shared by the runtime tests, the board
/// tests and the benchmark.
pub type ConvAeEncoder = ember_runtime::Chain<
    ember_runtime::Conv2d<28, 28, 1, 16, 3, 3, ember_runtime::Same, ember_runtime::Relu, 784, 784>,
    ember_runtime::Chain<
        ember_runtime::MaxPool2d<28, 28, 16, 2, ember_runtime::Same, 784, 196>,
        ember_runtime::Chain<
            ember_runtime::Conv2d<14, 14, 16, 8, 3, 3, ember_runtime::Same, ember_runtime::Relu, 196, 196>,
            ember_runtime::Chain<
                ember_runtime::MaxPool2d<14, 14, 8, 2, ember_runtime::Same, 196, 49>,
                ember_runtime::Chain<
                    ember_runtime::Conv2d<7, 7, 8, 8, 3, 3, ember_runtime::Same, ember_runtime::Relu, 49, 49>,
                    ember_runtime::MaxPool2d<7, 7, 8, 2, ember_runtime::Same, 49, 16>,
                >,
            >,
        >,
    >,
>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32_bitwise(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_bitwise(b""), 0);
    }

    #[test]
    fn offset_buf_is_offset() {
        for off in [0, 1, 4, 8] {
            let b = OffsetBuf::new(&[1, 2, 3], off);
            assert_eq!(b.bytes(), &[1, 2, 3]);
            assert_eq!(b.bytes().as_ptr() as usize % 16, off);
        }
    }

    #[test]
    fn central_diff_of_a_cubic() {
        let g = central_diff(|x| x[0].powi(3) + 2.0 * x[1], &[1.5, -2.0]);
        assert!((g[0] - 6.75).abs() < 1e-8 && (g[1] - 2.0).abs() < 1e-8, "{g:?}");
    }
}
