//! Image models (Conv2d with same/valid, even and rectangular kernels,
//! MaxPool2d, Upsample2d, BatchNorm on maps, vectors and sequences, the conv
//! autoencoder and its encoder + Dense) exported to ONNX and run on tract and
//! ONNX Runtime agree with the runtime's interpreter
//! (`ember_runtime::dynamic::forward` on the model's blob) within
//! [`F32_PARITY`]; every export passes the `onnx` checker; a run of image
//! layers is entered and left with one transpose each.

use ember_export::Model;
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_verify::backends::{onnx_check, run_ort, run_tract};
use ember_verify::{F32_PARITY, compare, run_runtime};

use ember_conformance::support;
use support::values;

const BATCH: usize = 3;

fn io(dims: &[u32]) -> IoSpec {
    IoSpec { kind: ValueKind::F32, dims: Dims::new(dims).unwrap(), range: None }
}

fn conv(
    [height, width, channels]: [u32; 3],
    filters: u32,
    [kernel_h, kernel_w]: [u32; 2],
    padding: Padding,
    activation: Activation,
) -> LayerSpec {
    LayerSpec::Conv2d { height, width, channels, filters, kernel_h, kernel_w, padding, activation }
}

/// A `k x k` convolution with the output size of `padding` (the usual case).
fn conv_k(hwc: [u32; 3], filters: u32, k: u32, padding: Padding, activation: Activation) -> LayerSpec {
    conv(hwc, filters, [k, k], padding, activation)
}

/// A linear 1x1 convolution keeping the channel count (mixes channels).
fn mix(hwc: [u32; 3]) -> LayerSpec {
    conv_k(hwc, hwc[2], 1, Padding::Valid, Activation::Linear)
}

fn pool([height, width, channels]: [u32; 3], pool: u32, padding: Padding) -> LayerSpec {
    LayerSpec::MaxPool2d { height, width, channels, pool, padding }
}

fn up([height, width, channels]: [u32; 3], factor: u32) -> LayerSpec {
    LayerSpec::Upsample2d { height, width, channels, factor }
}

fn bn(dims: &[u32], epsilon: f32) -> LayerSpec {
    LayerSpec::BatchNorm { dims: Dims::new(dims).unwrap(), epsilon_bits: epsilon.to_bits() }
}

fn dense(inputs: u32, units: u32, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { inputs, units, activation }
}

/// The output `[h, w, c]` of an image layer.
fn hwc(l: &LayerSpec) -> [u32; 3] {
    l.output_dims().as_slice().try_into().unwrap()
}

/// A model with seeded parameters: kernels uniform with variance `1 / fan_in`
/// (so that deep chains neither vanish nor explode), biases in ±0.2, batch
/// norm `gamma` in [0.5, 1.5], `beta` and `mean` in ±0.5, `var` in [0.2, 1.8].
fn model(name: &str, input: IoSpec, layers: Vec<LayerSpec>) -> Model {
    let mut seed = name.len() as u64 * 1000;
    let mut vals = Vec::new();
    for l in &layers {
        for p in 0..l.param_count() {
            let spec = l.param(p).unwrap();
            let n = spec.dims.elements();
            seed += 1;
            let v = match (l, spec.name) {
                (LayerSpec::BatchNorm { .. }, "gamma") => values(seed, n, 0.5).iter().map(|v| v + 1.0).collect(),
                (LayerSpec::BatchNorm { .. }, "var") => values(seed, n, 0.8).iter().map(|v| v + 1.0).collect(),
                (LayerSpec::BatchNorm { .. }, _) => values(seed, n, 0.5),
                (_, "bias") => values(seed, n, 0.2),
                _ => {
                    let fan_in = n / spec.dims.as_slice()[0] as usize;
                    values(seed, n, (3.0 / fan_in as f64).sqrt())
                }
            };
            vals.push(v);
        }
    }
    Model::new(name, input, layers, vals).unwrap()
}

