//! An interpreter for any blob, on caller-provided buffers (no allocation).
//!
//! Host tools use it when the model's type is not known at compile time; it
//! calls the same kernels as the typed layers.

mod quant;

use crate::format::Blob;
use crate::kernels::{self, CellParams};
use crate::spec::{LayerSpec, ValueKind};
use crate::{Error, activation};

/// Scratch beyond the two activation buffers: recurrent state and gates,
/// the normalised vectors of an entity layer (`columns * dim`), or an int8
/// layer's quantized input (as many `f32` as it takes `i8` bytes).
fn extra_len(blob: &Blob<'_>) -> usize {
    let per_layer = |l: &LayerSpec| match *l {
        LayerSpec::EntityDot { columns, dim, .. } => columns as usize * dim as usize,
        LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => {
            l.recurrent().map_or(0, |r| (2 + r.gates) * r.units)
        }
        LayerSpec::Dense { .. }
        | LayerSpec::Embedding { .. }
        | LayerSpec::Flatten { .. }
        | LayerSpec::Dropout { .. }
        | LayerSpec::Conv2d { .. }
        | LayerSpec::MaxPool2d { .. }
        | LayerSpec::Upsample2d { .. }
        | LayerSpec::BatchNorm { .. }
        | LayerSpec::Conv1d { .. }
        | LayerSpec::MaxPool1d { .. }
        | LayerSpec::GlobalAveragePool { .. }
        | LayerSpec::Conv2dStrided { .. }
        | LayerSpec::DepthwiseConv2d { .. }
        | LayerSpec::AveragePool1d { .. }
        | LayerSpec::AveragePool2d { .. } => 0,
    };
    let header = blob.header();
    let quantized = |(i, l): (usize, &LayerSpec)| quant::int8_scratch(l, header.layer_quant(i).mode);
    let layers = header.layers.iter();
    layers.clone().map(per_layer).chain(layers.enumerate().map(quantized)).max().unwrap_or(0)
}

/// Scratch length (in `f32`) that [`forward`] needs for `blob`.
pub fn scratch_len(blob: &Blob<'_>) -> usize {
    2 * blob.header().max_activation_len() + extra_len(blob)
}

/// Checks the input values: finite, and for token-id models integers below
/// the embedding's vocabulary (or the entity layer's table rows).
fn check_input(blob: &Blob<'_>, input: &[f32]) -> Result<(), Error> {
    if input.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite);
    }
    let header = blob.header();
    if header.input.kind == ValueKind::TokenIds {
        let table = header.layers.first().and_then(LayerSpec::id_table).ok_or(Error::IoMismatch)?;
        let vocab = table.rows as f32;
        if input.iter().any(|&v| v < 0.0 || v >= vocab || libm::truncf(v) != v) {
            return Err(Error::TokenOutOfRange);
        }
    }
    Ok(())
}

