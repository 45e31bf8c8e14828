//! The hand-written header decoder (`Header::decode`, `decode_quant_table`)
//! against the reference it replaces, serde's derived `Deserialize` through
//! `postcard::take_from_bytes`: on every layer kind, on every variant index
//! with several payloads (a kind appended to `LayerSpec` but not to the
//! decoder fails here), and on random mutations of real headers, both must
//! accept the same byte strings with the same values and the same unread
//! rest, or both reject them.

use ember_runtime::format::{Header, MAX_LAYERS, TensorEntry, decode_quant_table};
use ember_runtime::qspec::{LayerQuant, QuantMode};
use ember_runtime::quant::QuantParams;
use ember_runtime::spec::{
    Activation, DType, Dims, IoSpec, LayerSpec, Padding, Side, TokenizerKind, TokenizerSpec, ValueKind,
};
use heapless::Vec as HVec;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One of every layer kind, in wire order.
fn every_kind() -> Vec<LayerSpec> {
    let d3 = Dims::new(&[4, 5, 6]).unwrap();
    vec![
        LayerSpec::Dense { inputs: 300, units: 7, activation: Activation::Softmax },
        LayerSpec::Embedding { vocab: 5000, dim: 32, seq_len: 400 },
        LayerSpec::Flatten { dims: d3 },
        LayerSpec::Dropout { len: 9, rate_ppm: 250_000 },
        LayerSpec::SimpleRnn { inputs: 3, units: 200, seq_len: 9, return_sequences: true, bidirectional: false },
        LayerSpec::Lstm { inputs: 32, units: 100, seq_len: 400, return_sequences: false, bidirectional: true },
        LayerSpec::Conv2d {
            height: 28,
            width: 28,
            channels: 1,
            filters: 8,
            kernel_h: 3,
            kernel_w: 5,
            padding: Padding::Same,
            activation: Activation::Relu,
        },
        LayerSpec::MaxPool2d { height: 28, width: 28, channels: 8, pool: 2, padding: Padding::Valid },
        LayerSpec::Upsample2d { height: 7, width: 7, channels: 8, factor: 2 },
        LayerSpec::BatchNorm { dims: d3, epsilon_bits: 1e-3f32.to_bits() },
        LayerSpec::EntityDot { columns: 3, rows: 20, dim: 4, epsilon_bits: 1e-5f32.to_bits() },
        LayerSpec::Gru { inputs: 8, units: 16, seq_len: 10, return_sequences: true, bidirectional: true },
        LayerSpec::Conv1d {
            length: 128,
            channels: 3,
            filters: 16,
            kernel: 5,
            stride: 2,
            dilation: 3,
            padding: Padding::Same,
            activation: Activation::Tanh,
        },
        LayerSpec::MaxPool1d { length: 64, channels: 16, pool: 2, stride: 2, padding: Padding::Same },
        LayerSpec::GlobalAveragePool { dims: d3 },
        LayerSpec::Conv2dStrided {
            height: 49,
            width: 10,
            channels: 1,
            filters: 64,
            kernel: [10, 4],
            stride: [2, 2],
            dilation: [1, 1],
            padding: Padding::Same,
            activation: Activation::Sigmoid,
        },
        LayerSpec::DepthwiseConv2d {
            height: 25,
            width: 5,
            channels: 64,
            kernel: [3, 3],
            stride: [1, 2],
            dilation: [2, 1],
            padding: Padding::Valid,
            activation: Activation::Linear,
        },
        LayerSpec::AveragePool1d { length: 50, channels: 4, pool: 3, stride: 1, padding: Padding::Valid },
        LayerSpec::AveragePool2d {
            height: 25,
            width: 5,
            channels: 64,
            pool: [25, 5],
            stride: [25, 5],
            padding: Padding::Valid,
        },
    ]
}

fn io(kind: ValueKind, dims: &[u32], range: Option<[f32; 2]>) -> IoSpec {
    IoSpec { kind, dims: Dims::new(dims).unwrap(), range }
}

