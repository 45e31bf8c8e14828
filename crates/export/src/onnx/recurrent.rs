//! What [`LayerSpec::SimpleRnn`](ember_runtime::spec::LayerSpec::SimpleRnn)
//! (`rnn.rs`), [`LayerSpec::Lstm`](ember_runtime::spec::LayerSpec::Lstm)
//! (`lstm.rs`) and [`LayerSpec::Gru`](ember_runtime::spec::LayerSpec::Gru)
//! (`gru.rs`) share as ONNX `RNN`, `LSTM` and `GRU`: the layouts and the
//! nodes around the cell.
//!
//! Layout: the spec's parameter layouts are ONNX's own (`W` `[dirs, G*H, I]`,
//! `R` `[dirs, G*H, H]`, `B` `[dirs, 2*G*H]` = `Wb` then `Rb`, LSTM gate
//! blocks `i, o, f, c`, GRU's `z, r, h`), so `w`, `r` and `b` are written unchanged as the
//! node's `W`, `R` and `B`. What is converted is the activation layout: ember
//! samples are batch-first and time-major (`[batch, seq_len, features]`),
//! ONNX recurrences read `X` time-first (`layout = 0`, `[seq_len, batch, I]`)
//! and write `Y` `[seq_len, dirs, batch, H]` and `Y_h` `[dirs, batch, H]`.
//!
//! Nodes (layer `rnn_1`, say):
//! * `rnn_1.reshape` (only when the input is not already `[seq_len, I]` per
//!   sample, for example after a Dense layer);
//! * `rnn_1.x`: `Transpose(perm = [1, 0, 2])` to `[seq_len, batch, I]`;
//! * `rnn_1.cell`: the `RNN` or `LSTM` node with its own attributes (see
//!   `rnn.rs` and `lstm.rs`), then `hidden_size = H`,
//!   `direction = forward | bidirectional`, no initial states, no
//!   `sequence_lens`;
//! * every state (`return_sequences`): output `Y` named `rnn_1.y`, then
//!   `rnn_1.t`: `Transpose(perm = [2, 0, 1, 3])` to
//!   `[batch, seq_len, dirs, H]` and `rnn_1`: `Reshape` to
//!   `[batch, seq_len, dirs * H]`, forward half first at every step;
//! * last state: output `Y_h` named `rnn_1.y_h` (`Y` left unused), then
//!   `rnn_1.t`: `Transpose(perm = [1, 0, 2])` to `[batch, dirs, H]` and
//!   `rnn_1`: `Reshape` to `[batch, dirs * H]`.
//!
//! ONNX's `Y_h` of the reverse direction is its state after its last
//! iteration, which reads step 0: exactly the "last" backward state of the
//! spec and of Keras's `Bidirectional(return_sequences=False)`.

use ember_runtime::spec::RecurrentDims;

use super::proto::AttributeProto;
use super::{GraphBuilder, Value, attr_int, attr_ints, attr_string, check_len};
use crate::{ExportError, Tensor};

/// Emits the nodes of one recurrent layer named `prefix` (`rnn_0`,
/// `lstm_1`, `gru_2`) after `x` (see the module docs for the node list): the cell is
/// an `op` node (`RNN`, `LSTM`, `GRU`) with `attributes` followed by `hidden_size`
/// and `direction`.
///
/// Initializers: the layer's `w`, `r` and `b`, unchanged, plus the `INT64`
/// shape constants of the `Reshape` nodes.
///
/// # Shapes
/// `x`: `[batch, seq_len, inputs]` (or any `[batch, ...]` holding
/// `seq_len * inputs` values per sample) → `[batch, seq_len, dirs * units]`
/// with `return_sequences`, else `[batch, dirs * units]`.
/// `params`: `w` `[dirs, G * units, inputs]`, `r` `[dirs, G * units, units]`,
/// `b` `[dirs, 2 * G * units]`, `G` = 1 (RNN), 4 (LSTM) or 3 (GRU).
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    d: &RecurrentDims,
    op: &str,
    mut attributes: Vec<AttributeProto>,
    params: &[Tensor],
    x: Value,
) -> Result<Value, ExportError> {
    let [w, r, bias] = params else {
        return Err(ExportError::Onnx(format!("{prefix}: expected 3 parameter tensors, got {}", params.len())));
    };
    let gh = d.gates * d.units;
    let want = [vec![d.dirs, gh, d.inputs], vec![d.dirs, gh, d.units], vec![d.dirs, 2 * gh]];
    if [&w.dims, &r.dims, &bias.dims] != [&want[0], &want[1], &want[2]] {
        return Err(ExportError::Onnx(format!(
            "{prefix}: w {:?} / r {:?} / b {:?} do not match {want:?}",
            w.dims, r.dims, bias.dims
        )));
    }
    check_len(prefix, &x, d.seq_len * d.inputs)?;
    let (t, out) = (d.seq_len as i64, d.step_out() as i64);

    let mut x_name = x.name;
    if x.dims != [d.seq_len, d.inputs] {
        x_name = b.reshape(&format!("{prefix}.reshape"), &x_name, &[0, t, d.inputs as i64])?;
    }
    let x_tm = b.node("Transpose", &format!("{prefix}.x"), &[&x_name], vec![attr_ints("perm", &[1, 0, 2])])?;

    attributes.push(attr_int("hidden_size", d.units as i64));
    attributes.push(attr_string("direction", if d.dirs == 2 { "bidirectional" } else { "forward" }));
    let (w, r, bias) = (b.initializer(w)?, b.initializer(r)?, b.initializer(bias)?);
    let inputs = [x_tm.as_str(), &w, &r, &bias];
    let cell = format!("{prefix}.cell");
    let (state, perm, shape, dims) = if d.return_sequences {
        let y = format!("{prefix}.y");
        b.node_with_outputs(op, &cell, &inputs, &[&y], attributes)?;
        (y, vec![2, 0, 1, 3], vec![0, t, out], vec![d.seq_len, d.step_out()])
    } else {
        let y_h = format!("{prefix}.y_h");
        b.node_with_outputs(op, &cell, &inputs, &["", &y_h], attributes)?;
        (y_h, vec![1, 0, 2], vec![0, out], vec![d.step_out()])
    };
    let batch_first = b.node("Transpose", &format!("{prefix}.t"), &[&state], vec![attr_ints("perm", &perm)])?;
    let y = b.reshape(prefix, &batch_first, &shape)?;
    Ok(Value { name: y, dims })
}
