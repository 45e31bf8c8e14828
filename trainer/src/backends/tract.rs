//! Running ONNX models with [tract](https://github.com/sonos/tract) (pure Rust).
//!
//! The graph's `batch` dimension is fixed to the batch size given to
//! [`TractModel::load`], so tract optimizes the model for that exact shape.

use std::sync::Arc;

use anyhow::{Context, Result};
use tract_onnx::prelude::{
    DatumExt, Framework, InferenceModelExt, IntoRunnable, Tensor, TypedRunnableModel, TypedSimplePlan, tvec,
};

use super::{check_output, input_shape};

/// An ONNX model loaded into tract and optimized for one input shape
/// `[batch, ...input_dims]`.
#[derive(Debug, Clone)]
pub struct TractModel {
    plan: Arc<TypedRunnableModel>,
    shape: Vec<usize>,
}

impl TractModel {
    /// Parses `onnx`, fixes its first input to `f32` `[batch, ...input_dims]`,
    /// optimizes it and makes it runnable.
    ///
    /// # Errors
    /// If the bytes are not an ONNX model, tract does not support an operator,
    /// or the model does not accept the given input shape.
    pub fn load(onnx: &[u8], input_dims: &[usize], batch: usize) -> Result<Self> {
        let shape = input_shape(input_dims, batch, None)?;
        let plan: Arc<TypedSimplePlan> = tract_onnx::onnx()
            .model_for_read(&mut &onnx[..])
            .context("tract could not read the ONNX model")?
            .with_input_fact(0, f32::fact(shape.clone()).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .with_context(|| format!("tract rejected the ONNX model for input shape {shape:?}"))?;
        Ok(TractModel { plan, shape })
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
    /// # Errors
    /// If `input` does not hold exactly the loaded shape's element count, or
    /// tract fails while running.
    pub fn run(&self, input: &[f32]) -> Result<Vec<f32>> {
        super::check_len(&self.shape, input.len())?;
        let x = Tensor::from_shape(&self.shape, input).context("tract could not build the input tensor")?;
        let outputs = self.plan.run(tvec!(x.into())).context("tract failed to run the model")?;
        let y = outputs.first().context("tract returned no output")?;
        let view = y.to_plain_array_view::<f32>().context("tract output is not a plain f32 tensor")?;
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
