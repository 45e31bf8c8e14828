//! The walk over the graph: checks the whole graph first (every unsupported
//! node at once), then follows the chain from the input to the output,
//! folding constants and handing each node to its layer kind's file.

use std::collections::HashMap;

use ember_runtime::spec::{Activation, LayerSpec};
use prost::Message;

use super::consts::Const;
use super::fold;
use super::value::{Value, identity};
use super::{ImportError, ImportOptions, Imported};
use crate::onnx::proto::tensor_proto::DataType;
use crate::onnx::proto::tensor_shape_proto::dimension;
use crate::onnx::proto::type_proto;
use crate::onnx::proto::{ModelProto, NodeProto, ValueInfoProto};

/// Operators that may act on the model's data.
pub(crate) const LAYER_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "ReduceMean",
    "Resize",
    "Upsample",
    "BatchNormalization",
    "Gather",
    "Slice",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "Identity",
    "Dropout",
    "RNN",
    "LSTM",
    "GRU",
    "Shape",
];

/// The model under construction and the running value.
pub(crate) struct Builder {
    /// Layers so far.
    pub layers: Vec<LayerSpec>,
    /// Their parameter values, per layer in `LayerSpec::param` order.
    pub values: Vec<Vec<Vec<f32>>>,
    /// The running value.
    pub x: Value,
    /// The layer whose (still linear) activation a following activation may
    /// take: only layout operators and max pooling lie between.
    pub act_slot: Option<usize>,
    /// The layer that produced the running value, if no node came between.
    pub fresh: Option<usize>,
    /// Whether the fresh layer's output channels are ONNX axis 1 (so a
    /// `BatchNormalization` after it may be folded into it).
    pub fresh_nc: bool,
    /// Per node: what it became.
    pub steps: Vec<String>,
    /// Constants by name.
    pub consts: HashMap<String, Const>,
    /// Default-domain opset version.
    pub opset: i64,
    /// Whether the input holds token ids.
    pub token_ids: bool,
}

impl Builder {
    /// Appends a layer whose output becomes the running value.
    pub fn push(&mut self, spec: LayerSpec, params: Vec<Vec<f32>>, step: String) -> usize {
        self.layers.push(spec);
        self.values.push(params);
        let i = self.layers.len() - 1;
        self.fresh = Some(i);
        self.fresh_nc = true;
        self.act_slot = has_activation_slot(&spec).then_some(i);
        self.steps.push(step);
        i
    }

    /// A constant input of `node` (`None` when absent or empty-named).
    pub fn input_const(&self, node: &NodeProto, i: usize) -> Result<Option<&Const>, ImportError> {
        match node.input.get(i).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(n) => self.consts.get(n).map(Some).ok_or_else(|| {
                node_err(node, format!("input {i} (`{n}`) must be a constant (weights computed at run time)"))
            }),
        }
    }

    /// A required constant input.
    pub fn need_const(&self, node: &NodeProto, i: usize) -> Result<&Const, ImportError> {
        self.input_const(node, i)?.ok_or_else(|| node_err(node, format!("input {i} is missing")))
    }
}

/// Whether a layer kind carries an activation.
fn has_activation_slot(spec: &LayerSpec) -> bool {
    matches!(
        spec,
        LayerSpec::Dense { activation: Activation::Linear, .. }
            | LayerSpec::Conv2d { activation: Activation::Linear, .. }
            | LayerSpec::Conv1d { activation: Activation::Linear, .. }
            | LayerSpec::Conv2dStrided { activation: Activation::Linear, .. }
            | LayerSpec::DepthwiseConv2d { activation: Activation::Linear, .. }
    )
}

/// A node's display name: its name, or its first output's.
pub(crate) fn node_name(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        node.name.clone()
    } else {
        node.output.first().map_or_else(|| "?".into(), |o| format!("-> {o}"))
    }
}

/// An error about one node.
pub(crate) fn node_err(node: &NodeProto, reason: impl Into<String>) -> ImportError {
    ImportError::Node { node: node_name(node), op: node.op_type.clone(), reason: reason.into() }
}

fn shape_of(vi: &ValueInfoProto) -> Option<(i32, Vec<Option<dimension::Value>>)> {
    let ty = vi.r#type.as_ref()?;
    let type_proto::Value::TensorType(t) = ty.value.as_ref()?;
    let dims = t.shape.as_ref()?.dim.iter().map(|d| d.value.clone()).collect();
    Some((t.elem_type, dims))
}

