//! Every preset's network quantizes (`ember_export::quant::quantize`, both
//! schemes), its QDQ ONNX passes the checker and runs in ONNX Runtime, and
//! ember's interpreter on the version-2 blob agrees with ORT.
//!
//! The networks are the presets' layer stacks with their seeded initial
//! weights (parity does not need trained weights; the trained figures are in
//! `ember train --quantize`'s report). Inputs are seeded: token ids below the
//! vocabulary, values inside the input's declared range, else in ±1.
//!
//! Tolerances, named:
//! * [`INT8_STEPS`]: when the last layer is int8 with an int8 output, ORT and
//!   ember may differ by one output step (ORT requantizes in f32 with
//!   round-half-even, ember in Q31 fixed point; a step's difference in an
//!   earlier int8 tensor can also carry through);
//! * [`F32_OUT`]: otherwise (an f32 output after an int8 or weights-only
//!   network) `|a − b| ≤ F32_OUT · (1 + max |output|)`: a one-step
//!   difference inside the network moves the f32 output by a fraction of
//!   the output's range; and at least 75 % of the values within 1e-4 (the
//!   convolutional autoencoders' sigmoid outputs: 81 %, at most 5e-4 apart).

use ember_conformance::preset_inputs::{preset_model, samples};
use ember_export::quant::{QuantizeOptions, RangeMode, Scheme, has_int8_output, quantize};
use ember_export::{AlignedBytes, Model};
use ember_runtime::qspec::QuantMode;
use ember_runtime::{Blob, dynamic};
use ember_train::presets;
use ember_verify::backends::{OrtModel, onnx_check};

/// Output steps allowed between ORT and ember for an int8 output.
const INT8_STEPS: f64 = 1.0;
/// Relative tolerance for an f32 output (see the module docs).
const F32_OUT: f64 = 0.02;
/// Samples compared per preset.
const BATCH: usize = 8;

/// ember's interpreter on the quantized blob.
fn interpreter(qm: &Model, xs: &[Vec<f32>]) -> Vec<f32> {
    let bytes = AlignedBytes::new(&qm.to_blob().expect("v2 blob"));
    let blob = Blob::parse(&bytes).unwrap_or_else(|e| panic!("{}: the v2 blob parses: {e}", qm.name));
    let mut scratch = vec![0f32; dynamic::scratch_len(&blob)];
    let n = qm.output().dims.elements();
    let mut out = Vec::new();
    for x in xs {
        let mut y = vec![0f32; n];
        dynamic::forward(&blob, x, &mut scratch, &mut y).unwrap_or_else(|e| panic!("{}: interpreter: {e}", qm.name));
        out.extend(y);
    }
    out
}

/// Quantizes preset `name` with `scheme`, runs it in ORT and in ember, and
/// checks them against each other.
fn check(name: &str, scheme: Scheme) {
    let m = preset_model(name);
    let options = QuantizeOptions { scheme, range: RangeMode::MinMax };
    let qm = quantize(&m, &samples(&m, 32, 100), options).unwrap_or_else(|e| panic!("{name}: quantize: {e}"));
    let q = qm.quant.as_ref().expect("quantized");
    assert!(q.layers.iter().any(|l| l.mode != QuantMode::Float), "{name}: no layer was quantized");
    let f32_bytes = m.to_blob().expect("f32 blob").len();
    let q_bytes = qm.to_blob().expect("v2 blob").len();
    // Weights take a quarter; per-channel scales, int32 biases and
    // requantization pairs add to it, which counts only in small models
    // (below a few KB the version-2 tables outweigh the saving).
    if f32_bytes > 100_000 {
        let small = 10 * q_bytes < 3 * f32_bytes;
        assert!(small, "{name}: the quantized blob ({q_bytes} B) is over 30 % of f32 ({f32_bytes} B)");
    } else if f32_bytes > 8192 {
        assert!(
            q_bytes < f32_bytes,
            "{name}: the quantized blob ({q_bytes} B) is not smaller than f32 ({f32_bytes} B)"
        );
    }
    let onnx = qm.to_onnx().unwrap_or_else(|e| panic!("{name}: QDQ export: {e}"));
    onnx_check(&onnx).unwrap_or_else(|e| panic!("{name}: ONNX checker: {e}"));
    let dims: Vec<usize> = m.input.dims.as_slice().iter().map(|&d| d as usize).collect();
    let xs = samples(&m, BATCH, 5000);
    let mut ort = OrtModel::load(&onnx, &dims, BATCH).unwrap_or_else(|e| panic!("{name}: ORT load: {e}"));
    let theirs = ort.run(&xs.concat()).unwrap_or_else(|e| panic!("{name}: ORT run: {e}"));
    let ours = interpreter(&qm, &xs);
    assert_eq!(theirs.len(), ours.len(), "{name}: output length");
    let (last, spec) = (q.layers.last().expect("layers"), qm.layers.last().expect("layers"));
    let diffs: Vec<f64> = theirs.iter().zip(&ours).map(|(&a, &b)| (a as f64 - b as f64).abs()).collect();
    let max = diffs.iter().fold(0f64, |a, &b| a.max(b));
    if last.mode == QuantMode::Int8 && has_int8_output(spec) {
        let step = last.output.scale as f64;
        eprintln!("{name} {scheme:?}: {f32_bytes} -> {q_bytes} B, max {:.3} output steps", max / step);
        assert!(max <= INT8_STEPS * step * 1.001, "{name} {scheme:?}: ORT and ember {} steps apart", max / step);
    } else {
        let range = theirs.iter().fold(0f64, |a, &b| a.max((b as f64).abs()));
        let close = diffs.iter().filter(|&&d| d <= 1e-4).count();
        eprintln!(
            "{name} {scheme:?}: {f32_bytes} -> {q_bytes} B, max |diff| {max:.2e}, {close} of {} within 1e-4",
            diffs.len()
        );
        assert!(max <= F32_OUT * (1.0 + range), "{name} {scheme:?}: ORT and ember {max} apart (output range {range})");
        assert!(close * 4 >= diffs.len() * 3, "{name} {scheme:?}: only {close} of {} within 1e-4", diffs.len());
    }
}

/// Checks every preset, then fails naming all that failed.
fn check_all(scheme: Scheme) {
    let names: Vec<&str> = presets::names().collect();
    assert!(names.len() >= 20, "presets: {names:?}");
    let failed: Vec<&str> =
        names.into_iter().filter(|name| std::panic::catch_unwind(|| check(name, scheme)).is_err()).collect();
    assert!(failed.is_empty(), "{scheme:?}: these presets failed (messages above): {failed:?}");
}

#[test]
fn every_preset_quantizes_and_ort_matches_the_interpreter() {
    check_all(Scheme::Int8);
}

#[test]
fn every_preset_quantizes_weights_only_and_ort_matches_the_interpreter() {
    check_all(Scheme::WeightsOnly);
}
