//! The `.emb` wire format (`crates/runtime/FORMAT.md`): exact bytes, one `rejects_*`
//! test per error a blob can trigger, and robustness against truncated,
//! mutated and misaligned byte strings.
//!
//! Blobs are built here from `crates/runtime/FORMAT.md` alone: a small postcard encoder
//! (`support/wire.rs`, [`WireHeader::encode`]), hand-placed tensor data
//! and a bitwise CRC-32 (`ember_conformance::crc32_bitwise`). The exporter's
//! output is compared with those bytes, and the parser is fed them. Version 2
//! (quantized layers) is tested in `blob_format_v2.rs`.

use super::support::wire::*;
use ember_conformance::{OffsetBuf, crc32_bitwise, dense, input_spec, random_params, rng};
use ember_export::Asset;
use ember_export::{AlignedBytes, Model};
use ember_runtime::model::TypedModel;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{
    BatchNorm, Bidirectional, Blob, Chain, Conv2d, Dense, EntityDot, Error, Forward, Gru, Last, Linear, Lstm,
    MaxPool2d, Recurrent, Relu, SMatrix, SVector, Same, Sequences, Softmax, TokenIds, Upsample2d, dynamic,
};
use rand::RngExt;

// ---------------------------------------------------------------------------
// The fixture: 3 -> 4 (relu) -> 2 (softmax), tensors from offset 256.
// ---------------------------------------------------------------------------

const DATA_START: u32 = 256;

struct Fixture {
    header: WireHeader,
    data: Vec<Vec<u8>>,
    data_start: u32,
}

type FixtureType = Chain<Dense<3, 4, Relu>, Dense<4, 2, Softmax>>;

/// `Dense` (0): inputs, units, activation.
fn layer(inputs: u32, units: u32, activation: u32) -> WireLayer {
    WireLayer { variant: 0, fields: vec![inputs, units, activation] }
}

fn tensor(name: &str, dims: &[u32]) -> WireTensor {
    WireTensor { name: name.as_bytes().to_vec(), dtype: 0, dims: wdims(dims), offset: 0 }
}

impl Fixture {
    fn new() -> Self {
        let specs = [dense(3, 4, Activation::Relu), dense(4, 2, Activation::Softmax)];
        let params = random_params(&specs, &mut rng(11));
        let header = WireHeader {
            name: b"fixture".to_vec(),
            input: WireIo { kind: 0, dims: wdims(&[3]), range: None },
            output: WireIo { kind: 0, dims: wdims(&[2]), range: Some([0.0, 1.0]) },
            layers: vec![layer(3, 4, 1), layer(4, 2, 4)],
            tensors: vec![
                tensor("dense_0.weight", &[4, 3]),
                tensor("dense_0.bias", &[4]),
                tensor("dense_1.weight", &[2, 4]),
                tensor("dense_1.bias", &[2]),
            ],
            tokenizer: None,
            metadata: vec![(b"producer".to_vec(), b"test".to_vec())],
        };
        let mut f = Fixture { header, data: params.iter().map(|p| f32_bytes(p)).collect(), data_start: DATA_START };
        f.relayout();
        f
    }

    /// Packs the tensors from `data_start`, each at the next multiple of 16.
    fn relayout(&mut self) {
        let mut off = self.data_start;
        for (t, d) in self.header.tensors.iter_mut().zip(&self.data) {
            t.offset = off;
            off = (off + d.len() as u32).div_ceil(16) * 16;
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let h = self.header.encode();
        assert!(16 + h.len() <= self.data_start as usize, "fixture header too long for its data start");
        assemble(&h, &self.header.tensors, &self.data)
    }

    fn with(edit: impl FnOnce(&mut Fixture)) -> Vec<u8> {
        let mut f = Fixture::new();
        edit(&mut f);
        f.bytes()
    }
}

fn assert_rejects(bytes: &[u8], want: Error) {
    assert_eq!(parse(bytes), Err(want), "expected {want:?}");
}

/// The exporter's blob of a seeded 3 -> 4 (relu) -> 2 (softmax) model.
fn exported() -> (Model, Vec<u8>) {
    let specs = vec![dense(3, 4, Activation::Relu), dense(4, 2, Activation::Softmax)];
    let values = random_params(&specs, &mut rng(5));
    let model = Model::new("exported", input_spec(3), specs, values).unwrap();
    let blob = model.to_blob().unwrap();
    (model, blob)
}

// ---------------------------------------------------------------------------
// Valid blobs and exact bytes.
// ---------------------------------------------------------------------------

#[test]
fn fixture_is_valid_and_runs() {
    let bytes = Fixture::new().bytes();
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).expect("the hand-built fixture is valid");
    assert_eq!(blob.header().name, "fixture");
    assert_eq!(blob.header().meta("producer"), Some("test"));
    let m = <FixtureType as TypedModel>::load(&aligned).expect("binds to its type");
    let y = m.forward(&SVector::from([0.5, -1.0, 2.0]));
    assert!((y.sum() - 1.0).abs() < 1e-6, "softmax output sums to 1: {y:?}");
}

#[test]
fn exporter_blob_parses_and_round_trips() {
    let (model, blob) = exported();
    let aligned = AlignedBytes::new(&blob);
    let parsed = Blob::parse(&aligned).expect("exporter output parses");
    let h = parsed.header();
    assert_eq!(h.name, "exported");
    assert_eq!(h.layers.as_slice(), model.layers.as_slice());
    assert_eq!(h.tensors.len(), 4);
    assert_eq!(Model::from_blob(&blob).unwrap(), model);
}

#[test]
fn preamble_bytes_are_as_specified() {
    let (_, b) = exported();
    assert_eq!(&b[0..4], &[0x45, 0x4D, 0x42, 0x52], "magic EMBR");
    assert_eq!(&b[4..6], &[1, 0], "version 1, little-endian");
    assert_eq!(&b[6..8], &[0, 0], "reserved");
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    assert!(16 + h <= b.len() - 4, "header inside the blob");
    assert_eq!(u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize, b.len(), "total length, CRC included");
}

#[test]
fn crc_is_zlib_crc32_of_the_body() {
    let (_, b) = exported();
    let body = b.len() - 4;
    assert_eq!(u32::from_le_bytes(b[body..].try_into().unwrap()), crc32_bitwise(&b[..body]));
}

/// The header the exporter must write for [`exported`], encoded by hand.
#[test]
fn exporter_header_is_the_specified_postcard_encoding() {
    let (model, b) = exported();
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let mut want = WireHeader {
        name: b"exported".to_vec(),
        input: WireIo { kind: 0, dims: wdims(&[3]), range: None },
        output: WireIo { kind: 0, dims: wdims(&[2]), range: Some([0.0, 1.0]) },
        layers: vec![layer(3, 4, 1), layer(4, 2, 4)],
        tensors: vec![
            tensor("dense_0.weight", &[4, 3]),
            tensor("dense_0.bias", &[4]),
            tensor("dense_1.weight", &[2, 4]),
            tensor("dense_1.bias", &[2]),
        ],
        tokenizer: None,
        metadata: vec![],
    };
    // Offsets: the data section starts at align16(16 + H); each tensor at the
    // next multiple of 16 after the previous one.
    let mut off = (16 + h as u32).div_ceil(16) * 16;
    for (t, p) in want.tensors.iter_mut().zip(&model.params) {
        t.offset = off;
        off = (off + 4 * p.data.len() as u32).div_ceil(16) * 16;
    }
    assert_eq!(&b[16..16 + h], want.encode().as_slice());
}

#[test]
fn tensors_are_aligned_little_endian_f32_with_zero_gaps() {
    let (model, b) = exported();
    let aligned = AlignedBytes::new(&b);
    let blob = Blob::parse(&aligned).unwrap();
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let mut expected_off = (16 + h).div_ceil(16) * 16;
    let mut prev_end = 16 + h;
    for (t, p) in blob.header().tensors.iter().zip(&model.params) {
        let off = t.offset as usize;
        assert_eq!(off % 16, 0, "{} offset {off} is not a multiple of 16", t.name);
        assert_eq!(off, expected_off, "{} is packed right after the previous tensor", t.name);
        assert!(b[prev_end..off].iter().all(|&x| x == 0), "gap before {} is zero", t.name);
        let stored: Vec<u32> =
            b[off..off + 4 * p.data.len()].chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        let want: Vec<u32> = p.data.iter().map(|v| v.to_bits()).collect();
        assert_eq!(stored, want, "{} holds the model's values as little-endian f32", t.name);
        prev_end = off + 4 * p.data.len();
        expected_off = prev_end.div_ceil(16) * 16;
    }
    assert_eq!(prev_end + 4, b.len(), "the CRC follows the last tensor");
}

