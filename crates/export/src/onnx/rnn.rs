//! [`LayerSpec::SimpleRnn`](ember_runtime::spec::LayerSpec::SimpleRnn) as
//! ONNX `RNN`.
//!
//! The cell `rnn_1.cell` is an `RNN` node with `activations = Tanh` per
//! direction (ONNX's default too, written out for readers); the layouts and
//! the transposes around it are those of every recurrent layer
//! (`recurrent.rs`). Parameters `w` `[dirs, H, I]`, `r` `[dirs, H, H]`, `b`
//! `[dirs, 2H]` are ONNX's own and written unchanged.

use ember_runtime::spec::RecurrentDims;

use super::{GraphBuilder, Value, attr_strings, recurrent};
use crate::{ExportError, Tensor};

/// Emits a SimpleRnn named `prefix` (`rnn_0`) after `x`.
///
/// # Shapes
/// `x`: `[batch, seq_len, inputs]` (or any `[batch, ...]` holding
/// `seq_len * inputs` values per sample) → `[batch, seq_len, dirs * units]`
/// with `return_sequences`, else `[batch, dirs * units]`.
/// `params`: `w` `[dirs, units, inputs]`, `r` `[dirs, units, units]`,
/// `b` `[dirs, 2 * units]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    d: &RecurrentDims,
    params: &[Tensor],
    x: Value,
) -> Result<Value, ExportError> {
    let attributes = vec![attr_strings("activations", &vec!["Tanh"; d.dirs])];
    recurrent::export(b, prefix, d, "RNN", attributes, params, x)
}
