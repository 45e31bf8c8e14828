//! [`LayerSpec::Embedding`](ember_runtime::spec::LayerSpec::Embedding) as
//! ONNX: `Gather(weight, ids, axis = 0)`.
//!
//! Layout: the model stores the table as `[vocab, dim]` (row `i` is the
//! vector of id `i`), which is exactly `Gather`'s `data` on axis 0, so the
//! weight is written unchanged. The ids are the graph input itself (`INT64`
//! `[batch, seq_len]`), so an Embedding must be the model's first layer.
//! `Gather` turns `[batch, seq_len]` ids into `[batch, seq_len, dim]`: the
//! time-major sequence layout of `ember_runtime::spec`.
//!
//! ONNX `Gather` accepts negative ids (counting from the end) and leaves ids
//! `>= vocab` to the runtime (an error in ONNX Runtime, undefined elsewhere);
//! ember rejects both before running a model (see the trainer's backends).

use super::{GraphBuilder, INPUT_NAME, Value};
use crate::{ExportError, Tensor};

/// Emits the `Gather` node `{prefix}` (`embedding_0`) over the graph input `x`.
///
/// Initializers: the layer's `weight`, unchanged.
///
/// # Shapes
/// `x`: the graph input, `[batch, seq_len]` `INT64` → `[batch, seq_len, dim]`.
/// `params`: `weight` `[vocab, dim]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    [vocab, dim, seq_len]: [u32; 3],
    params: &[Tensor],
    x: Value,
) -> Result<Value, ExportError> {
    let (vocab, dim, seq_len) = (vocab as usize, dim as usize, seq_len as usize);
    let [weight] = params else {
        return Err(ExportError::Onnx(format!("{prefix}: expected 1 parameter tensor, got {}", params.len())));
    };
    if weight.dims != [vocab, dim] {
        return Err(ExportError::Onnx(format!("{prefix}: weight {:?} does not match [{vocab}, {dim}]", weight.dims)));
    }
    if x.name != INPUT_NAME {
        return Err(ExportError::Onnx(format!("{prefix}: an embedding must be the first layer (it reads token ids)")));
    }
    if x.dims != [seq_len] {
        return Err(ExportError::Onnx(format!("{prefix}: input {:?} is not [{seq_len}] token ids", x.dims)));
    }
    let w = b.initializer(weight)?;
    let y = b.node("Gather", prefix, &[&w, &x.name], vec![super::attr_int("axis", 0)])?;
    Ok(Value { name: y, dims: vec![seq_len, dim] })
}
