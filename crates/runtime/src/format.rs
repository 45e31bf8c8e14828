//! The `.emb` blob reader. The wire format is specified in `crates/runtime/FORMAT.md`.
//!
//! [`Blob::parse`] checks everything once (preamble, length, CRC-32, header,
//! every tensor's bounds and alignment, every layer's shapes and the chain
//! between layers); afterwards tensors are viewed in place without copying.
//!
//! Two versions are read: 1 (f32 models) and 2 (quantized models: the header
//! ends with one [`LayerQuant`] per layer, and the layers' tensors follow
//! [`LayerSpec::qparam`]; the extra checks are in `format/v2.rs`).

use heapless::Vec;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::crc::crc32;
use crate::qspec::LayerQuant;
use crate::spec::{DType, Dims, IoSpec, LayerSpec, TokenizerSpec, ValueKind};

/// The first four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"EMBR";
mod cursor;
mod decode;
mod v2;

pub use cursor::{LayerCursor, LayerEntry};
pub use decode::decode_quant_table;

/// Format version 1: f32 models (the exporter writes it for every model
/// without quantization).
pub const VERSION: u16 = 1;
/// Format version 2: quantized models (a quantization table after the
/// version-1 header fields; `I8`, `I16` and `I32` tensors).
pub const VERSION_QUANT: u16 = 2;
/// Length of the fixed preamble: magic, version, reserved, header length, total length.
pub const PREAMBLE_LEN: usize = 16;
/// Alignment of the blob in memory and of every tensor inside it.
pub const ALIGN: usize = 16;
/// Length of the trailing CRC-32.
pub const CRC_LEN: usize = 4;
/// Most layers in a model.
pub const MAX_LAYERS: usize = 32;
/// Most tensors in a model.
pub const MAX_TENSORS: usize = 64;
/// Most metadata entries.
pub const MAX_METADATA: usize = 16;

/// One entry of the tensor table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorEntry<'a> {
    /// Name, `{layer}.{param}` for layer parameters (for example `dense_0.weight`).
    pub name: &'a str,
    /// Element type.
    pub dtype: DType,
    /// Dimensions, row-major.
    pub dims: Dims,
    /// Byte offset of the first element from the start of the blob (a multiple of 16).
    pub offset: u32,
}

impl TensorEntry<'_> {
    /// Length of the tensor's data in bytes.
    pub fn byte_len(&self) -> usize {
        self.dims.elements() * self.dtype.size()
    }
}

/// The decoded header: the model spec and the tensor table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header<'a> {
    /// Model name.
    pub name: &'a str,
    /// Input of one sample.
    pub input: IoSpec,
    /// Output of one sample.
    pub output: IoSpec,
    /// Layers, applied in order.
    pub layers: Vec<LayerSpec, MAX_LAYERS>,
    /// Parameter tensors of the layers, in layer order, then any assets.
    #[serde(borrow)]
    pub tensors: Vec<TensorEntry<'a>, MAX_TENSORS>,
    /// Tokenizer for text models.
    pub tokenizer: Option<TokenizerSpec>,
    /// Free-form key/value pairs (trainer, preset, dataset, ...).
    #[serde(borrow)]
    pub metadata: Vec<(&'a str, &'a str), MAX_METADATA>,
    /// Quantization of each layer (format version 2): empty for an f32
    /// model, else exactly one entry per layer. Not part of the version-1
    /// header encoding: a version-2 header is the version-1 encoding of the
    /// fields above followed by the postcard encoding of this list.
    #[serde(skip)]
    pub quant: Vec<LayerQuant, MAX_LAYERS>,
}

impl<'a> Header<'a> {
    /// Number of tensors the layers need (the rest are assets): each layer's
    /// [`LayerSpec::qparam_count`] in its mode.
    pub fn layer_tensor_count(&self) -> usize {
        self.layers.iter().enumerate().map(|(i, l)| l.qparam_count(self.layer_quant(i).mode)).sum()
    }

    /// The quantization of layer `i`: its entry of [`Header::quant`], or
    /// [`LayerQuant::FLOAT`] when the table is empty (version 1) or has no
    /// such entry.
    pub fn layer_quant(&self, i: usize) -> LayerQuant {
        self.quant.get(i).copied().unwrap_or(LayerQuant::FLOAT)
    }

    /// Looks up a metadata value.
    pub fn meta(&self, key: &str) -> Option<&'a str> {
        self.metadata.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Largest activation (input or output of any layer) in elements.
    pub fn max_activation_len(&self) -> usize {
        self.layers.iter().map(|l| l.input_len().max(l.output_len())).max().unwrap_or(0)
    }

    /// Checks every structural rule that does not need the data section.
    pub fn validate(&self) -> Result<(), Error> {
        self.input.dims.validate()?;
        self.output.dims.validate()?;
        let (first, last) = match (self.layers.first(), self.layers.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err(Error::BadLayer),
        };
        for l in &self.layers {
            l.validate()?;
        }
        for pair in self.layers.windows(2) {
            if pair[0].output_len() != pair[1].input_len() || pair[1].input_kind() != ValueKind::F32 {
                return Err(Error::LayerChain);
            }
        }
        if self.input.dims.elements() != first.input_len()
            || self.input.kind != first.input_kind()
            || self.output.dims.elements() != last.output_len()
            || self.output.kind != ValueKind::F32
        {
            return Err(Error::IoMismatch);
        }
        v2::validate_quant(self)?;
        if self.tensors.len() < self.layer_tensor_count() {
            return Err(Error::TensorCount);
        }
        let mut t = 0;
        for (i, l) in self.layers.iter().enumerate() {
            let mode = self.layer_quant(i).mode;
            for p in 0..l.qparam_count(mode) {
                let want = l.qparam(p, mode).ok_or(Error::BadLayer)?;
                let got = &self.tensors[t];
                if got.dtype != want.dtype {
                    return Err(Error::TensorType);
                }
                if got.dims != want.dims {
                    return Err(Error::TensorShape);
                }
                t += 1;
            }
        }
        Ok(())
    }
}