/// The conv autoencoder on 28x28x1: encoder down to 4x4x8, decoder back up
/// to 28x28x1 (the valid 3x3 conv turns 16x16 into 14x14).
fn autoencoder() -> Model {
    use Activation::{Relu, Sigmoid};
    use Padding::{Same, Valid};
    let mut layers = vec![conv_k([28, 28, 1], 16, 3, Same, Relu)];
    let mut push = |f: &dyn Fn([u32; 3]) -> LayerSpec| {
        let l = f(hwc(layers.last().unwrap()));
        layers.push(l);
    };
    push(&|s| pool(s, 2, Same)); // 14x14x16
    push(&|s| conv_k(s, 8, 3, Same, Relu));
    push(&|s| pool(s, 2, Same)); // 7x7x8
    push(&|s| conv_k(s, 8, 3, Same, Relu));
    push(&|s| pool(s, 2, Same)); // 4x4x8
    push(&|s| conv_k(s, 8, 3, Same, Relu));
    push(&|s| up(s, 2)); // 8x8x8
    push(&|s| conv_k(s, 8, 3, Same, Relu));
    push(&|s| up(s, 2)); // 16x16x8
    push(&|s| conv_k(s, 16, 3, Valid, Relu)); // 14x14x16
    push(&|s| up(s, 2)); // 28x28x16
    push(&|s| conv_k(s, 1, 3, Same, Sigmoid));
    assert_eq!(hwc(&layers[5]), [4, 4, 8]);
    assert_eq!(hwc(layers.last().unwrap()), [28, 28, 1]);
    model("conv_autoencoder", IoSpec { range: Some([0.0, 1.0]), ..io(&[28, 28, 1]) }, layers)
}

/// The autoencoder's encoder (its first 6 layers) followed by Flatten and a softmax Dense.
fn encoder_dense() -> Model {
    let mut layers = autoencoder().layers[..6].to_vec();
    layers.push(LayerSpec::Flatten { dims: Dims::new(&[4, 4, 8]).unwrap() });
    layers.push(dense(128, 10, Activation::Softmax));
    model("encoder_dense", io(&[28, 28, 1]), layers)
}

/// Every case, each meant to catch one layout or padding mistake.
fn cases() -> Vec<Model> {
    use Activation::{Linear, Relu, Sigmoid, Tanh};
    use Padding::{Same, Valid};
    vec![
        model("conv_same_3x3", io(&[6, 5, 2]), vec![conv_k([6, 5, 2], 3, 3, Same, Relu)]),
        model("conv_valid_3x3", io(&[6, 5, 2]), vec![conv_k([6, 5, 2], 4, 3, Valid, Tanh)]),
        // pads [0, 0, 1, 1]: the extra row and column go after.
        model("conv_same_even_2x2", io(&[5, 6, 3]), vec![conv_k([5, 6, 3], 2, 2, Same, Sigmoid)]),
        // pads [0, 2, 1, 2].
        model("conv_same_rect_2x5", io(&[4, 7, 2]), vec![conv([4, 7, 2], 3, [2, 5], Same, Linear)]),
        model("conv_valid_rect_3x1", io(&[5, 4, 3]), vec![conv([5, 4, 3], 2, [3, 1], Valid, Linear)]),
        model(
            "conv_multi_channel",
            io(&[7, 7, 4]),
            vec![conv_k([7, 7, 4], 8, 3, Same, Relu), conv_k([7, 7, 8], 5, 3, Valid, Tanh)],
        ),
        // Parameterless layers follow a 1x1 convolution: `Model::to_blob`
        // cannot yet write a model without any tensor (the runtime reference
        // needs the blob).
        model("maxpool_same_7_to_4", io(&[7, 7, 3]), vec![mix([7, 7, 3]), pool([7, 7, 3], 2, Same)]),
        model("maxpool_valid_7_to_3", io(&[7, 7, 3]), vec![mix([7, 7, 3]), pool([7, 7, 3], 2, Valid)]),
        // pool 3, same: rows 7 → 3 (pads 1 / 1), columns 5 → 2 (pads 0 / 1).
        model("maxpool_same_pool3", io(&[7, 5, 2]), vec![mix([7, 5, 2]), pool([7, 5, 2], 3, Same)]),
        model("upsample_2", io(&[3, 4, 2]), vec![mix([3, 4, 2]), up([3, 4, 2], 2)]),
        model("upsample_3", io(&[2, 3, 3]), vec![mix([2, 3, 3]), up([2, 3, 3], 3)]),
        model("batchnorm_map", io(&[4, 5, 3]), vec![bn(&[4, 5, 3], 1e-3)]),
        model(
            "conv_batchnorm_pool",
            io(&[6, 6, 2]),
            vec![conv_k([6, 6, 2], 4, 3, Same, Linear), bn(&[6, 6, 4], 1e-3), pool([6, 6, 4], 2, Valid)],
        ),
        model("batchnorm_vector", io(&[6]), vec![bn(&[6], 1e-3), dense(6, 3, Tanh)]),
        model("batchnorm_sequence", io(&[5, 4]), vec![bn(&[5, 4], 0.01)]),
        // A conv, then batch norm of its output seen as a vector.
        model(
            "conv_flatten_batchnorm_vector",
            io(&[4, 4, 2]),
            vec![
                conv_k([4, 4, 2], 3, 3, Valid, Relu),
                LayerSpec::Flatten { dims: Dims::new(&[2, 2, 3]).unwrap() },
                bn(&[12], 1e-3),
            ],
        ),
        model(
            "conv_dropout_conv",
            io(&[5, 5, 2]),
            vec![
                conv_k([5, 5, 2], 3, 3, Same, Relu),
                LayerSpec::Dropout { len: 75, rate_ppm: 250_000 },
                conv_k([5, 5, 3], 2, 2, Valid, Linear),
            ],
        ),
        // A flat 784-value input feeding a 28x28x1 convolution.
        model(
            "flat_input_conv_pool_dense",
            io(&[784]),
            vec![
                conv_k([28, 28, 1], 4, 3, Same, Relu),
                pool([28, 28, 4], 2, Valid),
                LayerSpec::Flatten { dims: Dims::new(&[14, 14, 4]).unwrap() },
                dense(784, 5, Sigmoid),
            ],
        ),
        autoencoder(),
        encoder_dense(),
    ]
}

