//! Format version 2 (`crates/runtime/FORMAT.md`, "Version 2"): quantized
//! layers. Exact bytes of a hand-built blob against the exporter, round
//! trips, one `rejects_*` test per rule version 2 adds, and robustness
//! against truncated and mutated version-2 byte strings.
//!
//! Blobs are built by the independent writer in `support/wire.rs`; the f32
//! view of a quantized model is recomputed here from the format's
//! definition (`q · scale`, an int8 bias `bias · s_in · s_w[c]`).

use super::support::wire::*;
use ember_conformance::{dense, input_spec, rng};
use ember_export::quant::{QData, QTensor, Quantized};
use ember_export::{AlignedBytes, Model};
use ember_runtime::qspec::{LayerQuant, QuantMode};
use ember_runtime::quant::QuantParams;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{Blob, Error, dynamic};
use rand::RngExt;

// ---------------------------------------------------------------------------
// The fixture: Dense 3 -> 4 (relu, Int8) then Dense 4 -> 2 (linear, WeightsOnly).
// ---------------------------------------------------------------------------

const F32: u32 = 0;
const U8: u32 = 1;
const I8: u32 = 2;
const I16: u32 = 3;
const I32: u32 = 4;

const W0: [i8; 12] = [12, -7, 127, -127, 0, 5, 33, -64, 1, 90, -90, 2];
const S0: [f32; 4] = [0.01, 0.02, 0.005, 0.04];
const B0: [i32; 4] = [100, -200, 0, 3000];
/// `B0 − zp_in · Σ_row W0` with `zp_in = −3`.
const KB0: [i32; 4] = [496, -566, -90, 3006];
const RQ0: [i32; 8] = [1 << 30, -5, 1_518_500_250, -6, 0, 0, i32::MAX, -1];
const IN0: WireParams = WireParams { scale: 0.05, zero_point: -3 };
const OUT0: WireParams = WireParams { scale: 0.1, zero_point: -128 };
const W1: [i8; 8] = [1, 2, 3, 4, -1, -2, -3, -4];
const S1: [f32; 2] = [0.5, 0.25];
const B1: [f32; 2] = [0.125, -0.5];

/// Tensor indices in the fixture's table.
const T_S0: usize = 1;
const T_RQ0: usize = 4;
const T_S1: usize = 6;

/// A version-2 blob under construction: the version-1 header fields, the
/// quantization table, and anything appended to the header.
struct V2 {
    header: WireHeader,
    quant: Vec<WireQuant>,
    data: Vec<Vec<u8>>,
    version: u16,
    /// Bytes after the table, inside the header length.
    trailing: Vec<u8>,
    /// Write no table at all (a version-1 header).
    no_table: bool,
}

fn wtensor(name: &str, dtype: u32, dims: &[u32]) -> WireTensor {
    WireTensor { name: name.as_bytes().to_vec(), dtype, dims: wdims(dims), offset: 0 }
}

/// `Dense` (0): inputs, units, activation.
fn wdense(inputs: u32, units: u32, activation: u32) -> WireLayer {
    WireLayer { variant: 0, fields: vec![inputs, units, activation] }
}

impl V2 {
    fn new() -> Self {
        let header = WireHeader {
            name: b"v2".to_vec(),
            input: WireIo { kind: 0, dims: wdims(&[3]), range: None },
            output: WireIo { kind: 0, dims: wdims(&[2]), range: None },
            layers: vec![wdense(3, 4, 1), wdense(4, 2, 0)],
            tensors: vec![
                wtensor("dense_0.weight", I8, &[4, 3]),
                wtensor("dense_0.weight_scale", F32, &[4]),
                wtensor("dense_0.bias", I32, &[4]),
                wtensor("dense_0.kernel_bias", I32, &[4]),
                wtensor("dense_0.requant", I32, &[4, 2]),
                wtensor("dense_1.weight", I8, &[2, 4]),
                wtensor("dense_1.weight_scale", F32, &[2]),
                wtensor("dense_1.bias", F32, &[2]),
            ],
            tokenizer: None,
            metadata: vec![(b"producer".to_vec(), b"test".to_vec())],
        };
        let data = vec![
            i8_bytes(&W0),
            f32_bytes(&S0),
            i32_bytes(&B0),
            i32_bytes(&KB0),
            i32_bytes(&RQ0),
            i8_bytes(&W1),
            f32_bytes(&S1),
            f32_bytes(&B1),
        ];
        let quant = vec![WireQuant { mode: 1, input: IN0, output: OUT0 }, wquant(2)];
        let mut f = V2 { header, quant, data, version: 2, trailing: Vec::new(), no_table: false };
        f.layout();
        f
    }

