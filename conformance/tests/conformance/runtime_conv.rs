//! The runtime's image layers (typed `Conv2d`, `MaxPool2d`, `Upsample2d`,
//! `BatchNorm` and the `dynamic` interpreter) against the naive `f64` ONNX
//! reference in `ember_conformance::reference`, within `F32_PARITY`; typed and dynamic
//! outputs equal bit for bit; binding checks of kind, sizes, padding and
//! activation.

use ember_conformance::reference::model_f64;
use ember_conformance::{assert_parity, rng, to_f64, uniform};
use ember_export::{AlignedBytes, Model};
use ember_runtime::model::{Forward, Layer, Sample, TypedModel};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, Padding, ValueKind};
use ember_runtime::{
    BatchNorm, Blob, Chain, Conv2d, Dense, Error, Flatten, Linear, MaxPool2d, Relu, Same, Sigmoid, Tanh, Upsample2d,
    Valid, dynamic,
};

const SAMPLES: usize = 4;

fn conv(hw: [u32; 3], filters: u32, k: [u32; 2], padding: Padding, activation: Activation) -> LayerSpec {
    let [height, width, channels] = hw;
    LayerSpec::Conv2d { height, width, channels, filters, kernel_h: k[0], kernel_w: k[1], padding, activation }
}

fn pool(hw: [u32; 3], pool: u32, padding: Padding) -> LayerSpec {
    let [height, width, channels] = hw;
    LayerSpec::MaxPool2d { height, width, channels, pool, padding }
}

fn upsample(hw: [u32; 3], factor: u32) -> LayerSpec {
    let [height, width, channels] = hw;
    LayerSpec::Upsample2d { height, width, channels, factor }
}

fn batch_norm(dims: &[u32], epsilon: f32) -> LayerSpec {
    LayerSpec::BatchNorm { dims: Dims::new(dims).unwrap(), epsilon_bits: epsilon.to_bits() }
}

/// The dimensions of the first layer's input sample.
fn input_dims(l: &LayerSpec) -> Dims {
    match *l {
        LayerSpec::Conv2d { height, width, channels, .. }
        | LayerSpec::MaxPool2d { height, width, channels, .. }
        | LayerSpec::Upsample2d { height, width, channels, .. } => Dims::new(&[height, width, channels]).unwrap(),
        LayerSpec::BatchNorm { dims, .. } | LayerSpec::Flatten { dims } => dims,
        _ => Dims::d1(l.input_len() as u32),
    }
}

/// A model over `layers` with seeded parameters: convolution kernels
/// Glorot-uniform, biases in `[-0.2, 0.2)`, batch-norm `gamma` in
/// `[0.5, 1.5)`, `beta` and `mean` in `[-0.5, 0.5)`, `var` in `[0.05, 1.5)`.
fn model(layers: Vec<LayerSpec>, seed: u64) -> Model {
    let mut r = rng(seed);
    let mut values = Vec::new();
    for l in &layers {
        for i in 0..l.param_count() {
            let p = l.param(i).unwrap();
            let n = p.dims.elements();
            let v = match (l, p.name) {
                (LayerSpec::Conv2d { kernel_h, kernel_w, channels, filters, .. }, "weight") => {
                    let field = (kernel_h * kernel_w) as f32;
                    let limit = (6.0 / (field * (channels + filters) as f32)).sqrt();
                    uniform(&mut r, n, -limit, limit)
                }
                (LayerSpec::Dense { inputs, units, .. }, "weight") => {
                    let limit = (6.0 / (inputs + units) as f32).sqrt();
                    uniform(&mut r, n, -limit, limit)
                }
                (_, "gamma") => uniform(&mut r, n, 0.5, 1.5),
                (_, "beta" | "mean") => uniform(&mut r, n, -0.5, 0.5),
                (_, "var") => uniform(&mut r, n, 0.05, 1.5),
                _ => uniform(&mut r, n, -0.2, 0.2),
            };
            values.push(v);
        }
    }
    let input = IoSpec { kind: ValueKind::F32, dims: input_dims(&layers[0]), range: None };
    Model::new("conv", input, layers, values).expect("valid model")
}

