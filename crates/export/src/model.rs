//! [`Model`]: what the trainer produces and every exporter consumes.

use std::ops::Range;

use ember_runtime::spec::{Dims, IoSpec, LayerSpec, TokenizerSpec, ValueKind};

use crate::ExportError;

/// A named `f32` tensor, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// `{kind}_{layer index}.{param}`, for example `dense_0.weight`.
    pub name: String,
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// A named byte asset of a model (a `u8` tensor in the blob, not in ONNX).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    /// Tensor name.
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// A trained model: layer specs (from `ember_runtime::spec`) and their parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Model name (used for file names and the ONNX graph name).
    pub name: String,
    /// Input of one sample.
    pub input: IoSpec,
    /// Layers in order.
    pub layers: Vec<LayerSpec>,
    /// Parameters of all layers, in layer order, then in `LayerSpec::param` order.
    pub params: Vec<Tensor>,
    /// Tokenizer for text models.
    pub tokenizer: Option<TokenizerSpec>,
    /// Byte assets stored after the parameters as `u8` tensors (for example
    /// the tokenizer's word list, named `vocab`).
    pub assets: Vec<Asset>,
    /// Free-form key/value pairs.
    pub metadata: Vec<(String, String)>,
    /// `None` for an f32 model; for a quantized one, its layers' modes and
    /// the tensors the (version-2) blob stores (see [`crate::quant::Quantized`]).
    pub quant: Option<crate::quant::Quantized>,
}

/// The name of a layer's parameter tensor: `{kind}_{index}.{param}`.
pub fn param_name(spec: &LayerSpec, layer: usize, param: &str) -> String {
    format!("{}_{layer}.{param}", spec.kind_name())
}

impl Model {
    /// Builds a model from layer specs and each parameter's values (in spec
    /// order); names and dimensions come from the spec. Checks every size.
    pub fn new(
        name: impl Into<String>,
        input: IoSpec,
        layers: Vec<LayerSpec>,
        values: Vec<Vec<f32>>,
    ) -> Result<Self, ExportError> {
        let mut params = Vec::new();
        let mut values = values.into_iter();
        for (i, spec) in layers.iter().enumerate() {
            for p in 0..spec.param_count() {
                let ps = spec.param(p).expect("param index below param_count");
                let data = values.next().ok_or_else(|| {
                    ExportError::Invalid(format!("missing values for {}", param_name(spec, i, ps.name)))
                })?;
                params.push(Tensor {
                    name: param_name(spec, i, ps.name),
                    dims: ps.dims.as_slice().iter().map(|&d| d as usize).collect(),
                    data,
                });
            }
        }
        if values.next().is_some() {
            return Err(ExportError::Invalid("more parameter values than the layers need".into()));
        }
        let model = Model {
            name: name.into(),
            input,
            layers,
            params,
            tokenizer: None,
            assets: Vec::new(),
            metadata: Vec::new(),
            quant: None,
        };
        model.validate()?;
        Ok(model)
    }

    /// The model's output description (one sample).
    pub fn output(&self) -> IoSpec {
        let last = self.layers.last();
        let dims = last.map_or(Dims::d1(1), LayerSpec::output_dims);
        let range = match last.map(|l| l.activation()) {
            Some(ember_runtime::Activation::Sigmoid | ember_runtime::Activation::Softmax) => Some([0.0, 1.0]),
            _ => None,
        };
        IoSpec { kind: ValueKind::F32, dims, range }
    }

    /// Parameters of layer `i`.
    pub fn layer_params(&self, i: usize) -> &[Tensor] {
        let start: usize = self.layers[..i].iter().map(LayerSpec::param_count).sum();
        &self.params[start..start + self.layers[i].param_count()]
    }