/// Runs one sample through every layer of `blob`.
///
/// # Shapes
/// `input`: the model's input elements (`header.input.dims`, flattened; token
/// ids as exact `f32` integers for token-id models); `output`: at least the
/// model's output elements; `scratch`: at least [`scratch_len`]. Returns the
/// number of output elements written.
///
/// # Errors
/// [`Error::InputShape`], [`Error::BufferTooSmall`], [`Error::NonFinite`],
/// [`Error::TokenOutOfRange`] (an id that is negative, fractional or not below
/// the vocabulary size or the entity table's rows), or a tensor error for a
/// blob the caller did not parse.
pub fn forward(blob: &Blob<'_>, input: &[f32], scratch: &mut [f32], output: &mut [f32]) -> Result<usize, Error> {
    let header = blob.header();
    let width = header.max_activation_len();
    if input.len() != header.input.dims.elements() {
        return Err(Error::InputShape);
    }
    let out_len = header.output.dims.elements();
    if scratch.len() < scratch_len(blob) || output.len() < out_len {
        return Err(Error::BufferTooSmall);
    }
    check_input(blob, input)?;
    let (a, rest) = scratch.split_at_mut(width);
    let (b, extra) = rest.split_at_mut(width);
    a[..input.len()].copy_from_slice(input);
    let (mut cur, mut next) = (a, b);
    let mut len = input.len();
    let mut cursor = blob.cursor();
    for _ in 0..header.layers.len() {
        let entry = cursor.next_layer()?;
        let out = entry.spec.output_len();
        if quant::run(&entry, &cur[..len], &mut next[..out], extra)? {
            core::mem::swap(&mut cur, &mut next);
            len = out;
            continue;
        }
        match entry.spec {
            LayerSpec::Dense { activation, .. } => {
                kernels::dense(entry.param_f32(0)?, entry.param_f32(1)?, &cur[..len], &mut next[..out]);
                activation::apply(activation, &mut next[..out]);
            }
            LayerSpec::Embedding { dim, .. } => {
                let (table, dim) = (entry.param_f32(0)?, dim as usize);
                for (t, &id) in cur[..len].iter().enumerate() {
                    let row = table.get(id as usize * dim..(id as usize + 1) * dim).ok_or(Error::TensorShape)?;
                    next[t * dim..(t + 1) * dim].copy_from_slice(row);
                }
            }
            LayerSpec::Flatten { .. } | LayerSpec::Dropout { .. } => continue,
            LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => {
                let r = entry.spec.recurrent().ok_or(Error::LayerKind)?;
                let (w, rw, bias) = (entry.param_f32(0)?, entry.param_f32(1)?, entry.param_f32(2)?);
                let (h, rest) = extra.split_at_mut(r.units);
                let (c, rest) = rest.split_at_mut(r.units);
                let z = &mut rest[..r.gates * r.units];
                let y = &mut next[..out];
                for d in 0..r.dirs {
                    let p =
                        CellParams::direction(w, rw, bias, r.gates, r.units, r.inputs, d).ok_or(Error::TensorShape)?;
                    kernels::run_direction(r.gates, &p, &cur[..len], r.inputs, d == 1, h, c, z, |t, h| {
                        let at = if r.return_sequences { t * r.step_out() } else { 0 } + d * r.units;
                        y[at..at + r.units].copy_from_slice(h);
                    });
                }
            }
            LayerSpec::Conv2d { activation, .. }
            | LayerSpec::Conv2dStrided { activation, .. }
            | LayerSpec::Conv1d { activation, .. } => {
                let g = entry.spec.window().ok_or(Error::BadLayer)?;
                kernels::conv2d(&g, entry.param_f32(0)?, entry.param_f32(1)?, &cur[..len], &mut next[..out]);
                activation::apply(activation, &mut next[..out]);
            }
            LayerSpec::DepthwiseConv2d { activation, .. } => {
                let g = entry.spec.window().ok_or(Error::BadLayer)?;
                let (w, bias) = (entry.param_f32(0)?, entry.param_f32(1)?);
                kernels::depthwise_conv2d(&g, w, bias, &cur[..len], &mut next[..out]);
                activation::apply(activation, &mut next[..out]);
            }
            LayerSpec::AveragePool1d { .. } | LayerSpec::AveragePool2d { .. } => {
                let g = entry.spec.window().ok_or(Error::BadLayer)?;
                kernels::average_pool2d(&g, &cur[..len], &mut next[..out]);
            }
            LayerSpec::GlobalAveragePool { .. } => kernels::global_average_pool(&cur[..len], &mut next[..out]),
            LayerSpec::MaxPool2d { .. } | LayerSpec::MaxPool1d { .. } => {
                let g = entry.spec.window().ok_or(Error::BadLayer)?;
                kernels::max_pool2d(&g, &cur[..len], &mut next[..out]);
            }
            LayerSpec::Upsample2d { height, width, channels, factor } => {
                let u = |v: u32| v as usize;
                kernels::upsample2d(u(height), u(width), u(channels), u(factor), &cur[..len], &mut next[..out]);
            }
            LayerSpec::BatchNorm { .. } => {
                let eps = entry.spec.batch_norm_epsilon().ok_or(Error::BadLayer)?;
                let p = |i| entry.param_f32(i);
                kernels::batch_norm(p(0)?, p(1)?, p(2)?, p(3)?, eps, &cur[..len], &mut next[..out]);
            }
            LayerSpec::EntityDot { dim, .. } => {
                let p = |i| entry.param_f32(i);
                let eps = entry.spec.batch_norm_epsilon().ok_or(Error::BadLayer)?;
                let params = kernels::EntityParams {
                    weight: p(0)?,
                    bias: p(1)?,
                    gamma: p(2)?,
                    beta: p(3)?,
                    mean: p(4)?,
                    var: p(5)?,
                    epsilon: eps,
                    dim: dim as usize,
                };
                // Ids were checked by `check_input` (only layer 0 takes ids).
                let ids = cur[..len].iter().map(|&v| v as u32);
                *next.first_mut().ok_or(Error::BufferTooSmall)? = kernels::entity_dot(&params, ids, extra)?;
            }
        }
        core::mem::swap(&mut cur, &mut next);
        len = out;
    }
    output[..len].copy_from_slice(&cur[..len]);
    Ok(len)
}
