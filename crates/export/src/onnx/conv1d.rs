//! [`LayerSpec::Conv1d`] as ONNX: a 1-D `Conv` (+ activation).
//!
//! The weight is stored OWI (`[filters, kernel, channels]`); its initializer
//! (same name, `conv1d_0.weight`) holds the OIW transpose that `Conv`
//! reads. The input is brought into an NCL run (`[batch, C, L]`, see
//! `layout.rs`) and the output stays there.
//!
//! Nodes of `conv1d_1`: `Conv` named `conv1d_1` (`kernel_shape = [k]`,
//! `strides = [s]`, `pads = [before, after]`, `dilations = [d]`), then the
//! activation `conv1d_1.act`; initializers `conv1d_1.weight` (OIW) and
//! `conv1d_1.bias`.

use ember_runtime::spec::LayerSpec;

use super::conv2d::{Conv, ohwi_to_oihw};
use super::layout::{Layout, window};
use super::{GraphBuilder, Value, check_params};
use crate::{ExportError, Tensor};

/// Emits a [`LayerSpec::Conv1d`] named `prefix` after `x`.
///
/// # Shapes
/// `x`: channels-last `[batch, L, C]` or NCL `[batch, C, L]` → NCL `[batch, F, OL]`.
/// `params`: `weight` `[F, k, C]` (OWI), `bias` `[F]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    params: &[Tensor],
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let LayerSpec::Conv1d { filters, activation, .. } = *spec else {
        return Err(ExportError::Onnx(format!("{prefix}: not a Conv1d")));
    };
    let g = window(prefix, spec)?;
    let f = filters as usize;
    let [weight, bias] = check_params(prefix, params, [&[f, g.kw, g.c], &[f]])?;
    // OWI is OHWI with one kernel row; OIHW with one row is OIW.
    let oiw = ohwi_to_oihw(&weight.data, [f, 1, g.kw, g.c]);
    let conv = Conv { g: &g, one_d: true, dilations: true, group: 1, out_channels: f, activation };
    conv.emit(b, prefix, (&weight.name, &[f, g.c, g.kw], &oiw), bias, x, layout)
}
