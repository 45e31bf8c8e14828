//! [`LayerSpec::Dense`](ember_runtime::spec::LayerSpec::Dense) as ONNX:
//! `Gemm(x, W, b, transB = 1)`, then the activation node.
//!
//! Layout: the model stores `W` as `[units, inputs]` (row-major), which is
//! exactly what `Gemm` with `transB = 1` expects, so the weight is written
//! unchanged. A sample with more than one dimension (for example a
//! `[28, 28]` image feeding a Dense layer) is first flattened row-major with
//! `Flatten(axis = 1)`, as the runtime reads it.

use ember_runtime::spec::Activation;

use super::{GraphBuilder, Value, attr_int};
use crate::{ExportError, Tensor};

/// Emits the nodes of one Dense layer named `prefix` (`dense_0`) after `x`.
///
/// Nodes and values: `{prefix}.flatten` (only for a multi-dimensional
/// sample), `{prefix}` (the `Gemm`), `{prefix}.act` (absent for a linear
/// activation). Initializers: the layer's `weight` and `bias` tensors,
/// unchanged.
///
/// # Shapes
/// `x`: `[batch, ...dims]` with `product(dims) == inputs` → `[batch, units]`.
/// `params`: `weight` `[units, inputs]`, `bias` `[units]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    [inputs, units]: [u32; 2],
    activation: Activation,
    params: &[Tensor],
    x: Value,
) -> Result<Value, ExportError> {
    let (inputs, units) = (inputs as usize, units as usize);
    let [weight, bias] = params else {
        return Err(ExportError::Onnx(format!("{prefix}: expected 2 parameter tensors, got {}", params.len())));
    };
    if weight.dims != [units, inputs] || bias.dims != [units] {
        return Err(ExportError::Onnx(format!(
            "{prefix}: weight {:?} / bias {:?} do not match [{units}, {inputs}] / [{units}]",
            weight.dims, bias.dims
        )));
    }
    if x.dims.iter().product::<usize>() != inputs {
        return Err(ExportError::Onnx(format!("{prefix}: input {:?} does not hold {inputs} values", x.dims)));
    }
    let mut x_name = x.name;
    if x.dims.len() != 1 {
        x_name = b.node("Flatten", &format!("{prefix}.flatten"), &[&x_name], vec![attr_int("axis", 1)])?;
    }
    let w = b.initializer(weight)?;
    let bias = b.initializer(bias)?;
    let y = b.node("Gemm", prefix, &[&x_name, &w, &bias], vec![attr_int("transB", 1)])?;
    let y = b.activation(prefix, activation, &y)?;
    Ok(Value { name: y, dims: vec![units] })
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::{Dims, IoSpec, LayerSpec, ValueKind};
    use prost::Message;

    use super::*;
    use crate::Model;
    use crate::onnx::proto::{GraphProto, ModelProto};

    fn model(input: &[u32], layers: &[(u32, u32, Activation)]) -> Model {
        let specs: Vec<LayerSpec> =
            layers.iter().map(|&(inputs, units, activation)| LayerSpec::Dense { inputs, units, activation }).collect();
        let values =
            layers.iter().flat_map(|&(i, u, _)| [vec![0.5; (i * u) as usize], vec![0.25; u as usize]]).collect();
        let input = IoSpec { kind: ValueKind::F32, dims: Dims::new(input).unwrap(), range: None };
        Model::new("t", input, specs, values).unwrap()
    }

    fn decode(m: &Model) -> ModelProto {
        ModelProto::decode(&m.to_onnx().unwrap()[..]).unwrap()
    }

    fn graph(p: &ModelProto) -> &GraphProto {
        p.graph.as_ref().unwrap()
    }

    fn ops(p: &ModelProto) -> Vec<(String, String, Vec<String>, Vec<String>)> {
        graph(p).node.iter().map(|n| (n.op_type.clone(), n.name.clone(), n.input.clone(), n.output.clone())).collect()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn two_layers_give_gemm_act_gemm() {
        let p = decode(&model(&[3], &[(3, 4, Activation::Relu), (4, 2, Activation::Linear)]));
        assert_eq!(p.ir_version, 8);
        assert_eq!(p.opset_import[0].version, 17);
        assert_eq!(p.producer_name, "ember");
        assert_eq!(
            ops(&p),
            vec![
                ("Gemm".into(), "dense_0".into(), s(&["input", "dense_0.weight", "dense_0.bias"]), s(&["dense_0"])),
                ("Relu".into(), "dense_0.act".into(), s(&["dense_0"]), s(&["dense_0.act"])),
                (
                    "Gemm".into(),
                    "dense_1".into(),
                    s(&["dense_0.act", "dense_1.weight", "dense_1.bias"]),
                    s(&["output"])
                ),
            ]
        );
        let inits: Vec<_> = graph(&p).initializer.iter().map(|t| (t.name.as_str(), t.dims.clone())).collect();
        assert_eq!(
            inits,
            vec![
                ("dense_0.weight", vec![4, 3]),
                ("dense_0.bias", vec![4]),
                ("dense_1.weight", vec![2, 4]),
                ("dense_1.bias", vec![2])
            ]
        );
        assert_eq!(graph(&p).initializer[0].raw_data.len(), 12 * 4);
        let gemm = &graph(&p).node[0].attribute[0];
        assert_eq!((gemm.name.as_str(), gemm.i), ("transB", 1));
    }

    #[test]
    fn every_activation_node() {
        for (act, op) in [
            (Activation::Relu, "Relu"),
            (Activation::Sigmoid, "Sigmoid"),
            (Activation::Tanh, "Tanh"),
            (Activation::Softmax, "Softmax"),
        ] {
            let p = decode(&model(&[2], &[(2, 3, act)]));
            let last = graph(&p).node.last().unwrap();
            assert_eq!((last.op_type.as_str(), last.output[0].as_str()), (op, "output"));
            if act == Activation::Softmax {
                assert_eq!((last.attribute[0].name.as_str(), last.attribute[0].i), ("axis", -1));
            }
        }
        let p = decode(&model(&[2], &[(2, 3, Activation::Linear)]));
        assert_eq!(graph(&p).node.len(), 1);
        assert_eq!(graph(&p).node[0].output, s(&["output"]));
    }

    #[test]
    fn multi_dimensional_input_is_flattened() {
        let p = decode(&model(&[2, 3], &[(6, 2, Activation::Tanh)]));
        assert_eq!(graph(&p).node[0].op_type, "Flatten");
        assert_eq!(graph(&p).node[1].input[0], "dense_0.flatten");
    }
}