/// A one-layer model written byte by byte from `crates/runtime/FORMAT.md`:
/// `Dense { inputs: 2, units: 3, activation: Relu }` named "t".
fn hand_written_blob() -> Vec<u8> {
    #[rustfmt::skip]
    let header: Vec<u8> = [
        &[0x01, b't'][..],                       // name: len 1, "t"
        &[0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00],   // input: F32, rank 1, [2, 0, 0, 0], range None
        &[0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00],   // output: F32, rank 1, [3, 0, 0, 0], range None
        &[0x01, 0x00, 0x02, 0x03, 0x01],         // layers: 1 x Dense (0) { inputs 2, units 3, Relu (1) }
        &[0x02],                                 // tensors: 2
        &[0x0E], b"dense_0.weight",              //   name
        &[0x00, 0x02, 0x03, 0x02, 0x00, 0x00],   //   F32, rank 2, [3, 2, 0, 0]
        &[0x60],                                 //   offset 96 = align16(16 + 67)
        &[0x0C], b"dense_0.bias",                //   name
        &[0x00, 0x01, 0x03, 0x00, 0x00, 0x00],   //   F32, rank 1, [3, 0, 0, 0]
        &[0x80, 0x01],                           //   offset 128 (varint: 0x80 0x01)
        &[0x00],                                 // tokenizer: None
        &[0x00],                                 // metadata: empty
    ]
    .concat();
    assert_eq!(header.len(), 67);
    let weight = [0.5f32, -1.0, 2.0, 0.25, -1.5, 1.0]; // [[0.5, -1], [2, 0.25], [-1.5, 1]]
    let bias = [0.25f32, -0.5, 1.0];
    let mut b = vec![0x45, 0x4D, 0x42, 0x52, 0x01, 0x00, 0x00, 0x00, 67, 0, 0, 0, 144, 0, 0, 0];
    b.extend_from_slice(&header);
    b.resize(96, 0);
    b.extend(weight.iter().flat_map(|v| v.to_le_bytes()));
    b.resize(128, 0);
    b.extend(bias.iter().flat_map(|v| v.to_le_bytes()));
    assert_eq!(b.len(), 140);
    let crc = crc32_bitwise(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

#[test]
fn hand_written_blob_parses_and_runs() {
    let bytes = hand_written_blob();
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).expect("the hand-written blob is valid");
    assert_eq!(blob.header().name, "t");
    // y = relu(W x + b) for x = [2, 4]: [relu(1 - 4 + 0.25), 4 + 1 - 0.5, -3 + 4 + 1].
    let want = [0.0f32, 4.5, 2.0];
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut out = [0.0f32; 3];
    assert_eq!(dynamic::forward(&blob, &[2.0, 4.0], &mut scratch, &mut out), Ok(3));
    assert_eq!(out, want);
    let typed = <Dense<2, 3, Relu> as TypedModel>::load(&aligned).unwrap();
    assert_eq!(typed.forward(&SVector::from([2.0, 4.0])).as_slice(), &want);
}

#[test]
fn exporter_writes_the_hand_written_bytes() {
    let layers = vec![dense(2, 3, Activation::Relu)];
    let values = vec![vec![0.5, -1.0, 2.0, 0.25, -1.5, 1.0], vec![0.25, -0.5, 1.0]];
    let model = Model::new("t", input_spec(2), layers, values).unwrap();
    assert_eq!(model.to_blob().unwrap(), hand_written_blob());
}

#[test]
fn accepts_assets_tokenizer_metadata_and_gaps() {
    let mut f = Fixture::new();
    f.header.tensors.push(WireTensor { name: b"vocab".to_vec(), dtype: 1, dims: wdims(&[5]), offset: 0 });
    f.data.push(b"a\nbc\n".to_vec());
    f.relayout();
    f.header.tensors[4].offset += 64; // a zero gap before the asset is allowed
    f.header.tokenizer = Some(WireTokenizer {
        kind: 1,
        vocab: 300,
        reserved: 3,
        lowercase: 1,
        start_token: 1,
        max_len: 20,
        padding: 0,
        truncating: 1,
    });
    f.header.metadata.push((b"k".to_vec(), "välue".as_bytes().to_vec()));
    let bytes = f.bytes();
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).unwrap();
    let h = blob.header();
    let tok = h.tokenizer.expect("tokenizer decoded");
    assert_eq!((tok.vocab, tok.reserved, tok.lowercase, tok.start_token, tok.max_len), (300, 3, true, true, 20));
    assert_eq!(tok.kind, ember_runtime::spec::TokenizerKind::Vocabulary);
    assert_eq!(tok.padding, ember_runtime::spec::Side::Pre);
    assert_eq!(tok.truncating, ember_runtime::spec::Side::Post);
    assert_eq!(h.meta("k"), Some("välue"));
    assert_eq!(blob.tensor_u8(4).unwrap(), b"a\nbc\n");
    assert_eq!(h.output.range, Some([0.0, 1.0]));
}

// ---------------------------------------------------------------------------
// One rejects_* test per error.
// ---------------------------------------------------------------------------

#[test]
fn rejects_too_short() {
    let b = Fixture::new().bytes();
    for n in [0, 1, 4, 16, 19] {
        assert_rejects(&b[..n], Error::TooShort);
    }
}

#[test]
fn rejects_bad_magic() {
    for i in 0..4 {
        let mut b = Fixture::new().bytes();
        b[i] ^= 0x20; // "eMBR", ...
        set_crc(&mut b);
        assert_rejects(&b, Error::BadMagic);
    }
}

#[test]
fn rejects_unsupported_version() {
    for v in [0u16, 3, 0x100] {
        let mut b = Fixture::new().bytes();
        b[4..6].copy_from_slice(&v.to_le_bytes());
        set_crc(&mut b);
        assert_rejects(&b, Error::UnsupportedVersion);
    }
    // Version 2 is read, but its header must go on with the quantization table.
    let mut b = Fixture::new().bytes();
    b[4..6].copy_from_slice(&2u16.to_le_bytes());
    set_crc(&mut b);
    assert_rejects(&b, Error::HeaderDecode);
}

#[test]
fn rejects_reserved_not_zero() {
    for r in [1u16, 0x8000] {
        let mut b = Fixture::new().bytes();
        b[6..8].copy_from_slice(&r.to_le_bytes());
        set_crc(&mut b);
        assert_rejects(&b, Error::ReservedNotZero);
    }
}

#[test]
fn rejects_length_mismatch() {
    let good = Fixture::new().bytes();
    // Total field off by one either way.
    for delta in [-1i64, 1] {
        let mut b = good.clone();
        let total = (b.len() as i64 + delta) as u32;
        b[12..16].copy_from_slice(&total.to_le_bytes());
        set_crc(&mut b);
        assert_rejects(&b, Error::LengthMismatch);
    }
    // Padding after the CRC (the old CRC is not at the end any more).
    let mut b = good.clone();
    b.extend_from_slice(&[0; 16]);
    assert_rejects(&b, Error::LengthMismatch);
    // A valid blob cut short.
    assert_rejects(&good[..good.len() - 1], Error::LengthMismatch);
}

#[test]
fn rejects_checksum_mismatch() {
    let good = Fixture::new().bytes();
    for i in [16, 40, DATA_START as usize + 3, good.len() - 5, good.len() - 1] {
        let mut b = good.clone();
        b[i] ^= 0x01;
        assert_rejects(&b, Error::ChecksumMismatch);
    }
}

#[test]
fn rejects_misaligned() {
    let b = Fixture::new().bytes();
    assert_eq!(Blob::parse(OffsetBuf::new(&b, 0).bytes()).map(|_| ()), Ok(()));
    for off in [1, 4, 8] {
        let buf = OffsetBuf::new(&b, off);
        assert_eq!(Blob::parse(buf.bytes()).map(|_| ()), Err(Error::Misaligned), "offset {off}");
        assert_eq!(<FixtureType as TypedModel>::load(buf.bytes()).map(|_| ()).unwrap_err(), Error::Misaligned);
    }
}

#[test]
fn rejects_header_out_of_bounds() {
    let good = Fixture::new().bytes();
    let body = good.len() - 4;
    for h in [(body - 16 + 1) as u32, u32::MAX] {
        let mut b = good.clone();
        b[8..12].copy_from_slice(&h.to_le_bytes());
        set_crc(&mut b);
        assert_rejects(&b, Error::HeaderOutOfBounds);
    }
    // The largest in-bounds header length is not out of bounds (it fails later).
    let mut b = good.clone();
    b[8..12].copy_from_slice(&((body - 16) as u32).to_le_bytes());
    set_crc(&mut b);
    assert_ne!(parse(&b), Err(Error::HeaderOutOfBounds));
}

/// Rewrites the header bytes (keeping the data where the fixture put it).
fn with_header_bytes(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let f = Fixture::new();
    let mut h = f.header.encode();
    edit(&mut h);
    assemble(&h, &f.header.tensors, &f.data)
}

#[test]
fn rejects_header_decode() {
    // Header length shorter than the encoding: runs out of bytes.
    let mut b = Fixture::new().bytes();
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap());
    b[8..12].copy_from_slice(&(h - 1).to_le_bytes());
    set_crc(&mut b);
    assert_rejects(&b, Error::HeaderDecode);
    // An empty header.
    let b = with_header_bytes(|h| h.clear());
    assert_rejects(&b, Error::HeaderDecode);
    // Unknown enum discriminants: ValueKind 2, LayerSpec 19 (18 is AveragePool2d) and 0x7F,
    // Activation 5, DType 5 (2..=4 are version 2's integer types, which a version-1 blob may
    // not use: `TensorType`).
    let name_len = 1 + b"fixture".len();
    assert_rejects(&with_header_bytes(|h| h[name_len] = 2), Error::HeaderDecode);
    let layers_at = name_len + 7 + 15; // input 7 bytes, output 7 + 8 (range)
    assert_eq!(Fixture::new().header.encode()[layers_at], 2, "layer count byte");
    assert_rejects(&with_header_bytes(|h| h[layers_at + 1] = 19), Error::HeaderDecode);
    assert_rejects(&with_header_bytes(|h| h[layers_at + 1] = 0x7F), Error::HeaderDecode);
    assert_rejects(&with_header_bytes(|h| h[layers_at + 4] = 5), Error::HeaderDecode);
    let tensors_at = layers_at + 1 + 2 * 4;
    let dtype_at = tensors_at + 1 + 1 + b"dense_0.weight".len();
    assert_eq!(Fixture::new().header.encode()[dtype_at], 0, "dtype byte");
    assert_rejects(&with_header_bytes(|h| h[dtype_at] = 5), Error::HeaderDecode);
    for int_dtype in 2..=4 {
        assert_rejects(&with_header_bytes(|h| h[dtype_at] = int_dtype), Error::TensorType);
    }
    // Invalid UTF-8 in the name.
    let b = Fixture::with(|f| f.header.name = vec![b'f', 0xFF, b'x']);
    assert_rejects(&b, Error::HeaderDecode);
    // A bool that is neither 0 nor 1 (tokenizer.lowercase).
    let b = Fixture::with(|f| {
        f.header.tokenizer = Some(WireTokenizer {
            kind: 0,
            vocab: 10,
            reserved: 3,
            lowercase: 2,
            start_token: 0,
            max_len: 5,
            padding: 0,
            truncating: 0,
        })
    });
    assert_rejects(&b, Error::HeaderDecode);
    // An Option tag of 2 (the input range).
    assert_rejects(&with_header_bytes(|h| h[name_len + 6] = 2), Error::HeaderDecode);
    // A varint longer than a u32 allows (the first tensor's offset).
    let offset_at = dtype_at + 1 + 5;
    let b = with_header_bytes(|h| {
        h.splice(offset_at..offset_at + 2, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
    });
    assert_rejects(&b, Error::HeaderDecode);
    // More entries than the runtime holds: 33 layers, 65 tensors, 17 metadata pairs.
    let b = Fixture::with(|f| {
        f.header.layers = vec![layer(3, 3, 0); 33];
        f.data_start = 2048;
        f.relayout();
    });
    assert_rejects(&b, Error::HeaderDecode);
    let b = Fixture::with(|f| {
        let t = f.header.tensors[1].clone();
        f.header.tensors.resize(65, t);
        f.data.resize(65, vec![0; 16]);
        f.data_start = 2048;
        f.relayout();
    });
    assert_rejects(&b, Error::HeaderDecode);
    let b = Fixture::with(|f| f.header.metadata = vec![(b"k".to_vec(), b"v".to_vec()); 17]);
    assert_rejects(&b, Error::HeaderDecode);
}

