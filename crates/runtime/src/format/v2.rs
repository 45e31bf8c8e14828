//! The rules format version 2 adds (see `crates/runtime/FORMAT.md`): the
//! quantization table, the parameters of int8 layers, and the values of the
//! scale and requantization tensors.

use crate::Error;
use crate::qspec::QuantMode;
use crate::quant::QuantParams;
use crate::spec::DType;

use super::{Header, VERSION, VERSION_QUANT};

/// Name of an int8 layer's requantization tensor (`LayerSpec::qparam`).
const REQUANT: &str = "requant";
/// Names of scale tensors end with this (`weight_scale`, `w_scale`, `r_scale`).
const SCALE_SUFFIX: &str = "_scale";

/// Rules that depend on the version: a version-1 blob holds only `F32` and
/// `U8` tensors; a version-2 blob has one quantization entry per layer.
pub(super) fn check_version_rules(h: &Header<'_>, version: u16) -> Result<(), Error> {
    if version == VERSION && h.tensors.iter().any(|t| !matches!(t.dtype, DType::F32 | DType::U8)) {
        return Err(Error::TensorType);
    }
    if version == VERSION_QUANT && h.quant.len() != h.layers.len() {
        return Err(Error::QuantCount);
    }
    Ok(())
}

/// A quantized tensor's parameters: scale finite and positive, zero point an `i8`.
fn params_ok(p: QuantParams) -> bool {
    p.scale.is_finite() && p.scale > 0.0 && (-128..=127).contains(&p.zero_point)
}

/// The quantization table, without the data: empty or one entry per layer,
/// every mode supported by its layer, an int8 layer's input and output
/// parameters valid.
pub(super) fn validate_quant(h: &Header<'_>) -> Result<(), Error> {
    if !h.quant.is_empty() && h.quant.len() != h.layers.len() {
        return Err(Error::QuantCount);
    }
    for (l, q) in h.layers.iter().zip(&h.quant) {
        if !l.supports(q.mode) {
            return Err(Error::UnsupportedQuant);
        }
        if q.mode == QuantMode::Int8 && !(params_ok(q.input) && params_ok(q.output)) {
            return Err(Error::BadQuantParams);
        }
    }
    Ok(())
}

/// Whether a requantization pair is one `QuantizedMultiplier::from_real`
/// can produce: shift in `[−31, 30]`, multiplier 0 or in `[2³⁰, 2³¹)`.
fn requant_ok(pair: &[i32]) -> bool {
    match *pair {
        [m, s] => (-31..=30).contains(&s) && (m == 0 || m >= 1 << 30),
        _ => false,
    }
}

/// The values of the layers' scale tensors (finite and positive) and
/// requantization tensors (see [`requant_ok`]). Runs after the tensor bounds
/// have been checked; a tensor that cannot be viewed is
/// [`Error::TensorOutOfBounds`].
pub(super) fn check_values(bytes: &[u8], h: &Header<'_>) -> Result<(), Error> {
    let mut t = 0;
    for (i, l) in h.layers.iter().enumerate() {
        let mode = h.layer_quant(i).mode;
        if mode == QuantMode::Float {
            t += l.qparam_count(mode);
            continue;
        }
        for p in 0..l.qparam_count(mode) {
            let spec = l.qparam(p, mode).ok_or(Error::BadLayer)?;
            let entry = h.tensors.get(t).ok_or(Error::TensorCount)?;
            t += 1;
            let off = entry.offset as usize;
            let data = off.checked_add(entry.byte_len()).and_then(|end| bytes.get(off..end));
            let data = data.ok_or(Error::TensorOutOfBounds)?;
            if spec.name.ends_with(SCALE_SUFFIX) && spec.dtype == DType::F32 {
                let scales: &[f32] = bytemuck::try_cast_slice(data).map_err(|_| Error::TensorMisaligned)?;
                if !scales.iter().all(|s| s.is_finite() && *s > 0.0) {
                    return Err(Error::BadScale);
                }
            } else if spec.name == REQUANT && spec.dtype == DType::I32 {
                let pairs: &[i32] = bytemuck::try_cast_slice(data).map_err(|_| Error::TensorMisaligned)?;
                if !pairs.chunks(2).all(requant_ok) {
                    return Err(Error::BadRequant);
                }
            }
        }
    }
    Ok(())
}
