//! [`LayerSpec::BatchNorm`] as ONNX: `BatchNormalization` (inference form).
//!
//! Nodes of `batchnorm_4`: `BatchNormalization` (`epsilon` from the spec,
//! inference mode) on the channel axis 1, with initializers
//! `batchnorm_4.gamma`, `.beta`, `.mean`, `.var` as the node's `scale`, `B`,
//! `input_mean`, `input_var`. A map (`[H, W, C]`) is normalised in NCHW and
//! stays there (it joins an image run, see `layout.rs`); a vector (`[C]`)
//! needs no transpose; any other rank (a sequence `[T, C]`) is transposed so
//! that the channel comes first (`batchnorm_4.cfirst`), normalised
//! (`batchnorm_4.bn`) and transposed back (`batchnorm_4`).

use ember_runtime::spec::LayerSpec;

use super::layout::{Layout, channels_last, nchw};
use super::{GraphBuilder, Value, attr_float, attr_ints, check_params};
use crate::{ExportError, Tensor};

/// Emits a [`LayerSpec::BatchNorm`] named `prefix` after `x`.
///
/// # Shapes
/// * map `dims = [H, W, C]`: `x` channels-last or NCHW → NCHW `[batch, C, H, W]`;
/// * vector `dims = [C]`: `[batch, C]` → `[batch, C]`;
/// * other ranks (`dims = [T, C]`, ...): `[batch, ...dims]` → `[batch, ...dims]`.
///
/// `params`: `gamma`, `beta`, `mean`, `var`, each `[C]`.
pub(super) fn export(
    b: &mut GraphBuilder,
    prefix: &str,
    spec: &LayerSpec,
    params: &[Tensor],
    x: Value,
    layout: &mut Layout,
) -> Result<Value, ExportError> {
    let LayerSpec::BatchNorm { dims, epsilon_bits } = *spec else {
        return Err(ExportError::Onnx(format!("{prefix}: not a BatchNorm")));
    };
    let dims: Vec<usize> = dims.as_slice().iter().map(|&d| d as usize).collect();
    let c = *dims.last().ok_or_else(|| ExportError::Onnx(format!("{prefix}: empty dims")))?;
    let ps = check_params(prefix, params, [&[c], &[c], &[c], &[c]])?;
    let eps = f32::from_bits(epsilon_bits);
    match dims[..] {
        [h, w, c] => {
            let x = nchw(b, prefix, x, *layout, [h, w, c])?;
            let y = batch_norm_node(b, prefix, &x.name, ps, eps)?;
            *layout = Layout::Nchw;
            Ok(Value { name: y, dims: x.dims })
        }
        [_] => {
            let x = channels_last(b, prefix, x, *layout, &dims)?;
            let y = batch_norm_node(b, prefix, &x.name, ps, eps)?;
            *layout = Layout::ChannelsLast;
            Ok(Value { name: y, dims })
        }
        _ => {
            // [batch, d1, ..., dr] with the channel dr moved to axis 1, and back.
            let x = channels_last(b, prefix, x, *layout, &dims)?;
            let r = dims.len() as i64;
            let to_first: Vec<i64> = [0, r].into_iter().chain(1..r).collect();
            let to_last: Vec<i64> = std::iter::once(0).chain(2..=r).chain([1]).collect();
            let t = b.node("Transpose", &format!("{prefix}.cfirst"), &[&x.name], vec![attr_ints("perm", &to_first)])?;
            let bn = batch_norm_node(b, &format!("{prefix}.bn"), &t, ps, eps)?;
            let y = b.node("Transpose", prefix, &[&bn], vec![attr_ints("perm", &to_last)])?;
            *layout = Layout::ChannelsLast;
            Ok(Value { name: y, dims })
        }
    }
}

/// `BatchNormalization(x, gamma, beta, mean, var, epsilon)` named `name`
/// (inference mode), its parameters written unchanged.
fn batch_norm_node(
    b: &mut GraphBuilder,
    name: &str,
    x: &str,
    params: &[Tensor; 4],
    epsilon: f32,
) -> Result<String, ExportError> {
    let mut inputs = vec![x.to_string()];
    for t in params {
        inputs.push(b.initializer(t)?);
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    b.node("BatchNormalization", name, &inputs, vec![attr_float("epsilon", epsilon)])
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::Dims;

    use super::*;
    use crate::onnx::testing::{ints, model, nodes};

    #[test]
    fn sequence_batch_norm_moves_the_channel_to_axis_1_and_back() {
        let p = model(&[5, 4], vec![LayerSpec::BatchNorm { dims: Dims::d2(5, 4), epsilon_bits: 1e-3f32.to_bits() }]);
        assert_eq!(
            nodes(&p),
            [
                ("Transpose", "batchnorm_0.cfirst"),
                ("BatchNormalization", "batchnorm_0.bn"),
                ("Transpose", "batchnorm_0")
            ]
        );
        assert_eq!((ints(&p.node[0], "perm"), ints(&p.node[2], "perm")), (&[0, 2, 1][..], &[0, 2, 1][..]));
        let vector = model(&[4], vec![LayerSpec::BatchNorm { dims: Dims::d1(4), epsilon_bits: 1e-3f32.to_bits() }]);
        assert_eq!(nodes(&vector), [("BatchNormalization", "batchnorm_0")]);
    }
}
