//! Models with the 1-D and strided window layers (Conv1d, MaxPool1d,
//! AveragePool1d/2d, GlobalAveragePool, strided and dilated Conv2d,
//! DepthwiseConv2d; a DS-CNN block and a Conv1d gesture classifier ending in
//! a many-class softmax) agree across backends: the trainer's forward pass
//! (`ember_nn::Network`) = the runtime's interpreter on the blob = the
//! runtime on the blob read back and rewritten (byte-identical) = tract =
//! ONNX Runtime, within [`F32_PARITY`]; every export passes the `onnx`
//! checker; a 1-D run is entered and left with one transpose each.

use ember_export::Model;
use ember_nn::network::Network;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_verify::backends::{onnx_check, run_ort, run_tract};
use ember_verify::{F32_PARITY, compare, run_runtime};

use ember_conformance::support::values;

const BATCH: usize = 3;
const S: Padding = Padding::Same;
const V: Padding = Padding::Valid;

fn io(dims: &[u32]) -> IoSpec {
    IoSpec { kind: ValueKind::F32, dims: Dims::new(dims).unwrap(), range: None }
}

fn conv1d(lc: [u32; 2], filters: u32, ksd: [u32; 3], padding: Padding, activation: Activation) -> LayerSpec {
    let ([length, channels], [kernel, stride, dilation]) = (lc, ksd);
    LayerSpec::Conv1d { length, channels, filters, kernel, stride, dilation, padding, activation }
}

fn strided(hwc: [u32; 3], filters: u32, ksd: [[u32; 2]; 3], padding: Padding, act: Activation) -> LayerSpec {
    let ([height, width, channels], [kernel, stride, dilation]) = (hwc, ksd);
    LayerSpec::Conv2dStrided { height, width, channels, filters, kernel, stride, dilation, padding, activation: act }
}

fn depthwise(hwc: [u32; 3], ksd: [[u32; 2]; 3], padding: Padding, act: Activation) -> LayerSpec {
    let ([height, width, channels], [kernel, stride, dilation]) = (hwc, ksd);
    LayerSpec::DepthwiseConv2d { height, width, channels, kernel, stride, dilation, padding, activation: act }
}

fn gap(dims: &[u32]) -> LayerSpec {
    LayerSpec::GlobalAveragePool { dims: Dims::new(dims).unwrap() }
}

fn dense(inputs: u32, units: u32, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { inputs, units, activation }
}

/// A model with seeded parameters: kernels uniform with variance `1 / fan_in`, biases in ±0.2.
fn model(name: &str, input: IoSpec, layers: Vec<LayerSpec>) -> Model {
    let mut seed = name.len() as u64 * 1000;
    let mut vals = Vec::new();
    for l in &layers {
        for p in 0..l.param_count() {
            let spec = l.param(p).unwrap();
            let n = spec.dims.elements();
            seed += 1;
            vals.push(if spec.name == "bias" {
                values(seed, n, 0.2)
            } else {
                values(seed, n, (3.0 / (n / spec.dims.as_slice()[0] as usize) as f64).sqrt())
            });
        }
    }
    Model::new(name, input, layers, vals).unwrap()
}

/// The DS-CNN block of the board set: strided Conv2d, DepthwiseConv2d,
/// AveragePool2d, GlobalAveragePool, Dense softmax over 12 classes.
fn ds_cnn() -> Model {
    use Activation::{Relu, Softmax};
    let layers = vec![
        strided([10, 8, 1], 6, [[3, 3], [2, 2], [1, 1]], S, Relu), // 5x4x6
        depthwise([5, 4, 6], [[3, 3], [1, 1], [1, 1]], S, Relu),
        LayerSpec::AveragePool2d { height: 5, width: 4, channels: 6, pool: [2, 2], stride: [2, 2], padding: S }, // 3x2
        gap(&[3, 2, 6]),
        dense(6, 12, Softmax),
    ];
    model("ds_cnn", io(&[10, 8, 1]), layers)
}