/// A header holding `layers`, tensors of every element type, a tokenizer and metadata.
fn header(layers: &[LayerSpec]) -> Header<'static> {
    let dtypes = [DType::F32, DType::U8, DType::I8, DType::I16, DType::I32];
    let tensors = dtypes.iter().enumerate().map(|(k, &dtype)| TensorEntry {
        name: ["dense_0.weight", "vocab", "lstm_1.w", "x", "dense_2.requant"][k],
        dtype,
        dims: Dims::new(&[3, 200_000 + k as u32]).unwrap(),
        offset: 16 * (1 << (3 * k)) as u32,
    });
    Header {
        name: "decoder_test",
        input: io(ValueKind::TokenIds, &[400], None),
        output: io(ValueKind::F32, &[2, 3], Some([-1.5, f32::MAX])),
        layers: layers.iter().copied().collect(),
        tensors: tensors.collect(),
        tokenizer: Some(TokenizerSpec {
            kind: TokenizerKind::Vocabulary,
            vocab: 5000,
            reserved: 3,
            lowercase: true,
            start_token: false,
            max_len: 400,
            padding: Side::Pre,
            truncating: Side::Post,
        }),
        metadata: [("trainer", "ember"), ("preset", "lstm"), ("é", "")].into_iter().collect(),
        quant: HVec::new(),
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 16];
    let used = postcard::to_slice(value, &mut buf).expect("encodes").len();
    buf.truncate(used);
    buf
}

/// Decodes `bytes` with both decoders and checks they agree; returns whether they accepted.
fn agree(bytes: &[u8]) -> bool {
    let ours = Header::decode(bytes);
    let serde = postcard::take_from_bytes::<Header<'_>>(bytes);
    match (ours, serde) {
        (Ok((a, rest_a)), Ok((b, rest_b))) => {
            // Re-encoded bytes compare NaN ranges exactly, too.
            assert_eq!(encode(&a), encode(&b), "decoded values differ for {bytes:02x?}");
            assert!(a.quant.is_empty());
            assert_eq!(rest_a, rest_b, "unread rests differ for {bytes:02x?}");
            true
        }
        (Err(e), Err(_)) => {
            assert_eq!(e, ember_runtime::Error::HeaderDecode);
            false
        }
        (a, b) => panic!("decoders disagree on {bytes:02x?}: ours {a:?}, serde's {b:?}"),
    }
}

fn agree_quant(bytes: &[u8]) -> bool {
    let ours = decode_quant_table(bytes);
    let serde = postcard::take_from_bytes::<HVec<LayerQuant, MAX_LAYERS>>(bytes);
    match (ours, serde) {
        (Ok((a, rest_a)), Ok((b, rest_b))) => {
            assert_eq!(encode(&a), encode(&b), "decoded tables differ for {bytes:02x?}");
            assert_eq!(rest_a, rest_b, "unread rests differ for {bytes:02x?}");
            true
        }
        (Err(e), Err(_)) => {
            assert_eq!(e, ember_runtime::Error::HeaderDecode);
            false
        }
        (a, b) => panic!("decoders disagree on {bytes:02x?}: ours {a:?}, serde's {b:?}"),
    }
}

/// Random edits: bit flips, byte replacements, insertions, deletions, truncation.
fn mutate(r: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for _ in 0..1 + r.below(3) {
        if b.is_empty() {
            b.push(r.next() as u8);
            continue;
        }
        let at = r.below(b.len());
        match r.below(6) {
            0 => b[at] ^= 1 << r.below(8),
            1 => b[at] = r.next() as u8,
            2 => b[at] = [0, 1, 2, 0x7F, 0x80, 0xFF][r.below(6)],
            3 => b.insert(at, r.next() as u8),
            4 => {
                b.remove(at);
            }
            _ => b.truncate(at),
        }
    }
    b
}

/// Where a header's encoding has its layer count: after the name, input and output.
fn layers_at(h: &Header<'_>) -> usize {
    encode(&h.name).len() + encode(&h.input).len() + encode(&h.output).len()
}

#[test]
fn every_layer_kind_decodes_as_serde_does() {
    let kinds = every_kind();
    for (k, l) in kinds.iter().enumerate() {
        let bytes = encode(&header(&[*l]));
        assert!(agree(&bytes), "kind {k} ({}) rejected", l.kind_name());
        let (h, rest) = Header::decode(&bytes).unwrap();
        assert_eq!(h.layers.as_slice(), &[*l]);
        assert!(rest.is_empty());
        // Every proper prefix runs out of bytes.
        for n in 0..bytes.len() {
            assert!(!agree(&bytes[..n]));
        }
    }
    let mut bytes = encode(&header(&kinds[..]));
    bytes.extend_from_slice(&[1, 2, 3]);
    assert!(agree(&bytes));
    assert_eq!(Header::decode(&bytes).unwrap().1, &[1, 2, 3]);
}

