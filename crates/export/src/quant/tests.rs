//! [`super::quantize`] on hand-computed cases, and the QDQ graph it exports.

use ember_runtime::qspec::{LayerQuant, QuantMode};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use prost::Message;

use super::{QData, QuantizeError, QuantizeOptions, RangeMode, Scheme, quantize};
use crate::Model;
use crate::onnx::proto::ModelProto;

/// Dense 2 → 2 (linear), weight `[[1, −0.6], [0.25, 0]]`, bias `[0.11, −0.2]`.
fn dense() -> Model {
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d1(2), range: None };
    let layer = LayerSpec::Dense { inputs: 2, units: 2, activation: Activation::Linear };
    Model::new("d", input, vec![layer], vec![vec![1.0, -0.6, 0.25, 0.0], vec![0.11, -0.2]]).unwrap()
}

fn calibration() -> Vec<Vec<f32>> {
    vec![vec![-1.0, 2.0], vec![0.5, 0.0]]
}

fn tensor<'a>(m: &'a Model, name: &str) -> &'a QData {
    &m.quant.as_ref().unwrap().tensors.iter().find(|t| t.name == name).unwrap().data
}

#[test]
fn dense_int8_parameters_by_hand() {
    let q = quantize(&dense(), &calibration(), QuantizeOptions::default()).unwrap();
    let lq: LayerQuant = q.quant.as_ref().unwrap().layers[0];
    assert_eq!(lq.mode, QuantMode::Int8);
    // input range [−1, 2]: scale 3/255, zero point round(−128 + 85) = −43
    assert!((lq.input.scale - 3.0 / 255.0).abs() < 1e-8);
    assert_eq!(lq.input.zero_point, -43);
    // outputs −2.09, −0.45, 0.61, −0.075: scale 2.7/255, zero point round(−128 + 197.39) = 69
    assert!((lq.output.scale - 2.7 / 255.0).abs() < 1e-7, "{}", lq.output.scale);
    assert_eq!(lq.output.zero_point, 69);
    assert_eq!(tensor(&q, "dense_0.weight"), &QData::I8(vec![127, -76, 127, 0]));
    let QData::F32(s) = tensor(&q, "dense_0.weight_scale") else { panic!() };
    assert!((s[0] - 1.0 / 127.0).abs() < 1e-9 && (s[1] - 0.25 / 127.0).abs() < 1e-9);
    // 0.11 / (3/255 · 1/127) = 1187.45; −0.2 / (3/255 · 0.25/127) = −8636
    assert_eq!(tensor(&q, "dense_0.bias"), &QData::I32(vec![1187, -8636]));
    // bias − zp_in · Σ q: 1187 + 43 · 51, −8636 + 43 · 127
    assert_eq!(tensor(&q, "dense_0.kernel_bias"), &QData::I32(vec![3380, -3175]));
    let QData::I32(r) = tensor(&q, "dense_0.requant") else { panic!() };
    for (c, want) in [3.0 / (127.0 * 2.7), 0.75 / (127.0 * 2.7)].into_iter().enumerate() {
        let m = ember_runtime::quant::QuantizedMultiplier { multiplier: r[2 * c], shift: r[2 * c + 1] };
        assert!((m.to_real() / want - 1.0).abs() < 1e-6, "channel {c}: {} vs {want}", m.to_real());
    }
    // the f32 view is the dequantized model
    assert_eq!(q.params[0].data, vec![1.0, -76.0 / 127.0, 0.25, 0.0]);
    let b0 = (1187.0 * (3.0f64 / 255.0) / 127.0) as f32;
    assert!((q.params[1].data[0] - b0).abs() < 1e-6);
}