    fn header_bytes(&self) -> Vec<u8> {
        let mut h = self.header.encode();
        if !self.no_table {
            h.extend(encode_quant(&self.quant));
        }
        h.extend_from_slice(&self.trailing);
        h
    }

    /// Packs the tensors right after the header, each at the next multiple
    /// of 16 (repeated until the varint offsets no longer move the start).
    fn layout(&mut self) {
        loop {
            let start = (16 + self.header_bytes().len()).div_ceil(16) as u32 * 16;
            if self.header.tensors.first().is_none_or(|t| t.offset == start) {
                return;
            }
            let mut off = start;
            for (t, d) in self.header.tensors.iter_mut().zip(&self.data) {
                t.offset = off;
                off = (off + d.len() as u32).div_ceil(16) * 16;
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        assemble_version(self.version, &self.header_bytes(), &self.header.tensors, &self.data)
    }

    /// The fixture after `edit`, laid out again.
    fn with(edit: impl FnOnce(&mut V2)) -> Vec<u8> {
        let mut f = V2::new();
        edit(&mut f);
        f.layout();
        f.bytes()
    }

    /// Replaces tensor `i`'s type, dims and bytes.
    fn set(&mut self, i: usize, dtype: u32, dims: &[u32], bytes: Vec<u8>) {
        self.header.tensors[i].dtype = dtype;
        self.header.tensors[i].dims = wdims(dims);
        self.data[i] = bytes;
    }
}

fn qt(name: &str, dims: &[usize], data: QData) -> QTensor {
    QTensor { name: name.into(), dims: dims.to_vec(), data }
}

fn int8_quant(input: WireParams, output: WireParams) -> LayerQuant {
    let p = |w: WireParams| QuantParams { scale: w.scale, zero_point: w.zero_point };
    LayerQuant { mode: QuantMode::Int8, input: p(input), output: p(output) }
}

/// The fixture as a [`Model`]; its f32 view computed from the format's definition.
fn fixture_model() -> Model {
    let layers = vec![dense(3, 4, Activation::Relu), dense(4, 2, Activation::Linear)];
    let rows = |q: &[i8], s: &[f32], cols: usize| -> Vec<f32> {
        q.iter().enumerate().map(|(k, &v)| v as f32 * s[k / cols]).collect()
    };
    let bias0 = B0.iter().zip(S0).map(|(&b, s)| (b as f64 * IN0.scale as f64 * s as f64) as f32).collect();
    let values = vec![rows(&W0, &S0, 3), bias0, rows(&W1, &S1, 4), B1.to_vec()];
    let mut m = Model::new("v2", input_spec(3), layers, values).unwrap();
    m.metadata = vec![("producer".into(), "test".into())];
    let tensors = vec![
        qt("dense_0.weight", &[4, 3], QData::I8(W0.to_vec())),
        qt("dense_0.weight_scale", &[4], QData::F32(S0.to_vec())),
        qt("dense_0.bias", &[4], QData::I32(B0.to_vec())),
        qt("dense_0.kernel_bias", &[4], QData::I32(KB0.to_vec())),
        qt("dense_0.requant", &[4, 2], QData::I32(RQ0.to_vec())),
        qt("dense_1.weight", &[2, 4], QData::I8(W1.to_vec())),
        qt("dense_1.weight_scale", &[2], QData::F32(S1.to_vec())),
        qt("dense_1.bias", &[2], QData::F32(B1.to_vec())),
    ];
    m.quant = Some(Quantized { layers: vec![int8_quant(IN0, OUT0), LayerQuant::WEIGHTS_ONLY], tensors });
    m
}

fn parse(bytes: &[u8]) -> Result<(), Error> {
    Blob::parse(&AlignedBytes::new(bytes)).map(|_| ())
}

fn assert_rejects(bytes: &[u8], want: Error) {
    assert_eq!(parse(bytes), Err(want), "expected {want:?}");
}

// ---------------------------------------------------------------------------
// Valid blobs, exact bytes and round trips.
// ---------------------------------------------------------------------------

#[test]
fn fixture_parses_and_its_layers_view_their_tensors() {
    let bytes = AlignedBytes::new(&V2::new().bytes());
    let blob = Blob::parse(&bytes).unwrap();
    assert_eq!(blob.version(), 2);
    let h = blob.header();
    assert_eq!(h.layer_tensor_count(), 8);
    assert_eq!(h.quant.as_slice(), &[int8_quant(IN0, OUT0), LayerQuant::WEIGHTS_ONLY]);
    let mut cursor = blob.cursor();
    let l0 = cursor.next_layer().unwrap();
    assert_eq!((l0.mode(), l0.quant), (QuantMode::Int8, int8_quant(IN0, OUT0)));
    assert_eq!(l0.param_i8(0).unwrap(), &W0);
    assert_eq!(l0.param_f32(1).unwrap(), &S0);
    assert_eq!(l0.param_i32(2).unwrap(), &B0);
    assert_eq!(l0.param_i32(3).unwrap(), &KB0);
    assert_eq!(l0.param_i32(4).unwrap(), &RQ0);
    assert_eq!(l0.param_f32(0), Err(Error::TensorType));
    assert_eq!(l0.param_i32(5), Err(Error::TensorCount));
    let l1 = cursor.next_layer().unwrap();
    assert_eq!(l1.quant, LayerQuant::WEIGHTS_ONLY);
    assert_eq!(l1.param_i8(0).unwrap(), &W1);
    assert_eq!(l1.param_f32(1).unwrap(), &S1);
    assert_eq!(l1.param_f32(2).unwrap(), &B1);
    assert_eq!(l1.param_i8(3), Err(Error::TensorCount));
    assert_eq!(cursor.next_layer().err(), Some(Error::LayerCount));
    assert_eq!(blob.tensor_i8(5).unwrap(), &W1);
    assert_eq!(blob.tensor_i32(T_RQ0).unwrap(), &RQ0);
    assert_eq!(blob.tensor_i32(0), Err(Error::TensorType));
}

#[test]
fn exporter_writes_the_hand_built_version_2_bytes() {
    let want = V2::new().bytes();
    let got = fixture_model().to_blob().unwrap();
    assert_eq!(&got[4..6], &[2, 0], "version 2 in the preamble");
    assert_eq!(got, want);
    // An I8 tensor of 12 bytes is followed by 4 zero bytes up to the next offset.
    let at = Blob::parse(&AlignedBytes::new(&got)).map(|b| b.header().tensors[0].offset as usize).unwrap();
    assert_eq!(&got[at + 12..at + 16], &[0; 4]);
}

#[test]
fn reader_gives_the_stored_tensors_and_their_f32_view() {
    let back = Model::from_blob(&V2::new().bytes()).unwrap();
    assert_eq!(back, fixture_model());
    assert_eq!(back.params[0].data[2], 127.0 * 0.01);
    assert_eq!(back.to_blob().unwrap(), V2::new().bytes());
}

#[test]
fn version_1_blobs_still_load_and_f32_models_are_written_as_version_1() {
    let specs = vec![dense(3, 4, Activation::Relu), dense(4, 2, Activation::Softmax)];
    let values = ember_conformance::random_params(&specs, &mut rng(5));
    let m = Model::new("f32", input_spec(3), specs, values).unwrap();
    let bytes = m.to_blob().unwrap();
    assert_eq!(&bytes[4..6], &[1, 0]);
    let aligned = AlignedBytes::new(&bytes);
    let blob = Blob::parse(&aligned).unwrap();
    assert_eq!(blob.version(), 1);
    assert!(blob.header().quant.is_empty());
    let mut cursor = blob.cursor();
    let l0 = cursor.next_layer().unwrap();
    assert_eq!(l0.quant, LayerQuant::FLOAT);
    assert_eq!(l0.param_f32(0).unwrap(), m.params[0].data.as_slice());
    let back = Model::from_blob(&bytes).unwrap();
    assert_eq!(back.quant, None);
    assert_eq!(back.to_blob().unwrap(), bytes);
}

/// Random stored tensors for `layers` in `modes`, from their parameter lists.
fn random_quant(layers: &[LayerSpec], modes: &[QuantMode], seed: u64) -> Quantized {
    let mut r = rng(seed);
    let mut tensors = Vec::new();
    let mut lq = Vec::new();
    for (i, (l, &mode)) in layers.iter().zip(modes).enumerate() {
        lq.push(match mode {
            QuantMode::Int8 => int8_quant(
                WireParams { scale: 0.02, zero_point: r.random_range(-128..=127) },
                WireParams { scale: 0.05, zero_point: r.random_range(-128..=127) },
            ),
            QuantMode::WeightsOnly => LayerQuant::WEIGHTS_ONLY,
            QuantMode::Float => LayerQuant::FLOAT,
        });
        for p in 0..l.qparam_count(mode) {
            let s = l.qparam(p, mode).unwrap();
            let n = s.dims.elements();
            let data = match s.dtype {
                ember_runtime::spec::DType::I8 => QData::I8((0..n).map(|_| r.random_range(-127..=127)).collect()),
                ember_runtime::spec::DType::I32 if s.name == "requant" => QData::I32(
                    (0..n / 2).flat_map(|_| [r.random_range(1 << 30..=i32::MAX), r.random_range(-31..=0)]).collect(),
                ),
                ember_runtime::spec::DType::I32 => QData::I32((0..n).map(|_| r.random_range(-1000..1000)).collect()),
                _ if s.name.ends_with("_scale") => QData::F32((0..n).map(|_| r.random_range(0.001..0.1)).collect()),
                _ => QData::F32((0..n).map(|_| r.random_range(-1.0..1.0)).collect()),
            };
            let name = format!("{}_{i}.{}", l.kind_name(), s.name);
            tensors.push(QTensor { name, dims: s.dims.as_slice().iter().map(|&d| d as usize).collect(), data });
        }
    }
    Quantized { layers: lq, tensors }
}

/// A model of `layers` quantized as `modes`, with any f32 view (the writer
/// stores only the quantized tensors).
fn quantized_model(input: IoSpec, layers: Vec<LayerSpec>, modes: &[QuantMode], seed: u64) -> Model {
    let values =
        layers.iter().flat_map(|l| (0..l.param_count()).map(|p| vec![0.0; l.param(p).unwrap().dims.elements()]));
    let values = values.collect();
    let mut m = Model::new("q", input, layers.clone(), values).unwrap();
    m.quant = Some(random_quant(&layers, modes, seed));
    m
}

fn f32s(t: &QTensor) -> &[f32] {
    match &t.data {
        QData::F32(v) => v,
        other => panic!("{} is {:?}, not F32", t.name, other.dtype()),
    }
}

fn i8s(t: &QTensor) -> &[i8] {
    match &t.data {
        QData::I8(v) => v,
        other => panic!("{} is {:?}, not I8", t.name, other.dtype()),
    }
}

fn wide_models() -> Vec<Model> {
    use QuantMode::{Float, Int8, WeightsOnly};
    let flat = |d: &[u32]| LayerSpec::Flatten { dims: Dims::new(d).unwrap() };
    let tokens = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(3), range: None };
    let text =
        vec![LayerSpec::Embedding { vocab: 6, dim: 4, seq_len: 3 }, flat(&[3, 4]), dense(12, 3, Activation::Softmax)];
    let depthwise = LayerSpec::DepthwiseConv2d {
        height: 4,
        width: 4,
        channels: 2,
        kernel: [2, 2],
        stride: [1, 1],
        dilation: [1, 1],
        padding: Padding::Valid,
        activation: Activation::Relu,
    };
    let conv = LayerSpec::Conv2d {
        height: 3,
        width: 3,
        channels: 2,
        filters: 3,
        kernel_h: 2,
        kernel_w: 2,
        padding: Padding::Same,
        activation: Activation::Relu,
    };
    let image = vec![depthwise, conv, flat(&[3, 3, 3]), dense(27, 2, Activation::Linear)];
    let image_in = IoSpec { kind: ValueKind::F32, dims: Dims::new(&[4, 4, 2]).unwrap(), range: None };
    let lstm = LayerSpec::Lstm { inputs: 3, units: 2, seq_len: 4, return_sequences: false, bidirectional: true };
    let seq_in = IoSpec { kind: ValueKind::F32, dims: Dims::new(&[4, 3]).unwrap(), range: None };
    vec![
        quantized_model(tokens, text, &[WeightsOnly, Float, Int8], 1),
        quantized_model(image_in, image, &[WeightsOnly, Int8, Float, WeightsOnly], 2),
        quantized_model(seq_in, vec![lstm, dense(4, 1, Activation::Sigmoid)], &[WeightsOnly, Int8], 3),
    ]
}

#[test]
fn quantized_models_of_every_scale_axis_round_trip() {
    for m in wide_models() {
        let blob = m.to_blob().unwrap();
        assert_eq!(&blob[4..6], &[2, 0]);
        let back = Model::from_blob(&blob).unwrap();
        assert_eq!(back.quant, m.quant);
        assert_eq!(back.to_blob().unwrap(), blob, "to_blob -> from_blob -> to_blob of {:?}", m.layers);
    }
}

#[test]
fn f32_view_scales_rows_or_the_last_axis() {
    let models = wide_models();
    // Depthwise [2, 2, 2]: one scale per channel (last axis).
    let back = Model::from_blob(&models[1].to_blob().unwrap()).unwrap();
    let q = models[1].quant.as_ref().unwrap();
    let (w, s) = (i8s(&q.tensors[0]), f32s(&q.tensors[1]));
    assert_eq!(s.len(), 2);
    let want: Vec<f32> = w.iter().enumerate().map(|(k, &v)| v as f32 * s[k % 2]).collect();
    assert_eq!(back.params[0].data, want);
    assert_eq!(back.params[1].data, f32s(&q.tensors[2]), "depthwise bias copied");
    // Conv2d OHWI [3, 2, 2, 2] in int8: one scale per filter (8 taps each),
    // the bias `bias · s_in · s_w[f]`.
    let (w, s) = (i8s(&q.tensors[3]), f32s(&q.tensors[4]));
    assert_eq!((q.tensors[4].dims.clone(), q.tensors[5].dims.clone()), (vec![3], vec![3]));
    let want: Vec<f32> = w.iter().enumerate().map(|(k, &v)| v as f32 * s[k / 8]).collect();
    assert_eq!(back.params[2].data, want);
    let QData::I32(b) = &q.tensors[5].data else { panic!("conv bias is not I32") };
    let s_in = q.layers[1].input.scale as f64;
    let want: Vec<f32> = b.iter().zip(s).map(|(&b, &s)| (b as f64 * s_in * s as f64) as f32).collect();
    assert_eq!(back.params[3].data, want);
    // LSTM w [2, 8, 3] and r [2, 8, 2]: one scale per row, scales [2, 8].
    let back = Model::from_blob(&models[2].to_blob().unwrap()).unwrap();
    let q = models[2].quant.as_ref().unwrap();
    assert_eq!(q.tensors[1].dims, vec![2, 8]);
    for (param, (wq, sq), cols) in [(0, (0, 1), 3), (1, (2, 3), 2)] {
        let (w, s) = (i8s(&q.tensors[wq]), f32s(&q.tensors[sq]));
        let want: Vec<f32> = w.iter().enumerate().map(|(k, &v)| v as f32 * s[k / cols]).collect();
        assert_eq!(back.params[param].data, want);
    }
    assert_eq!(back.params[2].data, f32s(&q.tensors[4]), "lstm bias copied");
}

// ---------------------------------------------------------------------------
// One test per rule version 2 adds.
// ---------------------------------------------------------------------------

#[test]
fn rejects_unsupported_versions() {
    for v in [0u16, 3, 0xFFFF] {
        assert_rejects(&V2::with(|f| f.version = v), Error::UnsupportedVersion);
    }
}

#[test]
fn rejects_quant_table_that_does_not_decode() {
    // Mode 3 does not exist.
    assert_rejects(&V2::with(|f| f.quant[1].mode = 3), Error::HeaderDecode);
    // A version-2 header without its table.
    assert_rejects(&V2::with(|f| f.no_table = true), Error::HeaderDecode);
    // More entries than a model holds layers (33 > 32).
    assert_rejects(&V2::with(|f| f.quant = vec![wquant(0); 33]), Error::HeaderDecode);
    // A table cut short inside its last entry.
    let cut = V2::with(|f| {
        f.no_table = true;
        let mut table = encode_quant(&f.quant);
        table.truncate(table.len() - 2);
        f.trailing = table;
    });
    assert_rejects(&cut, Error::HeaderDecode);
}

#[test]
fn rejects_trailing_bytes_after_the_table() {
    assert_rejects(&V2::with(|f| f.trailing = vec![0]), Error::HeaderTrailingBytes);
    // A version-1 blob has no table: the same bytes are trailing there.
    let v1 = V2::with(|f| {
        f.version = 1;
        f.quant = vec![wquant(0), wquant(0)];
    });
    assert_rejects(&v1, Error::HeaderTrailingBytes);
}

#[test]
fn rejects_quant_count() {
    assert_rejects(&V2::with(|f| f.quant.truncate(1)), Error::QuantCount);
    assert_rejects(&V2::with(|f| f.quant.clear()), Error::QuantCount);
    assert_rejects(&V2::with(|f| f.quant.push(wquant(0))), Error::QuantCount);
}

/// The fixture with a Dropout layer (no tensors) in the middle, quantized as `mode`.
fn with_dropout(mode: u32) -> Vec<u8> {
    V2::with(|f| {
        f.header.layers.insert(1, WireLayer { variant: 3, fields: vec![4, 100_000] });
        f.quant.insert(1, wquant(mode));
    })
}

#[test]
fn rejects_unsupported_quant() {
    assert_eq!(parse(&with_dropout(0)), Ok(()), "a Float layer without tensors in a version-2 blob");
    assert_rejects(&with_dropout(2), Error::UnsupportedQuant);
    assert_rejects(&with_dropout(1), Error::UnsupportedQuant);
    // An embedding can be weights-only but not int8.
    let emb = |mode| {
        let mut f = V2::new();
        f.header.input = WireIo { kind: 1, dims: wdims(&[2]), range: None };
        f.header.layers = vec![WireLayer { variant: 1, fields: vec![5, 2, 2] }, wdense(4, 2, 0)];
        f.set(0, I8, &[5, 2], i8_bytes(&[1; 10]));
        f.set(1, F32, &[5], f32_bytes(&[0.5; 5]));
        f.header.tensors.drain(2..5);
        f.data.drain(2..5);
        f.header.tensors[0].name = b"embedding_0.weight".to_vec();
        f.header.tensors[1].name = b"embedding_0.weight_scale".to_vec();
        f.quant[0] = WireQuant { mode, input: IN0, output: OUT0 };
        f.layout();
        f.bytes()
    };
    assert_eq!(parse(&emb(2)), Ok(()));
    assert_rejects(&emb(1), Error::UnsupportedQuant);
}

#[test]
fn rejects_bad_quant_params() {
    let bad_scales = [0.0, -0.05, f32::NAN, f32::INFINITY, -0.0];
    for s in bad_scales {
        assert_rejects(&V2::with(|f| f.quant[0].input.scale = s), Error::BadQuantParams);
        assert_rejects(&V2::with(|f| f.quant[0].output.scale = s), Error::BadQuantParams);
    }
    for zp in [128, -129, i32::MAX, i32::MIN] {
        assert_rejects(&V2::with(|f| f.quant[0].input.zero_point = zp), Error::BadQuantParams);
        assert_rejects(&V2::with(|f| f.quant[0].output.zero_point = zp), Error::BadQuantParams);
    }
    for zp in [127, -128] {
        assert_eq!(parse(&V2::with(|f| f.quant[0].input.zero_point = zp)), Ok(()));
    }
    assert_eq!(parse(&V2::with(|f| f.quant[0].input.scale = f32::MIN_POSITIVE / 2.0)), Ok(()));
}

#[test]
fn rejects_tensor_type_and_shape_against_the_mode() {
    // The int8 weight stored as F32, the requantization as F32, the f32 bias as I32.
    assert_rejects(&V2::with(|f| f.set(0, F32, &[4, 3], f32_bytes(&[0.0; 12]))), Error::TensorType);
    assert_rejects(&V2::with(|f| f.set(T_RQ0, F32, &[4, 2], f32_bytes(&[1.0; 8]))), Error::TensorType);
    assert_rejects(&V2::with(|f| f.set(7, I32, &[2], i32_bytes(&[1, 2]))), Error::TensorType);
    // Mode and tensors disagree: layer 1 declared Float holds I8 weights.
    assert_rejects(&V2::with(|f| f.quant[1] = wquant(0)), Error::TensorType);
    assert_rejects(&V2::with(|f| f.set(T_RQ0, I32, &[4], i32_bytes(&[1 << 30; 4]))), Error::TensorShape);
    assert_rejects(&V2::with(|f| f.set(T_S0, F32, &[2, 2], f32_bytes(&S0))), Error::TensorShape);
    assert_rejects(&V2::with(|f| f.set(T_S1, F32, &[1], f32_bytes(&[0.5]))), Error::TensorShape);
}

#[test]
fn rejects_tensor_count_against_the_mode() {
    let short = V2::with(|f| {
        f.header.tensors.pop();
        f.data.pop();
    });
    assert_rejects(&short, Error::TensorCount);
}

#[test]
fn version_1_holds_only_f32_and_u8_tensors() {
    // An all-Float version-2 model and the same as version 1, plus an asset.
    let floaty = |version: u16, dtype: u32| {
        V2::with(|f| {
            f.version = version;
            f.no_table = version == 1;
            f.quant = vec![wquant(0), wquant(0)];
            f.header.tensors = vec![
                wtensor("dense_0.weight", F32, &[4, 3]),
                wtensor("dense_0.bias", F32, &[4]),
                wtensor("dense_1.weight", F32, &[2, 4]),
                wtensor("dense_1.bias", F32, &[2]),
                wtensor("asset", dtype, &[3]),
            ];
            let elem = [4, 1, 1, 2, 4][dtype as usize];
            f.data = vec![f32_bytes(&[0.5; 12]), f32_bytes(&[0.0; 4]), f32_bytes(&[0.5; 8]), f32_bytes(&[0.0; 2])];
            f.data.push(vec![7; 3 * elem]);
        })
    };
    assert_eq!(parse(&floaty(1, U8)), Ok(()));
    assert_eq!(parse(&floaty(2, U8)), Ok(()));
    for dtype in [I8, I16, I32] {
        assert_rejects(&floaty(1, dtype), Error::TensorType);
        assert_eq!(parse(&floaty(2, dtype)), Ok(()), "dtype {dtype} as a version-2 asset");
    }
    let b = AlignedBytes::new(&floaty(2, I16));
    assert_eq!(Blob::parse(&b).unwrap().tensor_i16(4).unwrap(), &[0x0707; 3]);
    // An all-Float version-2 blob reads back as a quantized model of Float layers.
    let m = Model::from_blob(&floaty(2, U8)).unwrap();
    assert_eq!(m.quant.as_ref().map(|q| q.layers.clone()), Some(vec![LayerQuant::FLOAT; 2]));
    assert_eq!(m.params[0].data, vec![0.5; 12]);
}

#[test]
fn rejects_misaligned_and_overlapping_integer_tensors() {
    let mut f = V2::new();
    f.header.tensors[0].offset += 1;
    assert_rejects(&f.bytes(), Error::TensorMisaligned);
    // The 12-byte I8 weight ends inside the next 16 bytes: the next tensor may not start there.
    let mut f = V2::new();
    f.header.tensors[1].offset = f.header.tensors[0].offset;
    assert_rejects(&f.bytes(), Error::TensorOutOfBounds);
}

#[test]
fn rejects_bad_scale() {
    for v in [0.0, -0.0, -1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut s0 = S0;
        s0[2] = v;
        assert_rejects(&V2::with(|f| f.data[T_S0] = f32_bytes(&s0)), Error::BadScale);
        let mut s1 = S1;
        s1[1] = v;
        assert_rejects(&V2::with(|f| f.data[T_S1] = f32_bytes(&s1)), Error::BadScale);
    }
    // A tiny positive (subnormal) scale is still a scale; biases of any sign are not scales.
    assert_eq!(parse(&V2::with(|f| f.data[T_S1] = f32_bytes(&[1e-40, 0.5]))), Ok(()));
    assert_eq!(parse(&V2::with(|f| f.data[7] = f32_bytes(&[-3.0, 0.0]))), Ok(()));
}

#[test]
fn rejects_bad_requant() {
    let with_pair = |m: i32, s: i32| {
        V2::with(|f| {
            let mut rq = RQ0;
            rq[4] = m;
            rq[5] = s;
            f.data[T_RQ0] = i32_bytes(&rq);
        })
    };
    for (m, s) in [(1 << 30, 31), (1 << 30, -32), ((1 << 30) - 1, 0), (1, 0), (-1, 0), (i32::MIN, 0), (0, 31)] {
        assert_rejects(&with_pair(m, s), Error::BadRequant);
    }
    for (m, s) in [(0, 0), (0, -31), (1 << 30, -31), (i32::MAX, 30), (1 << 30, 30)] {
        assert_eq!(parse(&with_pair(m, s)), Ok(()), "({m}, {s})");
    }
    // Kernel biases and int32 biases are not requantization pairs.
    assert_eq!(parse(&V2::with(|f| f.data[3] = i32_bytes(&[i32::MIN, -1, 1, i32::MAX]))), Ok(()));
}

#[test]
fn exporter_refuses_inconsistent_quantized_models() {
    type Edit = Box<dyn Fn(&mut Quantized)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("one entry too few", Box::new(|q| q.layers.truncate(1))),
        ("a tensor missing", Box::new(|q| drop(q.tensors.pop()))),
        ("a tensor too many", Box::new(|q| q.tensors.push(qt("x", &[1], QData::F32(vec![1.0]))))),
        ("a wrong name", Box::new(|q| q.tensors[0].name = "dense_0.w".into())),
        ("wrong dims", Box::new(|q| q.tensors[0].dims = vec![3, 4])),
        ("a wrong type", Box::new(|q| q.tensors[7].data = QData::I32(vec![1, 2]))),
        ("too few values", Box::new(|q| q.tensors[0].data = QData::I8(vec![1; 11]))),
        ("a non-finite bias", Box::new(|q| q.tensors[7].data = QData::F32(vec![f32::NAN, 0.0]))),
        ("a zero scale", Box::new(|q| q.tensors[T_S0].data = QData::F32(vec![0.0; 4]))),
        ("a bad shift", Box::new(|q| q.tensors[T_RQ0].data = QData::I32(vec![1 << 30, 40, 0, 0, 0, 0, 0, 0]))),
        ("a bad zero point", Box::new(|q| q.layers[0].input.zero_point = 300)),
        ("a mode its tensors do not follow", Box::new(|q| q.layers[1].mode = QuantMode::Int8)),
    ];
    for (what, edit) in edits {
        let mut m = fixture_model();
        edit(m.quant.as_mut().unwrap());
        assert!(m.to_blob().is_err(), "the exporter wrote a blob with {what}");
    }
}

