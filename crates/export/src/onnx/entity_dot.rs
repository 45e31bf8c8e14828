//! [`LayerSpec::EntityDot`](ember_runtime::spec::LayerSpec::EntityDot) as
//! ONNX: entity embeddings, per-column batch normalisation, the pairwise dot
//! products and the category biases.
//!
//! The ids are the graph input itself (`INT64` `[batch, columns]`, global
//! rows of the shared table), as for an Embedding, so an EntityDot must be
//! the model's first layer; both `Gather`s read the input directly, which is
//! how the trainer's backends find the table size that bounds the ids.
//!
//! # Nodes
//!
//! For the layer `entitydot_0` with `C` columns, `R` rows and `D` dims
//! (`N` is the batch):
//!
//! | node | op | output |
//! |---|---|---|
//! | `entitydot_0.gather` | `Gather(weight, input, axis = 0)` | `[N, C, D]` |
//! | `entitydot_0.flat` | `Reshape` to `[0, C·D]` | `[N, C·D]` |
//! | `entitydot_0.bn` | `BatchNormalization` (`epsilon` from the spec) | `[N, C·D]` |
//! | `entitydot_0.norm` | `Reshape` to `[0, C, D]` | `[N, C, D]` |
//! | `entitydot_0.normt` | `Transpose(perm = [0, 2, 1])` | `[N, D, C]` |
//! | `entitydot_0.gram` | `MatMul(norm, normt)`: every `n_j · n_k` | `[N, C, C]` |
//! | `entitydot_0.upper` | `Mul(gram, mask)`: keeps `j < k` | `[N, C, C]` |
//! | `entitydot_0.pairs` | `ReduceSum(axes = [1, 2], keepdims = 0)` | `[N]` |
//! | `entitydot_0.bias_rows` | `Gather(bias, input, axis = 0)` | `[N, C]` |
//! | `entitydot_0.bias_sum` | `ReduceSum(axes = [1], keepdims = 0)` | `[N]` |
//! | `entitydot_0.sum` | `Add(pairs, bias_sum)` | `[N]` |
//! | `entitydot_0` | `Reshape` to `[0, 1]` | `[N, 1]` |
//!
//! # Initializers
//!
//! `entitydot_0.weight` `[R, D]` and `entitydot_0.bias` `[R]` unchanged;
//! `entitydot_0.gamma`, `.beta`, `.mean`, `.var`, stored `[C, D]` (row `k` =
//! column `k`), are written flattened to `[C·D]` (row-major, so channel
//! `k·D + d` of the flat value is dimension `d` of column `k`): the
//! `BatchNormalization` channels. Constants: `entitydot_0.mask` (`FLOAT`
//! `[C, C]`, 1 strictly above the diagonal, else 0), the `INT64` `ReduceSum`
//! axes `entitydot_0.pairs.axes` = `[1, 2]` and `entitydot_0.bias_sum.axes` =
//! `[1]`, and the `Reshape` targets `{node}.shape`.

use super::{GraphBuilder, INPUT_NAME, Value, attr_float, attr_int, attr_ints};
use crate::{ExportError, Tensor};

/// The constant `[c, c]` mask, row-major: 1 where `j < k` (row `j`, column
/// `k`), else 0.
fn upper_mask(c: usize) -> Vec<f32> {
    (0..c).flat_map(|j| (0..c).map(move |k| if j < k { 1.0 } else { 0.0 })).collect()
}

