//! `RNN`, `LSTM` and `GRU`: [`LayerSpec::SimpleRnn`], [`LayerSpec::Lstm`],
//! [`LayerSpec::Gru`]. ember keeps ONNX's layouts and gate orders (LSTM
//! `i, o, f, c`; GRU `z, r, h` with `linear_before_reset = 1`; biases
//! `[Wb; Rb]`), so the weights are copied unchanged. Supported: default
//! activations, direction `forward` or `bidirectional`, zero (or absent)
//! initial states, no peepholes, no clip, full-length sequences. The
//! output read downstream chooses the layer's: `Y` (every step,
//! `return_sequences`) or `Y_h` (the last state).

use ember_runtime::spec::LayerSpec;

use super::ImportError;
use super::attrs;
use super::value::identity;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// A recurrent node on the running value; returns the output index that continues the chain.
pub(crate) fn import(b: &mut Builder, node: &NodeProto, used: &[bool]) -> Result<usize, ImportError> {
    let op = node.op_type.as_str();
    let gates = match op {
        "RNN" => 1,
        "LSTM" => 4,
        _ => 3,
    };
    let hidden = attrs::int(node, "hidden_size", 0).max(0) as usize;
    let dir = attrs::string(node, "direction", "forward");
    let dirs = match dir.as_str() {
        "forward" => 1,
        "bidirectional" => 2,
        _ => return Err(node_err(node, format!("direction `{dir}` (ember runs forward or bidirectional)"))),
    };
    let defaults: &[&str] = match op {
        "RNN" => &["tanh"],
        "LSTM" => &["sigmoid", "tanh", "tanh"],
        _ => &["sigmoid", "tanh"],
    };
    let acts = attrs::strings(node, "activations");
    let default_acts = acts.is_empty()
        || acts.len() == defaults.len() * dirs
            && acts.iter().enumerate().all(|(k, a)| a.eq_ignore_ascii_case(defaults[k % defaults.len()]));
    if !default_acts || attrs::has(node, "activation_alpha") || attrs::has(node, "activation_beta") {
        return Err(node_err(node, format!("activations {acts:?} (ember runs the defaults {defaults:?})")));
    }
    if attrs::has(node, "clip") {
        return Err(node_err(node, "clip"));
    }
    if attrs::int(node, "input_forget", 0) != 0 {
        return Err(node_err(node, "input_forget = 1"));
    }
    if op == "GRU" && attrs::int(node, "linear_before_reset", 0) != 1 {
        return Err(node_err(
            node,
            "linear_before_reset = 0 (ember's GRU is Keras's reset_after = True: linear_before_reset = 1)",
        ));
    }
    let layout = attrs::int(node, "layout", 0);
    let d = b.x.dims.clone();
    let want_bax = if layout == 0 { 1 } else { 0 };
    if d.len() != 3 || b.x.batch_axis != want_bax {
        return Err(node_err(
            node,
            format!(
                "input {d:?} (batch axis {}) is not {}",
                b.x.batch_axis,
                if layout == 0 { "[T, batch, I]" } else { "[batch, T, I]" }
            ),
        ));
    }
    let (t, inputs) = (d[1 - want_bax], d[2]);
    let g = gates * hidden;
    let w = b.need_const(node, 1)?.clone();
    let r = b.need_const(node, 2)?.clone();
    if w.dims != [dirs, g, inputs] || r.dims != [dirs, g, hidden] || hidden == 0 {
        return Err(node_err(
            node,
            format!(
                "W {:?} and R {:?} do not fit {dirs} direction(s) of {hidden} units on {inputs} features",
                w.dims, r.dims
            ),
        ));
    }
    let bias = match b.input_const(node, 3)? {
        Some(c) if c.len() == dirs * 2 * g => c.f32s(),
        Some(c) => return Err(node_err(node, format!("B of shape {:?}", c.dims))),
        None => vec![0.0; dirs * 2 * g],
    };
    if let Some(lens) = b.input_const(node, 4)?
        && lens.i64s().iter().any(|&l| l != t as i64)
    {
        return Err(node_err(node, "sequence_lens shorter than the sequence"));
    }
    let zero_inputs: &[(usize, &str)] =
        if op == "LSTM" { &[(5, "initial_h"), (6, "initial_c"), (7, "P (peepholes)")] } else { &[(5, "initial_h")] };
    for &(k, what) in zero_inputs {
        if let Some(c) = b.input_const(node, k)?
            && c.f32s().iter().any(|&v| v != 0.0)
        {
            return Err(node_err(
                node,
                format!("a non-zero {what} (ember starts from zero states, without peepholes)"),
            ));
        }
    }
    if used.get(2).copied().unwrap_or(false) {
        return Err(node_err(node, "the cell state Y_c is used"));
    }
    let (y, y_h) = (used.first().copied().unwrap_or(false), used.get(1).copied().unwrap_or(false));
    if y && y_h {
        return Err(node_err(node, "both Y and Y_h are used (ember layers have one output)"));
    }
    b.x.require(identity(t * inputs), &format!("node `{}` ({op})", node_name(node)))?;
    let (u, s) = (hidden as u32, t as u32);
    let bidirectional = dirs == 2;
    let spec = match op {
        "RNN" => {
            LayerSpec::SimpleRnn { inputs: inputs as u32, units: u, seq_len: s, return_sequences: y, bidirectional }
        }
        "LSTM" => LayerSpec::Lstm { inputs: inputs as u32, units: u, seq_len: s, return_sequences: y, bidirectional },
        _ => LayerSpec::Gru { inputs: inputs as u32, units: u, seq_len: s, return_sequences: y, bidirectional },
    };
    let i = b.push(spec, vec![w.f32s(), r.f32s(), bias], String::new());
    *b.steps.last_mut().expect("a step was pushed") = format!(
        "`{}` ({op}) → {}_{i}: {inputs}→{hidden} units, {t} steps, {dir}, {}",
        node_name(node),
        spec.kind_name(),
        if y { "every step (Y)" } else { "last state (Y_h)" }
    );
    let batch = d[want_bax];
    b.x.dims = match (y, layout) {
        (true, 0) => vec![t, dirs, batch, hidden],
        (true, _) => vec![batch, t, dirs, hidden],
        (false, 0) => vec![dirs, batch, hidden],
        (false, _) => vec![batch, dirs, hidden],
    };
    b.x.batch_axis = match (y, layout) {
        (true, 0) => 2,
        (false, 0) => 1,
        _ => 0,
    };
    b.x.src = identity(b.x.len());
    Ok(if y { 0 } else { 1 })
}
