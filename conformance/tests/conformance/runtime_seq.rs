//! The runtime's sequence layers (typed `Embedding`, `Flatten`, `Recurrent`,
//! `Bidirectional` with `SimpleRnn` / `Lstm` / `Gru` cells, the streaming `step`, and
//! the `dynamic` interpreter) against the naive `f64` ONNX reference in
//! `ember_conformance::reference`, within `F32_PARITY`; plus token-id errors.

use ember_conformance::reference::model_f64;
use ember_conformance::{assert_parity, rng, to_f64, uniform};
use ember_export::{AlignedBytes, Model};
use ember_runtime::model::{Forward, Layer, TypedModel};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_runtime::{
    Bidirectional, Blob, CellState, Chain, Dense, Embedding, Error, Flatten, Gru, Last, Lstm, Recurrent, SMatrix,
    SVector, Sequences, Sigmoid, SimpleRnn, TokenIds, dynamic,
};
use rand::RngExt;

const V: usize = 23;
const E: usize = 4;
const T: usize = 21;
const SAMPLES: usize = 5;

fn emb() -> LayerSpec {
    LayerSpec::Embedding { vocab: V as u32, dim: E as u32, seq_len: T as u32 }
}

fn rec(lstm: bool, inputs: usize, units: usize, seq: bool, bi: bool) -> LayerSpec {
    let (inputs, units, seq_len) = (inputs as u32, units as u32, T as u32);
    if lstm {
        LayerSpec::Lstm { inputs, units, seq_len, return_sequences: seq, bidirectional: bi }
    } else {
        LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences: seq, bidirectional: bi }
    }
}

fn gru(inputs: usize, units: usize, seq: bool, bi: bool) -> LayerSpec {
    let (inputs, units, seq_len) = (inputs as u32, units as u32, T as u32);
    LayerSpec::Gru { inputs, units, seq_len, return_sequences: seq, bidirectional: bi }
}

/// A token-id model over `layers` with parameters uniform in `[-0.6, 0.6)`
/// (large enough to reach tanh/sigmoid saturation over 21 steps).
fn model(layers: Vec<LayerSpec>, seed: u64) -> Model {
    let mut r = rng(seed);
    let values = layers
        .iter()
        .flat_map(|l| (0..l.param_count()).map(|i| l.param(i).unwrap().dims.elements()).collect::<Vec<_>>())
        .map(|n| uniform(&mut r, n, -0.6, 0.6))
        .collect();
    let input = IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(T as u32), range: None };
    Model::new("seq", input, layers, values).expect("valid model")
}

/// Token sequences: random ids, leading padding, and all-zero.
fn tokens(seed: u64) -> Vec<[u32; T]> {
    let mut r = rng(seed);
    let mut out: Vec<[u32; T]> =
        (0..SAMPLES - 1).map(|_| core::array::from_fn(|_| r.random_range(0..V as u32))).collect();
    out[1][..7].fill(0);
    out.push([0; T]);
    out
}

fn reference(m: &Model, ids: &[[u32; T]]) -> Vec<f64> {
    let params: Vec<Vec<f64>> = m.params.iter().map(|t| to_f64(&t.data)).collect();
    let x: Vec<f64> = ids.iter().flatten().map(|&i| i as f64).collect();
    model_f64(&m.layers, &params, &x)
}

fn dynamic_out(bytes: &[u8], ids: &[[u32; T]]) -> Vec<f32> {
    let blob = Blob::parse(bytes).unwrap();
    let n_out = blob.header().output.dims.elements();
    let mut scratch = vec![f32::NAN; dynamic::scratch_len(&blob)];
    let mut out = vec![f32::NAN; ids.len() * n_out];
    for (s, y) in ids.iter().zip(out.chunks_mut(n_out)) {
        let x: Vec<f32> = s.iter().map(|&i| i as f32).collect();
        assert_eq!(dynamic::forward(&blob, &x, &mut scratch, y), Ok(n_out));
    }
    out
}

/// Checks typed model `M` and the interpreter against the reference.
fn check<M>(what: &str, layers: Vec<LayerSpec>, seed: u64)
where
    M: Layer<Input = TokenIds<V, T>>,
    M::Output: AsSlice,
{
    let m = model(layers, seed);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let ids = tokens(seed + 1);
    let want = reference(&m, &ids);
    let typed = <M as TypedModel>::load(&bytes).expect("binds to its type");
    let got: Vec<f32> = ids.iter().flat_map(|s| typed.forward(&TokenIds::new(*s).unwrap()).slice().to_vec()).collect();
    assert_parity(&format!("typed {what}"), &got, &want);
    assert_parity(&format!("dynamic {what}"), &dynamic_out(&bytes, &ids), &want);
}