#[test]
fn weights_only_recurrent_layer_has_int8_w_and_r_with_row_scales() {
    let input = IoSpec { kind: ValueKind::F32, dims: Dims::d2(3, 2), range: None };
    let gru = LayerSpec::Gru { inputs: 2, units: 2, seq_len: 3, return_sequences: false, bidirectional: true };
    let vals = vec![(0..24).map(|i| (i as f32 - 12.0) / 10.0).collect(), vec![0.3; 24], vec![0.1; 24]];
    let m = Model::new("g", input, vec![gru], vals).unwrap();
    let q = quantize(&m, &[vec![0.0; 6]], QuantizeOptions::default()).unwrap();
    let names: Vec<(&str, Vec<usize>)> =
        q.quant.as_ref().unwrap().tensors.iter().map(|t| (t.name.as_str(), t.dims.clone())).collect();
    let want = [
        ("gru_0.w", vec![2, 6, 2]),
        ("gru_0.w_scale", vec![2, 6]),
        ("gru_0.r", vec![2, 6, 2]),
        ("gru_0.r_scale", vec![2, 6]),
        ("gru_0.b", vec![2, 12]),
    ];
    assert_eq!(names, want.iter().map(|(n, d)| (*n, d.clone())).collect::<Vec<_>>());
    // row 0 of w is [−1.2, −1.1]: scale 1.2/127, values −127 and round(−116.4) = −116
    let QData::I8(w) = tensor(&q, "gru_0.w") else { panic!() };
    assert_eq!(&w[..2], &[-127, -116]);
    assert_eq!(tensor(&q, "gru_0.r"), &QData::I8(vec![127; 24]));
    assert_eq!(tensor(&q, "gru_0.b"), &QData::F32(vec![0.1; 24]));
}

#[test]
fn bad_calibration_and_options_are_errors() {
    let m = dense();
    let o = QuantizeOptions::default();
    assert!(matches!(quantize(&m, &[], o), Err(QuantizeError::EmptyCalibration)));
    assert!(matches!(quantize(&m, &[vec![1.0]], o), Err(QuantizeError::SampleLength { index: 0, got: 1, want: 2 })));
    let e = quantize(&m, &[vec![1.0, 2.0], vec![f32::INFINITY, 0.0]], o).unwrap_err();
    assert!(matches!(e, QuantizeError::NonFinite { index: 1, position: 0, .. }), "{e}");
    let p = QuantizeOptions { range: RangeMode::Percentile(101.0), ..o };
    assert!(matches!(quantize(&m, &calibration(), p), Err(QuantizeError::Calibration(_))));
    let q = quantize(&m, &calibration(), o).unwrap();
    assert!(matches!(quantize(&q, &calibration(), o), Err(QuantizeError::AlreadyQuantized)));
    let w = quantize(&m, &calibration(), QuantizeOptions { scheme: Scheme::WeightsOnly, ..o }).unwrap();
    assert_eq!(w.quant.unwrap().layers[0], LayerQuant::WEIGHTS_ONLY);
}

#[test]
fn int8_dense_exports_qdq_around_gemm() {
    let q = quantize(&dense(), &calibration(), QuantizeOptions::default()).unwrap();
    let p = ModelProto::decode(&q.to_onnx().unwrap()[..]).unwrap();
    let g = p.graph.unwrap();
    let nodes: Vec<(&str, &str)> = g.node.iter().map(|n| (n.op_type.as_str(), n.name.as_str())).collect();
    assert_eq!(
        nodes,
        [
            ("QuantizeLinear", "dense_0.in.q"),
            ("DequantizeLinear", "dense_0.in"),
            ("DequantizeLinear", "dense_0.weight"),
            ("DequantizeLinear", "dense_0.bias"),
            ("Gemm", "dense_0"),
            ("QuantizeLinear", "dense_0.out.q"),
            ("DequantizeLinear", "dense_0.out"),
        ]
    );
    assert_eq!(g.node[6].output, ["output"]);
    let init = |n: &str| g.initializer.iter().find(|t| t.name == n).unwrap();
    let w = init("dense_0.weight.quantized");
    assert_eq!((w.data_type, w.raw_data.clone()), (3, vec![127, (-76i8) as u8, 127, 0]));
    let b = init("dense_0.bias.quantized");
    assert_eq!(b.data_type, 6);
    assert_eq!(b.raw_data[..4], 1187i32.to_le_bytes());
    assert_eq!(init("dense_0.in.zero_point").raw_data, vec![(-43i8) as u8]);
    assert_eq!(g.node[2].attribute[0].name, "axis");
}