fn dims(m: &Model) -> Vec<usize> {
    m.input.dims.as_slice().iter().map(|&d| d as usize).collect()
}

/// Inputs in [0, 1] for models that declare it, else in ±1.5.
fn inputs(m: &Model, seed: u64) -> Vec<f32> {
    let n = BATCH * m.input.dims.elements();
    match m.input.range {
        Some(_) => values(seed, n, 0.5).iter().map(|v| v + 0.5).collect(),
        None => values(seed, n, 1.5),
    }
}

/// Number of nodes of type `op` in the model's ONNX graph.
fn count_ops(m: &Model, op: &str) -> usize {
    m.to_onnx_proto().unwrap().graph.unwrap().node.iter().filter(|n| n.op_type == op).count()
}

#[test]
fn tract_and_ort_match_the_runtime() {
    for (k, m) in cases().iter().enumerate() {
        let onnx = m.to_onnx().unwrap();
        let x = inputs(m, 100 + k as u64);
        let want = run_runtime(&m.to_blob().unwrap(), &x).unwrap_or_else(|e| panic!("runtime/{}: {e:#}", m.name));
        assert_eq!(want.len(), BATCH * m.output().dims.elements(), "{}", m.name);
        // Guard against a degenerate case (all zeros, saturated) passing trivially.
        let distinct = want.iter().map(|v| v.to_bits()).collect::<std::collections::HashSet<_>>().len();
        assert!(distinct * 10 > want.len(), "{}: only {distinct} distinct outputs", m.name);
        let tract = run_tract(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("tract/{}: {e:#}", m.name));
        let ort = run_ort(&onnx, &dims(m), BATCH, &x).unwrap_or_else(|e| panic!("ort/{}: {e:#}", m.name));
        for c in [compare("tract", &tract, &want), compare("onnxruntime", &ort, &want)] {
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

/// The case named `name`.
fn case(name: &str) -> Model {
    cases().into_iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no case {name}"))
}

#[test]
fn a_run_of_image_layers_has_one_transpose_in_and_one_out() {
    let ae = autoencoder();
    for (op, n) in [("Transpose", 2), ("Conv", 7), ("MaxPool", 3), ("Resize", 3), ("Relu", 6), ("Sigmoid", 1)] {
        assert_eq!(count_ops(&ae, op), n, "{op} nodes");
    }
    let graph = ae.to_onnx_proto().unwrap().graph.unwrap();
    let transposes: Vec<&str> =
        graph.node.iter().filter(|n| n.op_type == "Transpose").map(|n| n.name.as_str()).collect();
    assert_eq!(transposes, ["conv2d_0.nchw", "output.nhwc"]);
    // The encoder + Dense leaves the run before its Flatten.
    assert_eq!(count_ops(&encoder_dense(), "Transpose"), 2);
    // A Dropout inside a run keeps the layout; a map batch norm joins the run.
    assert_eq!(count_ops(&case("conv_dropout_conv"), "Transpose"), 2);
    assert_eq!(count_ops(&case("conv_batchnorm_pool"), "Transpose"), 2);
    // A vector batch norm needs none; a sequence one transposes there and back.
    assert_eq!(count_ops(&case("batchnorm_vector"), "Transpose"), 0);
    assert_eq!(count_ops(&case("batchnorm_sequence"), "Transpose"), 2);
}
