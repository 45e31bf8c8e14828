//! An independent writer of the `.emb` wire format, built from
//! `crates/runtime/FORMAT.md` alone (not from the code under test): a small
//! postcard encoder for the header ([`WireHeader::encode`]), the version-2
//! quantization table ([`encode_quant`]), hand-placed tensor data and a
//! bitwise CRC-32 (`ember_conformance::crc32_bitwise`).
//!
//! Shared by `blob_format.rs` and `blob_format_v2.rs`; each uses a part.
#![allow(dead_code)]

use ember_conformance::crc32_bitwise;
use ember_export::AlignedBytes;
use ember_runtime::{Blob, Error};

// ---------------------------------------------------------------------------
// A postcard encoder for the header, written from `crates/runtime/FORMAT.md`.
// ---------------------------------------------------------------------------

/// `Dims` as it travels: a rank byte and four `u32` varints.
#[derive(Clone, Copy, Debug)]
pub struct WireDims {
    pub rank: u8,
    pub dims: [u32; 4],
}

pub fn wdims(d: &[u32]) -> WireDims {
    let mut dims = [0; 4];
    dims[..d.len()].copy_from_slice(d);
    WireDims { rank: d.len() as u8, dims }
}

#[derive(Clone, Copy, Debug)]
pub struct WireIo {
    pub kind: u32,
    pub dims: WireDims,
    pub range: Option<[f32; 2]>,
}

/// A `LayerSpec` as it travels: the variant's discriminant, then its fields
/// in order, each a varint here: `u32`s and enum discriminants are varints,
/// and a `bool` or a `Dims` rank (one byte below 128) is the same byte.
#[derive(Clone, Debug)]
pub struct WireLayer {
    pub variant: u32,
    pub fields: Vec<u32>,
}

#[derive(Clone, Debug)]
pub struct WireTensor {
    pub name: Vec<u8>,
    pub dtype: u32,
    pub dims: WireDims,
    pub offset: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct WireTokenizer {
    pub kind: u32,
    pub vocab: u32,
    pub reserved: u32,
    pub lowercase: u8,
    pub start_token: u8,
    pub max_len: u32,
    pub padding: u32,
    pub truncating: u32,
}

#[derive(Clone, Debug)]
pub struct WireHeader {
    pub name: Vec<u8>,
    pub input: WireIo,
    pub output: WireIo,
    pub layers: Vec<WireLayer>,
    pub tensors: Vec<WireTensor>,
    pub tokenizer: Option<WireTokenizer>,
    pub metadata: Vec<(Vec<u8>, Vec<u8>)>,
}

/// LEB128: seven bits per byte, low groups first, high bit = more follows.
pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

impl WireDims {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.rank);
        self.dims.iter().for_each(|&d| varint(out, d as u64));
    }
}

impl WireIo {
    pub fn encode(&self, out: &mut Vec<u8>) {
        varint(out, self.kind as u64);
        self.dims.encode(out);
        match self.range {
            None => out.push(0),
            Some([lo, hi]) => {
                out.push(1);
                out.extend_from_slice(&lo.to_le_bytes());
                out.extend_from_slice(&hi.to_le_bytes());
            }
        }
    }
}

impl WireHeader {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        string(&mut out, &self.name);
        self.input.encode(&mut out);
        self.output.encode(&mut out);
        varint(&mut out, self.layers.len() as u64);
        for l in &self.layers {
            varint(&mut out, l.variant as u64);
            l.fields.iter().for_each(|&v| varint(&mut out, v as u64));
        }
        varint(&mut out, self.tensors.len() as u64);
        for t in &self.tensors {
            string(&mut out, &t.name);
            varint(&mut out, t.dtype as u64);
            t.dims.encode(&mut out);
            varint(&mut out, t.offset as u64);
        }
        match &self.tokenizer {
            None => out.push(0),
            Some(t) => {
                out.push(1);
                varint(&mut out, t.kind as u64);
                varint(&mut out, t.vocab as u64);
                varint(&mut out, t.reserved as u64);
                out.push(t.lowercase);
                out.push(t.start_token);
                varint(&mut out, t.max_len as u64);
                varint(&mut out, t.padding as u64);
                varint(&mut out, t.truncating as u64);
            }
        }
        varint(&mut out, self.metadata.len() as u64);
        for (k, v) in &self.metadata {
            string(&mut out, k);
            string(&mut out, v);
        }
        out
    }
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Preamble + `header` + each tensor's bytes at its offset (zero gaps) + CRC.
/// The header length and total length fields are the true ones.
pub fn assemble(header: &[u8], tensors: &[WireTensor], data: &[Vec<u8>]) -> Vec<u8> {
    assemble_version(1, header, tensors, data)
}

