//! Running ONNX models with [tract](https://github.com/sonos/tract) (pure Rust).
//!
//! The graph's `batch` dimension is fixed to the batch size given to
//! [`TractModel::load`], so tract optimizes the model for that exact shape.
//!
//! tract 0.23 runs ONNX `RNN`, `LSTM` and `GRU` (`linear_before_reset = 1`
//! included, checked against the f64 reference in
//! `conformance/tests/conformance/backends_gru.rs`) in both directions; note that it
//! takes the direction count from `W`'s first dimension (not from the
//! `direction` attribute), which ember's exports keep consistent.

use std::sync::Arc;

use ember_runtime::spec::ValueKind;
use tract_onnx::prelude::{
    DatumExt, Framework, InferenceModelExt, IntoRunnable, Tensor, TypedRunnableModel, TypedSimplePlan, tvec,
};

use super::{InputInfo, check_output, input_info, input_shape, read_proto, token_ids};
use crate::error::{Result, VerifyError};

/// Maps a tract error to [`VerifyError::Tract`] for the step `what`.
fn tract_err(what: impl Into<String>) -> impl FnOnce(tract_onnx::prelude::TractError) -> VerifyError {
    move |e| VerifyError::Tract { what: what.into(), message: format!("{e:#}") }
}

/// An ONNX model loaded into tract and optimized for one input shape
/// `[batch, ...input_dims]`.
#[derive(Debug, Clone)]
pub struct TractModel {
    plan: Arc<TypedRunnableModel>,
    shape: Vec<usize>,
    input: InputInfo,
}

impl TractModel {
    /// Parses `onnx`, fixes its first input to `[batch, ...input_dims]` of
    /// the element type the model declares (`f32`, or `i64` token ids),
    /// optimizes it and makes it runnable.
    ///
    /// # Errors
    /// If the bytes are not an ONNX model, its input is neither `FLOAT` nor
    /// `INT64`, tract does not support an operator, or the model does not
    /// accept the given input shape.
    pub fn load(onnx: &[u8], input_dims: &[usize], batch: usize) -> Result<Self> {
        let shape = input_shape(input_dims, batch, None)?;
        let proto = read_proto(onnx, "tract")?;
        let input = input_info(&proto)?;
        let fact = match input.kind {
            ValueKind::F32 => f32::fact(shape.clone()),
            ValueKind::TokenIds if input.int32 => i32::fact(shape.clone()),
            ValueKind::TokenIds => i64::fact(shape.clone()),
        };
        let plan: Arc<TypedSimplePlan> = tract_onnx::onnx()
            .model_for_proto_model(&proto)
            .map_err(tract_err("could not read the ONNX model"))?
            .with_input_fact(0, fact.into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(tract_err(format!("rejected the ONNX model for input shape {shape:?}")))?;
        Ok(TractModel { plan, shape, input })
    }

    /// What the model's input holds: `F32` values or `TokenIds`.
    pub fn input_kind(&self) -> ValueKind {
        self.input.kind
    }

    /// The input shape the model was loaded for, `[batch, ...input_dims]`.
    pub fn input_shape(&self) -> &[usize] {
        &self.shape
    }

    /// Runs one batch.
    ///
    /// # Shapes
    /// `input`: row-major `[batch, ...input_dims]` (as loaded) → row-major
    /// `[batch, ...output]`, the model's first output.
    ///
    /// For a token-id model each value is an id, converted exactly to `i64`.
    ///
    /// # Errors
    /// If `input` does not hold exactly the loaded shape's element count, a
    /// token id is not a whole number in `0..vocab`, or tract fails while
    /// running.
    pub fn run(&self, input: &[f32]) -> Result<Vec<f32>> {
        super::check_len(&self.shape, input.len())?;
        let x = match self.input.kind {
            ValueKind::F32 => Tensor::from_shape(&self.shape, input),
            ValueKind::TokenIds if self.input.int32 => {
                let ids = token_ids(input, self.input.vocab)?;
                let ids: Vec<i32> = ids.iter().map(|&i| i32::try_from(i).unwrap_or(i32::MAX)).collect();
                Tensor::from_shape(&self.shape, &ids)
            }
            ValueKind::TokenIds => Tensor::from_shape(&self.shape, &token_ids(input, self.input.vocab)?),
        }
        .map_err(tract_err("could not build the input tensor"))?;
        let outputs = self.plan.run(tvec!(x.into())).map_err(tract_err("failed to run the model"))?;
        let y = outputs.first().ok_or(VerifyError::NoOutput { backend: "tract" })?;
        let view = y.to_plain_array_view::<f32>().map_err(tract_err("output is not a plain f32 tensor"))?;
        let out: Vec<f32> = view.iter().copied().collect();
        check_output("tract", view.shape(), self.shape[0], out.len())?;
        Ok(out)
    }
}

/// Runs an ONNX model on a batch with tract.
///
/// # Shapes
/// `input` is row-major `[batch, ...input_dims]`; returns row-major
/// `[batch, ...output]`.
///
/// # Errors
/// As [`TractModel::load`] and [`TractModel::run`]; the input length is
/// checked before the model is loaded.
pub fn run_tract(onnx: &[u8], input_dims: &[usize], batch: usize, input: &[f32]) -> Result<Vec<f32>> {
    input_shape(input_dims, batch, Some(input.len()))?;
    TractModel::load(onnx, input_dims, batch)?.run(input)
}
