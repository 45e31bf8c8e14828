//! ONNX export: [`Model::to_onnx`].
//!
//! The graph follows the model's ONNX semantics (`DESIGN.md`, contract 1):
//! each layer kind has one file here (`dense.rs`, ...) that emits its nodes
//! and initializers, and this is the only place in the project where tensor
//! layouts are converted (for example gate reordering for recurrent layers).
//!
//! The written model has:
//! * IR version [`IR_VERSION`], default-domain opset [`OPSET`], producer
//!   [`PRODUCER`];
//! * one graph input [`INPUT_NAME`] of shape `[batch, ...input.dims]`, where
//!   `batch` is the symbolic dimension [`BATCH_DIM`]; its element type is
//!   `FLOAT`, or `INT64` when the model's input holds
//!   [`ValueKind::TokenIds`] (then `[batch, seq_len]` or `[batch, columns]`,
//!   feeding the first layer's `Gather`s);
//! * one graph output [`OUTPUT_NAME`] of element type `FLOAT` and shape
//!   `[batch, ...output.dims]` (`Model::output`: the last layer's output
//!   dimensions, `[seq_len, features]` for a recurrent layer's full
//!   sequence); when the graph's last value has another shape of the same
//!   size (a Dropout after a sequence, say) a last node reshapes it,
//!   row-major: `Flatten` named `output.flatten` for a vector, else `Reshape`
//!   named `output.reshape`;
//! * every parameter as an initializer named exactly as the model's tensor
//!   (`dense_0.weight`, ...), stored as little-endian `raw_data` (a
//!   convolution's weight transposed to ONNX's OIHW, see `conv.rs`); constant
//!   helper tensors are initializers named after their node: `INT64`
//!   `Reshape` targets (`lstm_1.shape`) and `FLOAT` `Resize` scales
//!   (`upsample2d_3.scales`), an EntityDot's mask and `ReduceSum` axes
//!   (`entitydot_0.mask`, `entitydot_0.pairs.axes`); an EntityDot's
//!   `[columns, dim]` batch-norm statistics are written flattened to
//!   `[columns · dim]`;
//! * nodes and intermediate values named after their layer (`dense_0`,
//!   `dense_0.act`, ...); the last layer's final value is named `output`.
//!
//! Per layer kind:
//! * `Dense`: `Gemm` + activation (`dense.rs`);
//! * `Embedding`: `Gather(axis = 0)` on the weight (`embedding.rs`); must be
//!   the first layer;
//! * `Flatten`: `Flatten(axis = 1)`;
//! * `Dropout`: nothing (the identity at inference);
//! * `SimpleRnn` / `Lstm`: ONNX `RNN` / `LSTM` between transposes to and from
//!   ONNX's time-first layout (see `recurrent.rs`);
//! * `Conv2d`: `Conv` + activation, `MaxPool2d`: `MaxPool`, `Upsample2d`:
//!   `Resize` (nearest), `BatchNorm`: `BatchNormalization` (see `conv.rs`);
//! * `EntityDot`: `Gather` of the embeddings, `BatchNormalization` over
//!   the `columns · dim` values, the strictly upper triangle of the Gram
//!   matrix (`MatMul` with its transpose, `Mul` by a constant 0/1 mask,
//!   `ReduceSum`) plus the `ReduceSum` of the gathered biases, giving
//!   `[batch, 1]` (`entity.rs`); must be the first layer, its `INT64` ids
//!   `[batch, columns]` being the graph input.
//!
//! The exporter tracks each value's per-sample shape through the graph: a
//! sequence is `[seq_len, features]` and a map `[H, W, C]`, as in
//! `ember_runtime::spec`. Image layers run in ONNX's NCHW layout: a run of
//! consecutive image layers (Conv2d, MaxPool2d, Upsample2d, BatchNorm on a
//! map, and any Dropout between them) is entered with one
//! `Transpose(perm = [0, 3, 1, 2])` (`{layer}.nchw`) and left with one
//! `Transpose(perm = [0, 2, 3, 1])`, named `{next layer}.nhwc` or, at the
//! end of the graph, `output.nhwc`; so the graph's input and output keep
//! ember's channels-last shapes.
//!
//! The model's free-form metadata becomes ONNX `metadata_props`.

