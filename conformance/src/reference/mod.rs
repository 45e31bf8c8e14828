//! Naive `f64` references of every layer kind, one file per kind with the
//! same stem as the kind's code in the other crates
//! (`crates/runtime/src/layers/<stem>.rs`, `crates/export/src/onnx/<stem>.rs`,
//! `crates/nn/src/layers/<stem>.rs`), written from the ONNX operator
//! definitions, the Keras rules and `LayerSpec`'s documentation,
//! independent of the runtime, trainer and exporter code.
//!
//! [`layer_f64`] runs one sample through one layer of any kind and
//! [`model_f64`] a batch through a whole layer list: the reference of the
//! runtime-vs-reference and whole-model tests.
//!
//! Samples are laid out as the runtime stores them: flat, image maps HWC
//! (`x[(y * w + x) * c + k]`), sequences time-major (`[seq_len, features]`),
//! token ids as their `f64` values.

pub mod activation;
pub mod average_pool;
pub mod batch_norm;
pub mod conv1d;
pub mod conv2d;
pub mod dense;
pub mod depthwise_conv2d;
pub mod dropout;
pub mod embedding;
pub mod entity_dot;
pub mod flatten;
pub mod global_average_pool;
pub mod gru;
pub mod lstm;
pub mod max_pool1d;
pub mod max_pool2d;
pub mod padding;
pub mod quant;
pub mod recurrent;
pub mod rnn;
pub mod upsample2d;

use ember_runtime::spec::LayerSpec;

pub use activation::act_f64;

/// Token ids carried as `f64` values, as indices.
fn ids(x: &[f64]) -> Vec<usize> {
    x.iter().map(|&id| id as usize).collect()
}

/// One sample through one layer of any kind, dispatched to the kind's file.
///
/// # Shapes
/// `params`: the layer's tensors in spec order; `x`: one input sample
/// (`spec.input_len()` values) → one output sample (`spec.output_len()`).
pub fn layer_f64(spec: &LayerSpec, params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    let u = |v: u32| v as usize;
    match *spec {
        LayerSpec::Dense { activation, .. } => dense::dense_f64(&params[0], &params[1], activation, x),
        LayerSpec::Embedding { dim, .. } => embedding::embedding_f64(&params[0], u(dim), &ids(x)),
        LayerSpec::Flatten { .. } => flatten::flatten_f64(x),
        LayerSpec::Dropout { .. } => dropout::dropout_f64(x),
        LayerSpec::SimpleRnn { .. } => rnn::simple_rnn_f64(spec.recurrent().expect("recurrent"), params, x),
        LayerSpec::Lstm { .. } => lstm::lstm_f64(spec.recurrent().expect("recurrent"), params, x),
        LayerSpec::Conv2d { height, width, channels, kernel_h, kernel_w, padding, activation, .. } => {
            let shape = [u(height), u(width), u(channels)];
            let (mut y, _, _) =
                conv2d::conv2d_f64(x, shape, &params[0], &params[1], [u(kernel_h), u(kernel_w)], padding);
            act_f64(activation, &mut y);
            y
        }
        LayerSpec::MaxPool2d { height, width, channels, pool, padding } => {
            max_pool2d::max_pool2d_f64(x, [u(height), u(width), u(channels)], u(pool), padding).0
        }
        LayerSpec::Upsample2d { height, width, channels, factor } => {
            upsample2d::upsample2d_f64(x, [u(height), u(width), u(channels)], u(factor))
        }
        LayerSpec::BatchNorm { epsilon_bits, .. } => {
            let eps = f32::from_bits(epsilon_bits) as f64;
            batch_norm::batch_norm_f64(x, &params[0], &params[1], &params[2], &params[3], eps)
        }
        LayerSpec::EntityDot { dim, epsilon_bits, .. } => {
            let eps = f32::from_bits(epsilon_bits) as f64;
            vec![entity_dot::entity_dot_f64(params, u(dim), eps, &ids(x))]
        }
        LayerSpec::Gru { .. } => gru::gru_f64(spec.recurrent().expect("recurrent"), params, x),
        LayerSpec::Conv1d { length, channels, kernel, stride, dilation, padding, activation, .. } => {
            let geometry = [u(kernel), u(stride), u(dilation)];
            let mut y = conv1d::conv1d_f64(x, [u(length), u(channels)], &params[0], &params[1], geometry, padding);
            act_f64(activation, &mut y);
            y
        }
        LayerSpec::MaxPool1d { length, channels, pool, stride, padding } => {
            max_pool1d::max_pool1d_f64(x, [u(length), u(channels)], u(pool), u(stride), padding)
        }
        LayerSpec::GlobalAveragePool { dims } => {
            global_average_pool::global_average_pool_f64(x, u(*dims.as_slice().last().expect("rank >= 1")))
        }
        LayerSpec::Conv2dStrided { height, width, channels, kernel, stride, dilation, padding, activation, .. } => {
            let shape = [u(height), u(width), u(channels)];
            let window = [kernel, stride, dilation].map(|v| v.map(u));
            let (mut y, _, _) = conv2d::conv2d_strided_f64(x, shape, &params[0], &params[1], window, padding);
            act_f64(activation, &mut y);
            y
        }
        LayerSpec::DepthwiseConv2d { height, width, channels, kernel, stride, dilation, padding, activation } => {
            let shape = [u(height), u(width), u(channels)];
            let window = [kernel, stride, dilation].map(|v| v.map(u));
            let mut y = depthwise_conv2d::depthwise_conv2d_f64(x, shape, &params[0], &params[1], window, padding);
            act_f64(activation, &mut y);
            y
        }
        LayerSpec::AveragePool1d { length, channels, pool, stride, padding } => {
            let shape = [1, u(length), u(channels)];
            average_pool::average_pool_f64(x, shape, [1, u(pool)], [1, u(stride)], padding)
        }
        LayerSpec::AveragePool2d { height, width, channels, pool, stride, padding } => {
            let shape = [u(height), u(width), u(channels)];
            average_pool::average_pool_f64(x, shape, pool.map(u), stride.map(u), padding)
        }
    }
}

/// The naive `f64` forward pass of any layer list over a batch, one sample
/// at a time through [`layer_f64`].
///
/// # Shapes
/// `params`: every tensor in spec order; `x`: `[batch, input_len]` → `[batch, output_len]`.
pub fn model_f64(layers: &[LayerSpec], params: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    let n_in = layers[0].input_len();
    let mut out = Vec::new();
    for sample in x.chunks(n_in) {
        let mut cur = sample.to_vec();
        let mut p = 0;
        for spec in layers {
            cur = layer_f64(spec, &params[p..p + spec.param_count()], &cur);
            p += spec.param_count();
        }
        out.extend(cur);
    }
    out
}
