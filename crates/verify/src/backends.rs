//! Reference backends that run exported ONNX models: [tract] (pure
//! Rust, always available) and [ONNX Runtime](ort) (loaded at run time from a
//! shared library, see [`ort_dylib_path`]). `ember verify` and the
//! conformance tests compare the runtime against both.
//!
//! Both take and return row-major `f32` data: the input is
//! `[batch, ...input_dims]` (the graph input named `input`), the output is the
//! graph's first output, `[batch, ...]`. Every failure (shape mismatch, a
//! missing library, a model the backend rejects) is a
//! [`VerifyError`](crate::VerifyError) with a clear message, never a panic.
//!
//! Token-id models (graph input of element type `INT64`, as ember writes for
//! [`ValueKind::TokenIds`]) take the same `f32` slices: each value must be a
//! whole number, which is converted exactly to `i64`. Ids must also lie in
//! `0..vocab`, where `vocab` is the row count of the embedding table that the
//! input indexes (the `Gather` that reads it); a negative id (which ONNX
//! `Gather` would count from the end) or an id `>= vocab` is an error before
//! anything runs.
//!
//! The `load` + `run` forms ([`TractModel`], [`OrtModel`]) prepare a model
//! once for repeated runs (benchmarks); [`run_tract`] and [`run_ort`] are
//! one-shot wrappers over them.

pub mod checker;
pub mod locate;
pub mod ort;
pub mod tract;

pub use self::checker::{onnx_check, python};
pub use self::locate::ort_dylib_path;
pub use self::ort::{OrtModel, run_ort};
pub use self::tract::{TractModel, run_tract};

use crate::error::{Result, VerifyError};
use ember_runtime::spec::ValueKind;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{ModelProto, type_proto};
use tract_onnx::prelude::Framework;

/// What a model's graph input takes, read from the ONNX file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InputInfo {
    /// `F32` for a `FLOAT` input, `TokenIds` for an `INT64` one.
    pub kind: ValueKind,
    /// For token ids: the row count of the smallest table a `Gather` on axis 0
    /// indexes with the input, if any.
    pub vocab: Option<usize>,
    /// For token ids: the input is `INT32` (Keras/tf2onnx ids), not `INT64`.
    pub int32: bool,
}

/// Decodes an ONNX file into tract's protobuf model; `reader` names the
/// backend in the error.
pub(crate) fn read_proto(onnx: &[u8], reader: &'static str) -> Result<ModelProto> {
    tract_onnx::onnx()
        .proto_model_for_read(&mut &onnx[..])
        .map_err(|e| VerifyError::Unreadable { reader, message: format!("{e:#}") })
}

/// The element type of the model's single graph input (initializers listed
/// as inputs are skipped) and, for `INT64` ids, the vocabulary they index.
///
/// # Errors
/// If the model has no graph or not exactly one input, or the input is
/// neither `FLOAT` nor `INT64` / `INT32`.
pub(crate) fn input_info(proto: &ModelProto) -> Result<InputInfo> {
    let graph = proto.graph.as_ref().ok_or(VerifyError::NoGraph)?;
    let is_init = |name: &str| graph.initializer.iter().any(|t| t.name == name);
    let inputs: Vec<_> = graph.input.iter().filter(|i| !is_init(&i.name)).collect();
    let [input] = inputs[..] else {
        return Err(VerifyError::InputCount { count: inputs.len() });
    };
    let elem = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t.elem_type,
        _ => return Err(VerifyError::InputNotTensor { name: input.name.clone() }),
    };
    let kind = match DataType::try_from(elem) {
        Ok(DataType::Float) => ValueKind::F32,
        Ok(DataType::Int64 | DataType::Int32) => ValueKind::TokenIds,
        _ => return Err(VerifyError::InputElement { name: input.name.clone(), elem }),
    };
    let vocab = if kind == ValueKind::TokenIds {
        graph
            .node
            .iter()
            .filter(|n| n.op_type == "Gather" && n.input.get(1) == Some(&input.name))
            .filter(|n| n.attribute.iter().all(|a| a.name != "axis" || a.i == 0))
            .filter_map(|n| graph.initializer.iter().find(|t| Some(&t.name) == n.input.first()))
            .filter_map(|t| t.dims.first().map(|&d| d.max(0) as usize))
            .min()
    } else {
        None
    };
    Ok(InputInfo { kind, vocab, int32: elem == DataType::Int32 as i32 })
}