/// [`assemble`] with another format version in the preamble.
pub fn assemble_version(version: u16, header: &[u8], tensors: &[WireTensor], data: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"EMBR");
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(header);
    for (t, d) in tensors.iter().zip(data) {
        let off = t.offset as usize;
        if off < 16 + header.len() || off + d.len() > 1 << 20 {
            continue; // deliberately out of range: no data to place
        }
        if out.len() < off + d.len() {
            out.resize(off + d.len(), 0);
        }
        out[off..off + d.len()].copy_from_slice(d);
    }
    fix_lengths_and_crc(&mut out, true);
    out
}

/// Appends (or, with `append = false`, rewrites the last 4 bytes as) the
/// CRC-32 of everything before it, after setting the total-length field.
pub fn fix_lengths_and_crc(b: &mut Vec<u8>, append: bool) {
    if append {
        b.extend_from_slice(&[0; 4]);
    }
    let total = b.len() as u32;
    b[12..16].copy_from_slice(&total.to_le_bytes());
    set_crc(b);
}

pub fn set_crc(b: &mut [u8]) {
    let body = b.len() - 4;
    let crc = crc32_bitwise(&b[..body]);
    b[body..].copy_from_slice(&crc.to_le_bytes());
}

pub fn parse(bytes: &[u8]) -> Result<(), Error> {
    Blob::parse(&AlignedBytes::new(bytes)).map(|_| ())
}

// ---------------------------------------------------------------------------
// Version 2: the quantization table and integer tensors.
// ---------------------------------------------------------------------------

/// `QuantParams` as it travels: the scale as 4 little-endian bytes, the zero
/// point an `i32` (a zigzag varint).
#[derive(Clone, Copy, Debug)]
pub struct WireParams {
    pub scale: f32,
    pub zero_point: i32,
}

/// `LayerQuant` as it travels: the mode's discriminant (0 Float, 1 Int8,
/// 2 WeightsOnly), then the input and output parameters.
#[derive(Clone, Copy, Debug)]
pub struct WireQuant {
    pub mode: u32,
    pub input: WireParams,
    pub output: WireParams,
}

/// Parameters of a layer that does not use them: `{1.0, 0}`.
pub const UNUSED: WireParams = WireParams { scale: 1.0, zero_point: 0 };

/// A Float (0) or WeightsOnly (2) entry.
pub fn wquant(mode: u32) -> WireQuant {
    WireQuant { mode, input: UNUSED, output: UNUSED }
}

/// postcard's signed integers: zigzag (`0, −1, 1, −2, …` → `0, 1, 2, 3, …`), then LEB128.
pub fn zigzag(out: &mut Vec<u8>, v: i32) {
    varint(out, ((v << 1) ^ (v >> 31)) as u32 as u64);
}

impl WireParams {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.scale.to_le_bytes());
        zigzag(out, self.zero_point);
    }
}

/// The quantization table that follows the version-1 header fields:
/// `seq<LayerQuant>`.
pub fn encode_quant(table: &[WireQuant]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, table.len() as u64);
    for q in table {
        varint(&mut out, q.mode as u64);
        q.input.encode(&mut out);
        q.output.encode(&mut out);
    }
    out
}

pub fn i8_bytes(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

pub fn i32_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
