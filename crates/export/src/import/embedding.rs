//! `Gather` of rows of a constant table by the input's ids (axis 0): a
//! [`LayerSpec::Embedding`], the first layer of a token-id model.

use ember_runtime::spec::LayerSpec;

use super::ImportError;
use super::attrs;
use super::value::identity;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// `Gather(table, ids)` on the running value (the ids).
pub(crate) fn import(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let table =
        b.input_const(node, 0)?.cloned().ok_or_else(|| node_err(node, "the table (input 0) must be a constant"))?;
    if node.input.get(1).is_some_and(|i| b.consts.contains_key(i)) {
        return Err(node_err(node, "gathers the data by constant indices (data movement, not an embedding)"));
    }
    if attrs::int(node, "axis", 0) != 0 {
        return Err(node_err(node, "axis != 0 (an embedding gathers rows)"));
    }
    if !b.token_ids || !b.layers.is_empty() || b.x.batch_axis != 0 || b.x.dims.len() != 2 {
        return Err(node_err(node, "an embedding must be the first layer, on INT64 ids [batch, seq_len]"));
    }
    if table.dims.is_empty() {
        return Err(node_err(node, "the table is a scalar"));
    }
    let (vocab, dim) = (table.dims[0], table.dims[1..].iter().product::<usize>());
    let t = b.x.dims[1];
    b.x.settle();
    let spec = LayerSpec::Embedding { vocab: vocab as u32, dim: dim as u32, seq_len: t as u32 };
    let i = b.push(spec, vec![table.f32s()], String::new());
    *b.steps.last_mut().expect("a step was pushed") =
        format!("`{}` (Gather) → embedding_{i}: {vocab} rows of {dim}, {t} ids per sample", node_name(node));
    let mut dims = vec![b.x.dims[0], t];
    dims.extend(&table.dims[1..]);
    b.x.dims = dims;
    b.x.src = identity(t * dim);
    Ok(())
}