/// A parsed, fully checked blob whose tensors are viewed in place.
#[derive(Clone, Debug)]
pub struct Blob<'a> {
    bytes: &'a [u8],
    header: Header<'a>,
    version: u16,
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Rounds `n` up to the next multiple of [`ALIGN`].
pub const fn align_up(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

impl<'a> Blob<'a> {
    /// Checks and decodes a blob. `bytes` must start on a 16-byte boundary
    /// (see [`crate::include_aligned!`]); any byte string yields `Ok` or `Err`,
    /// never a panic.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        if cfg!(target_endian = "big") {
            return Err(Error::UnsupportedTarget);
        }
        if bytes.len() < PREAMBLE_LEN + CRC_LEN {
            return Err(Error::TooShort);
        }
        if bytes[..4] != MAGIC {
            return Err(Error::BadMagic);
        }
        let version = read_u16(bytes, 4);
        if version != VERSION && version != VERSION_QUANT {
            return Err(Error::UnsupportedVersion);
        }
        if read_u16(bytes, 6) != 0 {
            return Err(Error::ReservedNotZero);
        }
        let header_len = read_u32(bytes, 8) as usize;
        if read_u32(bytes, 12) as usize != bytes.len() {
            return Err(Error::LengthMismatch);
        }
        let body = bytes.len() - CRC_LEN;
        if crc32(&bytes[..body]) != read_u32(bytes, body) {
            return Err(Error::ChecksumMismatch);
        }
        if !(bytes.as_ptr() as usize).is_multiple_of(ALIGN) {
            return Err(Error::Misaligned);
        }
        let header_end = PREAMBLE_LEN.checked_add(header_len).filter(|&e| e <= body).ok_or(Error::HeaderOutOfBounds)?;
        let (mut header, mut rest) = Header::decode(&bytes[PREAMBLE_LEN..header_end])?;
        if version == VERSION_QUANT {
            (header.quant, rest) = decode_quant_table(rest)?;
        }
        if !rest.is_empty() {
            return Err(Error::HeaderTrailingBytes);
        }
        v2::check_version_rules(&header, version)?;
        header.validate()?;
        let mut next_free = align_up(header_end);
        for t in &header.tensors {
            t.dims.validate()?;
            let off = t.offset as usize;
            if !off.is_multiple_of(ALIGN) {
                return Err(Error::TensorMisaligned);
            }
            let end = off.checked_add(t.byte_len()).ok_or(Error::TensorOutOfBounds)?;
            if off < next_free || end > body {
                return Err(Error::TensorOutOfBounds);
            }
            next_free = end;
        }
        v2::check_values(bytes, &header)?;
        Ok(Blob { bytes, header, version })
    }

    /// The blob's format version ([`VERSION`] or [`VERSION_QUANT`]).
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The decoded header.
    pub fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// The whole blob.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn tensor_bytes(&self, index: usize, dtype: DType) -> Result<&'a [u8], Error> {
        let t = self.header.tensors.get(index).ok_or(Error::TensorCount)?;
        if t.dtype != dtype {
            return Err(Error::TensorType);
        }
        let off = t.offset as usize;
        self.bytes.get(off..off + t.byte_len()).ok_or(Error::TensorOutOfBounds)
    }

    /// Views tensor `index` as `f32` in place.
    pub fn tensor_f32(&self, index: usize) -> Result<&'a [f32], Error> {
        bytemuck::try_cast_slice(self.tensor_bytes(index, DType::F32)?).map_err(|_| Error::TensorMisaligned)
    }

    /// Views tensor `index` as raw bytes in place.
    pub fn tensor_u8(&self, index: usize) -> Result<&'a [u8], Error> {
        self.tensor_bytes(index, DType::U8)
    }

    /// Views `I8` tensor `index` in place.
    pub fn tensor_i8(&self, index: usize) -> Result<&'a [i8], Error> {
        bytemuck::try_cast_slice(self.tensor_bytes(index, DType::I8)?).map_err(|_| Error::TensorMisaligned)
    }

    /// Views `I16` tensor `index` in place.
    pub fn tensor_i16(&self, index: usize) -> Result<&'a [i16], Error> {
        bytemuck::try_cast_slice(self.tensor_bytes(index, DType::I16)?).map_err(|_| Error::TensorMisaligned)
    }

    /// Views `I32` tensor `index` in place.
    pub fn tensor_i32(&self, index: usize) -> Result<&'a [i32], Error> {
        bytemuck::try_cast_slice(self.tensor_bytes(index, DType::I32)?).map_err(|_| Error::TensorMisaligned)
    }

    /// A cursor over the layers, for binding a typed model.
    pub fn cursor(&self) -> LayerCursor<'_, 'a> {
        LayerCursor::new(self)
    }
}
