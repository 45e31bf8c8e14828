//! Writing and reading the `.emb` blob (`crates/runtime/FORMAT.md`).
//!
//! The writer produces exactly what `ember_runtime::format::Blob::parse`
//! accepts; [`Model::from_blob`] goes back through that same parser, so a
//! round trip checks both ends.

use std::ops::Deref;

use ember_runtime::crc::crc32;
use ember_runtime::format::{self, Blob, Header, TensorEntry};
use ember_runtime::spec::{DType, Dims, IoSpec, ValueKind};

use crate::{ExportError, Model};

/// Bytes held in 16-byte-aligned storage, so that a blob read from a file can
/// be viewed in place by the runtime.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlignedBytes {
    words: Vec<u128>,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes` into aligned storage.
    pub fn new(bytes: &[u8]) -> Self {
        let mut words = vec![0u128; bytes.len().div_ceil(16)];
        bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedBytes { words, len: bytes.len() }
    }
}

impl Deref for AlignedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &bytemuck::cast_slice::<u128, u8>(&self.words)[..self.len]
    }
}

mod quant;

pub use quant::dequantized_params;

fn dims_of(name: &str, dims: &[usize]) -> Result<Dims, ExportError> {
    let d: Vec<u32> = dims.iter().map(|&d| u32::try_from(d).unwrap_or(u32::MAX)).collect();
    Dims::new(&d).ok_or_else(|| ExportError::Invalid(format!("{name} has unsupported dims {dims:?}")))
}

/// One tensor to write: its table entry's name, type and dims, and its
/// little-endian bytes.
struct Stored<'m> {
    name: &'m str,
    dtype: DType,
    dims: Dims,
    bytes: Vec<u8>,
}

/// The f32 parameters (version 1), or the quantized tensors (version 2),
/// then the assets.
fn stored_tensors(model: &Model) -> Result<Vec<Stored<'_>>, ExportError> {
    let mut out = match &model.quant {
        None => model
            .params
            .iter()
            .map(|t| {
                let bytes = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
                Ok(Stored { name: &t.name, dtype: DType::F32, dims: dims_of(&t.name, &t.dims)?, bytes })
            })
            .collect::<Result<Vec<_>, ExportError>>()?,
        Some(q) => quant::stored(model, q)?,
    };
    for a in &model.assets {
        let dims = Dims::new(&[u32::try_from(a.bytes.len()).unwrap_or(u32::MAX)])
            .ok_or_else(|| ExportError::Invalid(format!("asset {} is empty or too large", a.name)))?;
        out.push(Stored { name: &a.name, dtype: DType::U8, dims, bytes: a.bytes.clone() });
    }
    Ok(out)
}

impl Model {
    /// Encodes the model as a `.emb` blob: format version 1 when `quant` is
    /// `None`, version 2 (with [`crate::quant::Quantized::tensors`] as the
    /// layers' tensors) otherwise.
    pub fn to_blob(&self) -> Result<Vec<u8>, ExportError> {
        self.validate()?;
        let cap = |what| move |_| ExportError::Capacity(what);
        let layers = heapless::Vec::from_slice(&self.layers).map_err(cap("too many layers"))?;
        let mut metadata = heapless::Vec::new();
        for (k, v) in &self.metadata {
            metadata.push((k.as_str(), v.as_str())).map_err(|_| ExportError::Capacity("too many metadata entries"))?;
        }
        let stored = stored_tensors(self)?;
        let quant = match &self.quant {
            None => heapless::Vec::new(),
            Some(q) => heapless::Vec::from_slice(&q.layers).map_err(cap("too many layers"))?,
        };
        let version = if self.quant.is_some() { format::VERSION_QUANT } else { format::VERSION };
        let mut header = Header {
            name: &self.name,
            input: self.input,
            output: self.output(),
            layers,
            tensors: heapless::Vec::new(),
            tokenizer: self.tokenizer,
            metadata,
            quant,
        };
        // Offsets depend on the header's length, which depends on the offsets
        // (varints): iterate until the data start is stable.
        let mut data_start = format::align_up(format::PREAMBLE_LEN);
        let encoded = loop {
            header.tensors.clear();
            let mut off = data_start;
            for t in &stored {
                let entry = TensorEntry {
                    name: t.name,
                    dtype: t.dtype,
                    dims: t.dims,
                    offset: u32::try_from(off).map_err(|_| ExportError::Capacity("blob larger than 4 GiB"))?,
                };
                off = format::align_up(off + entry.byte_len());
                header.tensors.push(entry).map_err(|_| ExportError::Capacity("too many tensors"))?;
            }
            let mut encoded = postcard::to_allocvec(&header).map_err(|e| ExportError::Invalid(e.to_string()))?;
            if version == format::VERSION_QUANT {
                let table = postcard::to_allocvec(&header.quant).map_err(|e| ExportError::Invalid(e.to_string()))?;
                encoded.extend_from_slice(&table);
            }
            let start = format::align_up(format::PREAMBLE_LEN + encoded.len());
            if start == data_start {
                break encoded;
            }
            data_start = start;
        };
        let data_end = header.tensors.last().map_or(data_start, |t| t.offset as usize + t.byte_len());
        let total = data_end + format::CRC_LEN;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&format::MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        out.extend_from_slice(
            &u32::try_from(total).map_err(|_| ExportError::Capacity("blob larger than 4 GiB"))?.to_le_bytes(),
        );
        out.extend_from_slice(&encoded);
        for (t, e) in stored.iter().zip(&header.tensors) {
            out.resize(e.offset as usize, 0);
            out.extend_from_slice(&t.bytes);
        }
        // A model without tensors still pads its header out to the data section.
        out.resize(data_end, 0);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(out.len(), total);
        if version == format::VERSION_QUANT {
            // The values rules (scales, requantization pairs) are the reader's.
            Blob::parse(&AlignedBytes::new(&out))?;
        }
        Ok(out)
    }

    /// Decodes a blob (checked by the runtime's parser) back into a model.
    /// A version-2 blob gives a model with `quant` set to its stored tensors
    /// and `params` to their f32 view ([`dequantized_params`]).
    pub fn from_blob(bytes: &[u8]) -> Result<Model, ExportError> {
        let aligned = AlignedBytes::new(bytes);
        let blob = Blob::parse(&aligned)?;
        let h = blob.header();
        let (values, stored) = if blob.version() == format::VERSION_QUANT {
            let q = quant::read(&blob)?;
            (dequantized_params(&h.layers, &q)?, Some(q))
        } else {
            let values = (0..h.layer_tensor_count()).map(|i| Ok(blob.tensor_f32(i)?.to_vec()));
            (values.collect::<Result<Vec<_>, ExportError>>()?, None)
        };
        let input = IoSpec { ..h.input };
        let mut model = Model::new(h.name, input, h.layers.to_vec(), values)?;
        if stored.is_none() {
            for (t, e) in model.params.iter_mut().zip(&h.tensors) {
                t.name = e.name.to_string();
            }
        }
        model.quant = stored;
        model.tokenizer = h.tokenizer;
        for (i, e) in h.tensors.iter().enumerate().skip(h.layer_tensor_count()) {
            if e.dtype == DType::U8 {
                model.assets.push(crate::Asset { name: e.name.to_string(), bytes: blob.tensor_u8(i)?.to_vec() });
            }
        }
        model.metadata = h.metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        debug_assert!(model.input.kind == ValueKind::F32 || model.input.kind == ValueKind::TokenIds);
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use ember_runtime::spec::{Dims, IoSpec, LayerSpec, Padding, ValueKind};

    use crate::Model;

    #[test]
    fn a_model_without_tensors_round_trips() {
        let pool = LayerSpec::MaxPool2d { height: 7, width: 7, channels: 2, pool: 2, padding: Padding::Same };
        let input = IoSpec { kind: ValueKind::F32, dims: Dims::new(&[7, 7, 2]).unwrap(), range: None };
        let m = Model::new("pool", input, vec![pool], vec![]).unwrap();
        let blob = m.to_blob().unwrap();
        let back = Model::from_blob(&blob).unwrap();
        assert_eq!(back.layers, m.layers);
        assert_eq!(back.output().dims.as_slice(), &[4, 4, 2]);
    }

    /// Dense 3 → 2 (int8, ReLU) then Dense 2 → 2 (weights-only).
    fn quantized() -> Model {
        use ember_runtime::Activation;
        use ember_runtime::qspec::{LayerQuant, QuantMode};
        use ember_runtime::quant::QuantParams;

        use crate::quant::{QData, QTensor, Quantized};
        let layers = vec![
            LayerSpec::Dense { inputs: 3, units: 2, activation: Activation::Relu },
            LayerSpec::Dense { inputs: 2, units: 2, activation: Activation::Linear },
        ];
        let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(3), range: None };
        let t = |name: &str, dims: &[usize], data| QTensor { name: name.into(), dims: dims.to_vec(), data };
        let tensors = vec![
            t("dense_0.weight", &[2, 3], QData::I8(vec![1, -2, 3, 127, -127, 0])),
            t("dense_0.weight_scale", &[2], QData::F32(vec![0.5, 0.25])),
            t("dense_0.bias", &[2], QData::I32(vec![10, -20])),
            t("dense_0.kernel_bias", &[2], QData::I32(vec![12, -25])),
            t("dense_0.requant", &[2, 2], QData::I32(vec![1 << 30, -3, 0, 0])),
            t("dense_1.weight", &[2, 2], QData::I8(vec![4, -5, 6, -7])),
            t("dense_1.weight_scale", &[2], QData::F32(vec![2.0, 0.125])),
            t("dense_1.bias", &[2], QData::F32(vec![0.5, -1.5])),
        ];
        let int8 = LayerQuant {
            mode: QuantMode::Int8,
            input: QuantParams { scale: 0.5, zero_point: -3 },
            output: QuantParams { scale: 0.25, zero_point: 7 },
        };
        let q = Quantized { layers: vec![int8, LayerQuant::WEIGHTS_ONLY], tensors };
        let values = super::dequantized_params(&layers, &q).unwrap();
        let mut m = Model::new("q", input, layers, values).unwrap();
        m.quant = Some(q);
        m
    }

    #[test]
    fn a_quantized_model_round_trips_as_version_2() {
        let m = quantized();
        assert_eq!(m.params[0].data, vec![0.5, -1.0, 1.5, 31.75, -31.75, 0.0]);
        assert_eq!(m.params[1].data, vec![10.0 * 0.5 * 0.5, -20.0 * 0.5 * 0.25]);
        assert_eq!(m.params[2].data, vec![8.0, -10.0, 0.75, -0.875]);
        let blob = m.to_blob().unwrap();
        assert_eq!(u16::from_le_bytes([blob[4], blob[5]]), 2);
        let back = Model::from_blob(&blob).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.to_blob().unwrap(), blob);
    }
}
