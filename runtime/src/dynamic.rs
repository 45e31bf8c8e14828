//! An interpreter for any blob, on caller-provided buffers (no allocation).
//!
//! Host tools use it when the model's type is not known at compile time; it
//! calls the same kernels as the typed layers.

use crate::format::Blob;
use crate::spec::LayerSpec;
use crate::{Error, activation, kernels};

/// Scratch length (in `f32`) that [`forward`] needs for `blob`.
pub fn scratch_len(blob: &Blob<'_>) -> usize {
    2 * blob.header().max_activation_len()
}

/// Runs one sample through every layer of `blob`.
///
/// # Shapes
/// `input`: the model's input elements (`header.input.dims`, flattened);
/// `output`: at least the model's output elements; `scratch`: at least
/// [`scratch_len`]. Returns the number of output elements written.
pub fn forward(blob: &Blob<'_>, input: &[f32], scratch: &mut [f32], output: &mut [f32]) -> Result<usize, Error> {
    let header = blob.header();
    let width = header.max_activation_len();
    if input.len() != header.input.dims.elements() {
        return Err(Error::InputShape);
    }
    let out_len = header.output.dims.elements();
    if scratch.len() < 2 * width || output.len() < out_len {
        return Err(Error::BufferTooSmall);
    }
    let (a, b) = scratch.split_at_mut(width);
    a[..input.len()].copy_from_slice(input);
    let (mut cur, mut next) = (a, &mut b[..width]);
    let mut len = input.len();
    let mut cursor = blob.cursor();
    for _ in 0..header.layers.len() {
        let entry = cursor.next_layer()?;
        let out = entry.spec.output_len();
        match entry.spec {
            LayerSpec::Dense { activation, .. } => {
                kernels::dense(entry.param_f32(0)?, entry.param_f32(1)?, &cur[..len], &mut next[..out]);
                activation::apply(activation, &mut next[..out]);
            }
            #[allow(unreachable_patterns)]
            _ => return Err(Error::LayerKind),
        }
        core::mem::swap(&mut cur, &mut next);
        len = out;
    }
    output[..len].copy_from_slice(&cur[..len]);
    Ok(len)
}
