//! `BatchNormalization` (inference form): folded into the `Gemm` or `Conv`
//! right before it when that layer has no activation yet (`fuse.rs`),
//! otherwise a [`LayerSpec::BatchNorm`] over ember's channels-last sample.

use ember_runtime::spec::{Dims, LayerSpec};

use super::ImportError;
use super::attrs;
use super::value::channels_last;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// `BatchNormalization` on the running value.
pub(crate) fn import(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    if attrs::int(node, "training_mode", 0) != 0 {
        return Err(node_err(node, "training_mode = 1 (ember imports the inference form)"));
    }
    if attrs::int(node, "spatial", 1) != 1 {
        return Err(node_err(node, "spatial = 0"));
    }
    let eps = attrs::float(node, "epsilon", 1e-5);
    if !(eps.is_finite() && eps > 0.0) {
        return Err(node_err(node, format!("epsilon {eps}")));
    }
    let dims = b.x.dims.clone();
    if b.x.batch_axis != 0 || dims.len() < 2 {
        return Err(node_err(node, format!("input {dims:?} has no channel axis after the batch")));
    }
    let c = dims[1];
    let mut p = Vec::with_capacity(4);
    for i in 1..5 {
        let t = b.need_const(node, i)?;
        if t.len() != c {
            return Err(node_err(node, format!("input {i} has {} values for {c} channels", t.len())));
        }
        p.push(t.f32s());
    }
    let [gamma, beta, mean, var] = [p[0].clone(), p[1].clone(), p[2].clone(), p[3].clone()];
    if let Some(i) = super::fuse::fold_scale_shift(b, c, |ch| {
        let s = gamma[ch] / (var[ch] + eps).sqrt();
        (s, beta[ch] - mean[ch] * s)
    }) {
        b.steps.push(format!(
            "`{}` (BatchNormalization) → folded into {}_{i}",
            node_name(node),
            b.layers[i].kind_name()
        ));
        return Ok(());
    }
    let sample = b.x.sample_dims();
    b.x.require(channels_last(&sample), &format!("node `{}` (BatchNormalization)", node_name(node)))?;
    let mut d: Vec<u32> = sample[1..].iter().map(|&s| s as u32).collect();
    d.push(c as u32);
    let dims = Dims::new(&d).ok_or_else(|| node_err(node, format!("sample {sample:?} has more than 4 dimensions")))?;
    let spec = LayerSpec::BatchNorm { dims, epsilon_bits: eps.to_bits() };
    let i = b.push(spec, vec![gamma, beta, mean, var], String::new());
    *b.steps.last_mut().expect("a step was pushed") =
        format!("`{}` (BatchNormalization) → batchnorm_{i}: {c} channels", node_name(node));
    Ok(())
}
