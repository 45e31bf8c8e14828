//! Cross-backend verification: the same inputs through the host runtime (on
//! the blob), the trainer's forward pass, tract and ONNX Runtime (on the ONNX
//! file), compared element by element.
#![warn(missing_docs)]

pub mod backends;
pub mod error;

pub use error::{Result, VerifyError};

use ember_export::{AlignedBytes, Model};
use ember_runtime::format::Blob;
use ember_runtime::spec::{LayerSpec, TableKind, ValueKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use ember_nn::network::Network;

/// Absolute and relative tolerance for `f32` parity between backends:
/// `|a - b| <= F32_PARITY + F32_PARITY * |b|` for every element.
pub const F32_PARITY: f64 = 1e-5;

/// How one backend compares with the reference (the host runtime).
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Backend name.
    pub backend: &'static str,
    /// Largest `|a - b|`.
    pub max_abs: f64,
    /// Largest `|a - b| / |b|` over elements with `|b| >= 1e-6`.
    pub max_rel: f64,
    /// Whether every element is within [`F32_PARITY`].
    pub ok: bool,
}

/// The result of [`verify`].
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyReport {
    /// Model name.
    pub model: String,
    /// Samples compared.
    pub samples: usize,
    /// Output values per sample.
    pub output_len: usize,
    /// One comparison per backend.
    pub comparisons: Vec<Comparison>,
}

impl VerifyReport {
    /// Whether every backend is within tolerance.
    pub fn ok(&self) -> bool {
        self.comparisons.iter().all(|c| c.ok)
    }
}

/// Compares `got` with the reference `want`.
pub fn compare(backend: &'static str, got: &[f32], want: &[f32]) -> Comparison {
    let (mut max_abs, mut max_rel, mut ok) = (0f64, 0f64, got.len() == want.len());
    for (&g, &w) in got.iter().zip(want) {
        let (g, w) = (g as f64, w as f64);
        let d = (g - w).abs();
        if d.is_nan() || d > F32_PARITY + F32_PARITY * w.abs() {
            ok = false;
        }
        max_abs = max_abs.max(if d.is_nan() { f64::INFINITY } else { d });
        if w.abs() >= 1e-6 {
            max_rel = max_rel.max(d / w.abs());
        }
    }
    Comparison { backend, max_abs, max_rel, ok }
}

/// `n` deterministic input samples for `model`: uniform in its declared
/// input range, or in `[-2, 2]` when it declares none; for token-id models,
/// ids uniform below the vocabulary, each sample starting with a run of
/// padding (id 0) of random length, as padded text has; for entity models,
/// each column's id uniform among that column's rows (all rows when the
/// model names no columns).
pub fn sample_inputs(model: &Model, n: usize, seed: u64) -> Vec<f32> {
    use rand::RngExt;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let per = model.input.dims.elements();
    let first = FirstLayer::of(model.layers.first());
    if let FirstLayer::EntityDot { rows } = first {
        let columns = model.assets.iter().find(|a| a.name == ember_runtime::search::COLUMNS_TENSOR);
        let columns = columns.and_then(|a| ember_runtime::search::Columns::new(&a.bytes, rows as usize).ok());
        let ranges: Vec<std::ops::Range<usize>> = match columns {
            Some(cols) if cols.len() == per => cols.iter().map(|c| c.offset..c.offset + c.count).collect(),
            _ => vec![0..rows as usize; per],
        };
        return (0..n)
            .flat_map(|_| ranges.iter().map(|r| rng.random_range(r.clone()) as f32).collect::<Vec<_>>())
            .collect();
    }
    if model.input.kind == ValueKind::TokenIds {
        let vocab = match first {
            FirstLayer::Embedding { vocab } => vocab,
            FirstLayer::EntityDot { .. } | FirstLayer::Other => 1,
        };
        let mut x = Vec::with_capacity(per * n);
        for _ in 0..n {
            let pad = rng.random_range(0..per);
            x.extend((0..per).map(|t| if t < pad { 0.0 } else { rng.random_range(0..vocab) as f32 }));
        }
        return x;
    }
    let [lo, hi] = model.input.range.unwrap_or([-2.0, 2.0]);
    (0..per * n).map(|_| if hi > lo { rng.random_range(lo..=hi) } else { lo }).collect()
}

/// What [`sample_inputs`] needs to know about a model's first layer.
#[derive(Clone, Copy)]
enum FirstLayer {
    /// An entity model: ids index `rows` table rows.
    EntityDot { rows: u32 },
    /// A token-id model: ids below `vocab`.
    Embedding { vocab: u32 },
    /// Any other layer, or none.
    Other,
}