/// Imports a serialized ONNX model (see the module docs).
///
/// # Errors
/// [`ImportError`]: not ONNX, unsupported nodes (all listed), a dynamic
/// input dimension, a node the runtime cannot run as written, or a graph
/// that is not a chain.
pub fn import_onnx(bytes: &[u8], opts: &ImportOptions) -> Result<Imported, ImportError> {
    let model = ModelProto::decode(bytes).map_err(|e| ImportError::Decode(e.to_string()))?;
    let graph = model.graph.as_ref().ok_or_else(|| ImportError::Decode("the file holds no graph".into()))?;
    if graph.node.is_empty() || graph.output.is_empty() || model.opset_import.is_empty() {
        return Err(ImportError::Decode("the graph has no nodes, outputs or operator set".into()));
    }
    let opset =
        model.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx").map_or(1, |o| o.version);
    let mut consts = HashMap::new();
    for t in &graph.initializer {
        let c = Const::from_proto(t).map_err(ImportError::Decode)?;
        consts.insert(t.name.clone(), c);
    }
    let inputs: Vec<&ValueInfoProto> = graph.input.iter().filter(|i| !consts.contains_key(&i.name)).collect();
    let [input] = inputs[..] else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(ImportError::Graph(format!(
            "the graph has {} data inputs ({}): ember models take one",
            inputs.len(),
            names.join(", ")
        )));
    };
    super::finish::check_supported(graph, &input.name, &consts)?;

    // The input's shape.
    let (elem, dims) = shape_of(input).ok_or_else(|| ImportError::DynamicShape {
        input: input.name.clone(),
        dim: 0,
        what: "no shape declared".into(),
    })?;
    let token_ids = match DataType::try_from(elem).unwrap_or(DataType::Undefined) {
        DataType::Float => false,
        DataType::Int64 | DataType::Int32 => true,
        other => {
            return Err(ImportError::Graph(format!(
                "input `{}` is {other:?}; ember reads FLOAT, INT64 or INT32 inputs",
                input.name
            )));
        }
    };
    if dims.len() < 2 {
        return Err(ImportError::Graph(format!(
            "input `{}` has rank {}: ember expects a batch dimension first, then the sample",
            input.name,
            dims.len()
        )));
    }
    let fixed_batch = match &dims[0] {
        Some(dimension::Value::DimValue(v)) if *v > 0 => Some(*v as usize),
        _ => None,
    };
    let batch = fixed_batch.unwrap_or(1);
    let mut sample = Vec::new();
    for (a, d) in dims.iter().enumerate().skip(1) {
        match d {
            Some(dimension::Value::DimValue(v)) if *v > 0 => sample.push(*v as usize),
            other if opts.input_shape.is_none() => {
                let what = match other {
                    Some(dimension::Value::DimParam(p)) => format!("`{p}`"),
                    Some(dimension::Value::DimValue(v)) => format!("{v}"),
                    None => "unknown".into(),
                };
                return Err(ImportError::DynamicShape { input: input.name.clone(), dim: a, what });
            }
            _ => sample.push(0),
        }
    }
    if let Some(s) = &opts.input_shape {
        if s.len() != sample.len() || s.contains(&0) {
            return Err(ImportError::Graph(format!(
                "--input-shape {s:?} does not fit input `{}` of rank {} (give the {} dimensions after the batch)",
                input.name,
                dims.len(),
                sample.len()
            )));
        }
        sample = s.clone();
    }
    let onnx_input_dims = sample.clone();
    let n: usize = sample.iter().product();
    let mut full = vec![batch];
    full.extend(&sample);
    let mut b = Builder {
        layers: Vec::new(),
        values: Vec::new(),
        x: Value { dims: full, batch_axis: 0, src: identity(n), free: Some(identity(n)), input_order: None },
        act_slot: None,
        fresh: None,
        fresh_nc: false,
        steps: Vec::new(),
        consts,
        opset,
        token_ids,
    };

    // How often each value is read (Shape reads do not count: they read no data).
    let mut readers: HashMap<&str, usize> = HashMap::new();
    for node in &graph.node {
        if node.op_type != "Shape" {
            for i in node.input.iter().filter(|i| !i.is_empty()) {
                *readers.entry(i.as_str()).or_default() += 1;
            }
        }
    }
    for o in &graph.output {
        *readers.entry(o.name.as_str()).or_default() += 1;
    }
    let mut dyn_dims: HashMap<String, Vec<usize>> = HashMap::new();
    let mut cur = input.name.clone();
    dyn_dims.insert(cur.clone(), b.x.dims.clone());
    for node in &graph.node {
        let dynamic_in: Vec<&String> = node.input.iter().filter(|i| dyn_dims.contains_key(*i)).collect();
        if dynamic_in.is_empty() || node.op_type == "Shape" {
            let ins: Vec<Option<Const>> =
                node.input.iter().map(|i| if i.is_empty() { None } else { b.consts.get(i).cloned() }).collect();
            let shape = node.input.first().and_then(|i| dyn_dims.get(i)).map(Vec::as_slice);
            let c = fold::eval(node, &ins, shape).map_err(|e| node_err(node, e))?;
            if let Some(o) = node.output.first() {
                b.consts.insert(o.clone(), c);
            }
            continue;
        }
        if dynamic_in.iter().any(|i| **i != cur) {
            return Err(ImportError::Graph(format!(
                "node `{}` ({}) reads `{}`, not the value the chain has reached (`{cur}`): ember runs a \
                 chain of layers, without branches or skip connections",
                node_name(node),
                node.op_type,
                dynamic_in.iter().find(|i| ***i != cur).map_or("", |s| s.as_str())
            )));
        }
        if dynamic_in.len() > 1 {
            return Err(node_err(node, "reads the same computed value twice (ember runs a chain)"));
        }
        if readers.get(cur.as_str()).copied().unwrap_or(0) > 1 {
            return Err(ImportError::Graph(format!(
                "value `{cur}` feeds {} nodes: ember runs a chain of layers, without branches",
                readers[cur.as_str()]
            )));
        }
        let used: Vec<bool> = node.output.iter().map(|o| !o.is_empty() && readers.contains_key(o.as_str())).collect();
        let out = dispatch(&mut b, node, &used)?;
        cur = node.output.get(out).cloned().unwrap_or_default();
        dyn_dims.insert(cur.clone(), b.x.dims.clone());
    }
    let [output] = &graph.output[..] else {
        return Err(ImportError::Graph(format!("the graph has {} outputs; ember models have one", graph.output.len())));
    };
    if output.name != cur {
        return Err(ImportError::Graph(format!(
            "the graph output `{}` is not the end of the chain (`{cur}`)",
            output.name
        )));
    }
    super::finish::finish(b, opts, onnx_input_dims, fixed_batch)
}