#[test]
fn capacities_are_inclusive() {
    // 32 layers, 64 tensors and 16 metadata pairs are fine.
    let b = Fixture::with(|f| f.header.metadata = vec![(b"k".to_vec(), b"v".to_vec()); 16]);
    assert_eq!(parse(&b), Ok(()));
    let b = Fixture::with(|f| {
        f.header.layers = vec![layer(3, 4, 1)];
        f.header.layers.extend(vec![layer(4, 4, 1); 30]);
        f.header.layers.push(layer(4, 2, 4));
        let (w4, b4) = (tensor("w", &[4, 4]), tensor("b", &[4]));
        let mut tensors = vec![f.header.tensors[0].clone(), f.header.tensors[1].clone()];
        let mut data = vec![f.data[0].clone(), f.data[1].clone()];
        for _ in 0..30 {
            tensors.extend([w4.clone(), b4.clone()]);
            data.extend([vec![0; 64], vec![0; 16]]);
        }
        tensors.extend([f.header.tensors[2].clone(), f.header.tensors[3].clone()]);
        data.extend([f.data[2].clone(), f.data[3].clone()]);
        f.header.tensors = tensors;
        f.data = data;
        f.data_start = 2048;
        f.relayout();
    });
    assert_eq!(parse(&b), Ok(()));
}

#[test]
fn rejects_header_trailing_bytes() {
    for extra in [&[0u8][..], &[1, 2, 3]] {
        let b = with_header_bytes(|h| h.extend_from_slice(extra));
        assert_rejects(&b, Error::HeaderTrailingBytes);
    }
}

#[test]
fn rejects_bad_dims() {
    let bad_dims = [
        WireDims { rank: 0, dims: [0; 4] },
        WireDims { rank: 5, dims: [3, 1, 1, 1] },
        WireDims { rank: 1, dims: [0, 0, 0, 0] },
        WireDims { rank: 1, dims: [3, 1, 0, 0] }, // an unused dim that is not 0
        WireDims { rank: 2, dims: [3, 0, 0, 0] }, // a used dim of 0
        WireDims { rank: 1, dims: [(1 << 24) + 1, 0, 0, 0] },
        WireDims { rank: 3, dims: [1 << 14, 1 << 14, 2, 0] }, // 2^29 elements
    ];
    for d in bad_dims {
        let b = Fixture::with(|f| f.header.input.dims = d);
        assert_rejects(&b, Error::BadDims);
        let b = Fixture::with(|f| f.header.output.dims = d);
        assert_rejects(&b, Error::BadDims);
        // An asset tensor after the parameters.
        let b = Fixture::with(|f| {
            f.header.tensors.push(WireTensor { name: b"asset".to_vec(), dtype: 1, dims: d, offset: 0 });
            f.data.push(vec![1, 2, 3]);
            f.relayout();
        });
        assert_rejects(&b, Error::BadDims);
    }
    // The same dims as [3, 1] (rank 2) are fine: 3 elements.
    let b = Fixture::with(|f| f.header.input.dims = wdims(&[3, 1]));
    assert_eq!(parse(&b), Ok(()));
}

#[test]
fn rejects_bad_layer() {
    let b = Fixture::with(|f| f.header.layers.clear());
    assert_rejects(&b, Error::BadLayer);
    for l in [layer(3, 0, 1), layer(0, 4, 1), layer((1 << 24) + 1, 4, 1), layer(3, (1 << 24) + 1, 1)] {
        let b = Fixture::with(|f| f.header.layers[0] = l);
        assert_rejects(&b, Error::BadLayer);
    }
    // 2^15 x 2^14 = 2^29 weights: over the element limit.
    let b = Fixture::with(|f| {
        f.header.input.dims = wdims(&[1 << 14]);
        f.header.layers[0] = layer(1 << 14, 1 << 15, 1);
    });
    assert_rejects(&b, Error::BadLayer);
}

#[test]
fn rejects_layer_chain() {
    let b = Fixture::with(|f| f.header.layers[1].fields[0] = 5); // inputs
    assert_rejects(&b, Error::LayerChain);
    let b = Fixture::with(|f| f.header.layers[0].fields[1] = 3); // units
    assert_rejects(&b, Error::LayerChain);
}

#[test]
fn rejects_io_mismatch() {
    let edits: [fn(&mut Fixture); 4] = [
        |f| f.header.input.dims = wdims(&[4]),
        |f| f.header.input.kind = 1,
        |f| f.header.output.dims = wdims(&[3]),
        |f| f.header.output.kind = 1,
    ];
    for e in edits {
        assert_rejects(&Fixture::with(e), Error::IoMismatch);
    }
}

#[test]
fn rejects_tensor_count() {
    for keep in [0, 1, 3] {
        let b = Fixture::with(|f| {
            f.header.tensors.truncate(keep);
            f.data.truncate(keep);
        });
        assert_rejects(&b, Error::TensorCount);
    }
}

#[test]
fn rejects_tensor_type() {
    for i in 0..4 {
        let b = Fixture::with(|f| f.header.tensors[i].dtype = 1);
        assert_rejects(&b, Error::TensorType);
    }
}

#[test]
fn rejects_tensor_shape() {
    let shapes: [(usize, &[u32]); 5] = [(0, &[3, 4]), (0, &[12]), (1, &[4, 1]), (2, &[4, 2]), (3, &[3])];
    for (i, d) in shapes {
        let b = Fixture::with(|f| f.header.tensors[i].dims = wdims(d));
        assert_rejects(&b, Error::TensorShape);
    }
}

#[test]
fn rejects_tensor_misaligned() {
    for (i, delta) in [(0, 1), (1, 4), (3, 8)] {
        let b = Fixture::with(|f| f.header.tensors[i].offset += delta);
        assert_rejects(&b, Error::TensorMisaligned);
    }
}

#[test]
fn rejects_tensor_out_of_bounds() {
    // Inside the preamble/header.
    assert_rejects(&Fixture::with(|f| f.header.tensors[0].offset = 0), Error::TensorOutOfBounds);
    assert_rejects(&Fixture::with(|f| f.header.tensors[0].offset = 16), Error::TensorOutOfBounds);
    // Overlapping the previous tensor.
    let b = Fixture::with(|f| f.header.tensors[1].offset = f.header.tensors[0].offset);
    assert_rejects(&b, Error::TensorOutOfBounds);
    // Starting before the end of the previous tensor.
    let b = Fixture::with(|f| f.header.tensors[1].offset = f.header.tensors[0].offset + 32);
    assert_rejects(&b, Error::TensorOutOfBounds);
    // Past the end of the data section: the last tensor's bytes are missing.
    let mut f = Fixture::new();
    f.data[3].clear();
    let b = f.bytes();
    assert!(f.header.tensors[3].offset as usize + 8 > b.len() - 4, "the bias lies past the data section");
    assert_rejects(&b, Error::TensorOutOfBounds);
    // Ending inside the CRC.
    let mut f = Fixture::new();
    f.data[3].truncate(4);
    assert_rejects(&f.bytes(), Error::TensorOutOfBounds);
    let b = Fixture::with(|f| f.header.tensors[3].offset = 0xFFFF_FFF0);
    assert_rejects(&b, Error::TensorOutOfBounds);
}

// Typed binding: TypedModel::load.

#[test]
fn rejects_layer_kind() {
    let b = AlignedBytes::new(&Fixture::new().bytes());
    type WrongFirst = Chain<Dense<3, 4, Linear>, Dense<4, 2, Softmax>>;
    type WrongSecond = Chain<Dense<3, 4, Relu>, Dense<4, 2, Relu>>;
    assert_eq!(<WrongFirst as TypedModel>::load(&b).map(|_| ()).unwrap_err(), Error::LayerKind);
    assert_eq!(<WrongSecond as TypedModel>::load(&b).map(|_| ()).unwrap_err(), Error::LayerKind);
    assert!(<FixtureType as TypedModel>::load(&b).is_ok());
}

#[test]
fn rejects_layer_shape() {
    let b = AlignedBytes::new(&Fixture::new().bytes());
    type Wider = Chain<Dense<3, 5, Relu>, Dense<5, 2, Softmax>>;
    type MoreInputs = Chain<Dense<4, 4, Relu>, Dense<4, 2, Softmax>>;
    type MoreOutputs = Chain<Dense<3, 4, Relu>, Dense<4, 3, Softmax>>;
    assert_eq!(<Wider as TypedModel>::load(&b).map(|_| ()).unwrap_err(), Error::LayerShape);
    assert_eq!(<MoreInputs as TypedModel>::load(&b).map(|_| ()).unwrap_err(), Error::LayerShape);
    assert_eq!(<MoreOutputs as TypedModel>::load(&b).map(|_| ()).unwrap_err(), Error::LayerShape);
}

#[test]
fn rejects_layer_count() {
    let b = AlignedBytes::new(&Fixture::new().bytes());
    type Fewer = Dense<3, 4, Relu>;
    type More = Chain<Dense<3, 4, Relu>, Chain<Dense<4, 2, Softmax>, Dense<2, 2, Linear>>>;
    assert_eq!(<Fewer as TypedModel>::load(&b).map(|_| ()).unwrap_err(), Error::LayerCount);
    assert_eq!(<More as TypedModel>::load(&b).map(|_| ()).unwrap_err(), Error::LayerCount);
}