impl FirstLayer {
    fn of(layer: Option<&LayerSpec>) -> Self {
        match layer.and_then(LayerSpec::id_table) {
            Some(t) if t.kind == TableKind::Entities => FirstLayer::EntityDot { rows: t.rows },
            Some(t) => FirstLayer::Embedding { vocab: t.rows },
            None => FirstLayer::Other,
        }
    }
}

/// Runs `inputs` (`[n, input_len]`) through the host runtime's interpreter on a blob.
///
/// # Shapes
/// `inputs`: `[n, input_len]` → `[n, output_len]`.
///
/// # Errors
/// If the runtime rejects the blob, `inputs` is not a whole number of
/// samples, an `f32` input is NaN or infinite, or the runtime fails.
pub fn run_runtime(blob: &[u8], inputs: &[f32]) -> Result<Vec<f32>> {
    let aligned = AlignedBytes::new(blob);
    let blob =
        Blob::parse(&aligned).map_err(|e| VerifyError::Runtime { what: "blob rejected", message: e.to_string() })?;
    let h = blob.header();
    let (in_len, out_len) = (h.input.dims.elements(), h.output.dims.elements());
    if !inputs.len().is_multiple_of(in_len) {
        return Err(VerifyError::PartialSample { len: inputs.len(), per: in_len });
    }
    if h.input.kind == ValueKind::F32
        && let Some(index) = inputs.iter().position(|v| !v.is_finite())
    {
        return Err(VerifyError::NonFinite { index, value: inputs[index] });
    }
    let mut scratch = vec![0f32; ember_runtime::dynamic::scratch_len(&blob)];
    let mut out = vec![0f32; inputs.len() / in_len * out_len];
    for (x, y) in inputs.chunks(in_len).zip(out.chunks_mut(out_len)) {
        ember_runtime::dynamic::forward(&blob, x, &mut scratch, y)
            .map_err(|e| VerifyError::Runtime { what: "runtime", message: e.to_string() })?;
    }
    Ok(out)
}

/// Runs the same inputs on every backend and compares each with the host runtime.
///
/// # Errors
/// If the blob cannot be read or run ([`run_runtime`]), or tract or ONNX
/// Runtime fails ([`VerifyError::Backend`] names which).
pub fn verify(blob: &[u8], onnx: &[u8], inputs: &[f32]) -> Result<VerifyReport> {
    let model = Model::from_blob(blob).map_err(|error| VerifyError::Export { what: "reading the blob", error })?;
    let in_dims: Vec<usize> = model.input.dims.as_slice().iter().map(|&d| d as usize).collect();
    let in_len = model.input.dims.elements();
    let n = inputs.len() / in_len.max(1);
    let reference = run_runtime(blob, inputs)?;
    let trainer = Network::from_model(&model).predict(inputs);
    let again = model.to_blob().map_err(|error| VerifyError::Export { what: "writing the blob again", error })?;
    let round_trip = run_runtime(&again, inputs)?;
    // Errors that already say they are about ONNX Runtime's library pass unwrapped.
    let backend = |backend| {
        move |e| match e {
            VerifyError::OrtNotFound { .. } | VerifyError::OrtDylibEnv { .. } | VerifyError::OrtLoad { .. } => e,
            e => VerifyError::Backend { backend, error: Box::new(e) },
        }
    };
    let tract = backends::run_tract(onnx, &in_dims, n, inputs).map_err(backend("tract"))?;
    let ort = backends::run_ort(onnx, &in_dims, n, inputs).map_err(backend("ONNX Runtime"))?;
    Ok(VerifyReport {
        model: model.name.clone(),
        samples: n,
        output_len: model.output().dims.elements(),
        comparisons: vec![
            compare("trainer", &trainer, &reference),
            compare("blob round trip", &round_trip, &reference),
            compare("tract", &tract, &reference),
            compare("onnxruntime", &ort, &reference),
        ],
    })
}

/// A printable table of a report.
pub fn format_report(r: &VerifyReport) -> String {
    let mut s = format!(
        "{}: {} samples x {} outputs, reference = ember runtime (tolerance {:e} abs + rel)\n",
        r.model, r.samples, r.output_len, F32_PARITY
    );
    for c in &r.comparisons {
        s += &format!(
            "  {:<16} max abs {:>10.3e}  max rel {:>10.3e}  {}\n",
            c.backend,
            c.max_abs,
            c.max_rel,
            if c.ok { "ok" } else { "FAIL" }
        );
    }
    s
}
