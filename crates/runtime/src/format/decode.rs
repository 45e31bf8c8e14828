//! The header decoder of [`Blob::parse`](super::Blob::parse): the postcard
//! encoding of [`Header`] (and of format version 2's quantization table),
//! read by hand rather than through serde.
//!
//! It accepts exactly the byte strings `postcard::take_from_bytes::<Header>`
//! accepts and yields the same values and the same unread rest (the test
//! `header_decode` in `crates/runtime/tests` compares the two on every layer
//! kind and on random mutations of real headers). The serde derives stay on
//! the types (the exporter encodes with them); firmware only links this
//! reader, a fraction of the size of serde's visitors for every layer kind.
//!
//! The postcard rules used: unsigned integers are varints (little-endian
//! groups of 7 bits, at most 3 bytes for a `u16`, 5 for a `u32`, the last
//! byte bounded), `i32` is a zigzag `u32` varint, `u8` a raw byte, `f32` 4
//! little-endian bytes, `bool` a byte 0 or 1, `Option` a tag byte 0 or 1,
//! an enum a `u32` varint variant index then the variant's fields, a struct
//! or array its fields in order, a string or sequence a `usize` varint
//! length (a `u32` varint on 32-bit targets, `u64` on 64-bit ones) then its
//! bytes (UTF-8) or elements. A layer kind appended to [`LayerSpec`] must be
//! added to [`Reader::layer`].

use heapless::Vec;

use super::{Header, MAX_LAYERS, MAX_METADATA, MAX_TENSORS, TensorEntry};
use crate::Error;
use crate::qspec::{LayerQuant, QuantMode};
use crate::quant::QuantParams;
use crate::spec::{
    Activation, DType, Dims, IoSpec, LayerSpec, MAX_RANK, Padding, Side, TokenizerKind, TokenizerSpec, ValueKind,
};

impl<'a> Header<'a> {
    /// Decodes the version-1 header fields (the postcard encoding of
    /// [`Header`] without `quant`, which is left empty) from the start of
    /// `bytes`; returns the header and the bytes after it. The same result as
    /// `postcard::take_from_bytes::<Header>` (every error is
    /// [`Error::HeaderDecode`]), without serde.
    pub fn decode(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), Error> {
        let mut r = Reader { rest: bytes };
        let header = r.header().map_err(|_| Error::HeaderDecode)?;
        Ok((header, r.rest))
    }
}

/// Decodes format version 2's quantization table (the postcard encoding of
/// `heapless::Vec<LayerQuant, MAX_LAYERS>`) from the start of `bytes`;
/// returns it and the bytes after it, as `postcard::take_from_bytes` would
/// (every error is [`Error::HeaderDecode`]).
pub fn decode_quant_table(bytes: &[u8]) -> Result<(Vec<LayerQuant, MAX_LAYERS>, &[u8]), Error> {
    let mut r = Reader { rest: bytes };
    let table = r.quant_table().map_err(|_| Error::HeaderDecode)?;
    Ok((table, r.rest))
}

/// Any decoding failure (reported as [`Error::HeaderDecode`]).
struct Bad;

type Res<T> = Result<T, Bad>;

/// A cursor over the encoded bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

