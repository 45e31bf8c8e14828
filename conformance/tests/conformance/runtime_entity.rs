//! The runtime's entity layer (typed `EntityDot` and the `dynamic`
//! interpreter) against a naive `f64` reference written here from the
//! layer's definition (`LayerSpec::EntityDot`, `crates/runtime/FORMAT.md`), within
//! `F32_PARITY`; typed and dynamic outputs equal bit for bit; binding and
//! token checks. Then `ember_runtime::search` (names, columns, cosine
//! nearest neighbours, top-k, combined queries) against `f64` brute force.

use ember_conformance::reference::entity_dot::entity_dot_f64;
use ember_conformance::{assert_parity, rng, to_f64, uniform};
use ember_export::{AlignedBytes, Asset, Model};
use ember_runtime::kernels::{EntityParams, entity_dot};
use ember_runtime::model::{Forward, Layer, Sample, TypedModel};
use ember_runtime::search::{self, Columns, Names, Neighbour};
use ember_runtime::spec::{Activation, Dims, IoSpec, LayerSpec, ValueKind};
use ember_runtime::{Blob, Chain, Dense, Embedding, EntityDot, Error, Flatten, Linear, Relu, TokenIds, dynamic};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------
// Models and the f64 reference.
// ---------------------------------------------------------------------------

fn entity_spec(columns: usize, rows: usize, dim: usize, epsilon: f32) -> LayerSpec {
    LayerSpec::EntityDot {
        columns: columns as u32,
        rows: rows as u32,
        dim: dim as u32,
        epsilon_bits: epsilon.to_bits(),
    }
}

/// Seeded EntityDot parameters: table in `[-0.6, 0.6)`, biases in
/// `[-0.3, 0.3)`, `gamma` in `[0.5, 1.5)`, `beta` and `mean` in
/// `[-0.5, 0.5)`, `var` in `[0.05, 1.5)`.
fn entity_values(columns: usize, rows: usize, dim: usize, r: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
    let cd = columns * dim;
    vec![
        uniform(r, rows * dim, -0.6, 0.6),
        uniform(r, rows, -0.3, 0.3),
        uniform(r, cd, 0.5, 1.5),
        uniform(r, cd, -0.5, 0.5),
        uniform(r, cd, -0.5, 0.5),
        uniform(r, cd, 0.05, 1.5),
    ]
}

fn ids_input(columns: usize) -> IoSpec {
    IoSpec { kind: ValueKind::TokenIds, dims: Dims::d1(columns as u32), range: None }
}

/// An EntityDot over columns of `counts` categories (rows = their sum),
/// optionally followed by `Dense { 1, 1, Relu }` with weight `scale` and bias `shift`.
fn entity_model(counts: &[usize], dim: usize, epsilon: f32, head: Option<(f32, f32)>, seed: u64) -> Model {
    let (columns, rows) = (counts.len(), counts.iter().sum::<usize>());
    let mut layers = vec![entity_spec(columns, rows, dim, epsilon)];
    let mut values = entity_values(columns, rows, dim, &mut rng(seed));
    if let Some((scale, shift)) = head {
        layers.push(LayerSpec::Dense { inputs: 1, units: 1, activation: Activation::Relu });
        values.extend([vec![scale], vec![shift]]);
    }
    let mut m = Model::new("entity", ids_input(columns), layers, values).expect("a valid entity model");
    let names: Vec<String> = (0..rows).map(|i| format!("v{i}")).collect();
    let cols: Vec<String> = counts.iter().enumerate().map(|(k, c)| format!("col{k}\t{c}")).collect();
    m.assets.push(Asset { name: "vocab".into(), bytes: names.join("\n").into_bytes() });
    m.assets.push(Asset { name: "columns".into(), bytes: cols.join("\n").into_bytes() });
    m.set_meta("task", "entity");
    m
}

/// Per sample one global row per column: column `k`'s rows start after the
/// counts of the columns before it. The first sample takes every column's
/// first category, the second its last.
fn samples(counts: &[usize], n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut r = rng(seed);
    let offsets: Vec<usize> = counts.iter().scan(0, |o, &c| Some(std::mem::replace(o, *o + c))).collect();
    let mut out = vec![offsets.iter().map(|&o| o as u32).collect::<Vec<u32>>()];
    out.push(offsets.iter().zip(counts).map(|(&o, &c)| (o + c - 1) as u32).collect());
    while out.len() < n {
        out.push(offsets.iter().zip(counts).map(|(&o, &c)| (o + r.random_range(0..c)) as u32).collect());
    }
    out
}

/// The EntityDot output in `f64`: the reference
/// (`ember_conformance::reference::entity_dot`) on the widened parameters.
fn entity_f64(p: &[Vec<f32>], dim: usize, epsilon: f32, ids: &[u32]) -> f64 {
    let p: Vec<Vec<f64>> = p.iter().map(|t| to_f64(t)).collect();
    let ids: Vec<usize> = ids.iter().map(|&id| id as usize).collect();
    entity_dot_f64(&p, dim, epsilon as f64, &ids)
}