mod conv;
mod dense;
mod embedding;
mod entity;
mod recurrent;

use std::collections::HashSet;

use ember_runtime::spec::{Activation, LayerSpec, ValueKind};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{Dimension, dimension};
use onnx_protobuf::type_proto::{self, Tensor as TensorType};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use self::conv::Layout;
use crate::{ExportError, Model, Tensor};

/// ONNX IR version written into every model.
pub const IR_VERSION: i64 = 8;
/// Version of the default (`ai.onnx`) operator set the graph uses.
pub const OPSET: i64 = 17;
/// `producer_name` of every written model.
pub const PRODUCER: &str = "ember";
/// Name of the single graph input.
pub const INPUT_NAME: &str = "input";
/// Name of the single graph output.
pub const OUTPUT_NAME: &str = "output";
/// Symbolic name (`dim_param`) of the leading batch dimension.
pub const BATCH_DIM: &str = "batch";

impl Model {
    /// Encodes the model as a serialized ONNX `ModelProto` (see the module
    /// docs for the graph's names and shapes).
    ///
    /// # Shapes
    /// The graph maps `input` `[batch, ...self.input.dims]` (`f32`, or
    /// `int64` token ids) to `output` `[batch, ...self.output().dims]`
    /// (`f32`).
    ///
    /// # Errors
    /// [`ExportError::Invalid`] if the model fails [`Model::validate`],
    /// [`ExportError::Onnx`] if a layer kind has no ONNX export or encoding fails.
    pub fn to_onnx(&self) -> Result<Vec<u8>, ExportError> {
        self.to_onnx_proto()?.write_to_bytes().map_err(|e| ExportError::Onnx(e.to_string()))
    }

    /// Builds the ONNX `ModelProto` that [`Model::to_onnx`] serializes.
    ///
    /// # Errors
    /// As [`Model::to_onnx`].
    pub fn to_onnx_proto(&self) -> Result<ModelProto, ExportError> {
        self.validate()?;
        let mut b = GraphBuilder::new(&self.name);
        let input_dims: Vec<usize> = self.input.dims.as_slice().iter().map(|&d| d as usize).collect();
        let input_type = match self.input.kind {
            ValueKind::F32 => DataType::FLOAT,
            ValueKind::TokenIds => DataType::INT64,
        };
        b.graph.input.push(value_info(INPUT_NAME, input_type, &input_dims));
        let mut x = Value { name: INPUT_NAME.to_string(), dims: input_dims };
        let mut layout = Layout::ChannelsLast;
        for (i, spec) in self.layers.iter().enumerate() {
            let prefix = format!("{}_{i}", spec.kind_name());
            let params = self.layer_params(i);
            let keeps_layout = matches!(spec, LayerSpec::Dropout { .. }) || conv::runs_in_nchw(spec);
            if layout == Layout::Nchw && !keeps_layout {
                x = conv::to_channels_last(&mut b, &format!("{prefix}.nhwc"), x)?;
                layout = Layout::ChannelsLast;
            }
            x = match *spec {
                LayerSpec::Dense { inputs, units, activation } => {
                    dense::export(&mut b, &prefix, [inputs, units], activation, params, x)?
                }
                LayerSpec::Embedding { vocab, dim, seq_len } => {
                    embedding::export(&mut b, &prefix, [vocab, dim, seq_len], params, x)?
                }
                LayerSpec::Flatten { dims } => flatten(&mut b, &prefix, dims.elements(), x)?,
                // The identity at inference: no node, the value flows on unchanged.
                LayerSpec::Dropout { len, .. } => {
                    check_len(&prefix, &x, len as usize)?;
                    x
                }
                LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } => {
                    let dims = spec.recurrent().expect("a recurrent layer has recurrent dims");
                    recurrent::export(&mut b, &prefix, &dims, params, x)?
                }
                LayerSpec::Conv2d { .. } => conv::conv2d(&mut b, &prefix, spec, params, x, &mut layout)?,
                LayerSpec::MaxPool2d { .. } => conv::max_pool2d(&mut b, &prefix, spec, x, &mut layout)?,
                LayerSpec::Upsample2d { height, width, channels, factor } => {
                    conv::upsample2d(&mut b, &prefix, [height, width, channels, factor], x, &mut layout)?
                }
                LayerSpec::BatchNorm { .. } => conv::batch_norm(&mut b, &prefix, spec, params, x, &mut layout)?,
                LayerSpec::EntityDot { columns, rows, dim, epsilon_bits } => {
                    let eps = f32::from_bits(epsilon_bits);
                    entity::export(&mut b, &prefix, [columns, rows, dim], eps, params, x)?
                }
                _ => return Err(ExportError::Onnx(format!("layer {i} ({}) has no ONNX export", spec.kind_name()))),
            };
        }
        if layout == Layout::Nchw {
            x = conv::to_channels_last(&mut b, &format!("{OUTPUT_NAME}.nhwc"), x)?;
        }
        let out_dims: Vec<usize> = self.output().dims.as_slice().iter().map(|&d| d as usize).collect();
        if x.dims.iter().product::<usize>() != out_dims.iter().product::<usize>() {
            return Err(ExportError::Onnx(format!(
                "graph ends with {:?} values, the model declares {out_dims:?}",
                x.dims
            )));
        }
        if x.dims != out_dims {
            x = if let [len] = out_dims[..] {
                flatten(&mut b, OUTPUT_NAME, len, x)?
            } else {
                let shape: Vec<i64> = std::iter::once(0).chain(out_dims.iter().map(|&d| d as i64)).collect();
                let name = b.reshape(&format!("{OUTPUT_NAME}.reshape"), &x.name, &shape)?;
                Value { name, dims: out_dims.clone() }
            };
        }
        b.rename_final(&x.name, OUTPUT_NAME)?;
        b.graph.output.push(value_info(OUTPUT_NAME, DataType::FLOAT, &out_dims));

