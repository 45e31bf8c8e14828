//! [`LayerSpec::Gru`](ember_runtime::spec::LayerSpec::Gru) as ONNX `GRU`.
//!
//! The cell `gru_1.cell` is a `GRU` node with `linear_before_reset = 1`
//! (Keras's `reset_after=True`: the reset gate scales `R_h·h + Rb_h`) and
//! ONNX's default activations (sigmoid gates, tanh candidate); the layouts
//! and the transposes around it are those of every recurrent layer
//! (`recurrent.rs`). Parameters `w` `[dirs, 3H, I]`, `r` `[dirs, 3H, H]`,
//! `b` `[dirs, 6H]`, gate blocks `z, r, h`, are ONNX's own and written
//! unchanged.

use ember_runtime::spec::RecurrentDims;

use super::{GraphBuilder, Value, attr_int, recurrent};
use crate::{ExportError, Tensor};

/// Emits a Gru named `prefix` (`gru_0`) after `x`.
///
/// # Shapes
/// `x`: `[batch, seq_len, inputs]` (or any `[batch, ...]` holding
/// `seq_len * inputs` values per sample) → `[batch, seq_len, dirs * units]`
/// with `return_sequences`, else `[batch, dirs * units]`.
/// `params`: `w` `[dirs, 3 * units, inputs]`, `r` `[dirs, 3 * units, units]`,
/// `b` `[dirs, 6 * units]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    d: &RecurrentDims,
    params: &[Tensor],
    x: Value,
) -> Result<Value, ExportError> {
    recurrent::export(b, prefix, d, "GRU", vec![attr_int("linear_before_reset", 1)], params, x)
}
