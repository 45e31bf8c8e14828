//! `Gemm`, and `MatMul` by a constant matrix: [`LayerSpec::Dense`]
//! (`W` stored `[units, inputs]`, ONNX `Gemm(transB = 1)`). A `MatMul` on a
//! sequence `[T, K]` is the same dense map at every step: a
//! [`LayerSpec::Conv1d`] of kernel 1. A bias `Add` after either is folded
//! by `fuse.rs`. The input may be in any order (a flattened NCHW map):
//! the weight's columns are permuted to ember's order.

use ember_runtime::spec::{Activation, LayerSpec, Padding};

use super::ImportError;
use super::attrs;
use super::value::identity;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// `Y = alpha · A · op(B) + beta · C`, `A` the running value `[batch, K]`.
pub(crate) fn gemm(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    if attrs::int(node, "transA", 0) != 0 {
        return Err(node_err(node, "transA = 1 (the data must be the rows of A)"));
    }
    let w = b.need_const(node, 1)?.clone();
    let trans_b = attrs::int(node, "transB", 0) != 0;
    let [r, c] = w.dims[..] else { return Err(node_err(node, "B is not a matrix")) };
    let (k, n) = if trans_b { (c, r) } else { (r, c) };
    let alpha = attrs::float(node, "alpha", 1.0);
    let beta = attrs::float(node, "beta", 1.0);
    let bias = match b.input_const(node, 2)? {
        None => vec![0.0; n],
        Some(cst) => {
            let v = cst.f32s();
            let lead: usize = cst.dims.iter().rev().skip(1).product();
            if lead != 1 || !(v.len() == n || v.len() == 1) {
                return Err(node_err(node, format!("C of shape {:?} is not one bias per output", cst.dims)));
            }
            (0..n).map(|j| beta * v[if v.len() == 1 { 0 } else { j }]).collect()
        }
    };
    let wf = w.f32s();
    let at = |u: usize, i: usize| if trans_b { wf[u * k + i] } else { wf[i * n + u] };
    dense(b, node, k, n, |u, i| alpha * at(u, i), bias)
}

/// `Y = A · B` with `B` a constant `[K, N]` matrix.
pub(crate) fn matmul(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    if node.input.first().is_some_and(|i| b.consts.contains_key(i)) {
        return Err(node_err(node, "the data must be the left operand"));
    }
    let w = b.need_const(node, 1)?.clone();
    let [k, n] = w.dims[..] else { return Err(node_err(node, format!("B of shape {:?} is not a matrix", w.dims))) };
    let wf = w.f32s();
    if b.x.batch_axis == 0 && b.x.dims.len() == 3 && b.x.dims[2] == k {
        // A sequence [T, K]: the same map at each step.
        let t = b.x.dims[1];
        b.x.require(identity(t * k), &format!("node `{}` (MatMul)", node_name(node)))?;
        let spec = LayerSpec::Conv1d {
            length: t as u32,
            channels: k as u32,
            filters: n as u32,
            kernel: 1,
            stride: 1,
            dilation: 1,
            padding: Padding::Valid,
            activation: Activation::Linear,
        };
        let weight: Vec<f32> = (0..n).flat_map(|u| (0..k).map(move |i| (u, i))).map(|(u, i)| wf[i * n + u]).collect();
        let i = b.push(spec, vec![weight, vec![0.0; n]], String::new());
        *b.steps.last_mut().expect("a step was pushed") = format!(
            "`{}` (MatMul) → {}_{i}: the same {k}→{n} map at each of {t} steps (Conv1d, kernel 1)",
            node_name(node),
            spec.kind_name()
        );
        b.fresh_nc = false;
        b.x.dims = vec![b.x.dims[0], t, n];
        b.x.src = identity(t * n);
        return Ok(());
    }
    dense(b, node, k, n, |u, i| wf[i * n + u], vec![0.0; n])
}

/// Pushes a Dense layer `k → n` with weight `w(u, i)` (ONNX input order).
fn dense(
    b: &mut Builder,
    node: &NodeProto,
    k: usize,
    n: usize,
    w: impl Fn(usize, usize) -> f32,
    bias: Vec<f32>,
) -> Result<(), ImportError> {
    if b.x.batch_axis != 0 || b.x.dims.len() != 2 || b.x.dims[1] != k {
        return Err(node_err(node, format!("input {:?} is not [batch, {k}] (flatten it first)", b.x.dims)));
    }
    b.x.settle();
    let src = b.x.src.clone();
    let weight: Vec<f32> =
        (0..n).flat_map(|u| src.iter().map(move |&s| (u, s as usize))).map(|(u, s)| w(u, s)).collect();
    let spec = LayerSpec::Dense { inputs: k as u32, units: n as u32, activation: Activation::Linear };
    let i = b.push(spec, vec![weight, bias], String::new());
    *b.steps.last_mut().expect("a step was pushed") =
        format!("`{}` ({}) → dense_{i}: Dense {k}→{n}", node_name(node), node.op_type);
    b.x.dims = vec![b.x.dims[0], n];
    b.x.src = identity(n);
    Ok(())
}