        let mut model = ModelProto::new();
        model.ir_version = IR_VERSION;
        model.producer_name = PRODUCER.to_string();
        model.producer_version = env!("CARGO_PKG_VERSION").to_string();
        model.doc_string = format!("ember model `{}`", self.name);
        let mut opset = OperatorSetIdProto::new();
        opset.domain = String::new();
        opset.version = OPSET;
        model.opset_import.push(opset);
        for (k, v) in &self.metadata {
            let mut e = StringStringEntryProto::new();
            e.key = k.clone();
            e.value = v.clone();
            model.metadata_props.push(e);
        }
        model.graph = Some(b.graph).into();
        Ok(model)
    }
}

/// A value flowing from one layer to the next: its graph name and the
/// dimensions of one sample (the batch dimension is implicit and leading).
pub(crate) struct Value {
    /// Name of the ONNX value.
    pub name: String,
    /// Dimensions of one sample, in the tensor's actual layout: `[C, H, W]`
    /// while an image run holds it in NCHW (see `conv.rs`).
    pub dims: Vec<usize>,
}

/// Accumulates nodes and initializers and keeps every name unique.
pub(crate) struct GraphBuilder {
    graph: GraphProto,
    names: HashSet<String>,
}

impl GraphBuilder {
    fn new(name: &str) -> Self {
        let mut graph = GraphProto::new();
        graph.name = name.to_string();
        let names = [INPUT_NAME, OUTPUT_NAME].into_iter().map(String::from).collect();
        GraphBuilder { graph, names }
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
    pub fn initializer_with(&mut self, name: &str, dims: &[usize], data: &[f32]) -> Result<String, ExportError> {
        if dims.iter().product::<usize>() != data.len() {
            return Err(ExportError::Onnx(format!("{name}: dims {dims:?} do not hold {} values", data.len())));
        }
        self.claim(name)?;
        let mut t = TensorProto::new();
        t.name = name.to_string();
        t.data_type = DataType::FLOAT as i32;
        t.dims = dims.iter().map(|&d| d as i64).collect();
        t.raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.graph.initializer.push(t);
        Ok(name.to_string())
    }

    /// Adds a 1-D `INT64` initializer (constant operands such as `Reshape` targets).
    pub fn initializer_i64(&mut self, name: &str, data: &[i64]) -> Result<String, ExportError> {
        self.claim(name)?;
        let mut t = TensorProto::new();
        t.name = name.to_string();
        t.data_type = DataType::INT64 as i32;
        t.dims = vec![data.len() as i64];
        t.raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.graph.initializer.push(t);
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
        let mut n = NodeProto::new();
        n.op_type = op_type.to_string();
        n.name = name.to_string();
        n.input = inputs.iter().map(|s| s.to_string()).collect();
        n.output.push(name.to_string());
        n.attribute = attributes;
        self.graph.node.push(n);
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
        let mut n = NodeProto::new();
        n.op_type = op_type.to_string();
        n.name = name.to_string();
        n.input = inputs.iter().map(|s| s.to_string()).collect();
        n.output = outputs.iter().map(|s| s.to_string()).collect();
        n.attribute = attributes;
        self.graph.node.push(n);
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
    fn rename_final(&mut self, from: &str, to: &str) -> Result<(), ExportError> {
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

/// Checks that a layer's input `x` holds `len` values per sample.
pub(crate) fn check_len(prefix: &str, x: &Value, len: usize) -> Result<(), ExportError> {
    if x.dims.iter().product::<usize>() == len {
        Ok(())
    } else {
        Err(ExportError::Onnx(format!("{prefix}: input {:?} does not hold {len} values", x.dims)))
    }
}

/// `Flatten(axis = 1)` named `prefix`: `[batch, ...dims]` → `[batch, len]`,
/// row-major (a time-major sequence `[seq_len, n]` keeps its order).
fn flatten(b: &mut GraphBuilder, prefix: &str, len: usize, x: Value) -> Result<Value, ExportError> {
    check_len(prefix, &x, len)?;
    let name = if prefix == OUTPUT_NAME { format!("{OUTPUT_NAME}.flatten") } else { prefix.to_string() };
    let y = b.node("Flatten", &name, &[&x.name], vec![attr_int("axis", 1)])?;
    Ok(Value { name: y, dims: vec![len] })
}

/// An integer attribute.
pub(crate) fn attr_int(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_string();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

/// A float attribute.
pub(crate) fn attr_float(name: &str, v: f32) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_string();
    a.type_ = AttributeType::FLOAT.into();
    a.f = v;
    a
}

/// A list-of-integers attribute.
pub(crate) fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_string();
    a.type_ = AttributeType::INTS.into();
    a.ints = v.to_vec();
    a
}

/// A string attribute.
pub(crate) fn attr_string(name: &str, v: &str) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_string();
    a.type_ = AttributeType::STRING.into();
    a.s = v.as_bytes().to_vec();
    a
}

/// A list-of-strings attribute.
pub(crate) fn attr_strings(name: &str, v: &[&str]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_string();
    a.type_ = AttributeType::STRINGS.into();
    a.strings = v.iter().map(|s| s.as_bytes().to_vec()).collect();
    a
}

/// A tensor value description of element type `elem` and shape `[batch, ...dims]`.
fn value_info(name: &str, elem: DataType, dims: &[usize]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    let mut batch = Dimension::new();
    batch.value = Some(dimension::Value::DimParam(BATCH_DIM.to_string()));
    shape.dim.push(batch);
    for &d in dims {
        let mut dim = Dimension::new();
        dim.value = Some(dimension::Value::DimValue(d as i64));
        shape.dim.push(dim);
    }
    let mut tensor = TensorType::new();
    tensor.elem_type = elem as i32;
    tensor.shape = Some(shape).into();
    let mut ty = TypeProto::new();
    ty.value = Some(type_proto::Value::TensorType(tensor));
    let mut vi = ValueInfoProto::new();
    vi.name = name.to_string();
    vi.type_ = Some(ty).into();
    vi
}