/// Emits the nodes of an EntityDot named `prefix` (`entitydot_0`) over the
/// graph input `x` (see the module docs).
///
/// # Shapes
/// `x`: the graph input, `[batch, columns]` `INT64` row ids → `[batch, 1]`.
/// `params`: `weight` `[rows, dim]`, `bias` `[rows]`, `gamma`, `beta`,
/// `mean`, `var` `[columns, dim]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    [columns, rows, dim]: [u32; 3],
    epsilon: f32,
    params: &[Tensor],
    x: Value,
) -> Result<Value, ExportError> {
    let (c, r, d) = (columns as usize, rows as usize, dim as usize);
    let [weight, bias, gamma, beta, mean, var] = params else {
        return Err(ExportError::Onnx(format!("{prefix}: expected 6 parameter tensors, got {}", params.len())));
    };
    let stats = [gamma, beta, mean, var];
    let stat_dims = [c, d];
    let want: [(&Tensor, &[usize]); 2] = [(weight, &[r, d]), (bias, &[r])];
    for (t, dims) in want.into_iter().chain(stats.map(|t| (t, &stat_dims[..]))) {
        if t.dims != dims {
            return Err(ExportError::Onnx(format!("{prefix}: {} has dims {:?}, expected {dims:?}", t.name, t.dims)));
        }
    }
    if x.name != INPUT_NAME {
        return Err(ExportError::Onnx(format!("{prefix}: an entity layer must be the first layer (it reads row ids)")));
    }
    if x.dims != [c] {
        return Err(ExportError::Onnx(format!("{prefix}: input {:?} is not [{c}] row ids", x.dims)));
    }
    let (ci, di) = (c as i64, d as i64);
    let name = |s: &str| format!("{prefix}.{s}");

    // Embeddings, normalised per (column, dim) as C·D batch-norm channels.
    let w = b.initializer(weight)?;
    let e = b.node("Gather", &name("gather"), &[&w, &x.name], vec![attr_int("axis", 0)])?;
    let flat = b.reshape(&name("flat"), &e, &[0, ci * di])?;
    let mut bn_inputs = vec![flat];
    for t in stats {
        bn_inputs.push(b.initializer_with(&t.name, &[c * d], &t.data)?);
    }
    let bn_inputs: Vec<&str> = bn_inputs.iter().map(String::as_str).collect();
    let bn = b.node("BatchNormalization", &name("bn"), &bn_inputs, vec![attr_float("epsilon", epsilon)])?;
    let norm = b.reshape(&name("norm"), &bn, &[0, ci, di])?;

    // Σ_{j<k} n_j · n_k: the strictly upper triangle of the Gram matrix.
    let normt = b.node("Transpose", &name("normt"), &[&norm], vec![attr_ints("perm", &[0, 2, 1])])?;
    let gram = b.node("MatMul", &name("gram"), &[&norm, &normt], vec![])?;
    let mask = b.initializer_with(&name("mask"), &[c, c], &upper_mask(c))?;
    let upper = b.node("Mul", &name("upper"), &[&gram, &mask], vec![])?;
    let axes = b.initializer_i64(&name("pairs.axes"), &[1, 2])?;
    let pairs = b.node("ReduceSum", &name("pairs"), &[&upper, &axes], vec![attr_int("keepdims", 0)])?;

    // Σ_k bias[id_k].
    let bias = b.initializer(bias)?;
    let bias_rows = b.node("Gather", &name("bias_rows"), &[&bias, &x.name], vec![attr_int("axis", 0)])?;
    let axes = b.initializer_i64(&name("bias_sum.axes"), &[1])?;
    let bias_sum = b.node("ReduceSum", &name("bias_sum"), &[&bias_rows, &axes], vec![attr_int("keepdims", 0)])?;

    let sum = b.node("Add", &name("sum"), &[&pairs, &bias_sum], vec![])?;
    let y = b.reshape(prefix, &sum, &[0, 1])?;
    Ok(Value { name: y, dims: vec![1] })
}