// The dynamic interpreter's own errors.

#[test]
fn dynamic_rejects_wrong_input_and_small_buffers() {
    let bytes = AlignedBytes::new(&Fixture::new().bytes());
    let blob = Blob::parse(&bytes).unwrap();
    let n = dynamic::scratch_len(&blob);
    let (mut scratch, mut out) = (vec![0.0; n], [0.0f32; 2]);
    assert_eq!(dynamic::forward(&blob, &[0.0; 2], &mut scratch, &mut out), Err(Error::InputShape));
    assert_eq!(dynamic::forward(&blob, &[0.0; 4], &mut scratch, &mut out), Err(Error::InputShape));
    assert_eq!(dynamic::forward(&blob, &[0.0; 3], &mut scratch[..n - 1], &mut out), Err(Error::BufferTooSmall));
    assert_eq!(dynamic::forward(&blob, &[0.0; 3], &mut scratch, &mut out[..1]), Err(Error::BufferTooSmall));
    assert_eq!(dynamic::forward(&blob, &[0.0; 3], &mut scratch, &mut out), Ok(2));
}

// ---------------------------------------------------------------------------
// Image layers: Conv2d (6), MaxPool2d (7), Upsample2d (8), BatchNorm (9);
// Padding 0 Valid, 1 Same.
// ---------------------------------------------------------------------------

const VALID: u32 = 0;
const SAME: u32 = 1;
/// `1e-3f32.to_bits()`.
const EPS_BITS: u32 = 0x3A83_126F;

/// `Conv2d` (6): height, width, channels, filters, kernel_h, kernel_w, padding, activation.
fn conv_layer([h, w, c]: [u32; 3], filters: u32, [kh, kw]: [u32; 2], padding: u32, activation: u32) -> WireLayer {
    WireLayer { variant: 6, fields: vec![h, w, c, filters, kh, kw, padding, activation] }
}

/// `MaxPool2d` (7): height, width, channels, pool, padding.
fn pool_layer([h, w, c]: [u32; 3], pool: u32, padding: u32) -> WireLayer {
    WireLayer { variant: 7, fields: vec![h, w, c, pool, padding] }
}

/// `Upsample2d` (8): height, width, channels, factor.
fn upsample_layer([h, w, c]: [u32; 3], factor: u32) -> WireLayer {
    WireLayer { variant: 8, fields: vec![h, w, c, factor] }
}

/// `BatchNorm` (9): dims (rank byte, four varints), epsilon_bits.
fn bn_layer(dims: &[u32], epsilon_bits: u32) -> WireLayer {
    let d = wdims(dims);
    let mut fields = vec![d.rank as u32];
    fields.extend(d.dims);
    fields.push(epsilon_bits);
    WireLayer { variant: 9, fields }
}

/// The typed model of [`Fixture::image`].
type ImageType = Chain<
    Conv2d<5, 5, 2, 3, 3, 3, Same, Relu, 25, 25>,
    Chain<MaxPool2d<5, 5, 3, 2, Same, 25, 9>, Chain<Upsample2d<3, 3, 3, 2, 9, 36>, BatchNorm<3, 36>>>,
>;

/// The layers of [`Fixture::image`] as `LayerSpec`s.
fn image_specs() -> Vec<LayerSpec> {
    vec![
        LayerSpec::Conv2d {
            height: 5,
            width: 5,
            channels: 2,
            filters: 3,
            kernel_h: 3,
            kernel_w: 3,
            padding: Padding::Same,
            activation: Activation::Relu,
        },
        LayerSpec::MaxPool2d { height: 5, width: 5, channels: 3, pool: 2, padding: Padding::Same },
        LayerSpec::Upsample2d { height: 3, width: 3, channels: 3, factor: 2 },
        LayerSpec::BatchNorm { dims: Dims::new(&[6, 6, 3]).unwrap(), epsilon_bits: 1e-3f32.to_bits() },
    ]
}

/// Conv weight `[3, 3, 3, 2]` and bias; batch-norm gamma, beta, mean, var (positive).
fn image_values() -> Vec<Vec<f32>> {
    let mut r = rng(17);
    let mut u = |n: usize, lo: f32, hi: f32| (0..n).map(|_| r.random_range(lo..hi)).collect::<Vec<f32>>();
    vec![u(54, -0.5, 0.5), u(3, -0.1, 0.1), u(3, 0.5, 1.5), u(3, -0.5, 0.5), u(3, -0.5, 0.5), u(3, 0.1, 1.0)]
}

impl Fixture {
    /// A `[5, 5, 2]` input through Conv2d (3 filters, 3x3, same, relu),
    /// MaxPool2d (2, same: 5 → 3), Upsample2d (2: 3 → 6) and BatchNorm
    /// (epsilon 1e-3): output `[6, 6, 3]`; tensors from offset 512.
    fn image() -> Self {
        let header = WireHeader {
            name: b"image".to_vec(),
            input: WireIo { kind: 0, dims: wdims(&[5, 5, 2]), range: None },
            output: WireIo { kind: 0, dims: wdims(&[6, 6, 3]), range: None },
            layers: vec![
                conv_layer([5, 5, 2], 3, [3, 3], SAME, 1),
                pool_layer([5, 5, 3], 2, SAME),
                upsample_layer([3, 3, 3], 2),
                bn_layer(&[6, 6, 3], EPS_BITS),
            ],
            tensors: vec![
                tensor("conv2d_0.weight", &[3, 3, 3, 2]),
                tensor("conv2d_0.bias", &[3]),
                tensor("batchnorm_3.gamma", &[3]),
                tensor("batchnorm_3.beta", &[3]),
                tensor("batchnorm_3.mean", &[3]),
                tensor("batchnorm_3.var", &[3]),
            ],
            tokenizer: None,
            metadata: vec![],
        };
        let data = image_values().iter().map(|v| f32_bytes(v)).collect();
        let mut f = Fixture { header, data, data_start: 512 };
        f.relayout();
        f
    }

    fn with_image(edit: impl FnOnce(&mut Fixture)) -> Vec<u8> {
        let mut f = Fixture::image();
        edit(&mut f);
        f.bytes()
    }
}

#[test]
fn image_fixture_is_valid_and_runs() {
    assert_eq!(1e-3f32.to_bits(), EPS_BITS);
    let bytes = Fixture::image().bytes();
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).expect("the hand-built image fixture is valid");
    assert_eq!(blob.header().layers.as_slice(), image_specs().as_slice());
    let x: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut out = [0.0f32; 108];
    assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut out), Ok(108));
    let typed = <ImageType as TypedModel>::load(&aligned).expect("binds to its type");
    let y = typed.forward(&SMatrix::<f32, 2, 25>::from_column_slice(&x));
    assert_eq!(y.as_slice(), &out[..], "typed and dynamic agree");
}

/// The header the exporter must write for the image layers, encoded by hand.
#[test]
fn exporter_writes_the_specified_image_layer_encoding() {
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::new(&[5, 5, 2]).unwrap(), range: None };
    let model = Model::new("image", input, image_specs(), image_values()).unwrap();
    let b = model.to_blob().unwrap();
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let mut want = Fixture::image().header;
    let mut off = (16 + h as u32).div_ceil(16) * 16;
    for (t, p) in want.tensors.iter_mut().zip(&model.params) {
        t.offset = off;
        off = (off + 4 * p.data.len() as u32).div_ceil(16) * 16;
    }
    assert_eq!(&b[16..16 + h], want.encode().as_slice());
    assert_eq!(Model::from_blob(&b).unwrap(), model);
}

#[test]
fn rejects_bad_image_layers() {
    let bad = [
        // A valid window larger than the input, in rows or in columns.
        (0, conv_layer([5, 5, 2], 3, [6, 3], VALID, 1)),
        (0, conv_layer([5, 5, 2], 3, [3, 6], VALID, 1)),
        // Softmax after a convolution.
        (0, conv_layer([5, 5, 2], 3, [3, 3], SAME, 4)),
        // Zero sizes.
        (0, conv_layer([5, 5, 2], 0, [3, 3], SAME, 1)),
        (0, conv_layer([5, 5, 2], 3, [3, 0], SAME, 1)),
        (0, conv_layer([0, 5, 2], 3, [3, 3], SAME, 1)),
        (0, conv_layer([5, 5, 0], 3, [3, 3], SAME, 1)),
        // A kernel over MAX_DIM (same padding accepts kernels larger than the input).
        (0, conv_layer([5, 5, 2], 3, [(1 << 24) + 1, 3], SAME, 1)),
        // A weight tensor of 2^20 x 32 x 32 x 1 = 2^30 elements.
        (0, conv_layer([1, 1, 1], 1 << 20, [32, 32], SAME, 1)),
        // Pooling: zero window, a valid window larger than the input, zero size.
        (1, pool_layer([5, 5, 3], 0, SAME)),
        (1, pool_layer([5, 5, 3], 6, VALID)),
        (1, pool_layer([5, 0, 3], 2, SAME)),
        // Upsampling: zero factor, rows over MAX_DIM, 2^30 output elements.
        (2, upsample_layer([3, 3, 3], 0)),
        (2, upsample_layer([3, 3, 3], 1 << 23)),
        (2, upsample_layer([1 << 14, 1 << 14, 1], 2)),
        // Batch norm: epsilon zero, negative zero, negative, NaN, infinite.
        (3, bn_layer(&[6, 6, 3], 0)),
        (3, bn_layer(&[6, 6, 3], (-0.0f32).to_bits())),
        (3, bn_layer(&[6, 6, 3], (-1e-3f32).to_bits())),
        (3, bn_layer(&[6, 6, 3], f32::NAN.to_bits())),
        (3, bn_layer(&[6, 6, 3], f32::INFINITY.to_bits())),
        // Batch norm over invalid dims: a zero dimension, rank 0.
        (3, WireLayer { variant: 9, fields: vec![3, 6, 0, 3, 0, EPS_BITS] }),
        (3, WireLayer { variant: 9, fields: vec![0, 0, 0, 0, 0, EPS_BITS] }),
    ];
    for (i, l) in bad {
        let b = Fixture::with_image(|f| f.header.layers[i] = l.clone());
        assert_eq!(parse(&b), Err(Error::BadLayer), "layer {i} = {l:?}");
    }
    // Boundaries that pass the layer check: a valid kernel as large as the
    // input (1x1 output: the chain then breaks) and the smallest positive epsilon.
    let b = Fixture::with_image(|f| f.header.layers[0] = conv_layer([5, 5, 2], 3, [5, 5], VALID, 1));
    assert_rejects(&b, Error::LayerChain);
    assert_eq!(parse(&Fixture::with_image(|f| f.header.layers[3] = bn_layer(&[6, 6, 3], 1))), Ok(()));
    // An unknown padding discriminant does not decode.
    let b = Fixture::with_image(|f| f.header.layers[0] = conv_layer([5, 5, 2], 3, [3, 3], 2, 1));
    assert_rejects(&b, Error::HeaderDecode);
}