    /// Looks up a metadata value.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Sets a metadata value, replacing an existing one.
    pub fn set_meta(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.metadata.push((key.to_string(), value)),
        }
    }

    /// A model made of layers `range` (for example the encoder half of an
    /// autoencoder), with its own name. Its input is the output of the layer
    /// before `range` (or this model's input).
    pub fn sub_model(&self, name: impl Into<String>, range: Range<usize>) -> Result<Model, ExportError> {
        if range.start >= range.end || range.end > self.layers.len() {
            return Err(ExportError::Invalid(format!("layer range {range:?} is not inside 0..{}", self.layers.len())));
        }
        let input = if range.start == 0 {
            self.input
        } else {
            let prev = &self.layers[range.start - 1];
            IoSpec { kind: ValueKind::F32, dims: prev.output_dims(), range: None }
        };
        let layers = self.layers[range.clone()].to_vec();
        let values = range.flat_map(|i| self.layer_params(i).iter().map(|t| t.data.clone())).collect();
        let mut sub = Model::new(name, input, layers, values)?;
        if sub.input.kind == ValueKind::TokenIds {
            sub.tokenizer = self.tokenizer;
            sub.assets = self.assets.clone();
        }
        sub.metadata = self.metadata.iter().filter(|(k, _)| k != "encoder_layers").cloned().collect();
        Ok(sub)
    }

    /// Checks the layer chain, the input description and every tensor's size,
    /// and that no parameter is NaN or infinite.
    pub fn validate(&self) -> Result<(), ExportError> {
        let invalid = |m: String| Err(ExportError::Invalid(m));
        if self.layers.is_empty() {
            return invalid("a model needs at least one layer".into());
        }
        for (i, l) in self.layers.iter().enumerate() {
            if l.validate().is_err() {
                return invalid(format!("layer {i} ({}) has invalid sizes", l.kind_name()));
            }
        }
        for (i, pair) in self.layers.windows(2).enumerate() {
            if pair[0].output_len() != pair[1].input_len() {
                return invalid(format!(
                    "layer {i} gives {} values but layer {} takes {}",
                    pair[0].output_len(),
                    i + 1,
                    pair[1].input_len()
                ));
            }
        }
        if self.input.kind != self.layers[0].input_kind() {
            return invalid(format!(
                "input holds {:?} but the first layer takes {:?}",
                self.input.kind,
                self.layers[0].input_kind()
            ));
        }
        if self.input.dims.elements() != self.layers[0].input_len() {
            return invalid(format!(
                "input has {} values but the first layer takes {}",
                self.input.dims.elements(),
                self.layers[0].input_len()
            ));
        }
        if let Some(t) = &self.tokenizer {
            if self.input.kind != ValueKind::TokenIds || t.max_len as usize != self.input.dims.elements() {
                return invalid(format!("the tokenizer makes {} ids but the model takes {:?}", t.max_len, self.input));
            }
            if let Some(LayerSpec::Embedding { vocab, .. }) = self.layers.first()
                && t.vocab > *vocab
            {
                return invalid(format!("the tokenizer has {} ids but the embedding only {vocab}", t.vocab));
            }
            let has_vocab = self.assets.iter().any(|a| a.name == ember_runtime::text::VOCAB_TENSOR);
            if t.kind == ember_runtime::spec::TokenizerKind::Vocabulary && !has_vocab {
                return invalid("a word-list tokenizer needs the `vocab` asset".into());
            }
        }
        let needed: usize = self.layers.iter().map(LayerSpec::param_count).sum();
        if self.params.len() != needed {
            return invalid(format!("{} parameter tensors, the layers need {needed}", self.params.len()));
        }
        for (i, l) in self.layers.iter().enumerate() {
            for (p, t) in self.layer_params(i).iter().enumerate() {
                let want = l.param(p).expect("param index below param_count");
                let dims: Vec<usize> = want.dims.as_slice().iter().map(|&d| d as usize).collect();
                if t.dims != dims || t.data.len() != want.dims.elements() {
                    return invalid(format!(
                        "{} has dims {:?} and {} values, expected {dims:?}",
                        t.name,
                        t.dims,
                        t.data.len()
                    ));
                }
                if let Some(bad) = t.data.iter().position(|v| !v.is_finite()) {
                    return invalid(format!("{} holds a non-finite value at index {bad}", t.name));
                }
            }
        }
        Ok(())
    }
}
