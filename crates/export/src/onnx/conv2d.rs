//! [`LayerSpec::Conv2d`] and [`LayerSpec::Conv2dStrided`] as ONNX: `Conv`
//! (+ activation).
//!
//! The convolution weight is stored OHWI (`[filters, kh, kw, channels]`);
//! its initializer (same name, `conv2d_0.weight`) holds the OIHW transpose
//! that `Conv` reads. The input is brought into an NCHW run and the output
//! stays there (see `layout.rs`); `pads` are explicit.
//!
//! Nodes of `conv2d_1`: `Conv` named `conv2d_1` (`kernel_shape = [kh, kw]`,
//! `strides = [1, 1]`, `pads`; a Conv2dStrided writes its `strides` and
//! `dilations` too), then the activation `conv2d_1.act`;
//! initializers `conv2d_1.weight` (OIHW) and `conv2d_1.bias`.

use ember_runtime::spec::{Activation, LayerSpec, Window2d};

use super::layout::{Layout, channels_first, channels_first_out, window, window_attributes};
use super::{GraphBuilder, Value, attr_int, check_params};
use crate::{ExportError, Tensor};

/// OHWI `[o, kh, kw, i]` → OIHW `[o, i, kh, kw]`, row-major.
pub(super) fn ohwi_to_oihw(w: &[f32], [o, kh, kw, i]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0f32; w.len()];
    for f in 0..o {
        for y in 0..kh {
            for x in 0..kw {
                for c in 0..i {
                    out[((f * i + c) * kh + y) * kw + x] = w[((f * kh + y) * kw + x) * i + c];
                }
            }
        }
    }
    out
}

/// Emits a [`LayerSpec::Conv2d`] or [`LayerSpec::Conv2dStrided`] named
/// `prefix` after `x` (see the module docs).
///
/// # Shapes
/// `x`: `[batch, H, W, C]` (or any channels-last value holding `H·W·C`
/// values per sample) or NCHW `[batch, C, H, W]` → NCHW `[batch, F, OH, OW]`.
/// `params`: `weight` `[F, kh, kw, C]` (OHWI), `bias` `[F]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    params: &[Tensor],
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let (filters, activation, strided) = match *spec {
        LayerSpec::Conv2d { filters, activation, .. } => (filters, activation, false),
        LayerSpec::Conv2dStrided { filters, activation, .. } => (filters, activation, true),
        _ => return Err(ExportError::Onnx(format!("{prefix}: not a Conv2d"))),
    };
    let g = window(prefix, spec)?;
    let f = filters as usize;
    let ohwi = [f, g.kh, g.kw, g.c];
    let [weight, bias] = check_params(prefix, params, [&ohwi, &[f]])?;
    let w = (&weight.name[..], &[f, g.c, g.kh, g.kw][..], &ohwi_to_oihw(&weight.data, ohwi)[..]);
    let conv = Conv { g: &g, one_d: false, dilations: strided, group: 1, out_channels: f, activation };
    conv.emit(b, prefix, w, bias, x, layout)
}

/// One ONNX `Conv` node and its activation, shared by the convolution
/// writers (`conv2d.rs`, `conv1d.rs`, `depthwise_conv2d.rs`).
pub(super) struct Conv<'a> {
    /// The window.
    pub g: &'a Window2d,
    /// A 1-D `Conv` on NCL (else 2-D on NCHW).
    pub one_d: bool,
    /// Write the `dilations` attribute (stride-1 Conv2d never did).
    pub dilations: bool,
    /// ONNX `group`, written when above 1.
    pub group: usize,
    /// Output channels.
    pub out_channels: usize,
    /// The activation after it (not softmax).
    pub activation: Activation,
}

impl Conv<'_> {
    /// Emits the node with the ONNX weight `(name, dims, values)` and `bias`
    /// after `x`, leaving the value channels-first.
    ///
    /// # Shapes
    /// `x`: channels-last or channels-first, `g.h·g.w·g.c` values per sample →
    /// NCHW `[batch, out, OH, OW]` or NCL `[batch, out, OW]`.
    pub(super) fn emit(
        &self,
        b: &mut GraphBuilder,
        prefix: &str,
        (w_name, w_dims, w_data): (&str, &[usize], &[f32]),
        bias: &Tensor,
        x: Value,
        layout: &mut Layout,
    ) -> Result<Value, ExportError> {
        if self.activation == Activation::Softmax {
            return Err(ExportError::Onnx(format!("{prefix}: a convolution cannot end in softmax")));
        }
        let x = channels_first(b, prefix, x, *layout, self.g, self.one_d)?;
        let w = b.initializer_with(w_name, w_dims, w_data)?;
        let bias = b.initializer(bias)?;
        let mut attributes = window_attributes(self.g, self.one_d, self.dilations);
        if self.group > 1 {
            attributes.push(attr_int("group", self.group as i64));
        }
        let y = b.node("Conv", prefix, &[&x.name, &w, &bias], attributes)?;
        let y = b.activation(prefix, self.activation, &y)?;
        *layout = Layout::Nchw;
        Ok(Value { name: y, dims: channels_first_out(self.g, self.out_channels, self.one_d) })
    }
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::{Dims, Padding};

    use super::*;
    use crate::onnx::testing::{ints, model, nodes};

    #[test]
    fn even_same_kernel_pads_after_and_the_run_is_left_before_flatten() {
        let conv = LayerSpec::Conv2d {
            height: 5,
            width: 6,
            channels: 3,
            filters: 2,
            kernel_h: 2,
            kernel_w: 2,
            padding: Padding::Same,
            activation: Activation::Sigmoid,
        };
        let flatten = LayerSpec::Flatten { dims: Dims::new(&[5, 6, 2]).unwrap() };
        let dense = LayerSpec::Dense { inputs: 60, units: 4, activation: Activation::Linear };
        let p = model(&[5, 6, 3], vec![conv, flatten, dense]);
        assert_eq!(
            nodes(&p),
            [
                ("Transpose", "conv2d_0.nchw"),
                ("Conv", "conv2d_0"),
                ("Sigmoid", "conv2d_0.act"),
                ("Transpose", "flatten_1.nhwc"),
                ("Flatten", "flatten_1"),
                ("Gemm", "dense_2"),
            ]
        );
        let n = &p.node;
        assert_eq!((ints(&n[0], "perm"), ints(&n[3], "perm")), (&[0, 3, 1, 2][..], &[0, 2, 3, 1][..]));
        assert_eq!(ints(&n[1], "pads"), [0, 0, 1, 1]);
        assert_eq!(ints(&n[1], "kernel_shape"), [2, 2]);
        assert_eq!(ints(&n[1], "strides"), [1, 1]);
        assert_eq!(p.initializer[0].name, "conv2d_0.weight");
        assert_eq!(p.initializer[0].dims, [2, 3, 2, 2]);
    }

    #[test]
    fn weights_go_from_ohwi_to_oihw() {
        // 2 filters, 1x2 window, 3 channels: OHWI value = 100 f + 10 x + c.
        let dims = [2, 1, 2, 3];
        let ohwi: Vec<f32> =
            (0..2).flat_map(|f| (0..2).flat_map(move |x| (0..3).map(move |c| (100 * f + 10 * x + c) as f32))).collect();
        let oihw = ohwi_to_oihw(&ohwi, dims);
        let want: Vec<f32> =
            (0..2).flat_map(|f| (0..3).flat_map(move |c| (0..2).map(move |x| (100 * f + 10 * x + c) as f32))).collect();
        assert_eq!(oihw, want);
    }
}
