//! [`Network`]: a sequence of trainable layers with its input description;
//! converts to and from the exported [`Model`].

use ember_export::Model;
use ember_runtime::spec::{IoSpec, LayerSpec, TableKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::NnError;
use crate::layers::{self, ParamMut, TrainLayer, embedding, entity_dot};

/// A trainable sequential network.
pub struct Network {
    /// Model name.
    pub name: String,
    /// Input of one sample.
    pub input: IoSpec,
    /// Layers in order.
    pub layers: Vec<Box<dyn TrainLayer>>,
}

/// Samples per chunk in [`Network::predict`] (bounds memory on large inputs).
const PREDICT_CHUNK: usize = 1024;

impl Network {
    /// Builds a network for the given specs with fresh weights: layer `i` is
    /// initialised from a ChaCha8 stream seeded by `seed` and `i`, so the same
    /// seed always gives the same weights.
    pub fn init(name: impl Into<String>, input: IoSpec, specs: &[LayerSpec], seed: u64) -> Self {
        let layers = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(1 + i as u64);
                layers::init(spec, &mut rng)
            })
            .collect();
        Network { name: name.into(), input, layers }
    }

    /// The trainable form of an exported model.
    pub fn from_model(model: &Model) -> Self {
        let layers = model
            .layers
            .iter()
            .enumerate()
            .map(|(i, spec)| layers::from_spec(spec, model.layer_params(i).iter().map(|t| t.data.clone()).collect()))
            .collect();
        Network { name: model.name.clone(), input: model.input, layers }
    }

    /// The layer specs.
    pub fn specs(&self) -> Vec<LayerSpec> {
        self.layers.iter().map(|l| l.spec()).collect()
    }

    /// Elements of one input sample.
    pub fn input_len(&self) -> usize {
        self.input.dims.elements()
    }

    /// Elements of one output sample.
    pub fn output_len(&self) -> usize {
        self.layers.last().map_or(0, |l| l.spec().output_len())
    }

    /// Copies every parameter tensor (layer order, then spec order).
    pub fn param_values(&self) -> Vec<Vec<f32>> {
        self.layers.iter().flat_map(|l| l.params().into_iter().map(<[f32]>::to_vec)).collect()
    }

    /// Overwrites every parameter tensor (as returned by [`Network::param_values`]).
    pub fn set_param_values(&mut self, values: &[Vec<f32>]) {
        let mut it = values.iter();
        for l in &mut self.layers {
            for p in l.params_mut() {
                let v = it.next().expect("one value per parameter");
                p.value.copy_from_slice(v);
            }
        }
    }

    /// Every parameter with its gradient.
    pub fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }

    /// Checks that `x` holds inputs the first layer takes: token ids in
    /// `0..vocab` for an embedding, row ids in `0..rows` for an entity
    /// layer (the only layers that read ids, and only as the first layer);
    /// any value for the other kinds. The error names the first bad value's
    /// sample (row of `x`) and position.
    ///
    /// # Shapes
    /// `x`: `[n, input_len]`.
    pub fn check_input(&self, x: &[f32]) -> Result<(), NnError> {
        let Some(first) = self.layers.first() else { return Ok(()) };
        let Some(t) = first.spec().id_table() else { return Ok(()) };
        let (ids, rows) = (t.ids_per_sample as usize, t.rows as usize);
        match t.kind {
            TableKind::Words => embedding::check_token_ids(x, ids, rows),
            TableKind::Entities => entity_dot::check_row_ids(x, ids, rows),
        }
    }

    /// Runs a training or inference forward pass over one batch.
    ///
    /// Panics on inputs the first layer does not take; [`Network::check_input`]
    /// them first (the fit loop and [`crate::fit::evaluate`] do).
    ///
    /// # Shapes
    /// `x`: `[batch, input_len]` → `[batch, output_len]`.
    pub fn forward<'a>(&'a mut self, x: &'a [f32], batch: usize, train: bool) -> &'a [f32] {
        let mut cur = x;
        for l in self.layers.iter_mut() {
            cur = l.forward(cur, batch, train);
        }
        cur
    }

    /// Back-propagates the loss gradient at the output (or at the last
    /// layer's pre-activation when `fused`) through every layer.
    ///
    /// # Shapes
    /// `dy`: `[batch, output_len]`.
    pub fn backward(&mut self, dy: &[f32], batch: usize, fused: bool) {
        let n = self.layers.len();
        let mut cur = dy;
        for (i, l) in self.layers.iter_mut().enumerate().rev() {
            cur = l.backward(cur, batch, fused && i + 1 == n, i > 0);
        }
    }

    /// Inference over any number of samples, in chunks.
    ///
    /// Panics on inputs the first layer does not take (see [`Network::check_input`]).
    ///
    /// # Shapes
    /// `x`: `[n, input_len]` → `[n, output_len]`.
    pub fn predict(&mut self, x: &[f32]) -> Vec<f32> {
        let d = self.input_len();
        let mut out = Vec::with_capacity(x.len() / d.max(1) * self.output_len());
        for chunk in x.chunks(PREDICT_CHUNK * d) {
            out.extend_from_slice(self.forward(chunk, chunk.len() / d, false));
        }
        out
    }

    /// The exported form: specs plus a copy of the parameters.
    pub fn to_model(&self) -> Result<Model, ember_export::ExportError> {
        Model::new(self.name.clone(), self.input, self.specs(), self.param_values())
    }
}