#[test]
fn image_layers_chain_by_their_output_shapes() {
    // Valid padding in the first convolution: 3x3x3 no longer feeds a 5x5x3 pooling.
    let b = Fixture::with_image(|f| f.header.layers[0] = conv_layer([5, 5, 2], 3, [3, 3], VALID, 1));
    assert_rejects(&b, Error::LayerChain);
    // Valid pooling: 5 → 2, not 3.
    let b = Fixture::with_image(|f| f.header.layers[1] = pool_layer([5, 5, 3], 2, VALID));
    assert_rejects(&b, Error::LayerChain);
    // Batch-norm channels decide its parameter dims.
    let b = Fixture::with_image(|f| f.header.layers[3] = bn_layer(&[6, 3, 6], EPS_BITS));
    assert_rejects(&b, Error::TensorShape);
    // The conv weight is OHWI: [filters, kh, kw, channels].
    let b = Fixture::with_image(|f| f.header.tensors[0].dims = wdims(&[3, 2, 3, 3]));
    assert_rejects(&b, Error::TensorShape);
}

// ---------------------------------------------------------------------------
// Entity embeddings: EntityDot (10).
// ---------------------------------------------------------------------------

/// `EntityDot` (10): columns, rows, dim, epsilon_bits.
fn entity_layer(columns: u32, rows: u32, dim: u32, epsilon_bits: u32) -> WireLayer {
    WireLayer { variant: 10, fields: vec![columns, rows, dim, epsilon_bits] }
}

/// The typed model of [`Fixture::entity`].
type EntityType = Chain<EntityDot<3, 7, 4>, Dense<1, 1, Relu>>;

/// The layers of [`Fixture::entity`] as `LayerSpec`s.
fn entity_specs() -> Vec<LayerSpec> {
    vec![
        LayerSpec::EntityDot { columns: 3, rows: 7, dim: 4, epsilon_bits: 1e-3f32.to_bits() },
        LayerSpec::Dense { inputs: 1, units: 1, activation: Activation::Relu },
    ]
}

/// Table `[7, 4]`, biases `[7]`, gamma, beta, mean, var `[3, 4]` (var
/// positive), then the scaling dense layer's weight `[1, 1]` and bias `[1]`.
fn entity_values() -> Vec<Vec<f32>> {
    let mut r = rng(19);
    let mut u = |n: usize, lo: f32, hi: f32| (0..n).map(|_| r.random_range(lo..hi)).collect::<Vec<f32>>();
    vec![
        u(28, -0.5, 0.5),
        u(7, -0.1, 0.1),
        u(12, 0.5, 1.5),
        u(12, -0.5, 0.5),
        u(12, -0.5, 0.5),
        u(12, 0.1, 1.0),
        vec![2.0],
        vec![3.0],
    ]
}

/// The `vocab` and `columns` assets of [`Fixture::entity`]: columns `a` (2
/// categories), `b` (3) and `c` (2) over the 7 table rows.
const ENTITY_VOCAB: &[u8] = b"a0\na1\nb0\nb1\nb2\nc0\nc1";
const ENTITY_COLUMNS: &[u8] = b"a\t2\nb\t3\nc\t2";

impl Fixture {
    /// Three category ids (a table of 7 rows of 4 values, epsilon 1e-3)
    /// through EntityDot, then Dense 1 -> 1 (relu); the `vocab` and `columns`
    /// assets and the `task`/`target` metadata; tensors from offset 512.
    fn entity() -> Self {
        let u8_tensor = |name: &str, len: usize| WireTensor {
            name: name.as_bytes().to_vec(),
            dtype: 1,
            dims: wdims(&[len as u32]),
            offset: 0,
        };
        let header = WireHeader {
            name: b"entity".to_vec(),
            input: WireIo { kind: 1, dims: wdims(&[3]), range: None },
            output: WireIo { kind: 0, dims: wdims(&[1]), range: None },
            layers: vec![entity_layer(3, 7, 4, EPS_BITS), layer(1, 1, 1)],
            tensors: vec![
                tensor("entitydot_0.weight", &[7, 4]),
                tensor("entitydot_0.bias", &[7]),
                tensor("entitydot_0.gamma", &[3, 4]),
                tensor("entitydot_0.beta", &[3, 4]),
                tensor("entitydot_0.mean", &[3, 4]),
                tensor("entitydot_0.var", &[3, 4]),
                tensor("dense_1.weight", &[1, 1]),
                tensor("dense_1.bias", &[1]),
                u8_tensor("vocab", ENTITY_VOCAB.len()),
                u8_tensor("columns", ENTITY_COLUMNS.len()),
            ],
            tokenizer: None,
            metadata: vec![(b"task".to_vec(), b"entity".to_vec()), (b"target".to_vec(), b"y".to_vec())],
        };
        let mut data: Vec<Vec<u8>> = entity_values().iter().map(|v| f32_bytes(v)).collect();
        data.extend([ENTITY_VOCAB.to_vec(), ENTITY_COLUMNS.to_vec()]);
        let mut f = Fixture { header, data, data_start: 512 };
        f.relayout();
        f
    }

    fn with_entity(edit: impl FnOnce(&mut Fixture)) -> Vec<u8> {
        let mut f = Fixture::entity();
        edit(&mut f);
        f.bytes()
    }
}

/// The `u8` tensor named `name`.
fn asset<'a>(blob: &Blob<'a>, name: &str) -> &'a [u8] {
    let i = blob.header().tensors.iter().position(|t| t.name == name).unwrap();
    blob.tensor_u8(i).unwrap()
}

#[test]
fn entity_fixture_is_valid_and_runs() {
    let bytes = Fixture::entity().bytes();
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).expect("the hand-built entity fixture is valid");
    let h = blob.header();
    assert_eq!(h.layers.as_slice(), entity_specs().as_slice());
    assert_eq!(h.input.kind, ValueKind::TokenIds);
    assert_eq!((h.meta("task"), h.meta("target")), (Some("entity"), Some("y")));
    assert_eq!(asset(&blob, "vocab"), ENTITY_VOCAB);
    assert_eq!(asset(&blob, "columns"), ENTITY_COLUMNS);
    // Scratch: two activation buffers of 3 values plus 3 x 4 normalised values.
    assert_eq!(dynamic::scratch_len(&blob), 2 * 3 + 12);
    let typed = <EntityType as TypedModel>::load(&aligned).expect("binds to its type");
    for ids in [[0u32, 2, 5], [1, 4, 6], [0, 0, 0], [6, 6, 6]] {
        let x: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
        let mut scratch = vec![f32::NAN; dynamic::scratch_len(&blob)];
        let mut out = [f32::NAN; 1];
        assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut out), Ok(1));
        let y = typed.forward(&TokenIds::new(ids).unwrap());
        assert_eq!(y[0].to_bits(), out[0].to_bits(), "typed and dynamic agree for {ids:?}");
        assert!(out[0].is_finite() && out[0] >= 0.0, "relu output {out:?}");
    }
}

/// The header the exporter must write for an entity model, encoded by hand,
/// and the EntityDot entry byte by byte.
#[test]
fn exporter_writes_the_specified_entity_layer_encoding() {
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(3), range: None };
    let mut model = Model::new("entity", input, entity_specs(), entity_values()).unwrap();
    model.assets.push(Asset { name: "vocab".into(), bytes: ENTITY_VOCAB.to_vec() });
    model.assets.push(Asset { name: "columns".into(), bytes: ENTITY_COLUMNS.to_vec() });
    model.set_meta("task", "entity");
    model.set_meta("target", "y");
    let b = model.to_blob().unwrap();
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let fixture = Fixture::entity();
    let mut want = fixture.header;
    let mut off = (16 + h as u32).div_ceil(16) * 16;
    for (t, d) in want.tensors.iter_mut().zip(&fixture.data) {
        t.offset = off;
        off = (off + d.len() as u32).div_ceil(16) * 16;
    }
    let header = &b[16..16 + h];
    assert_eq!(header, want.encode().as_slice());
    // name "entity" (7 bytes), input (TokenIds, rank 1, [3, 0, 0, 0], None),
    // output (F32, rank 1, [1, 0, 0, 0], None), then the layers.
    let layers_at = 7 + 7 + 7;
    assert_eq!(&header[7..14], &[0x01, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00]);
    #[rustfmt::skip]
    let layers: &[u8] = &[
        0x02,                                   // 2 layers
        0x0A, 0x03, 0x07, 0x04,                 // EntityDot (10) { columns 3, rows 7, dim 4,
        0xEF, 0xA4, 0x8C, 0xD4, 0x03,           //   epsilon_bits 0x3A83126F = 1e-3 as a varint }
        0x00, 0x01, 0x01, 0x01,                 // Dense (0) { inputs 1, units 1, Relu (1) }
    ];
    assert_eq!(&header[layers_at..layers_at + layers.len()], layers);
    assert_eq!(Model::from_blob(&b).unwrap(), model);
}