// ---------------------------------------------------------------------------
// Robustness.
// ---------------------------------------------------------------------------

/// If `bytes` parses, every layer's tensors must be viewable as their types,
/// and the interpreter and the exporter's reader must return (not panic).
fn exercise(bytes: &[u8]) -> Result<(), Error> {
    let aligned = AlignedBytes::new(bytes);
    let blob = Blob::parse(&aligned)?;
    let h = blob.header();
    let mut cursor = blob.cursor();
    for (i, l) in h.layers.iter().enumerate() {
        let entry = cursor.next_layer().expect("one entry per layer");
        assert_eq!(entry.quant, h.layer_quant(i));
        for p in 0..l.qparam_count(entry.mode()) {
            let ok = entry.param_f32(p).is_ok() || entry.param_i8(p).is_ok() || entry.param_i32(p).is_ok();
            assert!(ok, "layer {i} parameter {p} cannot be viewed");
        }
    }
    cursor.finish().expect("every layer taken");
    let input = vec![0.0f32; h.input.dims.elements()];
    let mut scratch = vec![0.0f32; dynamic::scratch_len(&blob)];
    let mut out = vec![0.0f32; h.output.dims.elements()];
    let _ = dynamic::forward(&blob, &input, &mut scratch, &mut out);
    let _ = Model::from_blob(bytes);
    Ok(())
}

