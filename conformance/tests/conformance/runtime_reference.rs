//! The runtime's forward passes (typed `Dense<IN, OUT, A>` bound by
//! `TypedModel::load`, and the `dynamic` interpreter) against a naive `f64`
//! reference (`ember_conformance::forward_f64`), within `F32_PARITY`.

use ember_conformance::{assert_parity, dense, forward_f64, input_spec, random_params, rng, to_f64, uniform};
use ember_export::{AlignedBytes, Model};
use ember_runtime::model::TypedModel;
use ember_runtime::spec::{Activation, LayerSpec};
use ember_runtime::{Act, Blob, Chain, Dense, Forward, Linear, Relu, SVector, Sigmoid, Softmax, Tanh, dynamic};
use rand_chacha::ChaCha8Rng;

/// Input samples per case.
const SAMPLES: usize = 8;

/// Inputs for a case: uniform in `[0, 1)` (pixel-like) and in `[-3, 3)`,
/// plus an all-zero sample.
fn inputs(n_in: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut x = uniform(rng, n_in * SAMPLES / 2, 0.0, 1.0);
    x.extend(uniform(rng, n_in * (SAMPLES / 2 - 1), -3.0, 3.0));
    x.extend(vec![0.0; n_in]);
    x
}

/// The reference outputs of `model` on `x`.
fn reference(model: &Model, x: &[f32]) -> Vec<f64> {
    let params: Vec<Vec<f64>> = model.params.iter().map(|t| to_f64(&t.data)).collect();
    forward_f64(&model.layers, &params, &to_f64(x))
}

/// Runs every sample through the dynamic interpreter.
fn run_dynamic(bytes: &[u8], x: &[f32]) -> Vec<f32> {
    let blob = Blob::parse(bytes).expect("valid blob");
    let (n_in, n_out) = (blob.header().input.dims.elements(), blob.header().output.dims.elements());
    let mut scratch = vec![f32::NAN; dynamic::scratch_len(&blob)];
    let mut out = vec![f32::NAN; x.len() / n_in * n_out];
    for (xs, ys) in x.chunks(n_in).zip(out.chunks_mut(n_out)) {
        assert_eq!(dynamic::forward(&blob, xs, &mut scratch, ys), Ok(n_out));
    }
    out
}

/// One dense layer `IN -> OUT` with activation `A`, weights scaled by
/// `scale` (large scales push sigmoid/tanh/softmax into saturation).
fn check_dense<const IN: usize, const OUT: usize, A: Act>(seed: u64, scale: f32) {
    let mut r = rng(seed);
    let specs = vec![dense(IN, OUT, A::KIND)];
    let mut values = random_params(&specs, &mut r);
    values.iter_mut().flatten().for_each(|v| *v *= scale);
    let model = Model::new("dense", input_spec(IN), specs, values).unwrap();
    let bytes = AlignedBytes::new(&model.to_blob().unwrap());
    let x = inputs(IN, &mut r);
    let want = reference(&model, &x);
    let what = format!("Dense<{IN}, {OUT}, {:?}> x{scale}", A::KIND);

    let typed = <Dense<IN, OUT, A> as TypedModel>::load(&bytes).expect("binds to its type");
    let got: Vec<f32> = x
        .chunks(IN)
        .flat_map(|s| typed.forward(&SVector::<f32, IN>::from_column_slice(s)).as_slice().to_vec())
        .collect();
    assert_parity(&format!("typed {what}"), &got, &want);
    assert_parity(&format!("dynamic {what}"), &run_dynamic(&bytes, &x), &want);
}

fn check_all_activations<const IN: usize, const OUT: usize>(seed: u64, scale: f32) {
    check_dense::<IN, OUT, Linear>(seed, scale);
    check_dense::<IN, OUT, Relu>(seed + 1, scale);
    check_dense::<IN, OUT, Sigmoid>(seed + 2, scale);
    check_dense::<IN, OUT, Tanh>(seed + 3, scale);
    check_dense::<IN, OUT, Softmax>(seed + 4, scale);
}

#[test]
fn dense_1x1() {
    check_all_activations::<1, 1>(10, 1.0);
    check_all_activations::<1, 1>(20, 30.0);
}

#[test]
fn dense_small_shapes() {
    check_all_activations::<1, 7>(30, 1.0);
    check_all_activations::<7, 1>(40, 1.0);
    check_all_activations::<5, 3>(50, 1.0);
    check_all_activations::<3, 10>(60, 1.0);
    check_all_activations::<16, 16>(70, 1.0);
}