/// Every case, each meant to catch one layout, stride, dilation or padding mistake.
fn cases() -> Vec<Model> {
    use Activation::{Linear, Relu, Sigmoid, Softmax, Tanh};
    vec![
        model("conv1d_same", io(&[12, 3]), vec![conv1d([12, 3], 4, [3, 1, 1], S, Relu)]),
        model("conv1d_strided_same", io(&[13, 2]), vec![conv1d([13, 2], 3, [4, 2, 1], S, Tanh)]),
        model("conv1d_dilated_valid", io(&[15, 2]), vec![conv1d([15, 2], 3, [3, 2, 3], V, Linear)]),
        model(
            "conv1d_maxpool1d_same",
            io(&[11, 2]),
            vec![
                conv1d([11, 2], 3, [3, 1, 1], S, Linear),
                LayerSpec::MaxPool1d { length: 11, channels: 3, pool: 2, stride: 2, padding: S },
            ],
        ),
        model(
            "conv1d_avgpool1d_same",
            io(&[11, 2]),
            vec![
                conv1d([11, 2], 3, [3, 1, 1], S, Linear),
                LayerSpec::AveragePool1d { length: 11, channels: 3, pool: 3, stride: 2, padding: S },
            ],
        ),
        // A flat input feeding a 1-D layer, and global pooling of a sequence.
        model(
            "flat_conv1d_gap",
            io(&[24]),
            vec![conv1d([8, 3], 4, [3, 1, 1], V, Sigmoid), gap(&[6, 4]), dense(4, 3, Linear)],
        ),
        model("conv2d_strided_same", io(&[9, 8, 2]), vec![strided([9, 8, 2], 3, [[3, 3], [2, 2], [1, 1]], S, Relu)]),
        model(
            "conv2d_strided_rect_valid",
            io(&[9, 8, 1]),
            vec![strided([9, 8, 1], 4, [[4, 3], [2, 1], [1, 1]], V, Tanh)],
        ),
        model("conv2d_dilated_same", io(&[8, 8, 3]), vec![strided([8, 8, 3], 2, [[3, 3], [1, 1], [2, 2]], S, Linear)]),
        model("depthwise_same", io(&[6, 5, 4]), vec![depthwise([6, 5, 4], [[3, 3], [1, 1], [1, 1]], S, Relu)]),
        model(
            "depthwise_strided_dilated",
            io(&[9, 8, 3]),
            vec![depthwise([9, 8, 3], [[3, 2], [2, 1], [1, 2]], V, Tanh)],
        ),
        model(
            "avgpool2d_same",
            io(&[7, 5, 3]),
            vec![
                depthwise([7, 5, 3], [[1, 1], [1, 1], [1, 1]], V, Linear),
                LayerSpec::AveragePool2d { height: 7, width: 5, channels: 3, pool: [2, 2], stride: [2, 2], padding: S },
            ],
        ),
        ds_cnn(),
        model(
            "gesture_conv1d",
            io(&[24, 3]),
            vec![
                conv1d([24, 3], 6, [5, 1, 1], S, Relu),
                LayerSpec::MaxPool1d { length: 24, channels: 6, pool: 2, stride: 2, padding: V },
                conv1d([12, 6], 8, [3, 1, 2], S, Relu),
                gap(&[12, 8]),
                dense(8, 20, Softmax),
            ],
        ),
    ]
}

fn dims(m: &Model) -> Vec<usize> {
    m.input.dims.as_slice().iter().map(|&d| d as usize).collect()
}

#[test]
fn trainer_runtime_round_trip_tract_and_ort_agree() {
    for (k, m) in cases().iter().enumerate() {
        let onnx = m.to_onnx().unwrap();
        let x = values(100 + k as u64, BATCH * m.input.dims.elements(), 1.5);
        let blob = m.to_blob().unwrap();
        let want = run_runtime(&blob, &x).unwrap_or_else(|e| panic!("runtime/{}: {e:#}", m.name));
        assert_eq!(want.len(), BATCH * m.output().dims.elements(), "{}", m.name);
        let distinct = want.iter().map(|v| v.to_bits()).collect::<std::collections::HashSet<_>>().len();
        assert!(distinct * 10 > want.len(), "{}: only {distinct} distinct outputs", m.name);
        // The blob read back writes the same bytes and runs to the same bits.
        let back = Model::from_blob(&blob).unwrap();
        assert_eq!(back.to_blob().unwrap(), blob, "{}: blob round trip", m.name);
        let again = run_runtime(&back.to_blob().unwrap(), &x).unwrap();
        assert_eq!(again, want, "{}: runtime after the round trip", m.name);
        // The trainer's forward pass.
        let mut net = Network::from_model(m);
        let trainer = net.forward(&x, BATCH, false).to_vec();
        let tract = run_tract(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("tract/{}: {e:#}", m.name));
        let ort = run_ort(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("ort/{}: {e:#}", m.name));
        for c in
            [compare("trainer", &trainer, &want), compare("tract", &tract, &want), compare("onnxruntime", &ort, &want)]
        {
            eprintln!("{}/{}: max abs {:e}", c.backend, m.name, c.max_abs);
            assert!(
                c.ok,
                "{}/{}: max abs error {:e}, max rel {:e} (F32_PARITY {F32_PARITY:e})",
                c.backend, m.name, c.max_abs, c.max_rel
            );
        }
    }
}

#[test]
fn onnx_checker_accepts_every_case() {
    for m in cases() {
        if let Err(e) = onnx_check(&m.to_onnx().unwrap()) {
            panic!("{}: {e:#}", m.name);
        }
    }
}

#[test]
fn one_transpose_in_and_out_of_a_1d_run_and_group_on_depthwise() {
    let m = cases().into_iter().find(|c| c.name == "gesture_conv1d").unwrap();
    let graph = m.to_onnx_proto().unwrap().graph.unwrap();
    let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(
        ops,
        ["Transpose", "Conv", "Relu", "MaxPool", "Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm", "Softmax"]
    );
    let graph = ds_cnn().to_onnx_proto().unwrap().graph.unwrap();
    let dw = graph.node.iter().find(|n| n.name == "depthwiseconv2d_1").unwrap();
    let group = dw.attribute.iter().find(|a| a.name == "group").unwrap();
    assert_eq!(group.i, 6);
    let pool = graph.node.iter().find(|n| n.op_type == "AveragePool").unwrap();
    let cip = pool.attribute.iter().find(|a| a.name == "count_include_pad").unwrap();
    assert_eq!(cip.i, 0);
}
