//! Rust source for a board: [`Model::to_rust`] names the typed runtime model
//! (`ember_runtime::Chain<ember_runtime::Dense<784, 128, ember_runtime::Relu>, ...>`)
//! so that firmware needs no hand-written shapes.
//!
//! The generated file holds, all `pub`:
//! * the model's type, named after the model in UpperCamelCase
//!   ([`Model::rust_type_name`]: `mnist_encoder` → `MnistEncoder`): one layer
//!   type for a one-layer model, otherwise the layers right-nested in `Chain`
//!   (`Chain<A, Chain<B, C>>`), with fully qualified `ember_runtime::` paths
//!   so it compiles with no `use`;
//! * `type BoardModel`, an alias of it: the name a board firmware uses
//!   (`ember_board_common::run::<model::BoardModel>`), whatever the model;
//! * `const INPUT_LEN: usize` and `const OUTPUT_LEN: usize` (values per sample);
//! * for a model that reads token ids (its first layer is an Embedding or
//!   an EntityDot): `const SEQ_LEN: usize` (ids per sample: the sequence
//!   length, or the column count) and `const VOCAB: usize` (ids must be
//!   below it: the vocabulary, or the shared table's row count);
//! * `const BLOB_FILE: &str`: the blob file the type was generated for.
//!
//! Loading that blob with `ember_runtime::TypedModel::load` (for example
//! `MnistEncoder::load(&BLOB.0)`) checks every layer kind, size and
//! activation against the type.
//!
//! Layer types (all at the crate root of `ember_runtime`):
//!
//! | spec | type | input → output |
//! |---|---|---|
//! | Dense | `Dense<IN, OUT, Act>` | `SVector<IN>` → `SVector<OUT>` |
//! | Embedding | `Embedding<VOCAB, DIM, T>` | `TokenIds<VOCAB, T>` → `SMatrix<DIM, T>` |
//! | Flatten | `Flatten<R, C, N>` | `SMatrix<R, C>` → `SVector<N>` |
//! | Dropout | `Dropout<R, C>` | `SMatrix<R, C>` → the same |
//! | SimpleRnn / Lstm / Gru | `Recurrent<Cell, T, Ret>` | `SMatrix<I, T>` → `SVector<H>` or `SMatrix<H, T>` |
//! | bidirectional | `Bidirectional<Cell, T, Ret, O>` | `SMatrix<I, T>` → `SVector<O>` or `SMatrix<O, T>` |
//! | Conv2d | `Conv2d<H, W, C, F, KH, KW, Pad, Act, HW, OHW>` | `SMatrix<C, HW>` → `SMatrix<F, OHW>` |
//! | MaxPool2d | `MaxPool2d<H, W, C, POOL, Pad, HW, OHW>` | `SMatrix<C, HW>` → `SMatrix<C, OHW>` |
//! | Upsample2d | `Upsample2d<H, W, C, FACTOR, HW, OHW>` | `SMatrix<C, HW>` → `SMatrix<C, OHW>` |
//! | BatchNorm | `BatchNorm<R, C>` | `SMatrix<R, C>` → the same |
//! | EntityDot | `EntityDot<C, R, D>` | `TokenIds<R, C>` → `SVector<1>` |
//! | Conv1d | `Conv1d<L, C, F, K, S, D, Pad, Act, OL>` | `SMatrix<C, L>` → `SMatrix<F, OL>` |
//! | MaxPool1d | `MaxPool1d<L, C, K, S, Pad, OL>` | `SMatrix<C, L>` → `SMatrix<C, OL>` |
//! | AveragePool1d | `AveragePool1d<L, C, K, S, Pad, OL>` | `SMatrix<C, L>` → `SMatrix<C, OL>` |
//! | GlobalAveragePool | `GlobalAveragePool<C, N>` | `SMatrix<C, N>` → `SVector<C>` |
//! | Conv2dStrided | `Conv2dStrided<H, W, C, F, KH, KW, SH, SW, DH, DW, Pad, Act, HW, OHW>` | `SMatrix<C, HW>` → `SMatrix<F, OHW>` |
//! | DepthwiseConv2d | `DepthwiseConv2d<H, W, C, KH, KW, SH, SW, DH, DW, Pad, Act, HW, OHW>` | `SMatrix<C, HW>` → `SMatrix<C, OHW>` |
//! | AveragePool2d | `AveragePool2d<H, W, C, KH, KW, SH, SW, Pad, HW, OHW>` | `SMatrix<C, HW>` → `SMatrix<C, OHW>` |
//!
//! A quantized model (`Model::quant`) names the quantized forms of its
//! layers: in [`QuantMode::Int8`], Dense is `QDense<IN, OUT, Act>`, Conv2d and
//! Conv2dStrided are `QConv2d<H, W, C, F, KH, KW, SH, SW, DH, DW, Pad, Act, HW,
//! OHW>`, Conv1d is `QConv1d<L, C, F, K, S, D, Pad, Act, OL>`, DepthwiseConv2d
//! is `QDepthwise<H, W, C, KH, KW, SH, SW, DH, DW, Pad, Act, HW, OHW>`; in
//! [`QuantMode::WeightsOnly`], Dense is `WoDense<IN, OUT, Act>`, Embedding is
//! `WoEmbedding<VOCAB, DIM, T>`, and the recurrent types are unchanged (they
//! bind f32 or weights-only weights). Other weights-only kinds have no typed
//! form yet (an error).
//!
//! with `Cell` = `SimpleRnn<I, H>`, `Lstm<I, H>` or `Gru<I, H>`, `Ret` = `Last` or
//! `Sequences`, `O = 2 * H`, `Pad` = `Same` or `Valid`. A sequence sample
//! `[seq_len, features]` (time-major, row-major) is the column-major
//! `SMatrix<features, seq_len>`: one column per step. An image sample
//! `[H, W, C]` (HWC, channels innermost) is likewise `SMatrix<C, HW>` with
//! `HW = H * W`: one column per pixel; `OHW = oh * ow` is the output's pixel
//! count. Flatten, Dropout and BatchNorm take the shape of the value before
//! them: `R` is its innermost dimension, `C` the product of the others
//! (`C = 1` for a vector, `H * W` for a map). An EntityDot reads `C` row
//! ids (one per categorical column) of a table of `R` rows of `D` values.