#[test]
fn rejects_bad_entity_layers() {
    let bad = [
        // Zero columns, rows or dim.
        entity_layer(0, 7, 4, EPS_BITS),
        entity_layer(3, 0, 4, EPS_BITS),
        entity_layer(3, 7, 0, EPS_BITS),
        // More columns than rows: a column without a category.
        entity_layer(8, 7, 4, EPS_BITS),
        // Epsilon zero, negative zero, negative, NaN, infinite.
        entity_layer(3, 7, 4, 0),
        entity_layer(3, 7, 4, (-0.0f32).to_bits()),
        entity_layer(3, 7, 4, (-1e-3f32).to_bits()),
        entity_layer(3, 7, 4, f32::NAN.to_bits()),
        entity_layer(3, 7, 4, f32::INFINITY.to_bits()),
        // Sizes over MAX_DIM.
        entity_layer(3, (1 << 24) + 1, 4, EPS_BITS),
        entity_layer(3, 7, (1 << 24) + 1, EPS_BITS),
        // A table of 2^24 x 2^5 = 2^29 values, per-column parameters of
        // 2^20 x 2^9 = 2^29 values: over the element limit.
        entity_layer(3, 1 << 24, 1 << 5, EPS_BITS),
        entity_layer(1 << 20, 1 << 20, 1 << 9, EPS_BITS),
    ];
    for l in bad {
        let b = Fixture::with_entity(|f| f.header.layers[0] = l.clone());
        assert_eq!(parse(&b), Err(Error::BadLayer), "{l:?}");
    }
    // Boundaries: as many columns as rows, the smallest positive epsilon
    // (the tensors no longer match: a shape error, not a layer error).
    let b = Fixture::with_entity(|f| {
        f.header.layers[0] = entity_layer(7, 7, 4, EPS_BITS);
        f.header.input.dims = wdims(&[7]);
    });
    assert_rejects(&b, Error::TensorShape);
    assert_eq!(parse(&Fixture::with_entity(|f| f.header.layers[0] = entity_layer(3, 7, 4, 1))), Ok(()));
}

#[test]
fn entity_layer_chain_io_and_tensor_rules() {
    // Only the first layer takes ids: an EntityDot after a dense layer.
    let b = Fixture::with(|f| {
        f.header.layers.push(entity_layer(2, 2, 1, EPS_BITS));
        f.header.output.dims = wdims(&[1]);
    });
    assert_rejects(&b, Error::LayerChain);
    // The input must be token ids, `columns` of them.
    assert_rejects(&Fixture::with_entity(|f| f.header.input.kind = 0), Error::IoMismatch);
    assert_rejects(&Fixture::with_entity(|f| f.header.input.dims = wdims(&[4])), Error::IoMismatch);
    // The output is one value.
    assert_rejects(&Fixture::with_entity(|f| f.header.layers[1] = layer(2, 1, 1)), Error::LayerChain);
    // Parameter dims: the table is [rows, dim], the biases [rows], the
    // batch-norm parameters [columns, dim] each.
    let shapes: [(usize, &[u32]); 6] = [(0, &[4, 7]), (0, &[28]), (1, &[3]), (2, &[4, 3]), (4, &[3, 5]), (5, &[12])];
    for (i, d) in shapes {
        let b = Fixture::with_entity(|f| f.header.tensors[i].dims = wdims(d));
        assert_rejects(&b, Error::TensorShape);
    }
    assert_rejects(&Fixture::with_entity(|f| f.header.tensors[3].dtype = 1), Error::TensorType);
    // Eight parameter tensors (six, then the dense layer's two): five are too few.
    let b = Fixture::with_entity(|f| {
        f.header.tensors.truncate(5);
        f.data.truncate(5);
    });
    assert_rejects(&b, Error::TensorCount);
}

#[test]
fn entity_binding_checks_kind_and_every_size() {
    let b = AlignedBytes::new(&Fixture::entity().bytes());
    let err = |r: Result<(), Error>| r.unwrap_err();
    assert!(<EntityType as TypedModel>::load(&b).is_ok());
    let e = err(<Chain<EntityDot<2, 7, 4>, Dense<1, 1, Relu>> as TypedModel>::load(&b).map(|_| ()));
    assert_eq!(e, Error::LayerShape);
    let e = err(<Chain<EntityDot<3, 8, 4>, Dense<1, 1, Relu>> as TypedModel>::load(&b).map(|_| ()));
    assert_eq!(e, Error::LayerShape);
    let e = err(<Chain<EntityDot<3, 7, 5>, Dense<1, 1, Relu>> as TypedModel>::load(&b).map(|_| ()));
    assert_eq!(e, Error::LayerShape);
    let e = err(<Chain<EntityDot<3, 7, 4>, Dense<1, 1, Linear>> as TypedModel>::load(&b).map(|_| ()));
    assert_eq!(e, Error::LayerKind);
    let e = err(<EntityDot<3, 7, 4> as TypedModel>::load(&b).map(|_| ()));
    assert_eq!(e, Error::LayerCount);
    // An entity type against a dense blob, and a dense type against this one.
    let d = AlignedBytes::new(&Fixture::new().bytes());
    assert_eq!(
        err(<Chain<EntityDot<3, 7, 4>, Dense<1, 1, Relu>> as TypedModel>::load(&d).map(|_| ())),
        Error::LayerKind
    );
    assert_eq!(err(<FixtureType as TypedModel>::load(&b).map(|_| ())), Error::LayerKind);
}

// ---------------------------------------------------------------------------
// GRU layers.
// ---------------------------------------------------------------------------

/// `Gru` (11): inputs, units, seq_len, return_sequences, bidirectional.
fn gru_layer(inputs: u32, units: u32, seq_len: u32, seq: bool, bi: bool) -> WireLayer {
    WireLayer { variant: 11, fields: vec![inputs, units, seq_len, seq as u32, bi as u32] }
}

/// The typed model of [`Fixture::gru`].
type GruType = Chain<Bidirectional<Gru<2, 3>, 4, Sequences, 6>, Recurrent<Gru<6, 2>, 4, Last>>;

/// The layers of [`Fixture::gru`] as `LayerSpec`s.
fn gru_specs() -> Vec<LayerSpec> {
    vec![
        LayerSpec::Gru { inputs: 2, units: 3, seq_len: 4, return_sequences: true, bidirectional: true },
        LayerSpec::Gru { inputs: 6, units: 2, seq_len: 4, return_sequences: false, bidirectional: false },
    ]
}

/// `w`, `r`, `b` of both layers, uniform in `[-0.7, 0.7)`.
fn gru_values() -> Vec<Vec<f32>> {
    let mut r = rng(23);
    [36, 54, 36, 36, 12, 12].into_iter().map(|n| (0..n).map(|_| r.random_range(-0.7f32..0.7)).collect()).collect()
}

impl Fixture {
    /// An `f32` sequence `[4, 2]` through a bidirectional GRU of 3 units
    /// returning sequences (`[4, 6]`) and a GRU of 2 units returning its last
    /// state (`[2]`); tensors from offset 512.
    fn gru() -> Self {
        let header = WireHeader {
            name: b"gru".to_vec(),
            input: WireIo { kind: 0, dims: wdims(&[4, 2]), range: None },
            output: WireIo { kind: 0, dims: wdims(&[2]), range: None },
            layers: vec![gru_layer(2, 3, 4, true, true), gru_layer(6, 2, 4, false, false)],
            tensors: vec![
                tensor("gru_0.w", &[2, 9, 2]),
                tensor("gru_0.r", &[2, 9, 3]),
                tensor("gru_0.b", &[2, 18]),
                tensor("gru_1.w", &[1, 6, 6]),
                tensor("gru_1.r", &[1, 6, 2]),
                tensor("gru_1.b", &[1, 12]),
            ],
            tokenizer: None,
            metadata: vec![],
        };
        let data = gru_values().iter().map(|v| f32_bytes(v)).collect();
        let mut f = Fixture { header, data, data_start: 512 };
        f.relayout();
        f
    }

    fn with_gru(edit: impl FnOnce(&mut Fixture)) -> Vec<u8> {
        let mut f = Fixture::gru();
        edit(&mut f);
        f.bytes()
    }
}

#[test]
fn gru_fixture_is_valid_and_runs_as_the_reference() {
    let bytes = Fixture::gru().bytes();
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).expect("the hand-built GRU fixture is valid");
    assert_eq!(blob.header().layers.as_slice(), gru_specs().as_slice());
    let x: Vec<f32> = (0..8).map(|i| (i as f32 * 0.77).sin()).collect();
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut out = [0.0f32; 2];
    assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut out), Ok(2));
    let typed = <GruType as TypedModel>::load(&aligned).expect("binds to its type");
    let y = typed.forward(&SMatrix::<f32, 2, 4>::from_column_slice(&x));
    assert_eq!(y.as_slice(), &out[..], "typed and dynamic agree");
    let params: Vec<Vec<f64>> = gru_values().iter().map(|v| ember_conformance::to_f64(v)).collect();
    let want = ember_conformance::reference::model_f64(&gru_specs(), &params, &ember_conformance::to_f64(&x));
    ember_conformance::assert_parity("gru fixture", &out, &want);
}

/// The header the exporter must write for GRU layers, encoded by hand, and
/// the blob round trip.
#[test]
fn exporter_writes_the_specified_gru_layer_encoding() {
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d2(4, 2), range: None };
    let model = Model::new("gru", input, gru_specs(), gru_values()).unwrap();
    let b = model.to_blob().unwrap();
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let mut want = Fixture::gru().header;
    let mut off = (16 + h as u32).div_ceil(16) * 16;
    for (t, p) in want.tensors.iter_mut().zip(&model.params) {
        t.offset = off;
        off = (off + 4 * p.data.len() as u32).div_ceil(16) * 16;
    }
    assert_eq!(&b[16..16 + h], want.encode().as_slice());
    let back = Model::from_blob(&b).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.to_blob().unwrap(), b, "a second round trip writes the same bytes");
}

