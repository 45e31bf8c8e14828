//! Folding into the layer before: a constant `Add` becomes its bias, a
//! `BatchNormalization` scales its weights and shifts its bias, and
//! `Relu` / `Sigmoid` / `Tanh` / `Softmax` become its activation. An
//! activation with no layer to take it (nothing before it but the input,
//! or a layer without an activation) is a depthwise 1x1 convolution of
//! weight 1 and bias 0 carrying it (exact: `1 · x + 0 = x`), or, for
//! `Softmax` over a vector of at most 512 values, an identity `Dense`.

use ember_runtime::spec::{Activation, Dims, LayerSpec, Padding};

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
    fold_into(b, i, c_n, st);
    Some(i)
}

/// Scales output channel `c` of layer `i` (which has `c_n` of them) by
/// `st(c).0` and shifts it by `st(c).1`.
fn fold_into(b: &mut Builder, i: usize, c_n: usize, st: impl Fn(usize) -> (f32, f32)) {
    let depthwise = matches!(b.layers[i], LayerSpec::DepthwiseConv2d { .. });
    let [w, bias] = &mut b.values[i][..] else { return };
    let per = w.len() / c_n;
    for (k, v) in w.iter_mut().enumerate() {
        let ch = if depthwise { k % c_n } else { k / per };
        *v *= st(ch).0;
    }
    for (ch, v) in bias.iter_mut().enumerate() {
        let (s, t) = st(ch);
        *v = *v * s + t;
    }
}

/// `Add`, `Sub`, `Mul`, `Div` with one constant operand: `y = s · x + t`
/// per element of a sample. Folded into the layer just before when it is
/// per output channel (a bias, a scale); otherwise a [`LayerSpec::BatchNorm`]
/// with mean 0 and variance `1 - ε` (`sqrt(var + ε) = 1` exactly), gamma
/// `s` and beta `t`, over the constant's period in ember's buffer.
pub(crate) fn affine(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let k = usize::from(node.input.first().is_some_and(|n| b.consts.contains_key(n)));
    let cst = b.need_const(node, 1 - k)?.clone();
    let op = node.op_type.as_str();
    let no = |why: &str| node_err(node, format!("{op} with a constant {:?} {why}", cst.dims));
    // Broadcast over one sample (batch axis of size 1), then read it in ember's order.
    let mut full = b.x.dims.clone();
    full[b.x.batch_axis] = 1;
    let r = full.len().max(cst.dims.len());
    let pad = |d: &[usize]| -> Vec<usize> { std::iter::repeat_n(1, r - d.len()).chain(d.iter().copied()).collect() };
    let (cd, od) = (pad(&cst.dims), pad(&full));
    if od.iter().zip(&cd).any(|(&o, &c)| c > o) {
        return Err(no("that varies over the batch"));
    }
    let v = broadcast_to(&cst, &cd, &od).map_err(|e| no(&e))?.f32s();
    b.x.settle();
    let e: Vec<f32> = b.x.src.iter().map(|&s| v[s as usize]).collect();
    // (scale, shift) of each element: constant first for Sub means c - x.
    let st: Vec<(f32, f32)> = e
        .iter()
        .map(|&c| match (op, k) {
            ("Add", _) => Ok((1.0, c)),
            ("Sub", 0) => Ok((1.0, -c)),
            ("Sub", _) => Ok((-1.0, c)),
            ("Mul", _) => Ok((c, 0.0)),
            ("Div", 0) => Ok((1.0 / c, 0.0)),
            _ => Err(no("as the divisor: not an affine map")),
        })
        .collect::<Result<_, _>>()?;
    if let Some(i) = b.fresh
        && let Some(c_n) = channels(&b.layers[i])
        && st.iter().enumerate().all(|(j, x)| *x == st[j % c_n])
    {
        fold_into(b, i, c_n, |ch| st[ch]);
        b.steps.push(format!("`{}` ({op}) → folded into {}_{i}", node_name(node), b.layers[i].kind_name()));
        return Ok(());
    }
    let n = st.len();
    let period =
        (1..=n).find(|&p| n.is_multiple_of(p) && st.iter().enumerate().all(|(j, x)| *x == st[j % p])).unwrap_or(n);
    let dims = if period == n { Dims::d1(n as u32) } else { Dims::d2((n / period) as u32, period as u32) };
    let eps = 1.0f32 / (1 << 20) as f32;
    let params = vec![
        st[..period].iter().map(|x| x.0).collect(),
        st[..period].iter().map(|x| x.1).collect(),
        vec![0.0; period],
        vec![1.0 - eps; period],
    ];
    let i = b.push(LayerSpec::BatchNorm { dims, epsilon_bits: eps.to_bits() }, params, String::new());
    *b.steps.last_mut().expect("a step was pushed") =
        format!("`{}` ({op}) → batchnorm_{i}: y = s·x + t per element, period {period}", node_name(node));
    b.fresh = None;
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