use ember_runtime::qspec::QuantMode;
use ember_runtime::spec::{Activation, Dims, LayerSpec, Padding};

use crate::{ExportError, Model};

/// Path prefix of every runtime item in generated code.
const RT: &str = "ember_runtime";

impl Model {
    /// Generates the Rust source that names this model's typed runtime model,
    /// for a board that includes `blob_file` (the model's `.emb` file).
    ///
    /// # Errors
    /// [`ExportError::Invalid`] if the model fails [`Model::validate`] or no
    /// window fits a window layer.
    pub fn to_rust(&self, blob_file: &str) -> Result<String, ExportError> {
        self.validate()?;
        let mut types = Vec::with_capacity(self.layers.len());
        // The shape of the value entering each layer (Dropout keeps it).
        let mut dims = self.input.dims;
        for (i, l) in self.layers.iter().enumerate() {
            let mode = self.quant.as_ref().and_then(|q| q.layers.get(i)).map_or(QuantMode::Float, |q| q.mode);
            types.push(match mode {
                QuantMode::Float => layer_type(i, l, dims)?,
                _ => quant::quant_type(i, l, mode, dims)?,
            });
            if !matches!(l, LayerSpec::Dropout { .. }) {
                dims = l.output_dims();
            }
        }
        let ty = chain(&types);
        let name: String = self.name.escape_debug().collect();
        let ty_name = self.rust_type_name();
        let tokens = match self.layers[0].id_table() {
            Some(t) => format!(
                "/// Token ids per sample.\n\
                 pub const SEQ_LEN: usize = {};\n\
                 /// Vocabulary size: every token id must be below it.\n\
                 pub const VOCAB: usize = {};\n",
                t.ids_per_sample, t.rows
            ),
            None => String::new(),
        };
        Ok(format!(
            "// Generated by `ember export --rust` for model `{name}`. Do not edit.\n\
             /// The typed model: sizes as const generics.\n\
             pub type {ty_name} = {ty};\n\
             /// The model a board firmware runs.\n\
             pub type BoardModel = {ty_name};\n\
             /// Input values per sample.\n\
             pub const INPUT_LEN: usize = {};\n\
             /// Output values per sample.\n\
             pub const OUTPUT_LEN: usize = {};\n\
             {tokens}\
             /// The blob file this type was generated for.\n\
             pub const BLOB_FILE: &str = {blob_file:?};\n",
            self.input.dims.elements(),
            self.output().dims.elements(),
        ))
    }