/// Samples: uniform in `[-1, 1)`, then one all-negative sample (max pooling
/// must not see the padding as zeros) and one of zeros.
fn inputs(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut r = rng(seed);
    let mut out: Vec<Vec<f32>> = (0..SAMPLES - 2).map(|_| uniform(&mut r, n, -1.0, 1.0)).collect();
    out.push(uniform(&mut r, n, -2.0, -1.0));
    out.push(vec![0.0; n]);
    out
}

fn reference(m: &Model, xs: &[Vec<f32>]) -> Vec<f64> {
    let params: Vec<Vec<f64>> = m.params.iter().map(|t| to_f64(&t.data)).collect();
    let x: Vec<f64> = xs.iter().flat_map(|s| to_f64(s)).collect();
    model_f64(&m.layers, &params, &x)
}

fn dynamic_out(bytes: &[u8], xs: &[Vec<f32>]) -> Vec<f32> {
    let blob = Blob::parse(bytes).unwrap();
    let n_out = blob.header().output.dims.elements();
    let mut scratch = vec![f32::NAN; dynamic::scratch_len(&blob)];
    let mut out = vec![f32::NAN; xs.len() * n_out];
    for (x, y) in xs.iter().zip(out.chunks_mut(n_out)) {
        assert_eq!(dynamic::forward(&blob, x, &mut scratch, y), Ok(n_out));
    }
    out
}