fn seeds() -> Vec<Vec<u8>> {
    let mut s = vec![V2::new().bytes(), with_dropout(0)];
    s.extend(wide_models().iter().map(|m| m.to_blob().unwrap()));
    s
}

#[test]
fn every_truncation_of_a_version_2_blob_is_rejected() {
    for good in seeds() {
        assert_eq!(exercise(&good), Ok(()));
        for n in 0..good.len() {
            assert!(exercise(&good[..n]).is_err(), "a {n}-byte prefix of a {}-byte blob was accepted", good.len());
        }
    }
}

/// Byte ranges worth mutating in `bytes`: the quantization table (the end
/// of the header) and the data of the integer and scale tensors.
fn targets(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let aligned = AlignedBytes::new(bytes);
    let blob = Blob::parse(&aligned).unwrap();
    let h = blob.header();
    let header_end = 16 + u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let table = 1 + h.quant.len() * 10;
    let data = h.tensors.iter().filter(|e| e.dtype != ember_runtime::spec::DType::U8);
    let data = data.map(|e| e.offset as usize..e.offset as usize + e.byte_len());
    std::iter::once(header_end.saturating_sub(table)..header_end).chain(data).collect()
}

#[test]
fn random_mutations_of_version_2_blobs_never_panic() {
    let seeds = seeds();
    let targets: Vec<_> = seeds.iter().map(|s| targets(s)).collect();
    let mut r = rng(2026);
    let mut seen = std::collections::HashSet::new();
    let mut accepted = 0;
    const N: usize = 6000;
    for i in 0..N {
        let k = i % seeds.len();
        let mut b = seeds[k].clone();
        for _ in 0..r.random_range(1..=3) {
            let len = b.len();
            let range = &targets[k][r.random_range(0..targets[k].len())];
            // A byte of the target (the blob may have shrunk by earlier mutations).
            let at = r.random_range(range.clone()).min(len - 1);
            match r.random_range(0..6) {
                0 => b[r.random_range(0..len)] ^= 1 << r.random_range(0..8),
                1 => b[at] ^= 1 << r.random_range(0..8),
                2 => b[at] = [0, 1, 2, 3, 0x40, 0x7F, 0x80, 0xFF][r.random_range(0..8)],
                3 => b.insert(at, r.random_range(0..=255)),
                4 if len > 1 => {
                    b.remove(at);
                }
                _ => b[at] = r.random_range(0..=255),
            }
        }
        // Mostly repair the length and CRC so the parser goes deep.
        if i % 4 != 0 && b.len() >= 20 {
            fix_lengths_and_crc(&mut b, false);
        }
        match exercise(&b) {
            Ok(()) => accepted += 1,
            Err(e) => {
                seen.insert(format!("{e:?}"));
            }
        }
    }
    eprintln!("accepted {accepted} of {N}; errors seen: {seen:?}");
    for deep in ["HeaderDecode", "HeaderTrailingBytes", "BadScale", "BadRequant", "BadQuantParams", "ChecksumMismatch"]
    {
        assert!(seen.contains(deep), "no mutation reached {deep}; seen {seen:?}");
    }
    assert!(accepted > 0 && accepted < N, "accepted {accepted} of {N}");
}
