//! Reference backends that run exported ONNX models: [tract](tract) (pure
//! Rust, always available) and [ONNX Runtime](ort) (loaded at run time from a
//! shared library, see [`ort_dylib_path`]). `ember verify` and the
//! conformance tests compare the runtime against both.
//!
//! Both take and return row-major `f32` data: the input is
//! `[batch, ...input_dims]` (the graph input named `input`), the output is the
//! graph's first output, `[batch, ...]`. Every failure (shape mismatch, a
//! missing library, a model the backend rejects) is an `anyhow` error with a
//! clear message, never a panic.
//!
//! The `load` + `run` forms ([`TractModel`], [`OrtModel`]) prepare a model
//! once for repeated runs (benchmarks); [`run_tract`] and [`run_ort`] are
//! one-shot wrappers over them.

pub mod ort;
pub mod tract;

pub use self::ort::{OrtModel, ort_dylib_path, run_ort};
pub use self::tract::{TractModel, run_tract};

use anyhow::{Result, bail};

/// The full input shape `[batch, ...input_dims]`, after checking that it is
/// non-empty and that `input_len` values fill it.
pub(crate) fn input_shape(input_dims: &[usize], batch: usize, input_len: Option<usize>) -> Result<Vec<usize>> {
    if batch == 0 {
        bail!("batch size must be at least 1");
    }
    if input_dims.is_empty() || input_dims.contains(&0) {
        bail!("input dims {input_dims:?} must be non-empty and hold no zero");
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
        Some(want) => bail!("input holds {len} values but shape {shape:?} needs {want}"),
        None => bail!("input shape {shape:?} is too large"),
    }
}

/// Checks that an output's shape starts with the batch size.
pub(crate) fn check_output(backend: &str, shape: &[usize], batch: usize, len: usize) -> Result<()> {
    if shape.first() != Some(&batch) || shape.iter().product::<usize>() != len {
        bail!("{backend} returned an output of shape {shape:?} ({len} values); expected [{batch}, ...]");
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
}