    /// The name of this model's type in generated Rust: the model's name in
    /// UpperCamelCase (`mnist_encoder` → `MnistEncoder`, `next-word 50` →
    /// `NextWord50`). Words are the runs of ASCII letters and digits; each
    /// starts upper-case, and an all-capitals word continues in lower case
    /// (`MNIST_AE` → `MnistAe`). A name that gives no word or starts with a
    /// digit gets the prefix `Model` (`3d` → `Model3d`); one that would be
    /// `Self` or `BoardModel` gets the suffix `Model`.
    pub fn rust_type_name(&self) -> String {
        let mut out = String::new();
        for word in self.name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
            let shouting = !word.bytes().any(|b| b.is_ascii_lowercase());
            for (k, c) in word.chars().enumerate() {
                out.push(match k {
                    0 => c.to_ascii_uppercase(),
                    _ if shouting => c.to_ascii_lowercase(),
                    _ => c,
                });
            }
        }
        if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
            out.insert_str(0, "Model");
        }
        if out == "Self" || out == "BoardModel" {
            out.push_str("Model");
        }
        out
    }
}

/// The runtime type of one layer whose input has per-sample shape `input`,
/// e.g. `ember_runtime::Dense<784, 128, ember_runtime::Relu>`.
fn layer_type(i: usize, layer: &LayerSpec, input: Dims) -> Result<String, ExportError> {
    Ok(match *layer {
        LayerSpec::Dense { inputs, units, activation } => {
            format!("{RT}::Dense<{inputs}, {units}, {RT}::{}>", activation_type(activation))
        }
        LayerSpec::Embedding { vocab, dim, seq_len } => format!("{RT}::Embedding<{vocab}, {dim}, {seq_len}>"),
        LayerSpec::Flatten { dims } => {
            let (r, c) = matrix(dims);
            format!("{RT}::Flatten<{r}, {c}, {}>", dims.elements())
        }
        LayerSpec::Dropout { .. } => {
            let (r, c) = matrix(input);
            format!("{RT}::Dropout<{r}, {c}>")
        }
        LayerSpec::SimpleRnn { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. } => {
            let d = layer.recurrent().expect("a recurrent layer has recurrent dims");
            let kind = match layer {
                LayerSpec::Lstm { .. } => "Lstm",
                LayerSpec::Gru { .. } => "Gru",
                _ => "SimpleRnn",
            };
            let cell = format!("{RT}::{kind}<{}, {}>", d.inputs, d.units);
            let ret = if d.return_sequences { "Sequences" } else { "Last" };
            if d.dirs == 2 {
                format!("{RT}::Bidirectional<{cell}, {}, {RT}::{ret}, {}>", d.seq_len, d.step_out())
            } else {
                format!("{RT}::Recurrent<{cell}, {}, {RT}::{ret}>", d.seq_len)
            }
        }
        LayerSpec::Conv2d { height, width, channels, filters, kernel_h, kernel_w, padding, activation } => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::Conv2d<{height}, {width}, {channels}, {filters}, {kernel_h}, {kernel_w}, {RT}::{}, {RT}::{}, \
                 {hw}, {ohw}>",
                padding_type(padding),
                activation_type(activation)
            )
        }
        LayerSpec::MaxPool2d { height, width, channels, pool, padding } => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::MaxPool2d<{height}, {width}, {channels}, {pool}, {RT}::{}, {hw}, {ohw}>",
                padding_type(padding)
            )
        }
        LayerSpec::Upsample2d { height, width, channels, factor } => {
            let (h, w, f) = (height as u64, width as u64, factor as u64);
            let (hw, ohw) = (h * w, h * f * w * f);
            format!("{RT}::Upsample2d<{height}, {width}, {channels}, {factor}, {hw}, {ohw}>")
        }
        LayerSpec::BatchNorm { dims, .. } => {
            let (r, c) = matrix(dims);
            format!("{RT}::BatchNorm<{r}, {c}>")
        }
        LayerSpec::EntityDot { columns, rows, dim, .. } => format!("{RT}::EntityDot<{columns}, {rows}, {dim}>"),
        LayerSpec::Conv1d { length, channels, filters, kernel, stride, dilation, padding, activation } => {
            let out = out_len(i, layer)?;
            format!(
                "{RT}::Conv1d<{length}, {channels}, {filters}, {kernel}, {stride}, {dilation}, {RT}::{}, {RT}::{}, {out}>",
                padding_type(padding),
                activation_type(activation)
            )
        }
        LayerSpec::MaxPool1d { length, channels, pool, stride, padding } => {
            let out = out_len(i, layer)?;
            format!("{RT}::MaxPool1d<{length}, {channels}, {pool}, {stride}, {RT}::{}, {out}>", padding_type(padding))
        }
        LayerSpec::AveragePool1d { length, channels, pool, stride, padding } => {
            let out = out_len(i, layer)?;
            format!(
                "{RT}::AveragePool1d<{length}, {channels}, {pool}, {stride}, {RT}::{}, {out}>",
                padding_type(padding)
            )
        }
        LayerSpec::GlobalAveragePool { dims } => {
            let (c, n) = matrix(dims);
            format!("{RT}::GlobalAveragePool<{c}, {n}>")
        }
        LayerSpec::Conv2dStrided {
            height,
            width,
            channels,
            filters,
            kernel: [kh, kw],
            stride: [sh, sw],
            dilation: [dh, dw],
            padding,
            activation,
        } => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::Conv2dStrided<{height}, {width}, {channels}, {filters}, {kh}, {kw}, {sh}, {sw}, {dh}, {dw}, \
                 {RT}::{}, {RT}::{}, {hw}, {ohw}>",
                padding_type(padding),
                activation_type(activation)
            )
        }
        LayerSpec::DepthwiseConv2d {
            height,
            width,
            channels,
            kernel: [kh, kw],
            stride: [sh, sw],
            dilation: [dh, dw],
            padding,
            activation,
        } => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::DepthwiseConv2d<{height}, {width}, {channels}, {kh}, {kw}, {sh}, {sw}, {dh}, {dw}, {RT}::{}, \
                 {RT}::{}, {hw}, {ohw}>",
                padding_type(padding),
                activation_type(activation)
            )
        }
        LayerSpec::AveragePool2d { height, width, channels, pool: [kh, kw], stride: [sh, sw], padding } => {
            let (hw, ohw) = pixels(i, layer)?;
            format!(
                "{RT}::AveragePool2d<{height}, {width}, {channels}, {kh}, {kw}, {sh}, {sw}, {RT}::{}, {hw}, {ohw}>",
                padding_type(padding)
            )
        }
    })
}