#[test]
fn rejects_bad_gru_layers() {
    // Zero or oversized sizes: a layer error.
    for l in [
        gru_layer(0, 3, 4, true, true),
        gru_layer(2, 0, 4, true, true),
        gru_layer(2, 3, 0, true, true),
        gru_layer(2, (1 << 24) + 1, 4, true, true),
    ] {
        assert_eq!(parse(&Fixture::with_gru(|f| f.header.layers[0] = l.clone())), Err(Error::BadLayer), "{l:?}");
    }
    // Parameters of an LSTM's or a one-direction GRU's size: shape errors.
    let shapes: [(usize, &[u32]); 5] =
        [(0, &[2, 12, 2]), (0, &[1, 9, 2]), (1, &[2, 9, 2]), (2, &[2, 9]), (2, &[2, 24])];
    for (i, d) in shapes {
        assert_rejects(&Fixture::with_gru(|f| f.header.tensors[i].dims = wdims(d)), Error::TensorShape);
    }
    // The second GRU must read the first one's 6 features per step, over 4 steps.
    assert_rejects(&Fixture::with_gru(|f| f.header.layers[1] = gru_layer(3, 2, 4, false, false)), Error::LayerChain);
    assert_rejects(&Fixture::with_gru(|f| f.header.layers[1] = gru_layer(6, 2, 3, false, false)), Error::LayerChain);
    // The output is the last state, not the sequence.
    assert_rejects(&Fixture::with_gru(|f| f.header.output.dims = wdims(&[4, 2])), Error::IoMismatch);
    // Typed binding: the kind, the direction count and the return mode are checked.
    let b = AlignedBytes::new(&Fixture::gru().bytes());
    let err = |r: Result<(), Error>| r.unwrap_err();
    type AsLstm = Chain<Bidirectional<Lstm<2, 3>, 4, Sequences, 6>, Recurrent<Gru<6, 2>, 4, Last>>;
    assert_eq!(err(<AsLstm as TypedModel>::load(&b).map(|_| ())), Error::LayerKind);
    type OneWay = Chain<Recurrent<Gru<2, 3>, 4, Sequences>, Recurrent<Gru<3, 2>, 4, Last>>;
    assert_eq!(err(<OneWay as TypedModel>::load(&b).map(|_| ())), Error::LayerShape);
    type LastOnly = Chain<Bidirectional<Gru<2, 3>, 4, Last, 6>, Dense<6, 2, Linear>>;
    assert_eq!(err(<LastOnly as TypedModel>::load(&b).map(|_| ())), Error::LayerShape);
}

// ---------------------------------------------------------------------------
// Robustness.
// ---------------------------------------------------------------------------

/// If `bytes` parses, it must also run through the interpreter and bind
/// (or be refused by) the typed models, without panicking.
fn exercise(bytes: &[u8]) -> Result<(), Error> {
    let aligned = AlignedBytes::new(bytes);
    let blob = Blob::parse(&aligned)?;
    let h = blob.header();
    let input = vec![0.0f32; h.input.dims.elements()];
    let mut scratch = vec![0.0f32; dynamic::scratch_len(&blob)];
    let mut out = vec![0.0f32; h.output.dims.elements()];
    let n = dynamic::forward(&blob, &input, &mut scratch, &mut out).expect("a parsed blob runs");
    assert_eq!(n, out.len());
    let _ = <FixtureType as TypedModel>::load(&aligned).map(|m| m.forward(&SVector::zeros()));
    let _ = <Dense<3, 4, Relu> as TypedModel>::load(&aligned).map(|m| m.forward(&SVector::zeros()));
    let _ = <ImageType as TypedModel>::load(&aligned).map(|m| m.forward(&SMatrix::zeros()));
    let _ = <EntityType as TypedModel>::load(&aligned).map(|m| m.forward(&TokenIds::new([0, 6, 3]).unwrap()));
    let _ = <GruType as TypedModel>::load(&aligned).map(|m| m.forward(&SMatrix::zeros()));
    let _ = Model::from_blob(bytes);
    Ok(())
}

#[test]
fn every_truncation_is_rejected() {
    let seeds = [
        Fixture::new().bytes(),
        exported().1,
        hand_written_blob(),
        Fixture::image().bytes(),
        Fixture::entity().bytes(),
        Fixture::gru().bytes(),
    ];
    for good in seeds {
        assert_eq!(exercise(&good), Ok(()));
        for n in 0..good.len() {
            assert!(exercise(&good[..n]).is_err(), "a {n}-byte prefix of a {}-byte blob was accepted", good.len());
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    let seeds = [
        Fixture::new().bytes(),
        exported().1,
        hand_written_blob(),
        Fixture::image().bytes(),
        Fixture::entity().bytes(),
        Fixture::gru().bytes(),
    ];
    let mut r = rng(2024);
    let mut seen = std::collections::HashSet::new();
    let mut accepted = 0;
    for i in 0..5000 {
        let mut b = seeds[i % seeds.len()].clone();
        for _ in 0..r.random_range(1..=3) {
            let len = b.len();
            match r.random_range(0..6) {
                0 => b[r.random_range(0..len)] ^= 1 << r.random_range(0..8),
                1 => b[r.random_range(0..len)] = r.random_range(0..=255),
                2 => b.insert(r.random_range(0..=len), r.random_range(0..=255)),
                3 if len > 1 => {
                    b.remove(r.random_range(0..len));
                }
                // Targeted at the header, where most rules live.
                4 => {
                    let h = 16 + r.random_range(0..80.min(len - 16));
                    b[h] = [0, 1, 2, 0x7F, 0x80, 0xFF][r.random_range(0..6)];
                }
                _ => {
                    let at = 8 + 4 * r.random_range(0..2);
                    let v: u32 = r.random_range(0..400);
                    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        // Half the time, repair the length and CRC so the parser goes deeper.
        if i % 2 == 0 && b.len() >= 20 {
            fix_lengths_and_crc(&mut b, false);
        }
        match exercise(&b) {
            Ok(()) => accepted += 1,
            Err(e) => {
                seen.insert(format!("{e:?}"));
            }
        }
    }
    eprintln!("accepted {accepted} of 5000; errors seen: {seen:?}");
    // The repaired half must reach the header and tensor checks.
    for deep in ["HeaderDecode", "HeaderOutOfBounds", "TensorOutOfBounds", "ChecksumMismatch", "LengthMismatch"] {
        assert!(seen.contains(deep), "no mutation reached {deep}; seen {seen:?}");
    }
    assert!(accepted < 5000, "every mutation accepted?");
}

#[test]
fn accepted_bytes_really_are_valid_input() {
    // A model of every activation round-trips through the exporter and runs.
    for act in [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax] {
        let specs = vec![dense(3, 4, act)];
        let values = random_params(&specs, &mut rng(3));
        let m = Model::new("a", input_spec(3), specs, values).unwrap();
        assert_eq!(exercise(&m.to_blob().unwrap()), Ok(()));
    }
}

#[test]
fn exporter_refuses_models_the_runtime_would_reject() {
    // A token-id input cannot feed a dense layer (`crates/runtime/FORMAT.md`: IoMismatch). The
    // exporter must refuse such a model rather than write a blob that no
    // runtime can read.
    let tok_input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(3), range: None };
    let m = Model::new("tok", tok_input, vec![dense(3, 2, Activation::Linear)], vec![vec![0.0; 6], vec![0.0; 2]]);
    if let Ok(m) = m {
        match m.to_blob() {
            Err(_) => {}
            Ok(b) => panic!("the exporter wrote a blob the parser rejects with {:?}", parse(&b)),
        }
    }
}

// ---------------------------------------------------------------------------
// Window layers: Conv1d (11), MaxPool1d (12), GlobalAveragePool (13),
// Conv2dStrided (14), DepthwiseConv2d (15), AveragePool1d (16), AveragePool2d (17).
// ---------------------------------------------------------------------------

/// `Conv1d` (11): length, channels, filters, kernel, stride, dilation, padding, activation.
fn conv1d_layer([l, c]: [u32; 2], f: u32, [k, s, d]: [u32; 3], padding: u32, activation: u32) -> WireLayer {
    WireLayer { variant: 12, fields: vec![l, c, f, k, s, d, padding, activation] }
}

/// `MaxPool1d` (12) or `AveragePool1d` (16): length, channels, pool, stride, padding.
fn pool1d_layer(variant: u32, [l, c]: [u32; 2], pool: u32, stride: u32, padding: u32) -> WireLayer {
    WireLayer { variant, fields: vec![l, c, pool, stride, padding] }
}

/// `GlobalAveragePool` (13): dims (rank byte, four varints).
fn gap_layer(dims: &[u32]) -> WireLayer {
    let d = wdims(dims);
    let mut fields = vec![d.rank as u32];
    fields.extend(d.dims);
    WireLayer { variant: 14, fields }
}

/// `Conv2dStrided` (14): height, width, channels, filters, kernel `[2]`,
/// stride `[2]`, dilation `[2]` (each two varints), padding, activation.
fn strided_layer(hwc: [u32; 3], f: u32, ksd: [[u32; 2]; 3], padding: u32, activation: u32) -> WireLayer {
    let mut fields = hwc.to_vec();
    fields.push(f);
    fields.extend(ksd.concat());
    fields.extend([padding, activation]);
    WireLayer { variant: 15, fields }
}

/// `DepthwiseConv2d` (15): height, width, channels, kernel, stride, dilation, padding, activation.
fn depthwise_layer(hwc: [u32; 3], ksd: [[u32; 2]; 3], padding: u32, activation: u32) -> WireLayer {
    let mut fields = hwc.to_vec();
    fields.extend(ksd.concat());
    fields.extend([padding, activation]);
    WireLayer { variant: 16, fields }
}

/// `AveragePool2d` (17): height, width, channels, pool `[2]`, stride `[2]`, padding.
fn avgpool2d_layer(hwc: [u32; 3], pool: [u32; 2], stride: [u32; 2], padding: u32) -> WireLayer {
    let mut fields = hwc.to_vec();
    fields.extend(pool);
    fields.extend(stride);
    fields.push(padding);
    WireLayer { variant: 18, fields }
}

/// The layers of [`Fixture::window`] as `LayerSpec`s.
fn window_specs() -> Vec<LayerSpec> {
    use Activation::{Relu, Tanh};
    use Padding::{Same, Valid};
    let l1 = |length, channels, pool, stride, padding| (length, channels, pool, stride, padding);
    let (length, channels, pool, stride, padding) = l1(6, 3, 2, 2, Valid);
    let (al, ac, ap, as_, apad) = l1(3, 3, 2, 1, Same);
    vec![
        LayerSpec::Conv1d {
            length: 12,
            channels: 2,
            filters: 3,
            kernel: 3,
            stride: 2,
            dilation: 1,
            padding: Same,
            activation: Relu,
        },
        LayerSpec::MaxPool1d { length, channels, pool, stride, padding },
        LayerSpec::AveragePool1d { length: al, channels: ac, pool: ap, stride: as_, padding: apad },
        LayerSpec::Conv2dStrided {
            height: 3,
            width: 1,
            channels: 3,
            filters: 2,
            kernel: [2, 1],
            stride: [1, 1],
            dilation: [2, 1],
            padding: Same,
            activation: Tanh,
        },
        LayerSpec::DepthwiseConv2d {
            height: 3,
            width: 1,
            channels: 2,
            kernel: [3, 1],
            stride: [2, 1],
            dilation: [1, 1],
            padding: Same,
            activation: Relu,
        },
        LayerSpec::AveragePool2d { height: 2, width: 1, channels: 2, pool: [2, 1], stride: [2, 1], padding: Same },
        LayerSpec::GlobalAveragePool { dims: Dims::new(&[1, 1, 2]).unwrap() },
    ]
}

/// The typed model of [`Fixture::window`].
type WindowType = Chain<
    ember_runtime::Conv1d<12, 2, 3, 3, 2, 1, Same, Relu, 6>,
    Chain<
        ember_runtime::MaxPool1d<6, 3, 2, 2, ember_runtime::Valid, 3>,
        Chain<
            ember_runtime::AveragePool1d<3, 3, 2, 1, Same, 3>,
            Chain<
                ember_runtime::Conv2dStrided<3, 1, 3, 2, 2, 1, 1, 1, 2, 1, Same, ember_runtime::Tanh, 3, 3>,
                Chain<
                    ember_runtime::DepthwiseConv2d<3, 1, 2, 3, 1, 2, 1, 1, 1, Same, Relu, 3, 2>,
                    Chain<
                        ember_runtime::AveragePool2d<2, 1, 2, 2, 1, 2, 1, Same, 2, 1>,
                        ember_runtime::GlobalAveragePool<2, 1>,
                    >,
                >,
            >,
        >,
    >,
>;

/// Conv1d weight `[3, 3, 2]` and bias, Conv2dStrided weight `[2, 2, 1, 3]`
/// and bias, depthwise weight `[3, 1, 2]` and bias.
fn window_values() -> Vec<Vec<f32>> {
    let mut r = rng(23);
    let mut u = |n: usize, lo: f32, hi: f32| (0..n).map(|_| r.random_range(lo..hi)).collect::<Vec<f32>>();
    vec![u(18, -0.5, 0.5), u(3, 0.0, 0.2), u(12, -0.5, 0.5), u(2, -0.1, 0.1), u(6, -0.5, 0.5), u(2, 0.0, 0.2)]
}

impl Fixture {
    /// A `[12, 2]` sequence through every window kind: Conv1d (3 filters, 3
    /// cells, stride 2, same, relu: 12 → 6), MaxPool1d (2/2 valid: 6 → 3),
    /// AveragePool1d (2/1 same), the `[3, 1, 3]` map through Conv2dStrided (2
    /// filters, 2x1 dilated by 2 rows, same, tanh), DepthwiseConv2d (3x1,
    /// stride 2 rows, same, relu: 3 → 2 rows), AveragePool2d (2x1/2x1 same: 2 → 1)
    /// and GlobalAveragePool `[1, 1, 2]` → `[2]`; tensors from offset 512.
    fn window() -> Self {
        let header = WireHeader {
            name: b"window".to_vec(),
            input: WireIo { kind: 0, dims: wdims(&[12, 2]), range: None },
            output: WireIo { kind: 0, dims: wdims(&[2]), range: None },
            layers: vec![
                conv1d_layer([12, 2], 3, [3, 2, 1], SAME, 1),
                pool1d_layer(13, [6, 3], 2, 2, VALID),
                pool1d_layer(17, [3, 3], 2, 1, SAME),
                strided_layer([3, 1, 3], 2, [[2, 1], [1, 1], [2, 1]], SAME, 3),
                depthwise_layer([3, 1, 2], [[3, 1], [2, 1], [1, 1]], SAME, 1),
                avgpool2d_layer([2, 1, 2], [2, 1], [2, 1], SAME),
                gap_layer(&[1, 1, 2]),
            ],
            tensors: vec![
                tensor("conv1d_0.weight", &[3, 3, 2]),
                tensor("conv1d_0.bias", &[3]),
                tensor("conv2d_3.weight", &[2, 2, 1, 3]),
                tensor("conv2d_3.bias", &[2]),
                tensor("depthwiseconv2d_4.weight", &[3, 1, 2]),
                tensor("depthwiseconv2d_4.bias", &[2]),
            ],
            tokenizer: None,
            metadata: vec![],
        };
        let data = window_values().iter().map(|v| f32_bytes(v)).collect();
        let mut f = Fixture { header, data, data_start: 512 };
        f.relayout();
        f
    }

    fn with_window(edit: impl FnOnce(&mut Fixture)) -> Vec<u8> {
        let mut f = Fixture::window();
        edit(&mut f);
        f.bytes()
    }
}

#[test]
fn window_fixture_is_valid_and_runs() {
    let bytes = Fixture::window().bytes();
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).expect("the hand-built window fixture is valid");
    assert_eq!(blob.header().layers.as_slice(), window_specs().as_slice());
    let x: Vec<f32> = (0..24).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut out = [0.0f32; 2];
    assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut out), Ok(2));
    let typed = <WindowType as TypedModel>::load(&aligned).expect("binds to its type");
    let y = typed.forward(&SMatrix::<f32, 2, 12>::from_column_slice(&x));
    assert_eq!(y.as_slice(), &out[..], "typed and dynamic agree");
}

/// The header the exporter must write for the window layers, encoded by hand.
#[test]
fn exporter_writes_the_specified_window_layer_encoding() {
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d2(12, 2), range: None };
    let model = Model::new("window", input, window_specs(), window_values()).unwrap();
    let b = model.to_blob().unwrap();
    let h = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let mut want = Fixture::window().header;
    let mut off = (16 + h as u32).div_ceil(16) * 16;
    for (t, p) in want.tensors.iter_mut().zip(&model.params) {
        t.offset = off;
        off = (off + 4 * p.data.len() as u32).div_ceil(16) * 16;
    }
    assert_eq!(&b[16..16 + h], want.encode().as_slice());
    assert_eq!(Model::from_blob(&b).unwrap(), model);
}

