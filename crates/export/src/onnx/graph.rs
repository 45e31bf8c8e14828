//! Building blocks shared by every layer's writer: [`GraphBuilder`] (nodes,
//! initializers, unique names), attribute constructors and graph value
//! descriptions.

use std::collections::{HashMap, HashSet};

use ember_runtime::spec::Activation;

use super::proto::attribute_proto::AttributeType;
use super::proto::tensor_proto::DataType;
use super::proto::tensor_shape_proto::{Dimension, dimension};
use super::proto::type_proto::{self, Tensor as TensorType};
use super::proto::{AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto};
use super::{BATCH_DIM, INPUT_NAME, OUTPUT_NAME};
use crate::{ExportError, Tensor};

/// Accumulates nodes and initializers and keeps every name unique.
pub(crate) struct GraphBuilder {
    pub(super) graph: GraphProto,
    names: HashSet<String>,
    /// Initializers to write quantized (QDQ export, `qdq.rs`), by name.
    pub(super) quantized: HashMap<String, super::qdq::QInit>,
}

impl GraphBuilder {
    pub(super) fn new(name: &str) -> Self {
        let graph = GraphProto { name: name.to_string(), ..GraphProto::default() };
        let names = [INPUT_NAME, OUTPUT_NAME].into_iter().map(String::from).collect();
        GraphBuilder { graph, names, quantized: HashMap::new() }
    }

    fn claim(&mut self, name: &str) -> Result<(), ExportError> {
        if self.names.insert(name.to_string()) {
            Ok(())
        } else {
            Err(ExportError::Onnx(format!("duplicate ONNX name `{name}`")))
        }
    }

    /// Adds a model tensor unchanged (same name, dims and data) as an initializer.
    pub fn initializer(&mut self, t: &Tensor) -> Result<String, ExportError> {
        self.initializer_with(&t.name, &t.dims, &t.data)
    }

    /// Adds an `f32` initializer (for tensors whose layout a layer converts).
    /// A tensor registered in `quantized` is written as its integer values
    /// and a `DequantizeLinear` node whose output has the name instead
    /// (`qdq.rs`).
    pub fn initializer_with(&mut self, name: &str, dims: &[usize], data: &[f32]) -> Result<String, ExportError> {
        if dims.iter().product::<usize>() != data.len() {
            return Err(ExportError::Onnx(format!("{name}: dims {dims:?} do not hold {} values", data.len())));
        }
        if let Some(q) = self.quantized.remove(name) {
            return super::qdq::dequantized(self, name, dims, data, q);
        }
        self.claim(name)?;
        self.graph.initializer.push(TensorProto {
            name: name.to_string(),
            data_type: DataType::Float as i32,
            dims: dims.iter().map(|&d| d as i64).collect(),
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..TensorProto::default()
        });
        Ok(name.to_string())
    }

    /// Adds an initializer of element type `ty` from its little-endian bytes.
    pub fn initializer_raw(
        &mut self,
        name: &str,
        ty: DataType,
        dims: &[usize],
        raw_data: Vec<u8>,
    ) -> Result<String, ExportError> {
        self.claim(name)?;
        self.graph.initializer.push(TensorProto {
            name: name.to_string(),
            data_type: ty as i32,
            dims: dims.iter().map(|&d| d as i64).collect(),
            raw_data,
            ..TensorProto::default()
        });
        Ok(name.to_string())
    }

    /// Adds a 1-D `INT64` initializer (constant operands such as `Reshape` targets).
    pub fn initializer_i64(&mut self, name: &str, data: &[i64]) -> Result<String, ExportError> {
        self.claim(name)?;
        self.graph.initializer.push(TensorProto {
            name: name.to_string(),
            data_type: DataType::Int64 as i32,
            dims: vec![data.len() as i64],
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..TensorProto::default()
        });
        Ok(name.to_string())
    }