/// The matrix `(rows, columns)` that holds a sample of shape `dims` in the
/// runtime: rows = innermost dimension, columns = product of the others
/// (`[seq_len, n]` → `(n, seq_len)`, `[n]` → `(n, 1)`).
fn matrix(dims: Dims) -> (usize, usize) {
    let d = dims.as_slice();
    let rows = *d.last().unwrap_or(&1) as usize;
    (rows, dims.elements() / rows.max(1))
}

/// Input and output pixel counts (`h * w`, `oh * ow`) of a window layer.
fn pixels(i: usize, layer: &LayerSpec) -> Result<(usize, usize), ExportError> {
    let g = layer
        .window()
        .ok_or_else(|| ExportError::Invalid(format!("layer {i} ({}): no window fits", layer.kind_name())))?;
    Ok((g.h * g.w, g.oh * g.ow))
}

/// Output length (`ow`) of a 1-D window layer.
fn out_len(i: usize, layer: &LayerSpec) -> Result<usize, ExportError> {
    Ok(pixels(i, layer)?.1)
}

/// Name of the runtime padding marker type.
fn padding_type(p: Padding) -> &'static str {
    match p {
        Padding::Valid => "Valid",
        Padding::Same => "Same",
    }
}

/// Name of the runtime activation type.
fn activation_type(a: Activation) -> &'static str {
    match a {
        Activation::Linear => "Linear",
        Activation::Relu => "Relu",
        Activation::Sigmoid => "Sigmoid",
        Activation::Tanh => "Tanh",
        Activation::Softmax => "Softmax",
    }
}

/// Right-nests layer types: `[A]` → `A`, `[A, B, C]` → `Chain<A, Chain<B, C>>`.
fn chain(types: &[String]) -> String {
    match types {
        [] => String::new(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{RT}::Chain<{first}, {}>", chain(rest)),
    }
}

mod quant;
#[cfg(test)]
mod tests;
