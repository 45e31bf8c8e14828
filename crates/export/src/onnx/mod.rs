//! ONNX export: [`Model::to_onnx`].
//!
//! The graph follows the model's ONNX semantics (`docs/ARCHITECTURE.md`, contract 1):
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
//!   convolution's weight transposed to ONNX's OIHW, see `conv2d.rs`); constant
//!   helper tensors are initializers named after their node: `INT64`
//!   `Reshape` targets (`lstm_1.shape`) and `FLOAT` `Resize` scales
//!   (`upsample2d_3.scales`), an EntityDot's mask and `ReduceSum` axes
//!   (`entitydot_0.mask`, `entitydot_0.pairs.axes`); an EntityDot's
//!   `[columns, dim]` batch-norm statistics are written flattened to
//!   `[columns · dim]`;
//! * nodes and intermediate values named after their layer (`dense_0`,
//!   `dense_0.act`, ...); the last layer's final value is named `output`.
//!
//! Per layer kind, one file each, named as the runtime's layer files:
//! * `Dense`: `Gemm` + activation (`dense.rs`);
//! * `Embedding`: `Gather(axis = 0)` on the weight (`embedding.rs`); must be
//!   the first layer;
//! * `Flatten`: `Flatten(axis = 1)` (`flatten.rs`);
//! * `Dropout`: nothing, the identity at inference (`dropout.rs`);
//! * `SimpleRnn` / `Lstm` / `Gru`: ONNX `RNN` / `LSTM` / `GRU` with
//!   `linear_before_reset = 1` (`rnn.rs`, `lstm.rs`, `gru.rs`) between
//!   transposes to and from ONNX's time-first layout (`recurrent.rs`);
//! * `Conv2d`: `Conv` + activation (`conv2d.rs`), `MaxPool2d`: `MaxPool`
//!   (`max_pool2d.rs`), `Upsample2d`: `Resize`, nearest (`upsample2d.rs`),
//!   `BatchNorm`: `BatchNormalization` (`batch_norm.rs`); their NCHW runs
//!   are in `layout.rs`;
//! * `Conv2dStrided`: `Conv` with `strides` and `dilations` (`conv2d.rs`),
//!   `Conv1d`: 1-D `Conv` (`conv1d.rs`), `DepthwiseConv2d`: `Conv` with
//!   `group = channels` (`depthwise_conv2d.rs`), `MaxPool1d`: 1-D `MaxPool`,
//!   `AveragePool1d/2d`: `AveragePool` with `count_include_pad = 0`
//!   (`max_pool1d.rs`, `average_pool1d.rs`, `average_pool2d.rs`, sharing
//!   `pool.rs`), `GlobalAveragePool`: `GlobalAveragePool` + `Flatten`
//!   (`global_average_pool.rs`); 1-D layers run in NCL (`[batch, C, L]`)
//!   the way image layers run in NCHW;
//! * `EntityDot`: `Gather` of the embeddings, `BatchNormalization` over
//!   the `columns · dim` values, the strictly upper triangle of the Gram
//!   matrix (`MatMul` with its transpose, `Mul` by a constant 0/1 mask,
//!   `ReduceSum`) plus the `ReduceSum` of the gathered biases, giving
//!   `[batch, 1]` (`entity_dot.rs`); must be the first layer, its `INT64` ids
//!   `[batch, columns]` being the graph input.
//!
//! Shared pieces: `graph.rs` (the node and initializer builder, attributes)
//! and [`proto`] (the ONNX protobuf messages, encoded with `prost`).
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
//! A quantized model (`Model::quant` set) is written in QDQ form: the same
//! graph with its int8 weights, int32 biases and int8 activations written as
//! `QuantizeLinear` / `DequantizeLinear` around the float ops (`qdq.rs`).
//!
//! The model's free-form metadata becomes ONNX `metadata_props`.

mod average_pool1d;
mod average_pool2d;
mod batch_norm;
mod conv1d;
mod conv2d;
mod dense;
mod depthwise_conv2d;
mod dropout;
mod embedding;
mod entity_dot;
mod flatten;
mod global_average_pool;
mod graph;
mod gru;
mod layout;
mod lstm;
mod max_pool1d;
mod max_pool2d;
mod pool;
pub mod proto;
mod qdq;
mod recurrent;
mod rnn;
#[cfg(test)]
mod testing;
mod upsample2d;

