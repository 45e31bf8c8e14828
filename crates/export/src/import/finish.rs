//! The checks around the walk: every unsupported node, found before it
//! starts, and the model made at its end (input and output layouts).

use std::collections::{HashMap, HashSet};

use ember_runtime::spec::{Dims, IoSpec, LayerSpec, ValueKind};

use super::consts::Const;
use super::fold::FOLDABLE;
use super::value::{channels_last, identity};
use super::walk::{Builder, LAYER_OPS, node_name};
use super::{ImportError, ImportOptions, Imported, UnsupportedNode};
use crate::Model;

/// Lists every node outside the supported set.
pub(crate) fn check_supported(
    graph: &crate::onnx::proto::GraphProto,
    input: &str,
    consts: &HashMap<String, Const>,
) -> Result<(), ImportError> {
    let mut dynamic: HashSet<&str> = HashSet::from([input]);
    let mut bad = Vec::new();
    for node in &graph.node {
        let is_dyn = node.op_type != "Shape" && node.input.iter().any(|i| dynamic.contains(i.as_str()));
        let domain_ok = node.domain.is_empty() || node.domain == "ai.onnx";
        let ok = domain_ok
            && if is_dyn {
                LAYER_OPS.contains(&node.op_type.as_str())
            } else {
                FOLDABLE.contains(&node.op_type.as_str())
                    || node.input.iter().all(|i| i.is_empty() || consts.contains_key(i)) && node.op_type == "Shape"
            };
        if !ok {
            let op = if domain_ok { node.op_type.clone() } else { format!("{}:{}", node.domain, node.op_type) };
            bad.push(UnsupportedNode { name: node_name(node), op });
        }
        if is_dyn {
            dynamic.extend(node.output.iter().map(String::as_str));
        }
    }
    if bad.is_empty() { Ok(()) } else { Err(ImportError::Unsupported(bad)) }
}

/// Closes the chain: a copy layer if no layer was made, the input and
/// output descriptions, the model.
pub(crate) fn finish(
    mut b: Builder,
    opts: &ImportOptions,
    onnx_input_dims: Vec<usize>,
    fixed_batch: Option<usize>,
) -> Result<Imported, ImportError> {
    if b.layers.is_empty() {
        b.x.settle();
        let n = b.x.len() as u32;
        b.push(LayerSpec::Flatten { dims: Dims::d1(n) }, Vec::new(), "(layout only) → flatten: a copy".into());
    }
    let input_order = b.x.input_order.clone().unwrap_or_else(|| identity(onnx_input_dims.iter().product()));
    let (in_dims, input_layout) = layout_of(&onnx_input_dims, &input_order);
    let out_sample = b.x.sample_dims();
    let (_, output_layout) = layout_of(&out_sample, &b.x.src);
    let kind = if b.token_ids { ValueKind::TokenIds } else { ValueKind::F32 };
    let dims = Dims::new(&in_dims.iter().map(|&d| d as u32).collect::<Vec<_>>())
        .or_else(|| Dims::new(&[in_dims.iter().product::<usize>() as u32]))
        .ok_or_else(|| ImportError::Graph(format!("input sample {onnx_input_dims:?} is too large")))?;
    let input = IoSpec { kind, dims, range: None };
    let values = b.values.into_iter().flatten().collect();
    let mut model = Model::new(opts.name.clone(), input, b.layers, values)?;
    model.set_meta("source", "onnx import");
    if input_layout != "same" {
        model.set_meta("onnx_input_layout", input_layout.clone());
    }
    if output_layout != "same" {
        model.set_meta("onnx_output_layout", output_layout.clone());
    }
    let mut onnx_output_dims = b.x.dims.clone();
    onnx_output_dims[b.x.batch_axis] = 1;
    Ok(Imported {
        model,
        onnx_input_dims,
        fixed_batch,
        token_ids: b.token_ids,
        input_order,
        output_order: b.x.src,
        onnx_output_dims,
        output_batch_axis: b.x.batch_axis,
        input_layout,
        output_layout,
        steps: b.steps,
    })
}

/// ember's dimensions for a per-sample ONNX tensor held in `order`, and
/// the name of that layout.
fn layout_of(dims: &[usize], order: &[u32]) -> (Vec<usize>, String) {
    if order == identity(order.len()).as_slice() {
        return (dims.to_vec(), "same".into());
    }
    if dims.len() >= 2 && order == channels_last(dims).as_slice() {
        let mut d = dims[1..].to_vec();
        d.push(dims[0]);
        let name = match dims.len() {
            2 => "NCL",
            3 => "NCHW",
            _ => "channels-first",
        };
        return (d, name.into());
    }
    (vec![order.len()], "permuted".into())
}