/// Converts token ids given as `f32` values to `i64`, exactly: every value
/// must be a whole number in `0..vocab` (`0..` when `vocab` is unknown).
///
/// # Errors
/// Names the first value that is not a valid id.
pub(crate) fn token_ids(input: &[f32], vocab: Option<usize>) -> Result<Vec<i64>> {
    input
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            let whole = value.is_finite() && value.fract() == 0.0 && value >= 0.0;
            match vocab {
                _ if !whole => Err(VerifyError::NotTokenId { index, value }),
                Some(vocab) if value as f64 >= vocab as f64 => {
                    Err(VerifyError::TokenOutOfVocab { index, value, vocab })
                }
                _ => Ok(value as i64),
            }
        })
        .collect()
}

/// The full input shape `[batch, ...input_dims]`, after checking that it is
/// non-empty and that `input_len` values fill it.
pub(crate) fn input_shape(input_dims: &[usize], batch: usize, input_len: Option<usize>) -> Result<Vec<usize>> {
    if batch == 0 {
        return Err(VerifyError::EmptyBatch);
    }
    if input_dims.is_empty() || input_dims.contains(&0) {
        return Err(VerifyError::BadDims { dims: input_dims.to_vec() });
    }
    let mut shape = vec![batch];
    shape.extend_from_slice(input_dims);
    if let Some(len) = input_len {
        check_len(&shape, len)?;
    }
    Ok(shape)
}

/// Checks that `len` values fill `shape` exactly.
pub(crate) fn check_len(shape: &[usize], len: usize) -> Result<()> {
    let want = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    match want {
        Some(want) if want == len => Ok(()),
        Some(want) => Err(VerifyError::InputLen { len, shape: shape.to_vec(), want }),
        None => Err(VerifyError::ShapeTooLarge { shape: shape.to_vec() }),
    }
}

/// Checks that an output's shape starts with the batch size.
pub(crate) fn check_output(backend: &'static str, shape: &[usize], batch: usize, len: usize) -> Result<()> {
    if shape.first() != Some(&batch) || shape.iter().product::<usize>() != len {
        return Err(VerifyError::OutputShape { backend, shape: shape.to_vec(), len, batch });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_shape_checks_sizes() {
        assert_eq!(input_shape(&[2, 3], 4, Some(24)).unwrap(), vec![4, 2, 3]);
        assert!(input_shape(&[2, 3], 4, Some(23)).unwrap_err().to_string().contains("needs 24"));
        assert!(input_shape(&[2, 3], 0, None).is_err());
        assert!(input_shape(&[], 1, None).is_err());
        assert!(input_shape(&[0], 1, None).is_err());
        assert!(input_shape(&[usize::MAX, 2], 1, Some(1)).is_err());
    }

    #[test]
    fn token_ids_are_whole_numbers_below_vocab() {
        assert_eq!(token_ids(&[0.0, 3.0, 9.0], Some(10)).unwrap(), vec![0, 3, 9]);
        assert_eq!(token_ids(&[16_777_216.0], None).unwrap(), vec![16_777_216]);
        let err = token_ids(&[1.0, 10.0], Some(10)).unwrap_err().to_string();
        assert!(err.contains("value 1") && err.contains("0..10"), "{err}");
        for bad in [-1.0, 0.5, f32::NAN, f32::INFINITY, -0.25] {
            assert!(token_ids(&[bad], Some(10)).is_err(), "{bad}");
        }
    }
}
