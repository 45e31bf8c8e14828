//! The int8 kernels against ONNX Runtime's integer operators: a
//! `QLinearMatMul` (per-column weight scales) and a `QLinearConv`
//! (per-channel weight scales, int32 bias, pads, strides) built in a Python
//! snippet with the `onnx` helper and run by `onnxruntime`.
//!
//! Tolerance `ORT_STEPS` = 1 quantization step: ORT requantizes in `f32`
//! (`acc · (s_x · s_w / s_y)` rounded half to even, MLAS's
//! `MlasRequantizeOutput`), the runtime with TFLite's Q31 fixed-point
//! multiplier (ties away from zero, two roundings). The two agree except
//! where the real product lies within about 2⁻²⁰ of a half-integer; the test
//! also requires that almost all outputs are bit-identical.

use ember_conformance::rng;
use ember_conformance::support::{run_python, scratch_dir};
use ember_runtime::quant::{Conv2dGeometry, OutputStage, QConv2d, QDense, QuantizedMultiplier, fold_input_offset};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// Largest difference allowed between the runtime's int8 output and ORT's.
const ORT_STEPS: i32 = 1;

const SCRIPT: &str = r#"
import json, sys
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper
import onnxruntime as ort

case = json.load(open(sys.argv[1]))
i8 = lambda v, shape: numpy_helper.from_array(np.array(v, dtype=np.int8).reshape(shape))
f32 = lambda v, name: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
def init(arr, name):
    arr.name = name
    return arr