    /// Adds a node named `name` whose single output value is also named `name`.
    pub fn node(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: &[&str],
        attributes: Vec<AttributeProto>,
    ) -> Result<String, ExportError> {
        self.claim(name)?;
        self.graph.node.push(NodeProto {
            op_type: op_type.to_string(),
            name: name.to_string(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![name.to_string()],
            attribute: attributes,
            ..NodeProto::default()
        });
        Ok(name.to_string())
    }

    /// Adds a node named `name` with several outputs; an empty output name
    /// leaves that optional output unused (ONNX convention).
    pub fn node_with_outputs(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attributes: Vec<AttributeProto>,
    ) -> Result<(), ExportError> {
        self.claim(name)?;
        for o in outputs.iter().filter(|o| !o.is_empty()) {
            self.claim(o)?;
        }
        self.graph.node.push(NodeProto {
            op_type: op_type.to_string(),
            name: name.to_string(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attributes,
            ..NodeProto::default()
        });
        Ok(())
    }

    /// Adds `Reshape(x, shape)` named `name` (with the `INT64` shape
    /// initializer `{name}.shape`). A `0` in `shape` keeps that input
    /// dimension (ONNX default `allowzero = 0`): ember passes `0` for the batch.
    pub fn reshape(&mut self, name: &str, x: &str, shape: &[i64]) -> Result<String, ExportError> {
        let shape = self.initializer_i64(&format!("{name}.shape"), shape)?;
        self.node("Reshape", name, &[x, &shape], vec![])
    }

    /// Adds the node for `act` after `x` (named `{prefix}.act`), or returns
    /// `x` unchanged for [`Activation::Linear`].
    ///
    /// # Shapes
    /// `[batch, n]` → `[batch, n]`; softmax runs over the last axis.
    pub fn activation(&mut self, prefix: &str, act: Activation, x: &str) -> Result<String, ExportError> {
        let name = format!("{prefix}.act");
        match act {
            Activation::Linear => Ok(x.to_string()),
            Activation::Relu => self.node("Relu", &name, &[x], vec![]),
            Activation::Sigmoid => self.node("Sigmoid", &name, &[x], vec![]),
            Activation::Tanh => self.node("Tanh", &name, &[x], vec![]),
            Activation::Softmax => self.node("Softmax", &name, &[x], vec![attr_int("axis", -1)]),
        }
    }

    /// Renames the graph's final value to `to` (the declared graph output). If
    /// that value is the graph input itself, an `Identity` node is added.
    pub(super) fn rename_final(&mut self, from: &str, to: &str) -> Result<(), ExportError> {
        if from == INPUT_NAME {
            self.names.remove(to);
            self.node("Identity", to, &[from], vec![])?;
            return Ok(());
        }
        let mut found = false;
        for n in &mut self.graph.node {
            for v in n.output.iter_mut().chain(n.input.iter_mut()) {
                if v == from {
                    found = true;
                    *v = to.to_string();
                }
            }
        }
        if found { Ok(()) } else { Err(ExportError::Onnx(format!("final value `{from}` is produced by no node"))) }
    }
}

/// An attribute named `name` of type `ty`, its value still unset.
fn attr(name: &str, ty: AttributeType) -> AttributeProto {
    AttributeProto { name: name.to_string(), r#type: ty as i32, ..AttributeProto::default() }
}

/// An integer attribute.
pub(crate) fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { i: v, ..attr(name, AttributeType::Int) }
}

/// A float attribute.
pub(crate) fn attr_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto { f: v, ..attr(name, AttributeType::Float) }
}

/// A list-of-integers attribute.
pub(crate) fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { ints: v.to_vec(), ..attr(name, AttributeType::Ints) }
}

/// A string attribute.
pub(crate) fn attr_string(name: &str, v: &str) -> AttributeProto {
    AttributeProto { s: v.as_bytes().to_vec(), ..attr(name, AttributeType::String) }
}

/// A list-of-strings attribute.
pub(crate) fn attr_strings(name: &str, v: &[&str]) -> AttributeProto {
    AttributeProto { strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(), ..attr(name, AttributeType::Strings) }
}

/// A tensor value description of element type `elem` and shape `[batch, ...dims]`.
pub(super) fn value_info(name: &str, elem: DataType, dims: &[usize]) -> ValueInfoProto {
    let batch = Dimension { value: Some(dimension::Value::DimParam(BATCH_DIM.to_string())), ..Dimension::default() };
    let sizes =
        dims.iter().map(|&d| Dimension { value: Some(dimension::Value::DimValue(d as i64)), ..Dimension::default() });
    let shape = TensorShapeProto { dim: std::iter::once(batch).chain(sizes).collect() };
    let tensor = TensorType { elem_type: elem as i32, shape: Some(shape) };
    let ty = TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..TypeProto::default() };
    ValueInfoProto { name: name.to_string(), r#type: Some(ty), ..ValueInfoProto::default() }
}
