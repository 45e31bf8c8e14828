//! [`LayerSpec::Lstm`](ember_runtime::spec::LayerSpec::Lstm) as ONNX `LSTM`.
//!
//! The cell `lstm_1.cell` is an `LSTM` node with ONNX's default activations
//! (sigmoid gates, tanh cell and output), no peepholes; the layouts and the
//! transposes around it are those of every recurrent layer
//! (`recurrent.rs`). Parameters `w` `[dirs, 4H, I]`, `r` `[dirs, 4H, H]`,
//! `b` `[dirs, 8H]`, gate blocks `i, o, f, c`, are ONNX's own and written
//! unchanged.

use ember_runtime::spec::RecurrentDims;

use super::{GraphBuilder, Value, recurrent};
use crate::{ExportError, Tensor};

/// Emits an Lstm named `prefix` (`lstm_0`) after `x`.
///
/// # Shapes
/// `x`: `[batch, seq_len, inputs]` (or any `[batch, ...]` holding
/// `seq_len * inputs` values per sample) → `[batch, seq_len, dirs * units]`
/// with `return_sequences`, else `[batch, dirs * units]`.
/// `params`: `w` `[dirs, 4 * units, inputs]`, `r` `[dirs, 4 * units, units]`,
/// `b` `[dirs, 8 * units]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    d: &RecurrentDims,
    params: &[Tensor],
    x: Value,
) -> Result<Value, ExportError> {
    recurrent::export(b, prefix, d, "LSTM", vec![], params, x)
}
