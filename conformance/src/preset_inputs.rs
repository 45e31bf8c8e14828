//! Every preset's network with seeded initial weights, and seeded inputs for
//! it: what the tests that hold quantized presets against ONNX Runtime
//! (`quant_presets`) and against the boards (`boards`) start from.

use ember_export::Model;
use ember_nn::network::Network;
use ember_runtime::spec::ValueKind;
use ember_train::presets;

use crate::support::values;

/// The preset's network with its seeded initial weights (seed 7).
///
/// # Panics
/// If `name` is not a preset or its model file does not build: a test bug.
pub fn preset_model(name: &str) -> Model {
    let cfg = presets::preset(name).unwrap_or_else(|| panic!("preset {name}"));
    let input = cfg.input_spec().unwrap_or_else(|e| panic!("{name}: input: {e}"));
    let specs = cfg.layer_specs().unwrap_or_else(|e| panic!("{name}: layers: {e}"));
    Network::init(name, input, &specs, 7).to_model().unwrap_or_else(|e| panic!("{name}: model: {e}"))
}

/// `n` seeded input samples for `m`: token ids below the first layer's
/// table size, values inside the input's declared range, else in ±1.
pub fn samples(m: &Model, n: usize, seed: u64) -> Vec<Vec<f32>> {
    let len = m.input.dims.elements();
    let rows = m.layers.first().and_then(|l| l.id_table()).map_or(1, |t| t.rows);
    let [lo, hi] = m.input.range.unwrap_or([-1.0, 1.0]);
    (0..n)
        .map(|k| {
            let v = values(seed + k as u64, len, 1.0); // in [-1, 1)
            match m.input.kind {
                ValueKind::TokenIds => {
                    v.iter().map(|x| ((x + 1.0) / 2.0 * rows as f32).floor().min(rows as f32 - 1.0)).collect()
                }
                ValueKind::F32 => v.iter().map(|x| lo + (x + 1.0) / 2.0 * (hi - lo)).collect(),
            }
        })
        .collect()
}
