//! The folding of the small constant subgraphs exporters emit for shapes
//! (`Shape`, `Gather`, `Concat`, `Unsqueeze`, `ConstantOfShape`, ...) and of
//! `DequantizeLinear` on constant weights: they are evaluated at import
//! time, so that a `Reshape` target or a zero initial state computed from
//! the input's shape is a plain constant.

use crate::onnx::proto::NodeProto;
use crate::onnx::proto::tensor_proto::DataType;

use super::attrs;
use super::consts::{Const, Data, broadcast_to, constant_attr, reshape_dims};

/// Ops that [`eval`] folds when all their inputs are constants.
pub(crate) const FOLDABLE: &[&str] = &[
    "Constant",
    "Identity",
    "Cast",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Reshape",
    "Flatten",
    "Transpose",
    "Slice",
    "ConstantOfShape",
    "Mul",
    "Add",
    "Sub",
    "Div",
    "Expand",
    "DequantizeLinear",
];

fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if a < 0 { a + r } else { a };
    if (0..r.max(1)).contains(&a) { Ok(a as usize) } else { Err(format!("axis {a} out of range")) }
}

/// Folds a node whose inputs are all constants (`None`: an absent optional
/// input). `shape_of` gives the dimensions of a non-constant input (for
/// `Shape` of the model's data).
pub(crate) fn eval(node: &NodeProto, ins: &[Option<Const>], shape_of: Option<&[usize]>) -> Result<Const, String> {
    let get = |i: usize| ins.get(i).and_then(|c| c.as_ref()).ok_or_else(|| format!("input {i} is missing"));
    let op = node.op_type.as_str();
    match op {
        "Constant" => constant_attr(node.attribute.first().ok_or("Constant without a value")?),
        "Identity" => get(0).cloned(),
        "Cast" => {
            let x = get(0)?;
            let to = DataType::try_from(attrs::int(node, "to", 1) as i32).unwrap_or(DataType::Undefined);
            let data = match to {
                DataType::Float | DataType::Double | DataType::Float16 => Data::F32(x.f32s()),
                _ => Data::I64(x.i64s()),
            };
            Ok(Const { dims: x.dims.clone(), data })
        }
        "Shape" => {
            let dims: Vec<i64> = match (ins.first().and_then(|c| c.as_ref()), shape_of) {
                (Some(c), _) => c.dims.iter().map(|&d| d as i64).collect(),
                (None, Some(d)) => d.iter().map(|&d| d as i64).collect(),
                (None, None) => return Err("Shape of an unknown value".into()),
            };
            let r = dims.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let start = clamp(attrs::int(node, "start", 0));
            let end = clamp(attrs::int(node, "end", r));
            Ok(Const::ints(dims[start..end.max(start)].to_vec()))
        }
        "Gather" => {
            let (x, idx) = (get(0)?, get(1)?);
            let ax = axis(attrs::int(node, "axis", 0), x.dims.len())?;
            let outer: usize = x.dims[..ax].iter().product();
            let n = *x.dims.get(ax).ok_or("Gather on a scalar")?;
            let inner: usize = x.dims[ax + 1..].iter().product();
            let ids: Vec<usize> = idx
                .i64s()
                .iter()
                .map(|&i| {
                    let i = if i < 0 { i + n as i64 } else { i };
                    usize::try_from(i).ok().filter(|&i| i < n).ok_or("Gather index out of range")
                })
                .collect::<Result<_, _>>()?;
            let mut dims = x.dims[..ax].to_vec();
            dims.extend(&idx.dims);
            dims.extend(&x.dims[ax + 1..]);
            let m = ids.len();
            Ok(x.with(
                dims,
                |k| {
                    let (o, rest) = (k / (m * inner), k % (m * inner));
                    (o * n + ids[rest / inner]) * inner + rest % inner
                },
                outer * m * inner,
            ))
        }
        "Unsqueeze" | "Squeeze" => {
            let x = get(0)?;
            let axes = match ins.get(1).and_then(|c| c.as_ref()) {
                Some(a) => a.i64s(),
                None => attrs::ints(node, "axes"),
            };
            let mut dims = x.dims.clone();
            if op == "Unsqueeze" {
                let r = dims.len() + axes.len();
                let mut ax: Vec<usize> = axes.iter().map(|&a| axis(a, r)).collect::<Result<_, _>>()?;
                ax.sort_unstable();
                for a in ax {
                    dims.insert(a.min(dims.len()), 1);
                }
            } else if axes.is_empty() {
                dims.retain(|&d| d != 1);
            } else {
                let ax: Vec<usize> = axes.iter().map(|&a| axis(a, dims.len())).collect::<Result<_, _>>()?;
                dims = dims.iter().enumerate().filter(|(i, _)| !ax.contains(i)).map(|(_, &d)| d).collect();
            }
            Ok(Const { dims, data: x.data.clone() })
        }
        "Concat" => {
            let parts: Vec<&Const> = ins.iter().flatten().collect();
            if parts.iter().any(|p| p.dims.len() > 1) {
                return Err("Concat of constants of rank > 1".into());
            }
            if parts.iter().all(|p| matches!(p.data, Data::I64(_))) {
                Ok(Const::ints(parts.iter().flat_map(|p| p.i64s()).collect()))
            } else {
                let v: Vec<f32> = parts.iter().flat_map(|p| p.f32s()).collect();
                Ok(Const { dims: vec![v.len()], data: Data::F32(v) })
            }
        }
        "Reshape" | "Flatten" => {
            let x = get(0)?;
            let dims = if op == "Flatten" {
                let a = attrs::int(node, "axis", 1);
                let r = x.dims.len() as i64;
                let ax = usize::try_from(if a < 0 { a + r } else { a }).ok().filter(|&a| a <= x.dims.len());
                let ax = ax.ok_or("Flatten axis out of range")?;
                vec![x.dims[..ax].iter().product(), x.dims[ax..].iter().product()]
            } else {
                reshape_dims(&x.dims, &get(1)?.i64s())?
            };
            Ok(Const { dims, data: x.data.clone() })
        }
        "Transpose" => {
            let x = get(0)?;
            let r = x.dims.len();
            let perm: Vec<usize> = match attrs::ints(node, "perm") {
                p if p.is_empty() => (0..r).rev().collect(),
                p => p.iter().map(|&a| axis(a, r)).collect::<Result<_, _>>()?,
            };
            let table = super::value::transpose_table(&x.dims, &perm);
            Ok(x.with(perm.iter().map(|&p| x.dims[p]).collect(), |k| table[k] as usize, table.len()))
        }
        "Slice" => {
            let x = get(0)?;
            let r = x.dims.len();
            let (starts, ends) = (get(1)?.i64s(), get(2)?.i64s());
            let axes: Vec<usize> = match ins.get(3).and_then(|c| c.as_ref()) {
                Some(a) => a.i64s().iter().map(|&a| axis(a, r)).collect::<Result<_, _>>()?,
                None => (0..starts.len()).collect(),
            };
            let steps = ins.get(4).and_then(|c| c.as_ref()).map(Const::i64s).unwrap_or_default();
            if steps.iter().any(|&s| s != 1) {
                return Err("Slice with a step".into());
            }
            if starts.len() != axes.len() || ends.len() != axes.len() || axes.iter().any(|&a| a >= r) {
                return Err("Slice: starts, ends and axes do not match the constant".into());
            }
            // Per axis: the first index kept and how many.
            let (mut lo, mut out) = (vec![0usize; r], x.dims.clone());
            for (i, &a) in axes.iter().enumerate() {
                let n = x.dims[a] as i64;
                let c = |v: i64| (if v < 0 { v.saturating_add(n) } else { v }).clamp(0, n) as usize;
                let (s, e) = (c(starts[i]), c(ends[i]));
                lo[a] = s;
                out[a] = e.max(s) - s;
            }
            let mut stride = vec![1usize; r];
            for i in (0..r.saturating_sub(1)).rev() {
                stride[i] = stride[i + 1] * x.dims[i + 1];
            }
            let total = out.iter().product();
            let shape = out.clone();
            let pick = move |k: usize| {
                let (mut rest, mut src) = (k, 0);
                for i in (0..r).rev() {
                    let d = shape[i].max(1);
                    src += (lo[i] + rest % d) * stride[i];
                    rest /= d;
                }
                src
            };
            Ok(x.with(out, pick, total))
        }
        "ConstantOfShape" => {
            let dims: Vec<usize> = get(0)?.i64s().iter().map(|&d| d.max(0) as usize).collect();
            let n: usize = dims.iter().product();
            if n > 1 << 24 {
                return Err("ConstantOfShape too large".into());
            }
            let v = node.attribute.iter().find(|a| a.name == "value").map(constant_attr).transpose()?;
            let fill = v.unwrap_or(Const { dims: vec![1], data: Data::F32(vec![0.0]) });
            Ok(fill.with(dims, |_| 0, n))
        }
        "Expand" => {
            let (x, shape) = (get(0)?, get(1)?.i64s());
            let r = shape.len().max(x.dims.len());
            let pad =
                |d: &[usize]| -> Vec<usize> { std::iter::repeat_n(1, r - d.len()).chain(d.iter().copied()).collect() };
            let xd = pad(&x.dims);
            let sd = pad(&shape.iter().map(|&d| d.max(1) as usize).collect::<Vec<_>>());
            let out: Vec<usize> = xd.iter().zip(&sd).map(|(&a, &b)| a.max(b)).collect();
            broadcast_to(x, &xd, &out)
        }
        "Mul" | "Add" | "Sub" | "Div" => {
            let (a, b) = (get(0)?, get(1)?);
            let r = a.dims.len().max(b.dims.len());
            let pad =
                |d: &[usize]| -> Vec<usize> { std::iter::repeat_n(1, r - d.len()).chain(d.iter().copied()).collect() };
            let (ad, bd) = (pad(&a.dims), pad(&b.dims));
            let out: Vec<usize> = ad.iter().zip(&bd).map(|(&x, &y)| x.max(y)).collect();
            let (a, b) = (broadcast_to(a, &ad, &out)?, broadcast_to(b, &bd, &out)?);
            let data = match (&a.data, &b.data) {
                (Data::I64(x), Data::I64(y)) => Data::I64(
                    x.iter()
                        .zip(y)
                        .map(|(&x, &y)| match op {
                            "Mul" => x.wrapping_mul(y),
                            "Add" => x.wrapping_add(y),
                            "Sub" => x.wrapping_sub(y),
                            _ => x.checked_div(y).unwrap_or(0),
                        })
                        .collect(),
                ),
                _ => Data::F32(
                    a.f32s()
                        .iter()
                        .zip(b.f32s())
                        .map(|(&x, y)| match op {
                            "Mul" => x * y,
                            "Add" => x + y,
                            "Sub" => x - y,
                            _ => x / y,
                        })
                        .collect(),
                ),
            };
            Ok(Const { dims: out, data })
        }
        "DequantizeLinear" => {
            // (q - zero_point) · scale, per tensor or per `axis` (weight-only QDQ).
            let q = get(0)?;
            let scale = get(1)?.f32s();
            let zp = ins.get(2).and_then(|c| c.as_ref()).map(Const::i64s).unwrap_or_else(|| vec![0; scale.len()]);
            if zp.len() != scale.len() || scale.is_empty() {
                return Err("scale and zero point of different sizes".into());
            }
            let inner = if scale.len() == 1 {
                1
            } else {
                let ax = axis(attrs::int(node, "axis", 1), q.dims.len())?;
                if q.dims[ax] != scale.len() || attrs::has(node, "block_size") {
                    return Err("a scale per block, or not one per channel of the axis".into());
                }
                q.dims[ax + 1..].iter().product::<usize>()
            };
            let (qv, c) = (q.i64s(), scale.len());
            let v = (0..q.len())
                .map(|k| {
                    let ch = if c == 1 { 0 } else { k / inner % c };
                    (qv[k] - zp[ch]) as f32 * scale[ch]
                })
                .collect();
            Ok(Const { dims: q.dims.clone(), data: Data::F32(v) })
        }
        other => Err(format!("{other} cannot be folded")),
    }
}
