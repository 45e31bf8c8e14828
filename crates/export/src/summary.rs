//! [`ModelSummary`]: Keras's `model.summary()` for an ember model, with what
//! a microcontroller pays for it: each layer's kind, output shape and
//! parameter count, the total, the blob's bytes (the weights' share of a
//! board's flash: the firmware keeps the blob in `.rodata`) and the
//! activation RAM of the typed runtime (`TypedModel::ACTIVATION_BYTES`).

use std::fmt::Write as _;

use ember_runtime::spec::{IoSpec, LayerSpec};

use crate::{ExportError, Model};

/// One layer's line of a summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// Kind name (`dense`, `conv2d`, ...).
    pub kind: &'static str,
    /// Dimensions of one sample's output.
    pub output: Vec<u32>,
    /// Parameters (elements of every parameter tensor).
    pub params: usize,
    /// Peak activation floats of the layer in the typed runtime.
    pub activation_floats: usize,
}

/// What a model holds and needs on a board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSummary {
    /// Model name.
    pub name: String,
    /// Dimensions of one input sample.
    pub input: Vec<u32>,
    /// One line per layer.
    pub layers: Vec<LayerSummary>,
    /// Total parameters.
    pub params: usize,
    /// Bytes of the `.emb` blob: the weights (4 bytes each), the header and
    /// any assets (a text model's word list).
    pub blob_bytes: usize,
    /// Activation RAM of the typed runtime in bytes: the largest
    /// [`activation_floats`] of any layer, times 4.
    pub activation_bytes: usize,
}

/// Peak `f32` values live while `spec` runs in the typed runtime: its input
/// and output, plus a recurrent layer's state and gates (6 per unit) or an
/// entity layer's `columns × dim` products. The same sum as each typed
/// layer's `PEAK_ACTIVATION_FLOATS`.
pub fn activation_floats(spec: &LayerSpec) -> usize {
    let extra = match *spec {
        LayerSpec::EntityDot { columns, dim, .. } => (columns * dim) as usize,
        _ => spec.recurrent().map_or(0, |r| 6 * r.units),
    };
    spec.input_len() + spec.output_len() + extra
}

/// Parameters of `spec`: the elements of each of its parameter tensors.
pub fn param_elements(spec: &LayerSpec) -> usize {
    (0..spec.param_count()).filter_map(|i| spec.param(i)).map(|p| p.dims.elements()).sum()
}

impl ModelSummary {
    /// The summary of layers `specs` on input `input`, for a blob of `blob_bytes`.
    pub fn from_specs(name: &str, input: &IoSpec, specs: &[LayerSpec], blob_bytes: usize) -> Self {
        let layers: Vec<LayerSummary> = specs
            .iter()
            .map(|s| LayerSummary {
                kind: s.kind_name(),
                output: s.output_dims().as_slice().to_vec(),
                params: param_elements(s),
                activation_floats: activation_floats(s),
            })
            .collect();
        ModelSummary {
            name: name.to_string(),
            input: input.dims.as_slice().to_vec(),
            params: layers.iter().map(|l| l.params).sum(),
            activation_bytes: 4 * layers.iter().map(|l| l.activation_floats).max().unwrap_or(0),
            layers,
            blob_bytes,
        }
    }

    /// The summary of `model`, its blob encoded to count its bytes.
    pub fn of(model: &Model) -> Result<Self, ExportError> {
        let blob = model.to_blob()?;
        Ok(Self::from_specs(&model.name, &model.input, &model.layers, blob.len()))
    }

    /// The summary as a text table, Keras style.
    pub fn table(&self) -> String {
        let shape = |d: &[u32]| format!("({})", d.iter().map(u32::to_string).collect::<Vec<_>>().join(", "));
        let mut rows = vec![("input".to_string(), shape(&self.input), String::new())];
        for (i, l) in self.layers.iter().enumerate() {
            rows.push((format!("{} {i}", l.kind), shape(&l.output), l.params.to_string()));
        }
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max("Layer".len());
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max("Output shape".len());
        let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max("Params".len());
        let rule = "-".repeat(w0 + w1 + w2 + 4);
        let mut t = format!("Model: {}\n{rule}\n", self.name);
        let _ = writeln!(t, "{:<w0$}  {:<w1$}  {:>w2$}", "Layer", "Output shape", "Params");
        let _ = writeln!(t, "{rule}");
        for (a, b, c) in &rows {
            let _ = writeln!(t, "{}", format!("{a:<w0$}  {b:<w1$}  {c:>w2$}").trim_end());
        }
        let _ = writeln!(t, "{rule}");
        let _ = writeln!(t, "Total params: {} ({} bytes of f32)", self.params, 4 * self.params);
        let rest = self.blob_bytes.saturating_sub(4 * self.params);
        let _ = writeln!(
            t,
            "Flash: blob {} bytes, held in a board's .rodata ({} of weights, {rest} of header and assets)",
            self.blob_bytes,
            4 * self.params
        );
        let _ = writeln!(t, "Activation RAM on a board: {} bytes", self.activation_bytes);
        t
    }
}
