//! Helpers for the unit tests of the layer writers.

use ember_runtime::spec::{Dims, IoSpec, LayerSpec, ValueKind};

use super::proto::{GraphProto, NodeProto};
use crate::Model;

/// The ONNX graph of a model with `f32` input `input` and every parameter
/// value 0.5 (variances stay positive).
pub(super) fn model(input: &[u32], layers: Vec<LayerSpec>) -> GraphProto {
    let values = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|p| vec![0.5; l.param(p).unwrap().dims.elements()]).collect::<Vec<_>>())
        .collect();
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::new(input).unwrap(), range: None };
    Model::new("t", input, layers, values).unwrap().to_onnx_proto().unwrap().graph.unwrap()
}

/// `(op_type, name)` of every node, in order.
pub(super) fn nodes(g: &GraphProto) -> Vec<(&str, &str)> {
    g.node.iter().map(|n| (n.op_type.as_str(), n.name.as_str())).collect()
}

/// The list-of-integers attribute `name` of `n`.
pub(super) fn ints<'a>(n: &'a NodeProto, name: &str) -> &'a [i64] {
    &n.attribute.iter().find(|a| a.name == name).unwrap().ints
}
