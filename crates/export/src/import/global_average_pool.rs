//! `GlobalAveragePool`: [`LayerSpec::GlobalAveragePool`] over `[L, C]` or
//! `[H, W, C]`; ONNX's `[C, 1, 1]` output is ember's `[C]`.

use ember_runtime::spec::{Dims, LayerSpec};

use super::ImportError;
use super::conv2d::map_input;
use super::value::{channels_last, identity};
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// `GlobalAveragePool` on the running value.
pub(crate) fn import(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let (c, spatial) = map_input(b, node)?;
    b.x.require(channels_last(&b.x.sample_dims()), &format!("node `{}` (GlobalAveragePool)", node_name(node)))?;
    let mut d: Vec<u32> = spatial.iter().map(|&s| s as u32).collect();
    d.push(c as u32);
    let dims = Dims::new(&d).ok_or_else(|| node_err(node, "input too large"))?;
    let i = b.push(LayerSpec::GlobalAveragePool { dims }, Vec::new(), String::new());
    b.steps[i] =
        format!("`{}` (GlobalAveragePool) → globalavgpool_{i}: mean over {spatial:?} of {c} channels", node_name(node));
    let mut out = vec![b.x.dims[0], c];
    out.extend(spatial.iter().map(|_| 1));
    b.x.dims = out;
    b.x.src = identity(c);
    Ok(())
}