/// Runs one node on the running value; returns which output continues the chain.
fn dispatch(b: &mut Builder, node: &NodeProto, used: &[bool]) -> Result<usize, ImportError> {
    let only_first = || {
        if used.iter().skip(1).any(|&u| u) {
            Err(node_err(node, "its second output is used (ember layers have one output)"))
        } else {
            Ok(0)
        }
    };
    match node.op_type.as_str() {
        "Gemm" => super::dense::gemm(b, node),
        "MatMul" => super::dense::matmul(b, node),
        "Add" | "Sub" | "Mul" | "Div" => super::fuse::affine(b, node),
        "Relu" | "Sigmoid" | "Tanh" | "Softmax" => super::fuse::activation(b, node),
        "Conv" => super::conv2d::conv(b, node),
        "MaxPool" | "AveragePool" => {
            only_first()?;
            super::max_pool2d::pool(b, node)
        }
        "GlobalAveragePool" => super::global_average_pool::import(b, node),
        "ReduceMean" => super::global_average_pool::reduce_mean(b, node),
        "Resize" | "Upsample" => super::upsample2d::import(b, node),
        "BatchNormalization" => {
            only_first()?;
            super::batch_norm::import(b, node)
        }
        "Gather" if node.input.first().is_some_and(|i| b.consts.contains_key(i)) => super::embedding::import(b, node),
        "Gather" | "Slice" => {
            only_first()?;
            super::select::import(b, node)
        }
        "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" | "Transpose" | "Identity" | "Dropout" => {
            only_first()?;
            super::layout::import(b, node)
        }
        "RNN" | "LSTM" | "GRU" => return super::recurrent::import(b, node, used),
        _ => Err(node_err(node, "not supported")),
    }?;
    Ok(0)
}
