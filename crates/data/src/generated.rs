//! Generated data for the sensor, audio-feature and regression presets,
//! deterministic from the seed ([`crate::rng::Stream`]): the TFLM
//! hello-world sine, multichannel sensor windows with planted anomalies,
//! keyword-spotting-shaped feature maps and 3-axis accelerometer gestures.
//!
//! Time series are `[steps, channels]`, time-major.

use std::f64::consts::TAU;

use crate::labeled::{Labeled, Targets};
use crate::rng::Stream;
use crate::{DataError, Dataset};

/// Time steps of a generated sensor window.
pub const SENSOR_STEPS: usize = 32;
/// Channels of a generated sensor window.
pub const SENSOR_CHANNELS: usize = 3;
/// The kinds of planted anomaly, in label order.
pub const ANOMALY_KINDS: [&str; 3] = ["spike", "drift", "flat"];
/// Frames of a generated keyword-spotting feature map (49 frames of 10 features, as in the DS-CNN paper).
pub const KWS_FRAMES: usize = 49;
/// Features per frame of a keyword-spotting feature map.
pub const KWS_FEATURES: usize = 10;
/// The classes of the generated keyword-spotting maps.
pub const KWS_CLASSES: [&str; 6] = ["silence", "rise", "fall", "low", "high", "burst"];
/// Time steps of a generated gesture window (1.28 s at 50 Hz).
pub const GESTURE_STEPS: usize = 64;
/// The classes of the generated gestures.
pub const GESTURE_CLASSES: [&str; 5] = ["idle", "shake", "circle", "tap", "swipe"];

/// Mixed into the seed of the stream that plants anomalies.
const ANOMALY_STREAM: u64 = 0xA40A_17E5;

fn between(r: &mut Stream, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * r.uniform()
}

/// The TensorFlow Lite Micro hello-world data: `n` values `x` uniform in
/// `[0, 2π)` and targets `sin(x) + 0.1·N(0, 1)`.
pub fn sine(n: usize, seed: u64) -> Targets {
    let mut r = Stream::new(seed);
    let (mut x, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let v = TAU * r.uniform();
        x.push(v as f32);
        y.push((v.sin() + 0.1 * r.normal()) as f32);
    }
    Targets { x: Dataset { x, n, dims: vec![1], labels: None }, y, names: vec!["sin(x)".into()] }
}

/// One normal sensor window: per channel, two sines of fixed frequencies
/// (cycles per window) with random phases and amplitudes, plus noise 0.05.
fn sensor_window(r: &mut Stream, out: &mut Vec<f32>) {
    const FREQS: [[f64; 2]; SENSOR_CHANNELS] = [[1.0, 3.0], [2.0, 5.0], [1.5, 4.0]];
    let params: Vec<[f64; 4]> = FREQS
        .iter()
        .map(|_| [between(r, 0.9, 1.1), TAU * r.uniform(), between(r, 0.4, 0.6), TAU * r.uniform()])
        .collect();
    for t in 0..SENSOR_STEPS {
        let s = t as f64 / SENSOR_STEPS as f64;
        for (c, [a1, p1, a2, p2]) in params.iter().enumerate() {
            let [f1, f2] = FREQS[c];
            let v = a1 * (TAU * f1 * s + p1).sin() + a2 * (TAU * f2 * s + p2).sin() + 0.05 * r.normal();
            out.push(v as f32);
        }
    }
}

/// `n` normal multichannel sensor windows `[SENSOR_STEPS, SENSOR_CHANNELS]`
/// (sums of sines plus noise); no labels.
pub fn sensor_windows(n: usize, seed: u64) -> Dataset {
    let mut r = Stream::new(seed);
    let mut x = Vec::with_capacity(n * SENSOR_STEPS * SENSOR_CHANNELS);
    for _ in 0..n {
        sensor_window(&mut r, &mut x);
    }
    Dataset { x, n, dims: vec![SENSOR_STEPS, SENSOR_CHANNELS], labels: None }
}

/// The windows of [`sensor_windows`]`(n, seed)`, each with one planted
/// anomaly on one random channel (drawn from a second stream), labelled by
/// kind ([`ANOMALY_KINDS`], in turn): a spike of ±3–5 at one step, a drift (a ramp reaching ±1.5–2.5 by the end, from a random step
/// in the first half) or a flat line (the value held from a random step in
/// the first half: a stuck sensor).
pub fn sensor_anomalies(n: usize, seed: u64) -> Labeled {
    let (steps, ch) = (SENSOR_STEPS, SENSOR_CHANNELS);
    let mut data = sensor_windows(n, seed);
    let mut r = Stream::new(seed ^ ANOMALY_STREAM);
    let mut labels = Vec::with_capacity(n);
    for (i, w) in data.x.chunks_mut(steps * ch).enumerate() {
        let c = r.below(ch);
        let sign = if r.below(2) == 0 { -1.0 } else { 1.0 };
        let kind = i % ANOMALY_KINDS.len();
        match kind {
            0 => w[r.below(steps) * ch + c] += (sign * between(&mut r, 3.0, 5.0)) as f32,
            1 => {
                let (from, top) = (r.below(steps / 2), sign * between(&mut r, 1.5, 2.5));
                for t in from..steps {
                    w[t * ch + c] += (top * (t - from + 1) as f64 / (steps - from) as f64) as f32;
                }
            }
            _ => {
                let from = r.below(steps / 2);
                let held = w[from * ch + c];
                for t in from..steps {
                    w[t * ch + c] = held;
                }
            }
        }
        labels.push(kind as u32);
    }
    data.labels = Some(labels);
    Labeled { data, classes: ANOMALY_KINDS.iter().map(|s| s.to_string()).collect() }
}