use ember_runtime::spec::{LayerSpec, ValueKind};
use prost::Message;

use self::graph::{GraphBuilder, value_info};
pub(crate) use self::graph::{attr_float, attr_int, attr_ints, attr_string, attr_strings};
use self::layout::Layout;
use self::proto::tensor_proto::DataType;
use self::proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto};
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
    /// [`ExportError::Onnx`] if a layer's sizes or position do not fit the graph.
    pub fn to_onnx(&self) -> Result<Vec<u8>, ExportError> {
        Ok(self.to_onnx_proto()?.encode_to_vec())
    }

    /// Builds the ONNX `ModelProto` that [`Model::to_onnx`] serializes.
    ///
    /// # Errors
    /// As [`Model::to_onnx`].
    pub fn to_onnx_proto(&self) -> Result<ModelProto, ExportError> {
        self.validate()?;
        if let Some(q) = &self.quant
            && q.layers.len() != self.layers.len()
        {
            return Err(ExportError::Onnx(format!(
                "{} quantization records for {} layers",
                q.layers.len(),
                self.layers.len()
            )));
        }
        let mut b = GraphBuilder::new(&self.name);
        let input_dims: Vec<usize> = self.input.dims.as_slice().iter().map(|&d| d as usize).collect();
        let input_type = match self.input.kind {
            ValueKind::F32 => DataType::Float,
            ValueKind::TokenIds => DataType::Int64,
        };
        b.graph.input.push(value_info(INPUT_NAME, input_type, &input_dims));
        let mut x = Value { name: INPUT_NAME.to_string(), dims: input_dims };
        let mut layout = Layout::ChannelsLast;
        for (i, spec) in self.layers.iter().enumerate() {
            let prefix = format!("{}_{i}", spec.kind_name());
            let params = self.layer_params(i);
            let keeps_layout = matches!(spec, LayerSpec::Dropout { .. }) || layout::runs_in_nchw(spec);
            if layout == Layout::Nchw && !keeps_layout {
                x = layout::to_channels_last(&mut b, &format!("{prefix}.nhwc"), x)?;
                layout = Layout::ChannelsLast;
            }
            let lq = match &self.quant {
                Some(q) => Some(qdq::register(&mut b, q, spec, i, &prefix)?),
                None => None,
            };
            let int8 = lq.filter(|l| l.mode == ember_runtime::qspec::QuantMode::Int8);
            if let Some(l) = int8 {
                x = qdq::fake_quant(&mut b, &format!("{prefix}.in"), x, l.input)?;
            }
            x = match *spec {
                LayerSpec::Dense { inputs, units, activation } => {
                    dense::export(&mut b, &prefix, [inputs, units], activation, params, x)?
                }
                LayerSpec::Embedding { vocab, dim, seq_len } => {
                    embedding::export(&mut b, &prefix, [vocab, dim, seq_len], params, x)?
                }
                LayerSpec::Flatten { dims } => flatten::export(&mut b, &prefix, dims.elements(), x)?,
                LayerSpec::Dropout { len, .. } => dropout::export(&prefix, len, x)?,
                LayerSpec::SimpleRnn { .. } => {
                    let dims = spec.recurrent().expect("a recurrent layer has recurrent dims");
                    rnn::export(&mut b, &prefix, &dims, params, x)?
                }
                LayerSpec::Lstm { .. } => {
                    let dims = spec.recurrent().expect("a recurrent layer has recurrent dims");
                    lstm::export(&mut b, &prefix, &dims, params, x)?
                }
                LayerSpec::Conv2d { .. } | LayerSpec::Conv2dStrided { .. } => {
                    conv2d::export(&mut b, &prefix, spec, params, x, &mut layout)?
                }
                LayerSpec::Conv1d { .. } => conv1d::export(&mut b, &prefix, spec, params, x, &mut layout)?,
                LayerSpec::DepthwiseConv2d { .. } => {
                    depthwise_conv2d::export(&mut b, &prefix, spec, params, x, &mut layout)?
                }
                LayerSpec::MaxPool1d { .. } => max_pool1d::export(&mut b, &prefix, spec, x, &mut layout)?,
                LayerSpec::AveragePool1d { .. } => average_pool1d::export(&mut b, &prefix, spec, x, &mut layout)?,
                LayerSpec::AveragePool2d { .. } => average_pool2d::export(&mut b, &prefix, spec, x, &mut layout)?,
                LayerSpec::GlobalAveragePool { dims } => {
                    global_average_pool::export(&mut b, &prefix, dims, x, &mut layout)?
                }
                LayerSpec::MaxPool2d { .. } => max_pool2d::export(&mut b, &prefix, spec, x, &mut layout)?,
                LayerSpec::Upsample2d { height, width, channels, factor } => {
                    upsample2d::export(&mut b, &prefix, [height, width, channels, factor], x, &mut layout)?
                }
                LayerSpec::BatchNorm { .. } => batch_norm::export(&mut b, &prefix, spec, params, x, &mut layout)?,
                LayerSpec::EntityDot { columns, rows, dim, epsilon_bits } => {
                    let eps = f32::from_bits(epsilon_bits);
                    entity_dot::export(&mut b, &prefix, [columns, rows, dim], eps, params, x)?
                }
                LayerSpec::Gru { .. } => {
                    let dims = spec.recurrent().expect("a recurrent layer has recurrent dims");
                    gru::export(&mut b, &prefix, &dims, params, x)?
                }
            };
            qdq::check_consumed(&b, &prefix)?;
            if let Some(l) = int8
                && crate::quant::has_int8_output(spec)
            {
                x = qdq::fake_quant(&mut b, &format!("{prefix}.out"), x, l.output)?;
            }
        }
        if layout == Layout::Nchw {
            x = layout::to_channels_last(&mut b, &format!("{OUTPUT_NAME}.nhwc"), x)?;
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
                flatten::export(&mut b, OUTPUT_NAME, len, x)?
            } else {
                let shape: Vec<i64> = std::iter::once(0).chain(out_dims.iter().map(|&d| d as i64)).collect();
                let name = b.reshape(&format!("{OUTPUT_NAME}.reshape"), &x.name, &shape)?;
                Value { name, dims: out_dims.clone() }
            };
        }
        b.rename_final(&x.name, OUTPUT_NAME)?;
        b.graph.output.push(value_info(OUTPUT_NAME, DataType::Float, &out_dims));

        Ok(ModelProto {
            ir_version: IR_VERSION,
            producer_name: PRODUCER.to_string(),
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            doc_string: format!("ember model `{}`", self.name),
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
            metadata_props: self
                .metadata
                .iter()
                .map(|(k, v)| StringStringEntryProto { key: k.clone(), value: v.clone() })
                .collect(),
            graph: Some(b.graph),
            ..ModelProto::default()
        })
    }
}

