//! Constant tensors (initializers, `Constant` nodes) and the folding of the
//! small constant subgraphs exporters emit for shapes (`Shape`, `Gather`,
//! `Concat`, `Unsqueeze`, `ConstantOfShape`, ...): they are evaluated at
//! import time, so that a `Reshape` target or a zero initial state computed
//! from the input's shape is a plain constant.

use crate::onnx::proto::tensor_proto::DataType;
use crate::onnx::proto::{AttributeProto, NodeProto, TensorProto};

use super::attrs;

/// A constant tensor.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Const {
    /// Dimensions (empty for a scalar).
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Data,
}

/// The values of a [`Const`]: floats or integers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    /// Floating-point values (FLOAT, DOUBLE, FLOAT16 read as f32).
    F32(Vec<f32>),
    /// Integer and boolean values.
    I64(Vec<i64>),
}

impl Const {
    /// An `i64` vector.
    pub fn ints(v: Vec<i64>) -> Self {
        Const { dims: vec![v.len()], data: Data::I64(v) }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        }
    }

    /// The values as `f32`.
    pub fn f32s(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The values as `i64` (floats truncated).
    pub fn i64s(&self) -> Vec<i64> {
        match &self.data {
            Data::F32(v) => v.iter().map(|&x| x as i64).collect(),
            Data::I64(v) => v.clone(),
        }
    }

    fn with(&self, dims: Vec<usize>, pick: impl Fn(usize) -> usize, n: usize) -> Const {
        let data = match &self.data {
            Data::F32(v) => Data::F32((0..n).map(|i| v[pick(i)]).collect()),
            Data::I64(v) => Data::I64((0..n).map(|i| v[pick(i)]).collect()),
        };
        Const { dims, data }
    }

    /// Reads an ONNX `TensorProto`.
    pub fn from_proto(t: &TensorProto) -> Result<Const, String> {
        if !t.external_data.is_empty() || t.data_location != 0 {
            return Err(format!("tensor `{}` keeps its data in an external file", t.name));
        }
        let dims = t.dims.iter().map(|&d| usize::try_from(d)).collect::<Result<Vec<_>, _>>();
        let dims = dims.map_err(|_| format!("tensor `{}` has a negative dimension", t.name))?;
        let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let n = n.filter(|&n| n <= 1 << 28).ok_or_else(|| format!("tensor `{}` is too large", t.name))?;
        let raw = &t.raw_data;
        let bad = format!("tensor `{}` holds the wrong number of values for {:?}", t.name, dims);
        let dt = DataType::try_from(t.data_type).unwrap_or(DataType::Undefined);
        let data = match dt {
            DataType::Float => Data::F32(if raw.is_empty() {
                t.float_data.clone()
            } else {
                raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
            }),
            DataType::Double => Data::F32(if raw.is_empty() {
                t.double_data.iter().map(|&x| x as f32).collect()
            } else {
                raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32).collect()
            }),
            DataType::Int64 => Data::I64(if raw.is_empty() {
                t.int64_data.clone()
            } else {
                raw.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect()
            }),
            DataType::Int32 => Data::I64(if raw.is_empty() {
                t.int32_data.iter().map(|&x| x as i64).collect()
            } else {
                raw.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64).collect()
            }),
            DataType::Int8 | DataType::Uint8 | DataType::Bool | DataType::Int16 | DataType::Uint16 => {
                Data::I64(if raw.is_empty() {
                    t.int32_data.iter().map(|&x| x as i64).collect()
                } else {
                    let w = if matches!(dt, DataType::Int16 | DataType::Uint16) { 2 } else { 1 };
                    raw.chunks_exact(w)
                        .map(|b| match dt {
                            DataType::Int8 => b[0] as i8 as i64,
                            DataType::Int16 => i16::from_le_bytes([b[0], b[1]]) as i64,
                            DataType::Uint16 => u16::from_le_bytes([b[0], b[1]]) as i64,
                            _ => b[0] as i64,
                        })
                        .collect()
                })
            }
            other => return Err(format!("tensor `{}` has element type {other:?}, which ember does not read", t.name)),
        };
        let c = Const { dims, data };
        if c.len() != n {
            return Err(bad);
        }
        Ok(c)
    }
}

/// The constant value of a `Constant` node's attribute.
fn constant_attr(a: &AttributeProto) -> Result<Const, String> {
    match a.name.as_str() {
        "value" => Const::from_proto(a.t.as_ref().ok_or("Constant without its tensor")?),
        "value_float" => Ok(Const { dims: vec![], data: Data::F32(vec![a.f]) }),
        "value_floats" => Ok(Const { dims: vec![a.floats.len()], data: Data::F32(a.floats.clone()) }),
        "value_int" => Ok(Const { dims: vec![], data: Data::I64(vec![a.i]) }),
        "value_ints" => Ok(Const::ints(a.ints.clone())),
        other => Err(format!("Constant with a `{other}` value")),
    }
}

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
            if x.dims.len() != 1 {
                return Err("Slice of a constant of rank > 1".into());
            }
            let n = x.dims[0] as i64;
            let (starts, ends) = (get(1)?.i64s(), get(2)?.i64s());
            let step = ins.get(4).and_then(|c| c.as_ref()).map_or(1, |s| s.i64s().first().copied().unwrap_or(1));
            if step != 1 {
                return Err("Slice with a step".into());
            }
            let c = |v: i64| (if v < 0 { v + n } else { v }).clamp(0, n) as usize;
            let (s, e) = (c(*starts.first().ok_or("Slice without starts")?), c(*ends.first().ok_or("no ends")?));
            let e = e.max(s);
            Ok(x.with(vec![e - s], |k| s + k, e - s))
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

/// Broadcasts `x` (its dims padded to `xd`) to `out`.
pub(crate) fn broadcast_to(x: &Const, xd: &[usize], out: &[usize]) -> Result<Const, String> {
    if xd.iter().zip(out).any(|(&a, &b)| a != b && a != 1) {
        return Err(format!("cannot broadcast {:?} to {out:?}", x.dims));
    }
    let n: usize = out.iter().product();
    if n > 1 << 26 {
        return Err("broadcast too large".into());
    }
    let r = out.len();
    let mut strides = vec![0usize; r];
    let mut s = 1;
    for a in (0..r).rev() {
        strides[a] = if xd[a] == 1 { 0 } else { s };
        s *= xd[a];
    }
    Ok(x.with(
        out.to_vec(),
        |k| {
            let (mut k, mut src) = (k, 0);
            for a in (0..r).rev() {
                src += (k % out[a]) * strides[a];
                k /= out[a];
            }
            src
        },
        n,
    ))
}

/// The dimensions of an ONNX `Reshape` of `dims` to `target` (`0` copies a
/// dimension, one `-1` is inferred).
pub(crate) fn reshape_dims(dims: &[usize], target: &[i64]) -> Result<Vec<usize>, String> {
    let n: usize = dims.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 => out.push(*dims.get(i).ok_or("Reshape copies a dimension that does not exist")?),
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            t if t > 0 => out.push(t as usize),
            _ => return Err(format!("Reshape target {target:?} is invalid")),
        }
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || !n.is_multiple_of(known) {
            return Err(format!("cannot reshape {dims:?} to {target:?}"));
        }
        out[i] = n / known;
    }
    if out.iter().product::<usize>() != n {
        return Err(format!("cannot reshape {dims:?} to {target:?}"));
    }
    Ok(out)
}