fn typed_out<M: Layer>(bytes: &[u8], xs: &[Vec<f32>]) -> Vec<f32>
where
    M::Input: Sample,
    M::Output: Sample,
{
    let typed = <M as TypedModel>::load(bytes).expect("binds to its type");
    let mut out = Vec::new();
    for x in xs {
        let y = typed.forward(&M::Input::from_values(x.iter().copied()).unwrap());
        y.for_each_value(|v| out.push(v));
    }
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Checks typed model `M` and the interpreter against the reference, and
/// against each other bit for bit.
fn check<M: Layer>(what: &str, layers: Vec<LayerSpec>, seed: u64)
where
    M::Input: Sample,
    M::Output: Sample,
{
    let m = model(layers, seed);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let xs = inputs(m.input.dims.elements(), seed + 1000);
    let want = reference(&m, &xs);
    let typed = typed_out::<M>(&bytes, &xs);
    let dynamic = dynamic_out(&bytes, &xs);
    assert_parity(&format!("typed {what}"), &typed, &want);
    assert_parity(&format!("dynamic {what}"), &dynamic, &want);
    assert_eq!(bits(&typed), bits(&dynamic), "{what}: typed and dynamic differ");
    assert!(want.iter().any(|v| v.abs() > 0.1), "{what}: the reference is ~0, the check would be vacuous");
}

const S: Padding = Padding::Same;
const V: Padding = Padding::Valid;

// ---------------------------------------------------------------------------
// Conv2d
// ---------------------------------------------------------------------------

#[test]
fn conv_3x3_same_and_valid() {
    check::<Conv2d<6, 5, 2, 3, 3, 3, Same, Relu, 30, 30>>(
        "3x3 same",
        vec![conv([6, 5, 2], 3, [3, 3], S, Activation::Relu)],
        1,
    );
    check::<Conv2d<6, 5, 2, 3, 3, 3, Valid, Tanh, 30, 12>>(
        "3x3 valid",
        vec![conv([6, 5, 2], 3, [3, 3], V, Activation::Tanh)],
        2,
    );
}

#[test]
fn conv_even_kernels_pad_more_after() {
    // 2x2 same: one padding cell, after; 4x4 same: one before, two after.
    check::<Conv2d<5, 4, 1, 2, 2, 2, Same, Linear, 20, 20>>(
        "2x2 same",
        vec![conv([5, 4, 1], 2, [2, 2], S, Activation::Linear)],
        3,
    );
    check::<Conv2d<7, 6, 3, 2, 4, 4, Same, Sigmoid, 42, 42>>(
        "4x4 same",
        vec![conv([7, 6, 3], 2, [4, 4], S, Activation::Sigmoid)],
        4,
    );
    check::<Conv2d<5, 4, 2, 3, 2, 2, Valid, Linear, 20, 12>>(
        "2x2 valid",
        vec![conv([5, 4, 2], 3, [2, 2], V, Activation::Linear)],
        5,
    );
}

#[test]
fn conv_1x1_is_a_per_pixel_dense() {
    check::<Conv2d<4, 4, 3, 5, 1, 1, Same, Linear, 16, 16>>(
        "1x1 same",
        vec![conv([4, 4, 3], 5, [1, 1], S, Activation::Linear)],
        6,
    );
    check::<Conv2d<4, 3, 3, 5, 1, 1, Valid, Relu, 12, 12>>(
        "1x1 valid",
        vec![conv([4, 3, 3], 5, [1, 1], V, Activation::Relu)],
        7,
    );
}

#[test]
fn conv_rectangular_kernels() {
    check::<Conv2d<6, 5, 2, 4, 3, 2, Same, Relu, 30, 30>>(
        "3x2 same",
        vec![conv([6, 5, 2], 4, [3, 2], S, Activation::Relu)],
        8,
    );
    check::<Conv2d<6, 5, 2, 4, 3, 2, Valid, Linear, 30, 16>>(
        "3x2 valid",
        vec![conv([6, 5, 2], 4, [3, 2], V, Activation::Linear)],
        9,
    );
    check::<Conv2d<5, 7, 3, 2, 1, 4, Same, Tanh, 35, 35>>(
        "1x4 same",
        vec![conv([5, 7, 3], 2, [1, 4], S, Activation::Tanh)],
        10,
    );
}

#[test]
fn conv_multi_channel_and_kernels_as_large_as_the_input() {
    check::<Conv2d<9, 9, 4, 6, 5, 5, Same, Tanh, 81, 81>>(
        "5x5 same, 4 -> 6 channels",
        vec![conv([9, 9, 4], 6, [5, 5], S, Activation::Tanh)],
        11,
    );
    // A 5x5 kernel over a 3x3 map, "same": two padding cells on every side.
    check::<Conv2d<3, 3, 2, 2, 5, 5, Same, Linear, 9, 9>>(
        "kernel larger than the map",
        vec![conv([3, 3, 2], 2, [5, 5], S, Activation::Linear)],
        12,
    );
    // A valid kernel the size of the map: one output pixel.
    check::<Conv2d<3, 4, 2, 3, 3, 4, Valid, Linear, 12, 1>>(
        "kernel = map",
        vec![conv([3, 4, 2], 3, [3, 4], V, Activation::Linear)],
        13,
    );
}

// ---------------------------------------------------------------------------
// MaxPool2d, Upsample2d, BatchNorm
// ---------------------------------------------------------------------------

/// `layer` followed by a batch normalisation of its output (`[oh, ow, c]`):
/// the exporter cannot yet write a blob without any tensor, so the
/// parameter-free layers are checked with a parameterised layer after them.
fn with_bn(layer: LayerSpec) -> Vec<LayerSpec> {
    let out = layer.output_dims();
    vec![layer, batch_norm(out.as_slice(), 1e-3)]
}

#[test]
fn max_pool_same_and_valid() {
    check::<Chain<MaxPool2d<7, 7, 3, 2, Same, 49, 16>, BatchNorm<3, 16>>>(
        "pool 2 same 7 -> 4",
        with_bn(pool([7, 7, 3], 2, S)),
        20,
    );
    check::<Chain<MaxPool2d<7, 7, 3, 2, Valid, 49, 9>, BatchNorm<3, 9>>>(
        "pool 2 valid 7 -> 3",
        with_bn(pool([7, 7, 3], 2, V)),
        21,
    );
    check::<Chain<MaxPool2d<8, 6, 2, 2, Same, 48, 12>, BatchNorm<2, 12>>>(
        "pool 2 same, even",
        with_bn(pool([8, 6, 2], 2, S)),
        22,
    );
}

#[test]
fn max_pool_3() {
    // Same: 7 -> 3 (one padding cell each side), 8 -> 3 (one after).
    check::<Chain<MaxPool2d<7, 8, 2, 3, Same, 56, 9>, BatchNorm<2, 9>>>(
        "pool 3 same",
        with_bn(pool([7, 8, 2], 3, S)),
        23,
    );
    check::<Chain<MaxPool2d<7, 8, 2, 3, Valid, 56, 4>, BatchNorm<2, 4>>>(
        "pool 3 valid",
        with_bn(pool([7, 8, 2], 3, V)),
        24,
    );
    // A window larger than the map with "same": one window, clipped.
    check::<Chain<MaxPool2d<2, 2, 3, 3, Same, 4, 1>, BatchNorm<3, 1>>>(
        "pool 3 over 2x2",
        with_bn(pool([2, 2, 3], 3, S)),
        25,
    );
}

#[test]
fn upsample_2_and_3() {
    check::<Chain<Upsample2d<3, 4, 2, 2, 12, 48>, BatchNorm<2, 48>>>("upsample 2", with_bn(upsample([3, 4, 2], 2)), 30);
    check::<Chain<Upsample2d<2, 3, 3, 3, 6, 54>, BatchNorm<3, 54>>>("upsample 3", with_bn(upsample([2, 3, 3], 3)), 31);
    check::<Chain<Upsample2d<1, 1, 1, 1, 1, 1>, BatchNorm<1, 1>>>("upsample 1", with_bn(upsample([1, 1, 1], 1)), 32);
}

#[test]
fn batch_norm_on_a_map_a_vector_and_a_sequence() {
    check::<BatchNorm<3, 20>>("batch norm map", vec![batch_norm(&[4, 5, 3], 1e-3)], 40);
    check::<BatchNorm<7, 1>>("batch norm vector", vec![batch_norm(&[7], 1e-5)], 41);
    check::<BatchNorm<4, 6>>("batch norm sequence", vec![batch_norm(&[6, 4], 0.5)], 42);
}

// ---------------------------------------------------------------------------
// Whole models
// ---------------------------------------------------------------------------

/// The conv-ae encoder of the `mnist_conv_ae` kind: 28x28x1 → 4x4x8.
fn encoder_layers() -> Vec<LayerSpec> {
    vec![
        conv([28, 28, 1], 16, [3, 3], S, Activation::Relu),
        pool([28, 28, 16], 2, S),
        conv([14, 14, 16], 8, [3, 3], S, Activation::Relu),
        pool([14, 14, 8], 2, S),
        conv([7, 7, 8], 8, [3, 3], S, Activation::Relu),
        pool([7, 7, 8], 2, S),
    ]
}

use ember_conformance::ConvAeEncoder as Encoder;

#[test]
fn conv_ae_encoder_28x28_to_4x4x8() {
    let m = model(encoder_layers(), 50);
    assert_eq!(m.output().dims.as_slice(), &[4, 4, 8]);
    check::<Encoder>("encoder", encoder_layers(), 50);
    // Input and output of the widest layer: the first pooling (28x28x16 → 14x14x16).
    assert_eq!(<Encoder as Layer>::PEAK_ACTIVATION_FLOATS, 784 * 16 + 196 * 16);
    assert_eq!(<Encoder as Layer>::LAYERS, 6);
}

#[test]
fn decoder_with_batch_norm_and_upsampling() {
    // 4x4x8 → BN → up 2 → conv 8 → up 2 → conv 16 → up 2 (32x32) → valid 5x5 conv → 28x28x1.
    let layers = vec![
        batch_norm(&[4, 4, 8], 1e-3),
        upsample([4, 4, 8], 2),
        conv([8, 8, 8], 8, [3, 3], S, Activation::Relu),
        upsample([8, 8, 8], 2),
        conv([16, 16, 8], 16, [3, 3], S, Activation::Relu),
        upsample([16, 16, 16], 2),
        conv([32, 32, 16], 1, [5, 5], V, Activation::Sigmoid),
    ];
    type Decoder = Chain<
        BatchNorm<8, 16>,
        Chain<
            Upsample2d<4, 4, 8, 2, 16, 64>,
            Chain<
                Conv2d<8, 8, 8, 8, 3, 3, Same, Relu, 64, 64>,
                Chain<
                    Upsample2d<8, 8, 8, 2, 64, 256>,
                    Chain<
                        Conv2d<16, 16, 8, 16, 3, 3, Same, Relu, 256, 256>,
                        Chain<
                            Upsample2d<16, 16, 16, 2, 256, 1024>,
                            Conv2d<32, 32, 16, 1, 5, 5, Valid, Sigmoid, 1024, 784>,
                        >,
                    >,
                >,
            >,
        >,
    >;
    check::<Decoder>("decoder", layers, 51);
}

/// A classifier head: conv → batch norm over the map → pool → flatten →
/// dense (the flattened map is in HWC order, as in Keras).
fn head_layers() -> Vec<LayerSpec> {
    vec![
        conv([6, 6, 1], 4, [3, 3], S, Activation::Linear),
        batch_norm(&[6, 6, 4], 1e-3),
        pool([6, 6, 4], 2, V),
        LayerSpec::Flatten { dims: Dims::new(&[3, 3, 4]).unwrap() },
        batch_norm(&[36], 1e-3),
        LayerSpec::Dense { inputs: 36, units: 3, activation: Activation::Tanh },
    ]
}

type Head = Chain<
    Conv2d<6, 6, 1, 4, 3, 3, Same, Linear, 36, 36>,
    Chain<
        BatchNorm<4, 36>,
        Chain<
            MaxPool2d<6, 6, 4, 2, Valid, 36, 9>,
            Chain<Flatten<4, 9, 36>, Chain<BatchNorm<36, 1>, Dense<36, 3, Tanh>>>,
        >,
    >,
>;

#[test]
fn conv_head_through_flatten_dynamic() {
    let m = model(head_layers(), 52);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let xs = inputs(36, 53);
    assert_parity("conv head", &dynamic_out(&bytes, &xs), &reference(&m, &xs));
}

#[test]
fn conv_head_through_flatten_typed() {
    check::<Head>("conv head", head_layers(), 52);
}

// ---------------------------------------------------------------------------
// Binding checks
// ---------------------------------------------------------------------------

fn blob_of(layers: Vec<LayerSpec>) -> AlignedBytes {
    AlignedBytes::new(&model(layers, 60).to_blob().unwrap())
}

fn load_err<M: Layer>(bytes: &[u8]) -> Option<Error> {
    <M as TypedModel>::load(bytes).err()
}

#[test]
fn conv_binding_checks_kind_activation_sizes_and_padding() {
    let b = blob_of(vec![conv([6, 5, 2], 3, [3, 3], S, Activation::Relu)]);
    assert!(load_err::<Conv2d<6, 5, 2, 3, 3, 3, Same, Relu, 30, 30>>(&b).is_none());
    // Activation.
    assert_eq!(load_err::<Conv2d<6, 5, 2, 3, 3, 3, Same, Linear, 30, 30>>(&b), Some(Error::LayerKind));
    // Padding.
    assert_eq!(load_err::<Conv2d<6, 5, 2, 3, 3, 3, Valid, Relu, 30, 12>>(&b), Some(Error::LayerShape));
    // Sizes: height/width swapped, channels, filters, kernel rows and columns.
    assert_eq!(load_err::<Conv2d<5, 6, 2, 3, 3, 3, Same, Relu, 30, 30>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Conv2d<6, 5, 1, 3, 3, 3, Same, Relu, 30, 30>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Conv2d<6, 5, 2, 4, 3, 3, Same, Relu, 30, 30>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Conv2d<6, 5, 2, 3, 1, 3, Same, Relu, 30, 30>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Conv2d<6, 5, 2, 3, 3, 2, Same, Relu, 30, 30>>(&b), Some(Error::LayerShape));
    // Another kind.
    assert_eq!(load_err::<MaxPool2d<6, 5, 2, 1, Same, 30, 30>>(&b), Some(Error::LayerKind));
    assert_eq!(load_err::<Dense<60, 90, Relu>>(&b), Some(Error::LayerKind));
    // A conv type against a dense blob.
    let d = blob_of(vec![LayerSpec::Dense { inputs: 60, units: 90, activation: Activation::Relu }]);
    assert_eq!(load_err::<Conv2d<6, 5, 2, 3, 3, 3, Same, Relu, 30, 30>>(&d), Some(Error::LayerKind));
}

#[test]
fn pool_upsample_and_batch_norm_binding_checks() {
    type Bn<const C: usize, const N: usize> = BatchNorm<C, N>;
    let b = blob_of(with_bn(pool([7, 7, 3], 2, S)));
    assert!(load_err::<Chain<MaxPool2d<7, 7, 3, 2, Same, 49, 16>, Bn<3, 16>>>(&b).is_none());
    assert_eq!(load_err::<Chain<MaxPool2d<7, 7, 3, 2, Valid, 49, 9>, Bn<3, 9>>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Chain<MaxPool2d<7, 7, 3, 3, Same, 49, 9>, Bn<3, 9>>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Chain<MaxPool2d<7, 7, 1, 2, Same, 49, 16>, Bn<1, 16>>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Chain<Upsample2d<7, 7, 3, 2, 49, 196>, Bn<3, 196>>>(&b), Some(Error::LayerKind));

    let b = blob_of(with_bn(upsample([3, 4, 2], 2)));
    assert!(load_err::<Chain<Upsample2d<3, 4, 2, 2, 12, 48>, Bn<2, 48>>>(&b).is_none());
    assert_eq!(load_err::<Chain<Upsample2d<4, 3, 2, 2, 12, 48>, Bn<2, 48>>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Chain<Upsample2d<3, 4, 2, 3, 12, 108>, Bn<2, 108>>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Chain<Upsample2d<3, 4, 1, 2, 12, 48>, Bn<1, 48>>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Chain<MaxPool2d<3, 4, 2, 2, Same, 12, 4>, Bn<2, 4>>>(&b), Some(Error::LayerKind));

    let b = blob_of(vec![batch_norm(&[4, 5, 3], 1e-3)]);
    assert!(load_err::<BatchNorm<3, 20>>(&b).is_none());
    // The same element count with another channel count, or another count.
    assert_eq!(load_err::<BatchNorm<5, 12>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<BatchNorm<60, 1>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<BatchNorm<3, 21>>(&b), Some(Error::LayerShape));
    assert_eq!(load_err::<Flatten<3, 20, 60>>(&b), Some(Error::LayerKind));
}

#[test]
fn chain_binding_reports_the_first_bad_layer() {
    let b = blob_of(encoder_layers());
    assert!(load_err::<Encoder>(&b).is_none());
    // The last pooling with valid padding (7 -> 3): a shape error.
    type ValidTail = Chain<
        Conv2d<28, 28, 1, 16, 3, 3, Same, Relu, 784, 784>,
        Chain<
            MaxPool2d<28, 28, 16, 2, Same, 784, 196>,
            Chain<
                Conv2d<14, 14, 16, 8, 3, 3, Same, Relu, 196, 196>,
                Chain<
                    MaxPool2d<14, 14, 8, 2, Same, 196, 49>,
                    Chain<Conv2d<7, 7, 8, 8, 3, 3, Same, Relu, 49, 49>, MaxPool2d<7, 7, 8, 2, Valid, 49, 9>>,
                >,
            >,
        >,
    >;
    assert_eq!(load_err::<ValidTail>(&b), Some(Error::LayerShape));
    // Fewer layers than the blob.
    type Front = Chain<Conv2d<28, 28, 1, 16, 3, 3, Same, Relu, 784, 784>, MaxPool2d<28, 28, 16, 2, Same, 784, 196>>;
    assert_eq!(load_err::<Front>(&b), Some(Error::LayerCount));
}