/// The whole model in `f64`: the EntityDot, then `max(w · y + b, 0)` if there is a head.
fn model_f64(m: &Model, ids: &[u32]) -> f64 {
    let LayerSpec::EntityDot { dim, epsilon_bits, .. } = m.layers[0] else { panic!("not an entity model") };
    let p: Vec<Vec<f32>> = m.params.iter().map(|t| t.data.clone()).collect();
    let y = entity_f64(&p, dim as usize, f32::from_bits(epsilon_bits), ids);
    if m.layers.len() == 2 { (p[6][0] as f64 * y + p[7][0] as f64).max(0.0) } else { y }
}

fn as_values(ids: &[u32]) -> Vec<f32> {
    ids.iter().map(|&i| i as f32).collect()
}

fn dynamic_out(blob: &Blob<'_>, xs: &[Vec<u32>]) -> Vec<f32> {
    let mut scratch = vec![f32::NAN; dynamic::scratch_len(blob)];
    xs.iter()
        .map(|ids| {
            let mut out = [f32::NAN];
            assert_eq!(dynamic::forward(blob, &as_values(ids), &mut scratch, &mut out), Ok(1));
            out[0]
        })
        .collect()
}

fn typed_out<M: Layer>(bytes: &[u8], xs: &[Vec<u32>]) -> Vec<f32>
where
    M::Input: Sample,
    M::Output: Sample,
{
    let typed = <M as TypedModel>::load(bytes).expect("binds to its type");
    let mut out = Vec::new();
    for ids in xs {
        let y = typed.forward(&M::Input::from_values(as_values(ids)).unwrap());
        y.for_each_value(|v| out.push(v));
    }
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Checks typed model `M` and the interpreter against the `f64` reference,
/// and against each other bit for bit.
fn check<M: Layer>(what: &str, m: &Model, counts: &[usize], seed: u64)
where
    M::Input: Sample,
    M::Output: Sample,
{
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let blob = Blob::parse(&bytes).unwrap();
    let xs = samples(counts, 24, seed);
    let want: Vec<f64> = xs.iter().map(|ids| model_f64(m, ids)).collect();
    let typed = typed_out::<M>(&bytes, &xs);
    let dynamic = dynamic_out(&blob, &xs);
    assert_parity(&format!("typed {what}"), &typed, &want);
    assert_parity(&format!("dynamic {what}"), &dynamic, &want);
    assert_eq!(bits(&typed), bits(&dynamic), "{what}: typed and dynamic differ");
    assert!(want.iter().any(|v| v.abs() > 0.1), "{what}: the reference is ~0, the check would be vacuous");
}

// ---------------------------------------------------------------------------
// EntityDot forward.
// ---------------------------------------------------------------------------

#[test]
fn entity_dot_alone_matches_the_reference() {
    let counts = [4, 3, 5];
    let m = entity_model(&counts, 6, 1e-3, None, 1);
    check::<EntityDot<3, 12, 6>>("3 columns, dim 6", &m, &counts, 2);
    // Dim 9: the fixed-order dot product has a full lane block and a tail.
    let counts = [2, 7, 1, 3, 2];
    let m = entity_model(&counts, 9, 1e-5, None, 3);
    check::<EntityDot<5, 15, 9>>("5 columns, dim 9", &m, &counts, 4);
    // A large epsilon matters; one value per vector.
    let counts = [3, 3];
    let m = entity_model(&counts, 1, 0.5, None, 5);
    check::<EntityDot<2, 6, 1>>("2 columns, dim 1", &m, &counts, 6);
}

#[test]
fn one_column_is_its_bias() {
    // No pair: the output is the bias of the one id (exactly).
    let m = entity_model(&[5], 4, 1e-3, None, 7);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let blob = Blob::parse(&bytes).unwrap();
    let xs: Vec<Vec<u32>> = (0..5).map(|i| vec![i]).collect();
    let got = dynamic_out(&blob, &xs);
    let typed = typed_out::<EntityDot<1, 5, 4>>(&bytes, &xs);
    assert_eq!(bits(&got), bits(&m.params[1].data));
    assert_eq!(bits(&typed), bits(&m.params[1].data));
}

type EntityModel = Chain<EntityDot<4, 17, 8>, Dense<1, 1, Relu>>;

#[test]
fn entity_then_dense_relu_chains_through_model_load() {
    let counts = [5, 4, 6, 2];
    // A positive scale and a shift that keeps most outputs above zero, and
    // one that clips most of them.
    for (seed, head) in [(10, (2.5, 4.0)), (11, (1.5, -0.5))] {
        let m = entity_model(&counts, 8, 1e-3, Some(head), seed);
        check::<EntityModel>(&format!("entity -> dense relu {head:?}"), &m, &counts, seed + 100);
    }
    // Input 4 ids, 4 x 8 normalised values and the output, the widest layer.
    assert_eq!(<EntityModel as Layer>::PEAK_ACTIVATION_FLOATS, 4 + 32 + 1);
    assert_eq!(<EntityModel as Layer>::LAYERS, 2);
    let m = entity_model(&counts, 8, 1e-3, Some((2.0, 1.0)), 12);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let blob = Blob::parse(&bytes).unwrap();
    // Two activation buffers of 4 values, plus 4 x 8 normalised values.
    assert_eq!(dynamic::scratch_len(&blob), 2 * 4 + 32);
    let model = <EntityModel as TypedModel>::load(&bytes).unwrap();
    let ids = TokenIds::<17, 4>::new([0, 5, 9, 15]).unwrap();
    let want = model_f64(&m, &[0, 5, 9, 15]);
    assert_parity("one sample", model.forward(&ids).as_slice(), &[want]);
    // The bound view exposes the table for search.
    assert_eq!(model.first.table(), m.params[0].data.as_slice());
    assert_eq!(model.first.row(16), Some(&m.params[0].data[16 * 8..17 * 8]));
    assert_eq!(model.first.row(17), None);
}

#[test]
fn token_ids_out_of_range_are_rejected() {
    let counts = [3, 4];
    let m = entity_model(&counts, 4, 1e-3, Some((1.0, 0.5)), 20);
    let bytes = AlignedBytes::new(&m.to_blob().unwrap());
    let blob = Blob::parse(&bytes).unwrap();
    let mut scratch = vec![0.0; dynamic::scratch_len(&blob)];
    let mut out = [0.0f32];
    assert_eq!(dynamic::forward(&blob, &[0.0, 6.0], &mut scratch, &mut out), Ok(1));
    for bad in [[0.0, 7.0], [7.0, 0.0], [-1.0, 3.0], [0.5, 3.0], [0.0, 1e9]] {
        assert_eq!(dynamic::forward(&blob, &bad, &mut scratch, &mut out), Err(Error::TokenOutOfRange), "{bad:?}");
    }
    assert_eq!(dynamic::forward(&blob, &[f32::NAN, 3.0], &mut scratch, &mut out), Err(Error::NonFinite));
    assert_eq!(dynamic::forward(&blob, &[0.0, 3.0, 4.0], &mut scratch, &mut out), Err(Error::InputShape));
    let n = scratch.len();
    assert_eq!(dynamic::forward(&blob, &[0.0, 3.0], &mut scratch[..n - 1], &mut out), Err(Error::BufferTooSmall));
    // Typed: the ids are checked when the input is built.
    assert_eq!(TokenIds::<7, 2>::new([0, 7]), Err(Error::TokenOutOfRange));
    assert_eq!(TokenIds::<7, 2>::from_values([0.0, 7.0]), Err(Error::TokenOutOfRange));
    assert_eq!(TokenIds::<7, 2>::from_values([0.0, -1.0]), Err(Error::TokenOutOfRange));
    assert_eq!(TokenIds::<7, 2>::from_values([0.0]), Err(Error::InputShape));
    let typed = <Chain<EntityDot<2, 7, 4>, Dense<1, 1, Relu>> as TypedModel>::load(&bytes).unwrap();
    let y = typed.forward(&TokenIds::new([2, 6]).unwrap());
    assert_parity("typed", y.as_slice(), &[model_f64(&m, &[2, 6])]);
}

#[test]
fn binding_checks_kind_and_every_size() {
    let m = entity_model(&[3, 4], 4, 1e-3, Some((1.0, 0.0)), 30);
    let b = AlignedBytes::new(&m.to_blob().unwrap());
    fn err<M: Layer>(b: &[u8]) -> Option<Error> {
        <M as TypedModel>::load(b).err()
    }
    assert_eq!(err::<Chain<EntityDot<2, 7, 4>, Dense<1, 1, Relu>>>(&b), None);
    // Columns, rows, dim.
    assert_eq!(err::<Chain<EntityDot<1, 7, 4>, Dense<1, 1, Relu>>>(&b), Some(Error::LayerShape));
    assert_eq!(err::<Chain<EntityDot<3, 7, 4>, Dense<1, 1, Relu>>>(&b), Some(Error::LayerShape));
    assert_eq!(err::<Chain<EntityDot<2, 6, 4>, Dense<1, 1, Relu>>>(&b), Some(Error::LayerShape));
    assert_eq!(err::<Chain<EntityDot<2, 8, 4>, Dense<1, 1, Relu>>>(&b), Some(Error::LayerShape));
    assert_eq!(err::<Chain<EntityDot<2, 7, 3>, Dense<1, 1, Relu>>>(&b), Some(Error::LayerShape));
    assert_eq!(err::<Chain<EntityDot<2, 7, 5>, Dense<1, 1, Relu>>>(&b), Some(Error::LayerShape));
    // The head's activation, another first kind, the layer count.
    assert_eq!(err::<Chain<EntityDot<2, 7, 4>, Dense<1, 1, Linear>>>(&b), Some(Error::LayerKind));
    assert_eq!(
        err::<Chain<Embedding<7, 4, 2>, Chain<Flatten<4, 2, 8>, Dense<8, 1, Relu>>>>(&b),
        Some(Error::LayerKind)
    );
    assert_eq!(err::<EntityDot<2, 7, 4>>(&b), Some(Error::LayerCount));
    // An entity type against a dense model.
    let d = ember_conformance::random_model("d", &[(2, 1, Activation::Relu)], 31);
    let d = AlignedBytes::new(&d.to_blob().unwrap());
    assert_eq!(err::<Chain<EntityDot<2, 7, 4>, Dense<1, 1, Relu>>>(&d), Some(Error::LayerKind));
}

#[test]
fn the_kernel_reports_bad_arguments_instead_of_panicking() {
    let (c, r, d) = (2, 5, 3);
    let v = entity_values(c, r, d, &mut rng(40));
    let p = EntityParams {
        weight: &v[0],
        bias: &v[1],
        gamma: &v[2],
        beta: &v[3],
        mean: &v[4],
        var: &v[5],
        epsilon: 1e-3,
        dim: d,
    };
    assert_eq!((p.columns(), p.rows(), p.scratch_len()), (2, 5, 6));
    let mut scratch = [0.0f32; 6];
    let y = entity_dot(&p, [1, 4], &mut scratch).unwrap();
    assert!((y as f64 - entity_f64(&v, d, 1e-3, &[1, 4])).abs() < 1e-5);
    assert_eq!(entity_dot(&p, [1, 5], &mut scratch), Err(Error::TokenOutOfRange));
    assert_eq!(entity_dot(&p, [u32::MAX, 0], &mut scratch), Err(Error::TokenOutOfRange));
    assert_eq!(entity_dot(&p, [1], &mut scratch), Err(Error::InputShape));
    assert_eq!(entity_dot(&p, [1, 2, 3], &mut scratch), Err(Error::InputShape));
    assert_eq!(entity_dot(&p, [1, 2], &mut scratch[..5]), Err(Error::BufferTooSmall));
    for bad in [
        EntityParams { dim: 0, ..p },
        EntityParams { bias: &v[1][..4], ..p },
        EntityParams { var: &v[5][..5], ..p },
        EntityParams { weight: &v[0][..14], ..p },
    ] {
        assert_eq!(entity_dot(&bad, [1, 2], &mut scratch), Err(Error::TensorShape));
    }
}

// ---------------------------------------------------------------------------
// Names and columns.
// ---------------------------------------------------------------------------

#[test]
fn names_parse_and_look_up() {
    let n = Names::new(b"king\nqueen\n\nman").unwrap();
    assert_eq!(n.len(), 4);
    assert!(!n.is_empty());
    assert_eq!(n.iter().collect::<Vec<_>>(), ["king", "queen", "", "man"]);
    assert_eq!((n.get(0), n.get(2), n.get(3), n.get(4)), (Some("king"), Some(""), Some("man"), None));
    assert_eq!(
        (n.position("queen"), n.position("man"), n.position("Man"), n.position("ki")),
        (Some(1), Some(3), None, None)
    );
    // Non-ASCII names are whole UTF-8 strings.
    let n = Names::new("café\nnaïve".as_bytes()).unwrap();
    assert_eq!((n.len(), n.position("naïve")), (2, Some(1)));
    // Empty: no name; a trailing newline: an empty last name.
    assert_eq!(Names::new(b"").unwrap().len(), 0);
    assert!(Names::new(b"").unwrap().is_empty());
    assert_eq!(Names::new(b"a\n").unwrap().iter().collect::<Vec<_>>(), ["a", ""]);
    // Not UTF-8.
    assert_eq!(Names::new(b"ok\n\xFF\xFE").err(), Some(Error::BadAsset));
    assert_eq!(Names::new(b"\xC3").err(), Some(Error::BadAsset));
}

#[test]
fn columns_parse_and_look_up() {
    let c = Columns::new(b"city\t3\nweekday\t7\nrain\t2", 12).unwrap();
    assert_eq!(c.len(), 3);
    assert!(!c.is_empty());
    let weekday = c.find("weekday").unwrap();
    assert_eq!((weekday.index, weekday.name, weekday.offset, weekday.count), (1, "weekday", 3, 7));
    assert_eq!(weekday.rows(), 3..10);
    assert!(weekday.contains(3) && weekday.contains(9) && !weekday.contains(10) && !weekday.contains(2));
    assert_eq!(c.get(2).map(|k| (k.name, k.rows())), Some(("rain", 10..12)));
    assert_eq!(c.get(0).map(|k| k.rows()), Some(0..3));
    assert_eq!(c.get(3), None);
    assert_eq!(c.find("snow"), None);
    assert_eq!(c.column_of(0).map(|k| k.index), Some(0));
    assert_eq!(c.column_of(9).map(|k| k.index), Some(1));
    assert_eq!(c.column_of(11).map(|k| k.index), Some(2));
    assert_eq!(c.column_of(12), None);
    assert_eq!(c.iter().map(|k| k.count).collect::<Vec<_>>(), [3, 7, 2]);
    // A name may hold spaces and non-ASCII text; large counts are fine.
    let c = Columns::new("day of week\t1000000\nvillé\t1".as_bytes(), 1_000_001).unwrap();
    assert_eq!(c.find("villé").map(|k| k.offset), Some(1_000_000));
}

#[test]
fn columns_reject_malformed_assets() {
    let bad: [(&[u8], usize); 17] = [
        (b"", 0),
        (b"a\t3\nb\t2", 6),   // counts add up to 5
        (b"a\t3\nb\t2", 4),   // or not to 4
        (b"a\t0\nb\t5", 5),   // an empty column
        (b"a\t3\nb 2", 5),    // no tab
        (b"a\t3\n", 3),       // a trailing newline: an empty line
        (b"a\t3\n\nb\t1", 4), // an empty line
        (b"a\t+3", 3),
        (b"a\t-3", 3),
        (b"a\t 3", 3),
        (b"a\t3 ", 3),
        (b"a\t3\t", 3),
        (b"a\t", 0),
        (b"a\tx", 0),
        (b"a\t99999999999999999999", 0),   // overflows
        (b"a\t4294967296", 4_294_967_296), // over u32
        (b"\xFF\t3", 3),
    ];
    for (bytes, rows) in bad {
        assert_eq!(
            Columns::new(bytes, rows).err(),
            Some(Error::BadAsset),
            "{:?} over {rows}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn names_and_columns_from_a_blob() {
    let counts = [3, 4, 2];
    let m = entity_model(&counts, 4, 1e-3, Some((1.0, 0.0)), 50);
    let b = AlignedBytes::new(&m.to_blob().unwrap());
    let blob = Blob::parse(&b).unwrap();
    let names = Names::from_blob(&blob, ember_runtime::text::VOCAB_TENSOR).unwrap();
    assert_eq!(names.len(), 9);
    assert_eq!(names.get(8), Some("v8"));
    let cols = Columns::from_blob(&blob).unwrap();
    assert_eq!(cols.len(), 3);
    assert_eq!(cols.find("col2").map(|k| k.rows()), Some(7..9));
    assert_eq!(Names::from_blob(&blob, "nope").err(), Some(Error::NotFound));
    // A parameter tensor is not a name list.
    assert_eq!(Names::from_blob(&blob, "entitydot_0.weight").err(), Some(Error::BadAsset));

    let with_assets = |vocab: &[u8], columns: Option<&[u8]>| {
        let mut m = entity_model(&counts, 4, 1e-3, None, 51);
        m.assets = vec![Asset { name: "vocab".into(), bytes: vocab.to_vec() }];
        if let Some(c) = columns {
            m.assets.push(Asset { name: "columns".into(), bytes: c.to_vec() });
        }
        AlignedBytes::new(&m.to_blob().unwrap())
    };
    let b = with_assets(b"x\xFFy", None);
    let blob = Blob::parse(&b).unwrap();
    assert_eq!(Names::from_blob(&blob, "vocab").err(), Some(Error::BadAsset));
    assert_eq!(Columns::from_blob(&blob).err(), Some(Error::NotFound));
    // Counts that add up to the rows, but one column too few or too many.
    for c in [&b"a\t3\nb\t6"[..], b"a\t3\nb\t4\nc\t1\nd\t1"] {
        let b = with_assets(b"v", Some(c));
        assert_eq!(Columns::from_blob(&Blob::parse(&b).unwrap()).err(), Some(Error::BadAsset));
    }
    // Counts that do not add up to the rows.
    let b = with_assets(b"v", Some(b"a\t3\nb\t4\nc\t3"));
    assert_eq!(Columns::from_blob(&Blob::parse(&b).unwrap()).err(), Some(Error::BadAsset));
    // A model whose first layer is not an EntityDot has no columns.
    let mut d = ember_conformance::random_model("d", &[(2, 1, Activation::Relu)], 52);
    d.assets.push(Asset { name: "columns".into(), bytes: b"a\t2".to_vec() });
    let d = AlignedBytes::new(&d.to_blob().unwrap());
    assert_eq!(Columns::from_blob(&Blob::parse(&d).unwrap()).err(), Some(Error::NotFound));
}

// ---------------------------------------------------------------------------
// Nearest neighbours, top-k, combine.
// ---------------------------------------------------------------------------

/// Cosine similarity in `f64`.
fn cosine_f64(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
    let na: f64 = a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// Brute force: every row of `rows` not in `skip` with a non-zero norm,
/// sorted by decreasing `f64` cosine, ties to the lower row; the first `k`.
fn brute_force(
    table: &[f32],
    dim: usize,
    rows: std::ops::Range<usize>,
    q: &[f32],
    skip: &[usize],
    k: usize,
) -> Vec<(usize, f64)> {
    let mut all: Vec<(usize, f64)> = rows
        .filter(|r| !skip.contains(r))
        .filter(|&r| table[r * dim..(r + 1) * dim].iter().any(|&v| v != 0.0))
        .map(|r| (r, cosine_f64(q, &table[r * dim..(r + 1) * dim])))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

/// Scores within 1e-5 of the reference at every rank; the rows equal the
/// reference's except where two reference scores are that close (a near-tie
/// that `f32` rounding may order either way).
fn assert_ranking(what: &str, got: &[Neighbour], want: &[(usize, f64)], table: &[f32], dim: usize, q: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: result count");
    for (i, (g, &(row, score))) in got.iter().zip(want).enumerate() {
        assert!((g.score as f64 - score).abs() < 1e-5, "{what}[{i}]: score {} vs {score}", g.score);
        let g_ref = cosine_f64(q, &table[g.row as usize * dim..(g.row as usize + 1) * dim]);
        assert!(
            g.row as usize == row || (g_ref - score).abs() < 1e-5,
            "{what}[{i}]: row {} (score {g_ref}) instead of {row} ({score})",
            g.row
        );
    }
}

#[test]
fn nearest_matches_brute_force_cosine() {
    let (rows, dim) = (60, 7);
    let mut r = rng(60);
    let mut table = uniform(&mut r, rows * dim, -1.0, 1.0);
    // Zero rows never qualify (no direction).
    for z in [5, 33] {
        table[z * dim..(z + 1) * dim].fill(0.0);
    }
    for t in 0..8 {
        let q = uniform(&mut r, dim, -1.0, 1.0);
        let skip: Vec<usize> = (0..t).map(|i| i * 7).collect();
        let got = search::nearest::<5>(&table, dim, 0..rows, &q, &skip).unwrap();
        assert_ranking(&format!("query {t}"), &got, &brute_force(&table, dim, 0..rows, &q, &skip, 5), &table, dim, &q);
        assert!(got.iter().all(|n| !skip.contains(&(n.row as usize)) && n.row != 5 && n.row != 33));
        // A row block (one column's categories).
        let got = search::nearest::<4>(&table, dim, 20..40, &q, &skip).unwrap();
        assert_ranking(&format!("block {t}"), &got, &brute_force(&table, dim, 20..40, &q, &skip, 4), &table, dim, &q);
        assert!(got.iter().all(|n| (20..40).contains(&n.row)));
    }
    // A row is its own nearest neighbour (score 1) unless skipped.
    let q = table[12 * dim..13 * dim].to_vec();
    let got = search::nearest::<3>(&table, dim, 0..rows, &q, &[]).unwrap();
    assert_eq!(got[0].row, 12);
    assert!((got[0].score - 1.0).abs() < 1e-6);
    let got = search::nearest::<3>(&table, dim, 0..rows, &q, &[12]).unwrap();
    assert_ne!(got[0].row, 12);
    // Scaling the query changes nothing.
    let q2: Vec<f32> = q.iter().map(|v| v * 1000.0).collect();
    let far = search::nearest::<3>(&table, dim, 0..rows, &q2, &[12]).unwrap();
    assert_eq!(far.iter().map(|n| n.row).collect::<Vec<_>>(), got.iter().map(|n| n.row).collect::<Vec<_>>());
}

#[test]
fn nearest_ties_small_tables_and_odd_rows() {
    // Rows 1 and 3 are equal, and row 4 points the same way: three scores of 1.
    let table = [
        0.0,
        1.0, //
        1.0,
        1.0, //
        -1.0,
        0.0, //
        1.0,
        1.0, //
        2.0,
        2.0, //
        f32::NAN,
        1.0, // not finite: left out
        0.0,
        0.0, // zero: left out
    ];
    let got = search::nearest::<8>(&table, 2, 0..7, &[3.0, 3.0], &[]).unwrap();
    let rows: Vec<u32> = got.iter().map(|n| n.row).collect();
    // 1 and 3 (exactly equal scores: lower row first) and 4 (score 1 as
    // well, within rounding), then 0, then 2; rows 5 and 6 take no part.
    // K = 8 > 5 results.
    let mut first: Vec<u32> = rows[..3].to_vec();
    first.sort();
    assert_eq!(first, [1, 3, 4]);
    let at = |r: u32| rows.iter().position(|&x| x == r).unwrap();
    assert_eq!(at(3), at(1) + 1, "equal scores: the lower row first, next to each other");
    assert_eq!(got[at(1)].score, got[at(3)].score);
    assert!(got[..3].iter().all(|n| (n.score - 1.0).abs() < 1e-6));
    assert_eq!(&rows[3..], &[0, 2]);
    assert_eq!(rows.len(), 5);
    assert!(
        (got[3].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6
            && (got[4].score + std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6
    );
    // Without row 4, K = 1 keeps the first of the tie; skipping row 1 promotes row 3.
    assert_eq!(search::nearest::<1>(&table, 2, 0..7, &[3.0, 3.0], &[4]).unwrap()[0].row, 1);
    assert_eq!(search::nearest::<1>(&table, 2, 0..7, &[3.0, 3.0], &[1, 4]).unwrap()[0].row, 3);
    // An empty range gives nothing.
    assert!(search::nearest::<4>(&table, 2, 3..3, &[1.0, 0.0], &[]).unwrap().is_empty());
    // Every row skipped: nothing.
    assert!(search::nearest::<4>(&table, 2, 0..2, &[1.0, 0.0], &[0, 1]).unwrap().is_empty());
}

#[test]
fn nearest_rejects_bad_queries() {
    let table = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
    let q = [1.0f32, 0.5];
    let nearest = |t: &[f32], dim, rows, q: &[f32]| search::nearest::<2>(t, dim, rows, q, &[]).err();
    assert_eq!(nearest(&table, 2, 0..3, &q), None);
    assert_eq!(nearest(&table, 2, 0..3, &[0.0, 0.0]), Some(Error::ZeroQuery));
    assert_eq!(nearest(&table, 2, 0..3, &[f32::NAN, 1.0]), Some(Error::ZeroQuery));
    assert_eq!(nearest(&table, 2, 0..3, &[f32::INFINITY, 1.0]), Some(Error::ZeroQuery));
    assert_eq!(nearest(&table, 0, 0..3, &q), Some(Error::BadQuery));
    assert_eq!(nearest(&table, 4, 0..1, &q), Some(Error::BadQuery)); // 6 values are not whole rows of 4
    assert_eq!(nearest(&table, 2, 0..4, &q), Some(Error::BadQuery)); // past the table
    assert_eq!(nearest(&table, 2, 3..4, &q), Some(Error::BadQuery));
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 2..1;
    assert_eq!(nearest(&table, 2, backwards, &q), Some(Error::BadQuery));
    assert_eq!(nearest(&table, 2, 0..3, &[1.0]), Some(Error::BadQuery));
    assert_eq!(nearest(&table, 2, 0..3, &[1.0, 0.0, 0.0]), Some(Error::BadQuery));
    assert_eq!(nearest(&[], 2, 0..0, &q), None); // an empty table is zero rows
    assert_eq!(search::nearest::<0>(&table, 2, 0..3, &q, &[]).err(), Some(Error::BadQuery));
}

#[test]
fn top_k_is_the_largest_scores() {
    let mut r = rng(70);
    let scores = uniform(&mut r, 200, 0.0, 1.0);
    let got = search::top_k::<10>(&scores);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    assert_eq!(got.iter().map(|n| n.row as usize).collect::<Vec<_>>(), order[..10]);
    assert!(got.iter().all(|n| n.score == scores[n.row as usize]));
    // Ties keep the lower index first; NaN is left out; K larger than the scores.
    let got = search::top_k::<8>(&[0.5, f32::NAN, 0.9, 0.5, -1.0, 0.9]);
    let want = [(2, 0.9), (5, 0.9), (0, 0.5), (3, 0.5), (4, -1.0)];
    assert_eq!(got.iter().map(|n| (n.row, n.score)).collect::<Vec<_>>(), want);
    assert!(search::top_k::<0>(&[1.0, 2.0]).is_empty());
    assert!(search::top_k::<3>(&[]).is_empty());
}

#[test]
fn combine_sums_weighted_rows() {
    let (rows, dim) = (9, 5);
    let table = uniform(&mut rng(80), rows * dim, -1.0, 1.0);
    let terms = [(2, 1.0f32), (7, -1.0), (4, 1.0), (2, 0.5)];
    let mut out = [f32::NAN; 5];
    search::combine(&table, dim, &terms, &mut out).unwrap();
    for (i, &o) in out.iter().enumerate() {
        let want: f64 = terms.iter().map(|&(r, w)| w as f64 * table[r * dim + i] as f64).sum();
        assert!((o as f64 - want).abs() < 1e-6, "[{i}] {o} vs {want}");
    }
    // The analogy query finds its target when the table is built for it.
    let words = [
        1.0, 0.0, 1.0, // king   = royal + male
        1.0, 1.0, 0.0, // queen  = royal + female
        0.0, 0.0, 1.0, // man    = male
        0.0, 1.0, 0.0, // woman  = female
        0.3, 0.3, 0.3, // other
    ];
    let mut q = [0.0f32; 3];
    search::combine(&words, 3, &[(0, 1.0), (2, -1.0), (3, 1.0)], &mut q).unwrap();
    let best = search::nearest::<1>(&words, 3, 0..5, &q, &[0, 2, 3]).unwrap();
    assert_eq!(best[0].row, 1, "king - man + woman = queen");
    // No term: zeros (then a zero query).
    search::combine(&words, 3, &[], &mut q).unwrap();
    assert_eq!(q, [0.0; 3]);
    assert_eq!(search::nearest::<1>(&words, 3, 0..5, &q, &[]).err(), Some(Error::ZeroQuery));
    // Bad arguments.
    assert_eq!(search::combine(&words, 3, &[(5, 1.0)], &mut q), Err(Error::BadQuery));
    assert_eq!(search::combine(&words, 3, &[(0, 1.0)], &mut [0.0; 2]), Err(Error::BadQuery));
    assert_eq!(search::combine(&words, 0, &[(0, 1.0)], &mut []), Err(Error::BadQuery));
    assert_eq!(search::combine(&words, 4, &[(0, 1.0)], &mut [0.0; 4]), Err(Error::BadQuery));
}

#[test]
fn search_over_an_entity_models_table() {
    // The typed model's table, a column's rows, its names.
    let counts = [4, 6, 3];
    let m = entity_model(&counts, 5, 1e-3, Some((1.0, 0.0)), 90);
    let b = AlignedBytes::new(&m.to_blob().unwrap());
    let blob = Blob::parse(&b).unwrap();
    let model = <Chain<EntityDot<3, 13, 5>, Dense<1, 1, Relu>> as TypedModel>::load(&b).unwrap();
    let names = Names::from_blob(&blob, "vocab").unwrap();
    let col = Columns::from_blob(&blob).unwrap().find("col1").unwrap();
    let table = model.first.table();
    let row = col.offset + 2;
    let got = search::nearest::<3>(table, 5, col.rows(), model.first.row(row as u32).unwrap(), &[row]).unwrap();
    let want = brute_force(table, 5, col.rows(), &table[row * 5..(row + 1) * 5], &[row], 3);
    assert_ranking("column 1", &got, &want, table, 5, &table[row * 5..(row + 1) * 5]);
    assert!(got.iter().all(|n| names.get(n.row as usize).is_some() && col.contains(n.row as usize)));
}

#[test]
fn normalised_search_compares_what_the_model_multiplies() {
    // Entity similarity normalises each row with its column's statistics
    // (the model's batch norm, inference form); checked in f64.
    let counts = [4, 6, 3];
    let (dim, eps) = (5, 1e-3f32);
    let m = entity_model(&counts, dim, eps, Some((1.0, 0.0)), 91);
    let b = AlignedBytes::new(&m.to_blob().unwrap());
    let blob = Blob::parse(&b).unwrap();
    let norm = search::ColumnNorm::from_blob(&blob).unwrap();
    let table = blob.tensor_f32(0).unwrap();
    let p = |i: usize| &m.params[i].data;
    let normalised = |r: usize| -> Vec<f64> {
        let k = norm.columns.column_of(r).unwrap().index;
        (0..dim)
            .map(|j| {
                let c = k * dim + j;
                let s = f64::from(p(2)[c]) / (f64::from(p(5)[c]) + f64::from(eps)).sqrt();
                (f64::from(table[r * dim + j]) - f64::from(p(4)[c])) * s + f64::from(p(3)[c])
            })
            .collect()
    };
    // A composite query: a row of column 1 plus a row of column 0, minus one of column 2.
    let terms = [(4 + 2, 1.0f32), (1, 1.0), (4 + 6 + 1, -1.0)];
    let mut q = [0f32; 5];
    let mut scratch = [0f32; 5];
    search::combine_normalised(&norm, &terms, &mut q, &mut scratch).unwrap();
    let q64: Vec<f64> = (0..dim).map(|j| terms.iter().map(|&(r, w)| f64::from(w) * normalised(r)[j]).sum()).collect();
    for (a, b) in q.iter().zip(&q64) {
        assert!((f64::from(*a) - b).abs() < 1e-5, "query {q:?} vs {q64:?}");
    }
    let cos = |r: usize| {
        let n = normalised(r);
        let dot: f64 = n.iter().zip(&q64).map(|(a, b)| a * b).sum();
        dot / (n.iter().map(|v| v * v).sum::<f64>().sqrt() * q64.iter().map(|v| v * v).sum::<f64>().sqrt())
    };
    let got = search::nearest_normalised::<6>(&norm, 1, &q, &[6], &mut scratch).unwrap();
    let mut want: Vec<(usize, f64)> = (4..10).filter(|&r| r != 6).map(|r| (r, cos(r))).collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.row as usize, w.0, "{got:?} vs {want:?}");
        assert!((f64::from(g.score) - w.1).abs() < 1e-5, "{got:?} vs {want:?}");
    }
    assert!(search::nearest_normalised::<1>(&norm, 3, &q, &[], &mut scratch).is_err(), "column 3 does not exist");
    assert!(search::combine_normalised(&norm, &[(13, 1.0)], &mut q, &mut scratch).is_err(), "row 13 is past the table");
    assert!(search::combine_normalised(&norm, &[(0, 1.0)], &mut q, &mut [0f32; 4]).is_err(), "short scratch");
}