#[test]
fn dense_saturating_inputs() {
    // Logits of tens: sigmoid/tanh saturate, softmax needs its max shift.
    check_all_activations::<5, 3>(80, 40.0);
    check_all_activations::<17, 9>(90, 25.0);
}

#[test]
fn dense_784x32() {
    check_all_activations::<784, 32>(100, 1.0);
}

#[test]
fn dense_784x128_and_128x784() {
    check_dense::<784, 128, Relu>(110, 1.0);
    check_dense::<128, 784, Sigmoid>(111, 1.0);
}

#[test]
fn softmax_outputs_are_a_distribution() {
    // An independent property: non-negative, summing to 1 (checked in f64).
    let specs = vec![dense(6, 5, Activation::Softmax)];
    let mut values = random_params(&specs, &mut rng(3));
    values.iter_mut().flatten().for_each(|v| *v *= 50.0);
    let model = Model::new("sm", input_spec(6), specs, values).unwrap();
    let bytes = AlignedBytes::new(&model.to_blob().unwrap());
    let x = inputs(6, &mut rng(4));
    for y in run_dynamic(&bytes, &x).chunks(5) {
        assert!(y.iter().all(|&v| (0.0..=1.0).contains(&v)), "{y:?}");
        let sum: f64 = y.iter().map(|&v| v as f64).sum();
        assert!((sum - 1.0).abs() <= 1e-6, "softmax sums to {sum}");
    }
}

/// A 3-layer chain as a typed `Chain` and through the interpreter.
fn check_chain<const A: usize, const B: usize, const C: usize, const D: usize, X: Act, Y: Act, Z: Act>(seed: u64) {
    let mut r = rng(seed);
    let specs: Vec<LayerSpec> = vec![dense(A, B, X::KIND), dense(B, C, Y::KIND), dense(C, D, Z::KIND)];
    let values = random_params(&specs, &mut r);
    let model = Model::new("chain", input_spec(A), specs, values).unwrap();
    let bytes = AlignedBytes::new(&model.to_blob().unwrap());
    let x = inputs(A, &mut r);
    let want = reference(&model, &x);
    type T<const A: usize, const B: usize, const C: usize, const D: usize, X, Y, Z> =
        Chain<Dense<A, B, X>, Chain<Dense<B, C, Y>, Dense<C, D, Z>>>;
    let typed = <T<A, B, C, D, X, Y, Z> as TypedModel>::load(&bytes).expect("binds to its type");
    let got: Vec<f32> =
        x.chunks(A).flat_map(|s| typed.forward(&SVector::<f32, A>::from_column_slice(s)).as_slice().to_vec()).collect();
    assert_parity("typed chain", &got, &want);
    assert_parity("dynamic chain", &run_dynamic(&bytes, &x), &want);
    // The left-nested form binds the same layers.
    type L<const A: usize, const B: usize, const C: usize, const D: usize, X, Y, Z> =
        Chain<Chain<Dense<A, B, X>, Dense<B, C, Y>>, Dense<C, D, Z>>;
    let left = <L<A, B, C, D, X, Y, Z> as TypedModel>::load(&bytes).expect("binds left-nested");
    let got: Vec<f32> =
        x.chunks(A).flat_map(|s| left.forward(&SVector::<f32, A>::from_column_slice(s)).as_slice().to_vec()).collect();
    assert_parity("typed left-nested chain", &got, &want);
}

#[test]
fn three_layer_chains() {
    check_chain::<784, 128, 32, 784, Relu, Linear, Sigmoid>(200);
    check_chain::<3, 8, 5, 4, Tanh, Relu, Softmax>(201);
    check_chain::<1, 1, 1, 1, Sigmoid, Tanh, Linear>(202);
    check_chain::<10, 6, 2, 10, Linear, Sigmoid, Tanh>(203);
}

#[test]
fn reference_is_not_trivially_satisfied() {
    // Sanity of the harness: a perturbed weight changes the reference beyond
    // the tolerance, so the parity checks above can fail.
    let specs = vec![dense(4, 3, Activation::Tanh)];
    let values = random_params(&specs, &mut rng(9));
    let model = Model::new("p", input_spec(4), specs.clone(), values.clone()).unwrap();
    let x = inputs(4, &mut rng(10));
    let mut bumped = values;
    bumped[0][5] += 1e-3;
    let other = Model::new("p", input_spec(4), specs, bumped).unwrap();
    let (a, b) = (reference(&model, &x), reference(&other, &x));
    assert!(a.iter().zip(&b).any(|(a, b)| (a - b).abs() > 2.0 * ember_conformance::F32_PARITY * (1.0 + a.abs())));
}
