//! Folding into the layer before: a constant `Add` becomes its bias, a
//! `BatchNormalization` scales its weights and shifts its bias, and
//! `Relu` / `Sigmoid` / `Tanh` / `Softmax` become its activation. An
//! activation with no layer to take it (nothing before it but the input,
//! or a layer without an activation) is a depthwise 1x1 convolution of
//! weight 1 and bias 0 carrying it (exact: `1 · x + 0 = x`), or, for
//! `Softmax` over a vector of at most 512 values, an identity `Dense`.

use ember_runtime::spec::{Activation, LayerSpec, Padding};

use super::ImportError;
use super::attrs;
use super::consts::broadcast_to;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// Output channels of a layer that has a bias, and the bias's index in its params.
fn channels(spec: &LayerSpec) -> Option<usize> {
    match *spec {
        LayerSpec::Dense { units, activation: Activation::Linear, .. } => Some(units as usize),
        LayerSpec::Conv2d { filters, activation: Activation::Linear, .. }
        | LayerSpec::Conv2dStrided { filters, activation: Activation::Linear, .. }
        | LayerSpec::Conv1d { filters, activation: Activation::Linear, .. } => Some(filters as usize),
        LayerSpec::DepthwiseConv2d { channels, activation: Activation::Linear, .. } => Some(channels as usize),
        _ => None,
    }
}

/// Folds `y = s_c · x + t_c` (per channel `c` of `c_n`, ONNX axis 1) into
/// the fresh layer; returns its index, or `None` if it cannot.
pub(crate) fn fold_scale_shift(b: &mut Builder, c_n: usize, st: impl Fn(usize) -> (f32, f32)) -> Option<usize> {
    let i = b.fresh.filter(|_| b.fresh_nc)?;
    if channels(&b.layers[i])? != c_n {
        return None;
    }
    let depthwise = matches!(b.layers[i], LayerSpec::DepthwiseConv2d { .. });
    let [w, bias] = &mut b.values[i][..] else { return None };
    let per = w.len() / c_n;
    for (k, v) in w.iter_mut().enumerate() {
        let ch = if depthwise { k % c_n } else { k / per };
        *v *= st(ch).0;
    }
    for (ch, v) in bias.iter_mut().enumerate() {
        let (s, t) = st(ch);
        *v = *v * s + t;
    }
    Some(i)
}

/// `Add` of a constant: the bias of the layer just before.
pub(crate) fn add(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let k = usize::from(node.input.first().is_some_and(|n| b.consts.contains_key(n)));
    let cst = b.need_const(node, 1 - k)?.clone();
    let no = |why: &str| node_err(node, format!("adds a constant {:?} {why}", cst.dims));
    let i = b.fresh.ok_or_else(|| no("not right after a Gemm, MatMul or Conv"))?;
    let c_n = channels(&b.layers[i]).ok_or_else(|| no("not right after a Gemm, MatMul or Conv without activation"))?;
    // Broadcast over one sample (batch axis of size 1), then read it in ember's order.
    let mut full = b.x.dims.clone();
    full[b.x.batch_axis] = 1;
    let r = full.len().max(cst.dims.len());
    let pad = |d: &[usize]| -> Vec<usize> { std::iter::repeat_n(1, r - d.len()).chain(d.iter().copied()).collect() };
    let (cd, od) = (pad(&cst.dims), pad(&full));
    let v = broadcast_to(&cst, &cd, &od).map_err(|e| no(&e))?.f32s();
    let e: Vec<f32> = b.x.src.iter().map(|&s| v[s as usize]).collect();
    if e.iter().enumerate().any(|(j, &x)| x != e[j % c_n]) {
        return Err(no("that is not one bias per output channel"));
    }
    let bias = &mut b.values[i][1];
    for (bv, add) in bias.iter_mut().zip(&e) {
        *bv += add;
    }
    b.steps.push(format!("`{}` (Add) → bias of {}_{i}", node_name(node), b.layers[i].kind_name()));
    Ok(())
}

fn set_activation(spec: &mut LayerSpec, act: Activation) {
    match spec {
        LayerSpec::Dense { activation, .. }
        | LayerSpec::Conv2d { activation, .. }
        | LayerSpec::Conv1d { activation, .. }
        | LayerSpec::Conv2dStrided { activation, .. }
        | LayerSpec::DepthwiseConv2d { activation, .. } => *activation = act,
        _ => {}
    }
}

/// `Relu`, `Sigmoid`, `Tanh`, `Softmax` on the running value.
pub(crate) fn activation(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let act = match node.op_type.as_str() {
        "Relu" => Activation::Relu,
        "Sigmoid" => Activation::Sigmoid,
        "Tanh" => Activation::Tanh,
        _ => Activation::Softmax,
    };
    let n = b.x.len();
    if act == Activation::Softmax {
        let d = &b.x.dims;
        let bax = b.x.batch_axis;
        let r = d.len() as i64;
        let whole = if b.opset >= 13 {
            let a = attrs::int(node, "axis", -1);
            let a = if a < 0 { a + r } else { a } as usize;
            a != bax && d.iter().enumerate().all(|(k, &s)| k == a || k == bax || s == 1)
        } else {
            let a = attrs::int(node, "axis", 1);
            let a = if a < 0 { a + r } else { a } as usize;
            bax < a && d[..a].iter().enumerate().all(|(k, &s)| k == bax || s == 1)
        };
        if !whole {
            return Err(node_err(
                node,
                format!("softmax over part of a sample {d:?} (the runtime's softmax is over a whole vector)"),
            ));
        }
        if let Some(i) = b.act_slot.filter(|&i| matches!(b.layers[i], LayerSpec::Dense { .. })) {
            set_activation(&mut b.layers[i], act);
            b.act_slot = None;
            b.fresh = None;
            b.steps.push(format!("`{}` (Softmax) → activation of dense_{i}", node_name(node)));
            return Ok(());
        }
        if n > 512 {
            return Err(node_err(node, format!("softmax over {n} values with no Gemm before it")));
        }
        b.x.settle();
        let mut w = vec![0f32; n * n];
        for k in 0..n {
            w[k * n + k] = 1.0;
        }
        let spec = LayerSpec::Dense { inputs: n as u32, units: n as u32, activation: act };
        let i = b.push(spec, vec![w, vec![0.0; n]], String::new());
        *b.steps.last_mut().expect("a step was pushed") =
            format!("`{}` (Softmax) → dense_{i}: identity {n}→{n} with softmax", node_name(node));
        b.fresh = None;
        b.act_slot = None;
        return Ok(());
    }
    if let Some(i) = b.act_slot {
        set_activation(&mut b.layers[i], act);
        b.act_slot = None;
        b.fresh = None;
        b.steps.push(format!(
            "`{}` ({}) → activation of {}_{i}",
            node_name(node),
            node.op_type,
            b.layers[i].kind_name()
        ));
        return Ok(());
    }
    b.x.settle();
    let spec = LayerSpec::DepthwiseConv2d {
        height: 1,
        width: 1,
        channels: n as u32,
        kernel: [1, 1],
        stride: [1, 1],
        dilation: [1, 1],
        padding: Padding::Valid,
        activation: act,
    };
    let i = b.push(spec, vec![vec![1.0; n], vec![0.0; n]], String::new());
    *b.steps.last_mut().expect("a step was pushed") = format!(
        "`{}` ({}) → depthwiseconv2d_{i}: 1x1, weight 1, bias 0, carrying the activation",
        node_name(node),
        node.op_type
    );
    b.fresh = None;
    b.act_slot = None;
    Ok(())
}
