//! Constant tensors (initializers, `Constant` nodes), their broadcasting and
//! ONNX's `Reshape` arithmetic; `fold.rs` evaluates constant subgraphs.

use crate::onnx::proto::tensor_proto::DataType;
use crate::onnx::proto::{AttributeProto, TensorProto};

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

    /// A tensor of `dims` whose element `k` is this one's element `pick(k)`.
    pub(crate) fn with(&self, dims: Vec<usize>, pick: impl Fn(usize) -> usize, n: usize) -> Const {
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
pub(crate) fn constant_attr(a: &AttributeProto) -> Result<Const, String> {
    match a.name.as_str() {
        "value" => Const::from_proto(a.t.as_ref().ok_or("Constant without its tensor")?),
        "value_float" => Ok(Const { dims: vec![], data: Data::F32(vec![a.f]) }),
        "value_floats" => Ok(Const { dims: vec![a.floats.len()], data: Data::F32(a.floats.clone()) }),
        "value_int" => Ok(Const { dims: vec![], data: Data::I64(vec![a.i]) }),
        "value_ints" => Ok(Const::ints(a.ints.clone())),
        other => Err(format!("Constant with a `{other}` value")),
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