#[cfg(test)]
mod tests {
    use crate::onnx::proto::tensor_proto::DataType;
    use crate::onnx::proto::type_proto::Value as TypeValue;
    use crate::onnx::proto::{GraphProto, TensorProto};
    use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};

    use super::*;
    use crate::Model;

    fn entity(columns: u32, rows: u32, dim: u32) -> LayerSpec {
        LayerSpec::EntityDot { columns, rows, dim, epsilon_bits: 1e-3f32.to_bits() }
    }

    /// A model whose parameter `p` (in spec order) holds `p + 0.5` everywhere.
    fn model(layers: Vec<LayerSpec>) -> GraphProto {
        let mut p = 0.0;
        let values = layers
            .iter()
            .flat_map(|l| {
                (0..l.param_count())
                    .map(|i| {
                        p += 1.0;
                        vec![p - 0.5; l.param(i).unwrap().dims.elements()]
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let ids = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(layers[0].input_len() as u32), range: None };
        Model::new("t", ids, layers, values).unwrap().to_onnx_proto().unwrap().graph.unwrap()
    }

    fn nodes(p: &GraphProto) -> Vec<(&str, &str)> {
        p.node.iter().map(|n| (n.op_type.as_str(), n.name.as_str())).collect()
    }

    fn init<'a>(p: &'a GraphProto, name: &str) -> &'a TensorProto {
        p.initializer.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no initializer {name}"))
    }

    fn floats(t: &TensorProto) -> Vec<f32> {
        t.raw_data.chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
    }

    fn i64s(t: &TensorProto) -> Vec<i64> {
        t.raw_data.chunks(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect()
    }

    #[test]
    fn entity_then_dense_nodes() {
        let dense = LayerSpec::Dense { inputs: 1, units: 1, activation: Activation::Relu };
        let p = model(vec![entity(3, 12, 4), dense]);
        assert_eq!(
            nodes(&p),
            [
                ("Gather", "entitydot_0.gather"),
                ("Reshape", "entitydot_0.flat"),
                ("BatchNormalization", "entitydot_0.bn"),
                ("Reshape", "entitydot_0.norm"),
                ("Transpose", "entitydot_0.normt"),
                ("MatMul", "entitydot_0.gram"),
                ("Mul", "entitydot_0.upper"),
                ("ReduceSum", "entitydot_0.pairs"),
                ("Gather", "entitydot_0.bias_rows"),
                ("ReduceSum", "entitydot_0.bias_sum"),
                ("Add", "entitydot_0.sum"),
                ("Reshape", "entitydot_0"),
                ("Gemm", "dense_1"),
                ("Relu", "dense_1.act"),
            ]
        );
        let n = &p.node;
        assert_eq!(n[0].input, ["entitydot_0.weight", "input"]);
        assert_eq!(n[8].input, ["entitydot_0.bias", "input"]);
        assert_eq!(n[2].input[1..], ["entitydot_0.gamma", "entitydot_0.beta", "entitydot_0.mean", "entitydot_0.var"]);
        assert_eq!(n[2].attribute[0].name, "epsilon");
        assert_eq!(n[2].attribute[0].f, 1e-3);
        assert_eq!(n[12].input[0], "entitydot_0");
        assert_eq!(n[13].output[0], "output");
        let Some(TypeValue::TensorType(input)) = &p.input[0].r#type.as_ref().unwrap().value else {
            panic!("not a tensor")
        };
        assert_eq!(input.elem_type, DataType::Int64 as i32);

        assert_eq!(init(&p, "entitydot_0.weight").dims, [12, 4]);
        assert_eq!(init(&p, "entitydot_0.bias").dims, [12]);
        for (k, stat) in ["gamma", "beta", "mean", "var"].into_iter().enumerate() {
            let t = init(&p, &format!("entitydot_0.{stat}"));
            assert_eq!(t.dims, [12]);
            assert_eq!(floats(t), [k as f32 + 2.5; 12]);
        }
        assert_eq!(floats(init(&p, "entitydot_0.mask")), [0., 1., 1., 0., 0., 1., 0., 0., 0.]);
        assert_eq!(i64s(init(&p, "entitydot_0.flat.shape")), [0, 12]);
        assert_eq!(i64s(init(&p, "entitydot_0.norm.shape")), [0, 3, 4]);
        assert_eq!(i64s(init(&p, "entitydot_0.pairs.axes")), [1, 2]);
        assert_eq!(i64s(init(&p, "entitydot_0.bias_sum.axes")), [1]);
        assert_eq!(i64s(init(&p, "entitydot_0.shape")), [0, 1]);
    }

    #[test]
    fn alone_its_last_node_is_the_output() {
        let p = model(vec![entity(1, 2, 3)]);
        let last = p.node.last().unwrap();
        assert_eq!((last.op_type.as_str(), last.output[0].as_str()), ("Reshape", "output"));
        assert_eq!(floats(init(&p, "entitydot_0.mask")), [0.0]);
    }

    #[test]
    fn it_must_come_first() {
        // Sizes alone let a Dense feed it, but its ids must be the graph input.
        let layers = vec![
            LayerSpec::Embedding { vocab: 10, dim: 1, seq_len: 2 },
            LayerSpec::Flatten { dims: Dims::d2(2, 1) },
            LayerSpec::Dense { inputs: 2, units: 2, activation: Activation::Linear },
            entity(2, 4, 2),
        ];
        let values = layers
            .iter()
            .flat_map(|l| (0..l.param_count()).map(|i| vec![1.0; l.param(i).unwrap().dims.elements()]))
            .collect();
        let ids = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(2), range: None };
        let m = Model::new("t", ids, layers, values).unwrap();
        let err = m.to_onnx().unwrap_err().to_string();
        assert!(err.contains("must be the first layer"), "{err}");
    }

    #[test]
    fn mask_is_strictly_upper() {
        assert_eq!(upper_mask(2), [0.0, 1.0, 0.0, 0.0]);
        let m = upper_mask(4);
        assert_eq!(m.iter().sum::<f32>(), 6.0);
        assert!((0..4).all(|i| m[i * 4 + i] == 0.0));
    }
}
