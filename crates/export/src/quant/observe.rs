//! The f32 activations a calibration set produces, layer by layer.
//!
//! Each layer runs alone as a one-layer [`Model::sub_model`] through the
//! runtime's blob interpreter (`ember_runtime::dynamic::forward`), fed with
//! the previous layer's outputs: the same f32 arithmetic as the whole model
//! (the interpreter keeps activations in f32 between layers), with every
//! layer's input and output in reach for the observers.

use ember_runtime::dynamic;
use ember_runtime::format::Blob;

use super::QuantizeError;
use crate::{AlignedBytes, Model};

/// Checks the calibration samples against the model's input: at least one
/// sample, each of the input's length, every value finite.
///
/// # Errors
/// [`QuantizeError::EmptyCalibration`], [`QuantizeError::SampleLength`],
/// [`QuantizeError::NonFinite`].
pub fn check_calibration(model: &Model, samples: &[Vec<f32>]) -> Result<(), QuantizeError> {
    if samples.is_empty() {
        return Err(QuantizeError::EmptyCalibration);
    }
    let want = model.input.dims.elements();
    for (index, s) in samples.iter().enumerate() {
        if s.len() != want {
            return Err(QuantizeError::SampleLength { index, got: s.len(), want });
        }
        if let Some(position) = s.iter().position(|v| !v.is_finite()) {
            return Err(QuantizeError::NonFinite { index, position, value: s[position].to_string() });
        }
    }
    Ok(())
}

/// Runs `samples` through layers `0..=last` of `model` in f32 and calls
/// `visit(layer, inputs, outputs)` once per layer, with the layer's input and
/// output for every sample (the first layer's inputs are `samples`).
///
/// # Shapes
/// `samples`: each `model.input.dims.elements()` values (checked by
/// [`check_calibration`]); `outputs[k]`: `model.layers[layer].output_len()`.
///
/// # Errors
/// [`QuantizeError::Forward`] when the interpreter rejects a sample (a token
/// id outside the vocabulary, say), [`QuantizeError::Export`] for a model
/// that does not encode.
pub fn for_each_layer(
    model: &Model,
    samples: &[Vec<f32>],
    last: usize,
    mut visit: impl FnMut(usize, &[Vec<f32>], &[Vec<f32>]) -> Result<(), QuantizeError>,
) -> Result<(), QuantizeError> {
    let mut current: Vec<Vec<f32>> = samples.to_vec();
    for (i, spec) in model.layers.iter().enumerate().take(last + 1) {
        let sub = model.sub_model(format!("{}_layer{i}", model.name), i..i + 1)?;
        let bytes = AlignedBytes::new(&sub.to_blob()?);
        let blob = Blob::parse(&bytes).map_err(crate::ExportError::from)?;
        let mut scratch = vec![0f32; dynamic::scratch_len(&blob)];
        let mut next = Vec::with_capacity(current.len());
        for (index, x) in current.iter().enumerate() {
            let mut y = vec![0f32; spec.output_len()];
            dynamic::forward(&blob, x, &mut scratch, &mut y).map_err(|e| QuantizeError::Forward {
                index,
                layer: i,
                message: e.to_string(),
            })?;
            next.push(y);
        }
        visit(i, &current, &next)?;
        current = next;
    }
    Ok(())
}
