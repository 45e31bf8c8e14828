//! Writing and reading the `.emb` blob (`crates/runtime/FORMAT.md`).
//!
//! The writer produces exactly what `ember_runtime::format::Blob::parse`
//! accepts; [`Model::from_blob`] goes back through that same parser, so a
//! round trip checks both ends.

use std::ops::Deref;

use ember_runtime::crc::crc32;
use ember_runtime::format::{self, Blob, Header, TensorEntry};
use ember_runtime::spec::{DType, Dims, IoSpec, ValueKind};

use crate::{ExportError, Model, Tensor};

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

fn dims_of(t: &Tensor) -> Result<Dims, ExportError> {
    let d: Vec<u32> = t.dims.iter().map(|&d| u32::try_from(d).unwrap_or(u32::MAX)).collect();
    Dims::new(&d).ok_or_else(|| ExportError::Invalid(format!("{} has unsupported dims {:?}", t.name, t.dims)))
}

impl Model {
    /// Encodes the model as a `.emb` blob.
    pub fn to_blob(&self) -> Result<Vec<u8>, ExportError> {
        self.validate()?;
        let cap = |what| move |_| ExportError::Capacity(what);
        let layers = heapless::Vec::from_slice(&self.layers).map_err(cap("too many layers"))?;
        let mut metadata = heapless::Vec::new();
        for (k, v) in &self.metadata {
            metadata.push((k.as_str(), v.as_str())).map_err(|_| ExportError::Capacity("too many metadata entries"))?;
        }
        let dims: Vec<Dims> = self.params.iter().map(dims_of).collect::<Result<_, _>>()?;
        let mut header = Header {
            name: &self.name,
            input: self.input,
            output: self.output(),
            layers,
            tensors: heapless::Vec::new(),
            tokenizer: self.tokenizer,
            metadata,
            quant: heapless::Vec::new(),
        };
        // Offsets depend on the header's length, which depends on the offsets
        // (varints): iterate until the data start is stable.
        let mut data_start = format::align_up(format::PREAMBLE_LEN);
        let encoded = loop {
            header.tensors.clear();
            let mut off = data_start;
            for (t, d) in self.params.iter().zip(&dims) {
                let entry = TensorEntry {
                    name: &t.name,
                    dtype: DType::F32,
                    dims: *d,
                    offset: u32::try_from(off).map_err(|_| ExportError::Capacity("blob larger than 4 GiB"))?,
                };
                off = format::align_up(off + entry.byte_len());
                header.tensors.push(entry).map_err(|_| ExportError::Capacity("too many tensors"))?;
            }
            for a in &self.assets {
                let dims = Dims::new(&[u32::try_from(a.bytes.len()).unwrap_or(u32::MAX)])
                    .ok_or_else(|| ExportError::Invalid(format!("asset {} is empty or too large", a.name)))?;
                let entry = TensorEntry {
                    name: &a.name,
                    dtype: DType::U8,
                    dims,
                    offset: u32::try_from(off).map_err(|_| ExportError::Capacity("blob larger than 4 GiB"))?,
                };
                off = format::align_up(off + entry.byte_len());
                header.tensors.push(entry).map_err(|_| ExportError::Capacity("too many tensors"))?;
            }
            let encoded = postcard::to_allocvec(&header).map_err(|e| ExportError::Invalid(e.to_string()))?;
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
        out.extend_from_slice(&format::VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        out.extend_from_slice(
            &u32::try_from(total).map_err(|_| ExportError::Capacity("blob larger than 4 GiB"))?.to_le_bytes(),
        );
        out.extend_from_slice(&encoded);
        for (t, e) in self.params.iter().zip(&header.tensors) {
            out.resize(e.offset as usize, 0);
            for v in &t.data {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        for (a, e) in self.assets.iter().zip(&header.tensors[self.params.len()..]) {
            out.resize(e.offset as usize, 0);
            out.extend_from_slice(&a.bytes);
        }
        // A model without tensors still pads its header out to the data section.
        out.resize(data_end, 0);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(out.len(), total);
        Ok(out)
    }

    /// Decodes a blob (checked by the runtime's parser) back into a model.
    pub fn from_blob(bytes: &[u8]) -> Result<Model, ExportError> {
        let aligned = AlignedBytes::new(bytes);
        let blob = Blob::parse(&aligned)?;
        let h = blob.header();
        let mut values = Vec::new();
        for i in 0..h.layer_tensor_count() {
            values.push(blob.tensor_f32(i)?.to_vec());
        }
        let input = IoSpec { ..h.input };
        let mut model = Model::new(h.name, input, h.layers.to_vec(), values)?;
        for (t, e) in model.params.iter_mut().zip(&h.tensors) {
            t.name = e.name.to_string();
        }
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
}