trait AsSlice {
    fn slice(&self) -> &[f32];
}
impl<const R: usize, const C: usize> AsSlice for SMatrix<f32, R, C> {
    fn slice(&self) -> &[f32] {
        self.as_slice()
    }
}

type Emb = Embedding<V, E, T>;

#[test]
fn embedding_flatten_dense() {
    let layers = vec![
        emb(),
        LayerSpec::Flatten { dims: Dims::d2(T as u32, E as u32) },
        LayerSpec::Dense { inputs: (T * E) as u32, units: 1, activation: Activation::Sigmoid },
    ];
    check::<Chain<Emb, Chain<Flatten<E, T, { E * T }>, Dense<{ E * T }, 1, Sigmoid>>>>("bag", layers, 1);
}

#[test]
fn embedding_alone_is_a_gather() {
    check::<Emb>("embedding", vec![emb()], 2);
}

#[test]
fn simple_rnn_last_and_sequences() {
    check::<Chain<Emb, Recurrent<SimpleRnn<E, 6>, T, Last>>>(
        "rnn last",
        vec![emb(), rec(false, E, 6, false, false)],
        3,
    );
    check::<Chain<Emb, Recurrent<SimpleRnn<E, 6>, T, Sequences>>>(
        "rnn seq",
        vec![emb(), rec(false, E, 6, true, false)],
        4,
    );
}

#[test]
fn lstm_last_and_sequences() {
    check::<Chain<Emb, Recurrent<Lstm<E, 5>, T, Last>>>("lstm last", vec![emb(), rec(true, E, 5, false, false)], 5);
    check::<Chain<Emb, Recurrent<Lstm<E, 5>, T, Sequences>>>("lstm seq", vec![emb(), rec(true, E, 5, true, false)], 6);
}

#[test]
fn bidirectional_both_cells_both_returns() {
    check::<Chain<Emb, Bidirectional<SimpleRnn<E, 3>, T, Last, 6>>>(
        "birnn last",
        vec![emb(), rec(false, E, 3, false, true)],
        7,
    );
    check::<Chain<Emb, Bidirectional<SimpleRnn<E, 3>, T, Sequences, 6>>>(
        "birnn seq",
        vec![emb(), rec(false, E, 3, true, true)],
        8,
    );
    check::<Chain<Emb, Bidirectional<Lstm<E, 3>, T, Last, 6>>>(
        "bilstm last",
        vec![emb(), rec(true, E, 3, false, true)],
        9,
    );
    check::<Chain<Emb, Bidirectional<Lstm<E, 3>, T, Sequences, 6>>>(
        "bilstm seq",
        vec![emb(), rec(true, E, 3, true, true)],
        10,
    );
}

#[test]
fn stacked_bidirectional_rnn_then_lstm_then_dense() {
    let layers = vec![
        emb(),
        rec(false, E, 4, true, true),
        rec(true, 8, 5, false, false),
        LayerSpec::Dense { inputs: 5, units: 1, activation: Activation::Sigmoid },
    ];
    type M = Chain<
        Emb,
        Chain<
            Bidirectional<SimpleRnn<E, 4>, T, Sequences, 8>,
            Chain<Recurrent<Lstm<8, 5>, T, Last>, Dense<5, 1, Sigmoid>>,
        >,
    >;
    check::<M>("stack", layers, 11);
}

#[test]
fn streaming_steps_equal_the_whole_sequence() {
    let m = model(vec![emb(), rec(true, E, 5, true, false)], 12);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let typed = <Chain<Emb, Recurrent<Lstm<E, 5>, T, Sequences>> as TypedModel>::load(&bytes).unwrap();
    for ids in tokens(13) {
        let whole = typed.forward(&TokenIds::new(ids).unwrap());
        let mut state = CellState::<5>::default();
        for (t, &id) in ids.iter().enumerate() {
            let h = typed.second.step(&mut state, &typed.first.vector(id).unwrap());
            assert_eq!(h.as_slice(), whole.column(t).as_slice(), "step {t}");
        }
    }
}

#[test]
fn out_of_range_tokens_are_errors() {
    let m = model(vec![emb(), rec(false, E, 3, false, false)], 14);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let mut ids = [1u32; T];
    ids[5] = V as u32;
    assert_eq!(TokenIds::<V, T>::new(ids), Err(Error::TokenOutOfRange));
    assert_eq!(TokenIds::<V, T>::from_slice(&ids[1..]), Err(Error::InputShape));
    let typed = <Chain<Emb, Recurrent<SimpleRnn<E, 3>, T, Last>> as TypedModel>::load(&bytes).unwrap();
    assert_eq!(typed.first.vector(V as u32), Err(Error::TokenOutOfRange));
    let blob = Blob::parse(&bytes).unwrap();
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut out = [0.0; 3];
    for bad in [V as f32, -1.0, 2.5, f32::NAN, 1e30] {
        let mut x = [1.0f32; T];
        x[3] = bad;
        let want = if bad.is_nan() { Error::NonFinite } else { Error::TokenOutOfRange };
        assert_eq!(dynamic::forward(&blob, &x, &mut scratch, &mut out), Err(want), "id {bad}");
    }
}