/// A value flowing from one layer to the next: its graph name and the
/// dimensions of one sample (the batch dimension is implicit and leading).
pub(crate) struct Value {
    /// Name of the ONNX value.
    pub name: String,
    /// Dimensions of one sample, in the tensor's actual layout: `[C, H, W]`
    /// while an image run holds it in NCHW (see `layout.rs`).
    pub dims: Vec<usize>,
}

/// Checks that a layer's input `x` holds `len` values per sample.
pub(crate) fn check_len(prefix: &str, x: &Value, len: usize) -> Result<(), ExportError> {
    if x.dims.iter().product::<usize>() == len {
        Ok(())
    } else {
        Err(ExportError::Onnx(format!("{prefix}: input {:?} does not hold {len} values", x.dims)))
    }
}

/// Checks that `params` are tensors of `want` dimensions, in order.
pub(crate) fn check_params<'a, const N: usize>(
    prefix: &str,
    params: &'a [Tensor],
    want: [&[usize]; N],
) -> Result<&'a [Tensor; N], ExportError> {
    let ps: &[Tensor; N] = params
        .try_into()
        .map_err(|_| ExportError::Onnx(format!("{prefix}: expected {N} parameter tensors, got {}", params.len())))?;
    for (t, dims) in ps.iter().zip(want) {
        if t.dims != dims {
            return Err(ExportError::Onnx(format!("{prefix}: {} has dims {:?}, expected {dims:?}", t.name, t.dims)));
        }
    }
    Ok(ps)
}
