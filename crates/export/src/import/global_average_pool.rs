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

/// `ReduceMean` over every sample axis but one (the channel), as tf2onnx
/// writes Keras's `GlobalAveragePooling1D/2D` on channels-last data: the
/// same [`LayerSpec::GlobalAveragePool`] over `[spatial..., C]`.
pub(crate) fn reduce_mean(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let r = b.x.dims.len();
    let axes = match b.input_const(node, 1)? {
        Some(c) => c.i64s(),
        None => super::attrs::ints(node, "axes"),
    };
    let mut axes: Vec<usize> = axes
        .iter()
        .map(|&a| usize::try_from(if a < 0 { a + r as i64 } else { a }).ok().filter(|&a| a < r))
        .collect::<Option<_>>()
        .ok_or_else(|| node_err(node, "axis out of range"))?;
    axes.sort_unstable();
    axes.dedup();
    let bax = b.x.batch_axis;
    let kept: Vec<usize> = (0..r).filter(|&a| a != bax && !axes.contains(&a)).collect();
    let [c_axis] = kept[..] else {
        return Err(node_err(node, "a mean over other axes than all but the channel (ember averages whole maps)"));
    };
    if axes.contains(&bax) || axes.is_empty() || axes.len() > 2 {
        return Err(node_err(node, "a mean over the batch, or over more than two axes"));
    }
    let renumber = |a: usize| if a > bax { a - 1 } else { a };
    let sample = b.x.sample_dims();
    let perm: Vec<usize> = axes.iter().map(|&a| renumber(a)).chain([renumber(c_axis)]).collect();
    let want = super::value::transpose_table(&sample, &perm);
    b.x.require(want, &format!("node `{}` (ReduceMean)", node_name(node)))?;
    let c = b.x.dims[c_axis];
    let mut d: Vec<u32> = axes.iter().map(|&a| b.x.dims[a] as u32).collect();
    d.push(c as u32);
    let dims = Dims::new(&d).ok_or_else(|| node_err(node, "input too large"))?;
    b.push(LayerSpec::GlobalAveragePool { dims }, Vec::new(), String::new());
    let i = b.layers.len() - 1;
    *b.steps.last_mut().expect("a step was pushed") =
        format!("`{}` (ReduceMean) → globalavgpool_{i}: mean over axes {axes:?} of {c} channels", node_name(node));
    let keep = super::attrs::int(node, "keepdims", 1) == 1;
    let out: Vec<usize> =
        (0..r).filter(|a| keep || !axes.contains(a)).map(|a| if axes.contains(&a) { 1 } else { b.x.dims[a] }).collect();
    b.x.batch_axis = if keep { bax } else { bax - axes.iter().filter(|&&a| a < bax).count() };
    b.x.dims = out;
    b.x.src = identity(c);
    Ok(())
}