#[test]
fn binding_checks_kind_direction_and_returns() {
    let m = model(vec![emb(), rec(true, E, 3, false, false)], 15);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let kind = <Chain<Emb, Recurrent<SimpleRnn<E, 3>, T, Last>> as TypedModel>::load(&bytes).err();
    assert_eq!(kind, Some(Error::LayerKind));
    let ret = <Chain<Emb, Recurrent<Lstm<E, 3>, T, Sequences>> as TypedModel>::load(&bytes).err();
    assert_eq!(ret, Some(Error::LayerShape));
    let dirs = <Chain<Emb, Bidirectional<Lstm<E, 3>, T, Last, 6>> as TypedModel>::load(&bytes).err();
    assert_eq!(dirs, Some(Error::LayerShape));
    assert!(<Chain<Emb, Recurrent<Lstm<E, 3>, T, Last>> as TypedModel>::load(&bytes).is_ok());
    let _: SVector<f32, 3> = SVector::zeros();
}

#[test]
fn gru_both_directions_both_returns() {
    check::<Chain<Emb, Recurrent<Gru<E, 5>, T, Last>>>("gru last", vec![emb(), gru(E, 5, false, false)], 16);
    check::<Chain<Emb, Recurrent<Gru<E, 5>, T, Sequences>>>("gru seq", vec![emb(), gru(E, 5, true, false)], 17);
    check::<Chain<Emb, Bidirectional<Gru<E, 3>, T, Last, 6>>>("bigru last", vec![emb(), gru(E, 3, false, true)], 18);
    check::<Chain<Emb, Bidirectional<Gru<E, 3>, T, Sequences, 6>>>("bigru seq", vec![emb(), gru(E, 3, true, true)], 19);
}

#[test]
fn stacked_bidirectional_gru_then_gru_then_dense() {
    let layers = vec![
        emb(),
        gru(E, 4, true, true),
        gru(8, 5, false, false),
        LayerSpec::Dense { inputs: 5, units: 1, activation: Activation::Sigmoid },
    ];
    type M = Chain<
        Emb,
        Chain<Bidirectional<Gru<E, 4>, T, Sequences, 8>, Chain<Recurrent<Gru<8, 5>, T, Last>, Dense<5, 1, Sigmoid>>>,
    >;
    check::<M>("gru stack", layers, 20);
}

#[test]
fn gru_streaming_steps_equal_the_whole_sequence() {
    let m = model(vec![emb(), gru(E, 5, true, false)], 21);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let typed = <Chain<Emb, Recurrent<Gru<E, 5>, T, Sequences>> as TypedModel>::load(&bytes).unwrap();
    for ids in tokens(22) {
        let whole = typed.forward(&TokenIds::new(ids).unwrap());
        let mut state = CellState::<5>::default();
        for (t, &id) in ids.iter().enumerate() {
            let h = typed.second.step(&mut state, &typed.first.vector(id).unwrap());
            assert_eq!(h.as_slice(), whole.column(t).as_slice(), "step {t}");
        }
        assert!(state.c.iter().all(|&c| c == 0.0), "a GRU has no cell state");
    }
}

#[test]
fn gru_binding_checks_the_kind() {
    let m = model(vec![emb(), gru(E, 3, false, false)], 23);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    assert!(<Chain<Emb, Recurrent<Gru<E, 3>, T, Last>> as TypedModel>::load(&bytes).is_ok());
    let lstm = <Chain<Emb, Recurrent<Lstm<E, 3>, T, Last>> as TypedModel>::load(&bytes).err();
    assert_eq!(lstm, Some(Error::LayerKind));
    let ret = <Chain<Emb, Recurrent<Gru<E, 3>, T, Sequences>> as TypedModel>::load(&bytes).err();
    assert_eq!(ret, Some(Error::LayerShape));
    let size = <Chain<Emb, Recurrent<Gru<E, 4>, T, Last>> as TypedModel>::load(&bytes).err();
    assert_eq!(size, Some(Error::LayerShape));
    let lstm_blob = AlignedBytes::new(&model(vec![emb(), rec(true, E, 3, false, false)], 24).to_blob().unwrap());
    let gru = <Chain<Emb, Recurrent<Gru<E, 3>, T, Last>> as TypedModel>::load(&lstm_blob).err();
    assert_eq!(gru, Some(Error::LayerKind));
}