/// `n` keyword-spotting-shaped feature maps `[KWS_FRAMES, KWS_FEATURES, 1]`
/// (frames × features × one channel, HWC), classes [`KWS_CLASSES`] in turn:
/// background noise N(0, 0.3) plus a "word" of 20–34 frames at a random
/// onset whose energy (a Gaussian bump over the feature bands) rises or
/// falls across the bands, stays low or high, or comes in two short bursts;
/// `silence` is noise alone.
pub fn kws_features(n: usize, seed: u64) -> Labeled {
    let mut r = Stream::new(seed);
    let (frames, bands) = (KWS_FRAMES, KWS_FEATURES);
    let mut x = Vec::with_capacity(n * frames * bands);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % KWS_CLASSES.len();
        let len = 20 + r.below(15);
        let onset = r.below(frames - len + 1);
        let amp = between(&mut r, 0.8, 1.3);
        let jitter = between(&mut r, -0.7, 0.7);
        let top = (bands - 1) as f64;
        for t in 0..frames {
            let inside = t >= onset && t < onset + len;
            let s = (t as f64 - onset as f64) / len as f64;
            for b in 0..bands {
                let mut v = 0.3 * r.normal();
                if inside {
                    let bump = |centre: f64| 2.0 * amp * (-(b as f64 - centre - jitter).powi(2) / 2.0).exp();
                    v += match class {
                        1 => bump(1.0 + (top - 2.0) * s),
                        2 => bump(top - 1.0 - (top - 2.0) * s),
                        3 => bump(1.5),
                        4 => bump(top - 1.5),
                        5 if s < 0.25 || (0.6..0.85).contains(&s) => 1.5 * amp,
                        _ => 0.0,
                    };
                }
                x.push(v as f32);
            }
        }
        labels.push(class as u32);
    }
    let data = Dataset { x, n, dims: vec![frames, bands, 1], labels: Some(labels) };
    Labeled { data, classes: KWS_CLASSES.iter().map(|s| s.to_string()).collect() }
}

/// `n` 3-axis accelerometer windows `[GESTURE_STEPS, 3]` (x, y, z in g),
/// classes [`GESTURE_CLASSES`] in turn: gravity on a slightly tilted z axis
/// plus noise 0.05, and an `idle` hand, a `shake` (6–9 cycles along x), a
/// `circle` (x and y in quadrature, 1.5–2.5 turns), two `tap`s (decaying
/// spikes on z) or a `swipe` (one bump along x).
pub fn gesture_windows(n: usize, seed: u64) -> Labeled {
    let mut r = Stream::new(seed);
    let steps = GESTURE_STEPS;
    let mut x = Vec::with_capacity(n * steps * 3);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % GESTURE_CLASSES.len();
        let tilt = [between(&mut r, -0.15, 0.15), between(&mut r, -0.15, 0.15)];
        let amp = between(&mut r, 0.8, 1.2);
        let phase = TAU * r.uniform();
        let freq = match class {
            1 => between(&mut r, 6.0, 9.0),
            _ => between(&mut r, 1.5, 2.5),
        };
        let taps = [r.below(steps / 2), steps / 2 + r.below(steps / 2 - 3)];
        let (centre, width, sign) =
            (between(&mut r, 16.0, 48.0), between(&mut r, 4.0, 8.0), if r.below(2) == 0 { -1.0 } else { 1.0 });
        for t in 0..steps {
            let s = t as f64 / steps as f64;
            let mut a = [tilt[0], tilt[1], 1.0];
            match class {
                1 => a[0] += amp * (TAU * freq * s + phase).sin(),
                2 => {
                    a[0] += amp * (TAU * freq * s + phase).cos();
                    a[1] += amp * (TAU * freq * s + phase).sin();
                }
                3 => {
                    for &k in &taps {
                        if t >= k && t < k + 3 {
                            a[2] += 2.0 * amp * 0.5f64.powi((t - k) as i32);
                        }
                    }
                }
                4 => a[0] += sign * 1.3 * amp * (-((t as f64 - centre) / width).powi(2)).exp(),
                _ => {}
            }
            for v in a {
                x.push((v + 0.05 * r.normal()) as f32);
            }
        }
        labels.push(class as u32);
    }
    let data = Dataset { x, n, dims: vec![steps, 3], labels: Some(labels) };
    Labeled { data, classes: GESTURE_CLASSES.iter().map(|s| s.to_string()).collect() }
}

/// The bundled MNIST sample ([`crate::bundled_mnist`]) as 28×28×1 images
/// (HWC), pixels in `[0, 1]`, with the digits as classes `"0"`..`"9"`.
pub fn mnist_images() -> Result<Labeled, DataError> {
    let data = crate::bundled_mnist()?.reshaped(vec![28, 28, 1])?;
    Ok(Labeled { data, classes: (0..10).map(|d| d.to_string()).collect() })
}