/// A varint of at most `max` bytes whose last byte is at most `last`, as postcard reads it.
fn varint(r: &mut Reader<'_>, max: u32, last: u8) -> Res<u64> {
    let mut out = 0u64;
    for i in 0..max {
        let b = r.byte()?;
        out |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return if i == max - 1 && b > last { Err(Bad) } else { Ok(out) };
        }
    }
    Err(Bad)
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        if n > self.rest.len() {
            return Err(Bad);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Res<u8> {
        let (&b, tail) = self.rest.split_first().ok_or(Bad)?;
        self.rest = tail;
        Ok(b)
    }

    fn u32(&mut self) -> Res<u32> {
        varint(self, 5, 0x0F).map(|v| v as u32)
    }

    fn i32(&mut self) -> Res<i32> {
        let n = self.u32()?;
        Ok(((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    /// A sequence or string length: a varint as wide as `usize`.
    fn len(&mut self) -> Res<usize> {
        #[cfg(target_pointer_width = "64")]
        let v = varint(self, 10, 0x01)?;
        #[cfg(target_pointer_width = "32")]
        let v = varint(self, 5, 0x0F)?;
        #[cfg(target_pointer_width = "16")]
        let v = varint(self, 3, 0x03)?;
        Ok(v as usize)
    }

    /// A sequence length of at most `cap` (more cannot be held: an error).
    fn seq(&mut self, cap: usize) -> Res<usize> {
        let n = self.len()?;
        if n > cap { Err(Bad) } else { Ok(n) }
    }

    fn f32(&mut self) -> Res<f32> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bool(&mut self) -> Res<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Bad),
        }
    }

    /// An `Option` tag: whether a value follows.
    fn some(&mut self) -> Res<bool> {
        self.bool()
    }

    fn str(&mut self) -> Res<&'a str> {
        let n = self.len()?;
        core::str::from_utf8(self.take(n)?).map_err(|_| Bad)
    }

    /// An enum variant index below `n`.
    fn variant(&mut self, n: u32) -> Res<u32> {
        let v = self.u32()?;
        if v < n { Ok(v) } else { Err(Bad) }
    }

    fn pick<T: Copy>(&mut self, values: &[T]) -> Res<T> {
        let v = self.variant(values.len() as u32)?;
        Ok(values[v as usize])
    }

    fn activation(&mut self) -> Res<Activation> {
        use Activation::*;
        self.pick(&[Linear, Relu, Sigmoid, Tanh, Softmax])
    }

    fn padding(&mut self) -> Res<Padding> {
        self.pick(&[Padding::Valid, Padding::Same])
    }

    fn pair(&mut self) -> Res<[u32; 2]> {
        Ok([self.u32()?, self.u32()?])
    }

    fn dims(&mut self) -> Res<Dims> {
        let rank = self.byte()?;
        let mut dims = [0u32; MAX_RANK];
        for d in &mut dims {
            *d = self.u32()?;
        }
        Ok(Dims::from_raw(rank, dims))
    }

    fn io(&mut self) -> Res<IoSpec> {
        let kind = self.pick(&[ValueKind::F32, ValueKind::TokenIds])?;
        let dims = self.dims()?;
        let range = if self.some()? { Some([self.f32()?, self.f32()?]) } else { None };
        Ok(IoSpec { kind, dims, range })
    }

    /// The fields `inputs, units, seq_len, return_sequences, bidirectional` of a recurrent kind.
    fn recurrent(&mut self) -> Res<(u32, u32, u32, bool, bool)> {
        Ok((self.u32()?, self.u32()?, self.u32()?, self.bool()?, self.bool()?))
    }

    /// A [`LayerSpec`]: its variant index, then its fields in declaration order.
    fn layer(&mut self) -> Res<LayerSpec> {
        use LayerSpec as L;
        let kind = self.variant(19)?;
        Ok(match kind {
            0 => L::Dense { inputs: self.u32()?, units: self.u32()?, activation: self.activation()? },
            1 => L::Embedding { vocab: self.u32()?, dim: self.u32()?, seq_len: self.u32()? },
            2 => L::Flatten { dims: self.dims()? },
            3 => L::Dropout { len: self.u32()?, rate_ppm: self.u32()? },
            4 | 5 | 11 => {
                let (inputs, units, seq_len, return_sequences, bidirectional) = self.recurrent()?;
                match kind {
                    4 => L::SimpleRnn { inputs, units, seq_len, return_sequences, bidirectional },
                    5 => L::Lstm { inputs, units, seq_len, return_sequences, bidirectional },
                    _ => L::Gru { inputs, units, seq_len, return_sequences, bidirectional },
                }
            }
            6 => L::Conv2d {
                height: self.u32()?,
                width: self.u32()?,
                channels: self.u32()?,
                filters: self.u32()?,
                kernel_h: self.u32()?,
                kernel_w: self.u32()?,
                padding: self.padding()?,
                activation: self.activation()?,
            },
            7 => L::MaxPool2d {
                height: self.u32()?,
                width: self.u32()?,
                channels: self.u32()?,
                pool: self.u32()?,
                padding: self.padding()?,
            },
            8 => L::Upsample2d { height: self.u32()?, width: self.u32()?, channels: self.u32()?, factor: self.u32()? },
            9 => L::BatchNorm { dims: self.dims()?, epsilon_bits: self.u32()? },
            10 => L::EntityDot { columns: self.u32()?, rows: self.u32()?, dim: self.u32()?, epsilon_bits: self.u32()? },
            12 => L::Conv1d {
                length: self.u32()?,
                channels: self.u32()?,
                filters: self.u32()?,
                kernel: self.u32()?,
                stride: self.u32()?,
                dilation: self.u32()?,
                padding: self.padding()?,
                activation: self.activation()?,
            },
            13 | 17 => {
                let (length, channels, pool, stride) = (self.u32()?, self.u32()?, self.u32()?, self.u32()?);
                let padding = self.padding()?;
                if kind == 13 {
                    L::MaxPool1d { length, channels, pool, stride, padding }
                } else {
                    L::AveragePool1d { length, channels, pool, stride, padding }
                }
            }
            14 => L::GlobalAveragePool { dims: self.dims()? },
            15 => L::Conv2dStrided {
                height: self.u32()?,
                width: self.u32()?,
                channels: self.u32()?,
                filters: self.u32()?,
                kernel: self.pair()?,
                stride: self.pair()?,
                dilation: self.pair()?,
                padding: self.padding()?,
                activation: self.activation()?,
            },
            16 => L::DepthwiseConv2d {
                height: self.u32()?,
                width: self.u32()?,
                channels: self.u32()?,
                kernel: self.pair()?,
                stride: self.pair()?,
                dilation: self.pair()?,
                padding: self.padding()?,
                activation: self.activation()?,
            },
            _ => L::AveragePool2d {
                height: self.u32()?,
                width: self.u32()?,
                channels: self.u32()?,
                pool: self.pair()?,
                stride: self.pair()?,
                padding: self.padding()?,
            },
        })
    }

    fn tensor(&mut self) -> Res<TensorEntry<'a>> {
        let name = self.str()?;
        let dtype = self.pick(&[DType::F32, DType::U8, DType::I8, DType::I16, DType::I32])?;
        Ok(TensorEntry { name, dtype, dims: self.dims()?, offset: self.u32()? })
    }

    fn tokenizer(&mut self) -> Res<TokenizerSpec> {
        Ok(TokenizerSpec {
            kind: self.pick(&[TokenizerKind::Hashing, TokenizerKind::Vocabulary])?,
            vocab: self.u32()?,
            reserved: self.u32()?,
            lowercase: self.bool()?,
            start_token: self.bool()?,
            max_len: self.u32()?,
            padding: self.pick(&[Side::Pre, Side::Post])?,
            truncating: self.pick(&[Side::Pre, Side::Post])?,
        })
    }

    /// The version-1 [`Header`] fields (its `quant` table empty).
    fn header(&mut self) -> Res<Header<'a>> {
        let name = self.str()?;
        let (input, output) = (self.io()?, self.io()?);
        let mut layers = Vec::new();
        for _ in 0..self.seq(MAX_LAYERS)? {
            layers.push(self.layer()?).map_err(|_| Bad)?;
        }
        let mut tensors = Vec::new();
        for _ in 0..self.seq(MAX_TENSORS)? {
            tensors.push(self.tensor()?).map_err(|_| Bad)?;
        }
        let tokenizer = if self.some()? { Some(self.tokenizer()?) } else { None };
        let mut metadata = Vec::new();
        for _ in 0..self.seq(MAX_METADATA)? {
            metadata.push((self.str()?, self.str()?)).map_err(|_| Bad)?;
        }
        Ok(Header { name, input, output, layers, tensors, tokenizer, metadata, quant: Vec::new() })
    }

    fn quant_params(&mut self) -> Res<QuantParams> {
        Ok(QuantParams { scale: self.f32()?, zero_point: self.i32()? })
    }

    /// Format version 2's quantization table: one [`LayerQuant`] per layer.
    fn quant_table(&mut self) -> Res<Vec<LayerQuant, MAX_LAYERS>> {
        let mut table = Vec::new();
        for _ in 0..self.seq(MAX_LAYERS)? {
            let mode = self.pick(&[QuantMode::Float, QuantMode::Int8, QuantMode::WeightsOnly])?;
            let q = LayerQuant { mode, input: self.quant_params()?, output: self.quant_params()? };
            table.push(q).map_err(|_| Bad)?;
        }
        Ok(table)
    }
}