#[test]
fn every_variant_index_decodes_as_serde_does() {
    // A header with one layer whose bytes are the variant index then a payload.
    let h = header(&[]);
    let base = encode(&h);
    let prefix_len = layers_at(&h);
    assert_eq!(base[prefix_len], 0, "layer count byte");
    let payloads: [&[u8]; 6] =
        [&[1; 64], &[0; 64], &[2; 64], &[0x7F; 64], &[0x81, 0x01, 1, 1, 1, 1, 1, 1, 1, 1, 1], &[]];
    let mut accepted = 0;
    for index in [0u32..64, 126..130, 16_383..16_386, u32::MAX - 1..u32::MAX].into_iter().flatten() {
        for payload in payloads {
            let mut b = base[..prefix_len].to_vec();
            b.push(1);
            b.extend(encode(&index));
            b.extend_from_slice(payload);
            b.extend_from_slice(&base[prefix_len + 1..]);
            accepted += usize::from(agree(&b));
        }
    }
    assert!(accepted >= 19, "only {accepted} layers decoded");
}

#[test]
fn random_mutations_decode_as_serde_does() {
    let kinds = every_kind();
    let mut r = Rng(0x5EED_1234_ABCD_0001);
    let mut accepted = 0;
    for round in 0..6000 {
        let layers: Vec<LayerSpec> = (0..1 + round % 4).map(|_| kinds[r.below(kinds.len())]).collect();
        let mut h = header(&layers);
        if round % 3 == 0 {
            h.tokenizer = None;
            h.metadata.clear();
        }
        let bytes = encode(&h);
        accepted += usize::from(agree(&mutate(&mut r, &bytes)));
    }
    // Many mutations keep a valid encoding (a changed size or name byte).
    assert!(accepted > 300, "only {accepted} mutated headers decoded");
}

#[test]
fn quant_tables_decode_as_serde_does() {
    let p = |scale: f32, zero_point: i32| QuantParams { scale, zero_point };
    let table: HVec<LayerQuant, MAX_LAYERS> = [
        LayerQuant::FLOAT,
        LayerQuant::WEIGHTS_ONLY,
        LayerQuant { mode: QuantMode::Int8, input: p(0.02, -128), output: p(f32::MIN_POSITIVE, 127) },
        LayerQuant { mode: QuantMode::Int8, input: p(f32::NAN, i32::MIN), output: p(-0.0, i32::MAX) },
    ]
    .into_iter()
    .collect();
    let bytes = encode(&table);
    assert!(agree_quant(&bytes));
    let mut r = Rng(77);
    let mut accepted = 0;
    for _ in 0..4000 {
        accepted += usize::from(agree_quant(&mutate(&mut r, &bytes)));
    }
    assert!(accepted > 200, "only {accepted} mutated tables decoded");
    // Capacities: 32 entries decode, 33 do not.
    let full: HVec<LayerQuant, MAX_LAYERS> = core::iter::repeat_n(LayerQuant::FLOAT, MAX_LAYERS).collect();
    let mut bytes = encode(&full);
    assert!(agree_quant(&bytes));
    bytes[0] = 33;
    bytes.extend(encode(&LayerQuant::FLOAT));
    assert!(!agree_quant(&bytes));
}

#[test]
fn non_canonical_and_overlong_varints_decode_as_serde_does() {
    let h = header(&[LayerSpec::Dropout { len: 5, rate_ppm: 0 }]);
    let base = encode(&h);
    // The name's length byte, then the Dropout's `len` (after index) written
    // with 1 to 7 bytes, the last ones zero continuation groups.
    for extra in 0..7 {
        let mut b = vec![0x80 | base[0]];
        b.extend(std::iter::repeat_n(0x80, extra));
        b.push(0);
        b.extend_from_slice(&base[1..]);
        agree(&b);
        let at = layers_at(&h) + 2; // count, index
        let mut b = base[..at].to_vec();
        b.push(0x85);
        b.extend(std::iter::repeat_n(0x80, extra));
        b.push(0);
        b.extend_from_slice(&base[at + 1..]);
        agree(&b);
        // The last byte of a 5-byte u32 varint may carry only 4 bits.
        let mut b = base[..at].to_vec();
        b.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F + extra as u8]);
        b.extend_from_slice(&base[at + 1..]);
        assert_eq!(agree(&b), extra == 0);
    }
}
