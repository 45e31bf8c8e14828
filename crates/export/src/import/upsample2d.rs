//! `Resize` and `Upsample` (nearest, the same integer factor on both
//! spatial axes, none on batch and channels): [`LayerSpec::Upsample2d`],
//! output `(y, x)` copying input `(y / f, x / f)`. For an integer factor
//! that is ONNX's `asymmetric` + `floor`, and also `half_pixel` (or
//! `pytorch_half_pixel`) with `round_prefer_floor` or `round_prefer_ceil`.

use ember_runtime::spec::LayerSpec;

use super::ImportError;
use super::attrs;
use super::conv2d::map_input;
use super::value::channels_last;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

/// `Resize` / `Upsample` on the running value.
pub(crate) fn import(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let (c, spatial) = map_input(b, node)?;
    let [h, w] = spatial[..] else { return Err(node_err(node, "only 2-D maps are upsampled")) };
    let mode = attrs::string(node, "mode", "nearest");
    if mode != "nearest" {
        return Err(node_err(node, format!("mode `{mode}` (the runtime upsamples nearest only)")));
    }
    let resize = node.op_type == "Resize";
    let scales: Vec<f32> = if !resize && attrs::has(node, "scales") {
        attrs::floats(node, "scales")
    } else {
        let si = if resize && b.opset >= 11 { 2 } else { 1 };
        match b.input_const(node, si)? {
            Some(s) if s.len() > 0 => s.f32s(),
            _ => match b.input_const(node, 3)? {
                Some(sizes) => {
                    let s = sizes.i64s();
                    b.x.dims.iter().zip(&s).map(|(&d, &o)| o as f32 / d as f32).collect()
                }
                None => return Err(node_err(node, "neither scales nor sizes")),
            },
        }
    };
    let f = scales.get(2).copied().unwrap_or(0.0);
    let ok =
        scales.len() == 4 && scales[0] == 1.0 && scales[1] == 1.0 && scales[3] == f && f >= 1.0 && f.fract() == 0.0;
    if !ok {
        return Err(node_err(
            node,
            format!("scales {scales:?}: the runtime upsamples both spatial axes by one integer factor"),
        ));
    }
    if resize {
        let ct = attrs::string(node, "coordinate_transformation_mode", "half_pixel");
        let nm = attrs::string(node, "nearest_mode", "round_prefer_floor");
        let exact = match ct.as_str() {
            "asymmetric" => nm == "floor" || (f <= 2.0 && nm == "round_prefer_floor"),
            "half_pixel" | "pytorch_half_pixel" => nm.starts_with("round_prefer"),
            // tf2onnx's UpSampling2D: floor((y + 0.5) / f) = floor(y / f) for an integer f.
            "tf_half_pixel_for_nn" => nm == "floor",
            _ => false,
        };
        if !exact {
            return Err(node_err(
                node,
                format!(
                    "coordinate_transformation_mode `{ct}` with nearest_mode `{nm}` does not copy pixel (y / f, x / f)"
                ),
            ));
        }
    }
    let fac = f as usize;
    b.x.require(channels_last(&b.x.sample_dims()), &format!("node `{}` ({})", node_name(node), node.op_type))?;
    let spec = LayerSpec::Upsample2d { height: h as u32, width: w as u32, channels: c as u32, factor: fac as u32 };
    let slot = b.act_slot;
    let i = b.push(spec, Vec::new(), String::new());
    b.act_slot = slot;
    *b.steps.last_mut().expect("a step was pushed") =
        format!("`{}` ({}) → upsample2d_{i}: nearest, factor {fac}", node_name(node), node.op_type);
    b.x.dims = vec![b.x.dims[0], c, h * fac, w * fac];
    b.x.src = channels_last(&b.x.dims[1..]);
    Ok(())
}