if case["op"] == "matmul":
    m, k, n = case["m"], case["k"], case["n"]
    inits = [f32(case["a_scale"], "a_scale"), init(i8(case["a_zp"], []), "a_zp"),
             init(i8(case["b"], [k, n]), "b"), f32(case["b_scale"], "b_scale"),
             init(i8([0] * n, [n]), "b_zp"), f32(case["y_scale"], "y_scale"), init(i8(case["y_zp"], []), "y_zp")]
    node = helper.make_node("QLinearMatMul", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"], ["y"])
    x_shape, y_shape = [m, k], [m, n]
else:
    c, h, w, oc, kh, kw = case["c"], case["h"], case["w"], case["oc"], case["kh"], case["kw"]
    inits = [f32(case["a_scale"], "a_scale"), init(i8(case["a_zp"], []), "a_zp"),
             init(i8(case["b"], [oc, c, kh, kw]), "b"), f32(case["b_scale"], "b_scale"),
             init(i8([0] * oc, [oc]), "b_zp"), f32(case["y_scale"], "y_scale"), init(i8(case["y_zp"], []), "y_zp"),
             init(numpy_helper.from_array(np.array(case["bias"], dtype=np.int32)), "bias")]
    node = helper.make_node("QLinearConv", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp", "bias"],
                            ["y"], pads=case["pads"], strides=case["strides"], kernel_shape=[kh, kw])
    x_shape, y_shape = [1, c, h, w], case["y_shape"]
graph = helper.make_graph([node], "q", [helper.make_tensor_value_info("a", TensorProto.INT8, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.INT8, y_shape)], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
model.ir_version = 9
onnx.checker.check_model(model, full_check=True)
sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
y = sess.run(None, {"a": np.array(case["a"], dtype=np.int8).reshape(x_shape)})[0]
print(json.dumps({"y": y.astype(int).flatten().tolist(), "shape": list(y.shape)}))
"#;

fn i8s(r: &mut ChaCha8Rng, n: usize) -> Vec<i8> {
    (0..n).map(|_| r.random()).collect()
}

/// Runs one case through ORT; returns its flat int8 output.
fn ort(case: &Value, name: &str) -> Vec<i32> {
    let dir = scratch_dir("quant_ort", name);
    let file = dir.join("case.json");
    std::fs::write(&file, case.to_string()).expect("write case");
    let out = run_python("numpy, onnx, onnxruntime", &dir, SCRIPT, &[file.to_str().expect("utf-8 path")]);
    let v: Value = serde_json::from_slice(&out).expect("ORT output is JSON");
    v["y"].as_array().expect("y").iter().map(|x| x.as_i64().expect("int") as i32).collect()
}

/// `(max |diff|, count of differing values)`.
fn compare(ours: &[i8], theirs: &[i32]) -> (i32, usize) {
    assert_eq!(ours.len(), theirs.len(), "output length");
    let d = ours.iter().zip(theirs).map(|(&a, &b)| (a as i32 - b).abs());
    d.fold((0, 0), |(m, n), d| (m.max(d), n + usize::from(d != 0)))
}

fn scales(r: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| r.random_range(0.002f32..0.02)).collect()
}

#[test]
fn dense_matches_ort_qlinearmatmul() {
    let mut r = rng(30);
    let (m, k, n) = (64, 48, 24);
    let (a, b) = (i8s(&mut r, m * k), i8s(&mut r, k * n));
    let (a_scale, a_zp) = (0.05f32, r.random_range(-100..100));
    let b_scale = scales(&mut r, n);
    // accumulators have a spread of about 74² · √48 ≈ 38 000: a factor of 1/1000 keeps outputs mostly in range
    let (y_scale, y_zp) = (a_scale * 0.011 * 1000.0, r.random_range(-20..20));
    let case = json!({"op": "matmul", "m": m, "k": k, "n": n, "a": a, "b": b, "a_scale": a_scale, "a_zp": a_zp,
        "b_scale": b_scale, "y_scale": y_scale, "y_zp": y_zp});
    let theirs = ort(&case, "matmul");
    // the runtime: weights [out, in] = Bᵀ, zero bias folded with the input offset
    let w: Vec<i8> = (0..n).flat_map(|o| (0..k).map(move |i| (o, i))).map(|(o, i)| b[i * n + o]).collect();
    let mut folded = vec![0; n];
    fold_input_offset(&w, &vec![0; n], a_zp, k, &mut folded).unwrap();
    let ms: Vec<QuantizedMultiplier> =
        b_scale.iter().map(|&s| QuantizedMultiplier::from_real((a_scale * s / y_scale) as f64)).collect();
    let layer = QDense::new(&w, &folded, &ms, k, OutputStage::linear(y_zp)).unwrap();
    let mut ours = vec![0i8; m * n];
    for (x, y) in a.chunks(k).zip(ours.chunks_mut(n)) {
        layer.forward(x, y).unwrap();
    }
    let (max, count) = compare(&ours, &theirs);
    let saturated = ours.iter().filter(|&&v| v == -128 || v == 127).count();
    println!("QLinearMatMul: {count} of {} differ (max {max}); {saturated} saturated", ours.len());
    assert!(max <= ORT_STEPS, "max difference {max} steps");
    assert!(count * 100 <= ours.len(), "{count} of {} differ", ours.len());
    assert!(saturated * 4 < ours.len(), "the case must exercise the unsaturated range");
}

#[test]
fn conv_matches_ort_qlinearconv() {
    let mut r = rng(31);
    let (c, h, w, oc, kh, kw) = (3usize, 9usize, 8usize, 5usize, 3usize, 2usize);
    let (pads, strides) = ([1usize, 0, 1, 1], [2usize, 1]); // ONNX pads: top, left, bottom, right
    let x_hwc = i8s(&mut r, h * w * c);
    let w_ohwi = i8s(&mut r, oc * kh * kw * c);
    let bias: Vec<i32> = (0..oc).map(|_| r.random_range(-3000..3000)).collect();
    let (a_scale, a_zp) = (0.03f32, r.random_range(-100..100));
    let b_scale = scales(&mut r, oc);
    let (y_scale, y_zp) = (a_scale * 0.011 * 600.0, r.random_range(-20..20));
    // ONNX layouts: x NCHW, w OIHW
    let x_nchw: Vec<i8> =
        (0..c * h * w).map(|i| (i / (h * w), i / w % h, i % w)).map(|(k, y, x)| x_hwc[(y * w + x) * c + k]).collect();
    let w_oihw: Vec<i8> = (0..oc * c * kh * kw)
        .map(|i| (i / (c * kh * kw), i / (kh * kw) % c, i / kw % kh, i % kw))
        .map(|(o, k, y, x)| w_ohwi[((o * kh + y) * kw + x) * c + k])
        .collect();
    let g = Conv2dGeometry {
        in_h: h,
        in_w: w,
        in_c: c,
        k_h: kh,
        k_w: kw,
        stride_h: strides[0],
        stride_w: strides[1],
        pads,
    };
    let (oh, ow) = g.output().unwrap();
    let case = json!({"op": "conv", "y_shape": [1, oc, oh, ow], "c": c, "h": h, "w": w, "oc": oc, "kh": kh, "kw": kw, "a": x_nchw, "b": w_oihw,
        "bias": bias, "a_scale": a_scale, "a_zp": a_zp, "b_scale": b_scale, "y_scale": y_scale, "y_zp": y_zp,
        "pads": pads, "strides": strides});
    let theirs = ort(&case, "conv");
    let ms: Vec<QuantizedMultiplier> =
        b_scale.iter().map(|&s| QuantizedMultiplier::from_real((a_scale * s / y_scale) as f64)).collect();
    let layer = QConv2d {
        geometry: g,
        weights: &w_ohwi,
        bias: &bias,
        multipliers: &ms,
        input_zero_point: a_zp,
        stage: OutputStage::linear(y_zp),
    };
    let mut y_hwc = vec![0i8; oh * ow * oc];
    layer.forward(&x_hwc, &mut y_hwc).unwrap();
    // ORT's output is NCHW
    let ours: Vec<i8> = (0..oc * oh * ow)
        .map(|i| (i / (oh * ow), i / ow % oh, i % ow))
        .map(|(k, y, x)| y_hwc[(y * ow + x) * oc + k])
        .collect();
    let (max, count) = compare(&ours, &theirs);
    let saturated = ours.iter().filter(|&&v| v == -128 || v == 127).count();
    println!("QLinearConv: {count} of {} differ (max {max}); {saturated} saturated", ours.len());
    assert!(max <= ORT_STEPS, "max difference {max} steps");
    assert!(count * 100 <= ours.len().max(100), "{count} of {} differ", ours.len());
    assert!(saturated * 4 < ours.len(), "the case must exercise the unsaturated range");
}