#[test]
fn rejects_bad_window_layers() {
    let bad = [
        // Conv1d: zero stride, zero dilation, zero kernel, softmax, a dilated
        // valid window (3 cells 6 apart span 13) larger than 12 steps.
        (0, conv1d_layer([12, 2], 3, [3, 0, 1], SAME, 1)),
        (0, conv1d_layer([12, 2], 3, [3, 2, 0], SAME, 1)),
        (0, conv1d_layer([12, 2], 3, [0, 2, 1], SAME, 1)),
        (0, conv1d_layer([12, 2], 3, [3, 2, 1], SAME, 4)),
        (0, conv1d_layer([12, 2], 3, [3, 2, 6], VALID, 1)),
        // 1-D pooling: zero window, zero stride, a valid window larger than the input.
        (1, pool1d_layer(13, [6, 3], 0, 2, VALID)),
        (1, pool1d_layer(13, [6, 3], 2, 0, VALID)),
        (2, pool1d_layer(17, [3, 3], 4, 1, VALID)),
        // Conv2dStrided: zero stride, zero dilation, softmax, a dilated valid
        // window (2 rows 3 apart span 4) larger than 3 rows.
        (3, strided_layer([3, 1, 3], 2, [[2, 1], [0, 1], [2, 1]], SAME, 3)),
        (3, strided_layer([3, 1, 3], 2, [[2, 1], [1, 1], [2, 0]], SAME, 3)),
        (3, strided_layer([3, 1, 3], 2, [[2, 1], [1, 1], [2, 1]], SAME, 4)),
        (3, strided_layer([3, 1, 3], 2, [[2, 1], [1, 1], [3, 1]], VALID, 3)),
        // DepthwiseConv2d: zero kernel, zero stride, softmax.
        (4, depthwise_layer([3, 1, 2], [[0, 1], [2, 1], [1, 1]], SAME, 1)),
        (4, depthwise_layer([3, 1, 2], [[3, 1], [2, 0], [1, 1]], SAME, 1)),
        (4, depthwise_layer([3, 1, 2], [[3, 1], [2, 1], [1, 1]], SAME, 4)),
        // AveragePool2d: zero window, zero stride.
        (5, avgpool2d_layer([2, 1, 2], [0, 1], [2, 1], SAME)),
        (5, avgpool2d_layer([2, 1, 2], [2, 1], [2, 0], SAME)),
        // GlobalAveragePool of rank 1 or 4, or over a zero dimension.
        (6, gap_layer(&[2])),
        (6, gap_layer(&[1, 1, 1, 2])),
        (6, WireLayer { variant: 14, fields: vec![3, 1, 0, 2, 0] }),
    ];
    for (i, l) in bad {
        let b = Fixture::with_window(|f| f.header.layers[i] = l.clone());
        assert_eq!(parse(&b), Err(Error::BadLayer), "layer {i} = {l:?}");
    }
    // A variant past the last one does not decode.
    let b = Fixture::with_window(|f| f.header.layers[6] = WireLayer { variant: 19, fields: vec![3, 1, 1, 2, 0] });
    assert_rejects(&b, Error::HeaderDecode);
    // Strides and dilations decide the chain: stride 1 in the Conv1d gives 12 steps, not 6.
    let b = Fixture::with_window(|f| f.header.layers[0] = conv1d_layer([12, 2], 3, [3, 1, 1], SAME, 1));
    assert_rejects(&b, Error::LayerChain);
    // The depthwise weight is [kh, kw, channels].
    let b = Fixture::with_window(|f| f.header.tensors[4].dims = wdims(&[2, 3, 1]));
    assert_rejects(&b, Error::TensorShape);
}
