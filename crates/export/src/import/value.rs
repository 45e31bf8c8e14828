//! The running value of an imported chain: its ONNX shape, where its batch
//! axis is, and how ember's flat buffer maps onto the ONNX tensor.
//!
//! ember's runtime holds one sample as a flat, channels-last buffer; the
//! ONNX graph may hold the same values in another order (NCHW maps, NCL
//! sequences, or anything a `Transpose` made). [`Value::src`] says, for
//! each position `i` of ember's buffer, which element (row-major, batch axis
//! left out) of the ONNX tensor it holds. Layout operators only rewrite this
//! table; a layer that reads a fixed layout (a convolution reads HWC) asks
//! for its table with [`Value::require`], and a layer that can absorb any
//! order (a `Gemm` permutes its weight columns) reads it.

use super::ImportError;

/// The dynamic value flowing through the chain.
#[derive(Clone, Debug)]
pub(crate) struct Value {
    /// ONNX dimensions, the batch axis included.
    pub dims: Vec<usize>,
    /// Index of the batch axis in `dims`.
    pub batch_axis: usize,
    /// `src[i]`: the ONNX per-sample flat index held at ember position `i`.
    pub src: Vec<u32>,
    /// While no layer has read the graph input yet: the graph input's
    /// per-sample flat index of each per-sample flat index of this value
    /// (the input's layout is then still free to choose).
    pub free: Option<Vec<u32>>,
    /// Once the free input's layout is fixed: ember input position → graph
    /// input per-sample flat index.
    pub input_order: Option<Vec<u32>>,
}

impl Value {
    /// The per-sample ONNX dimensions (the batch axis left out).
    pub fn sample_dims(&self) -> Vec<usize> {
        self.dims.iter().enumerate().filter(|&(a, _)| a != self.batch_axis).map(|(_, &d)| d).collect()
    }

    /// Values per sample.
    pub fn len(&self) -> usize {
        self.sample_dims().iter().product()
    }

    /// Asks for the ember buffer to hold the ONNX elements in the order
    /// `want` (ember position → ONNX per-sample flat index). Fixes the graph
    /// input's layout if it is still free; otherwise the current order must
    /// already be `want`.
    pub fn require(&mut self, want: Vec<u32>, who: &str) -> Result<(), ImportError> {
        if let Some(map) = self.free.take() {
            self.input_order = Some(want.iter().map(|&k| map[k as usize]).collect());
            self.src = want;
            return Ok(());
        }
        if self.src == want {
            Ok(())
        } else {
            Err(ImportError::Graph(format!(
                "{who} reads its input in a layout that ember's channels-last buffer does not hold \
                 here (it would need a data move, such as a Transpose the runtime cannot do)"
            )))
        }
    }

    /// Takes any order: fixes a free input to the graph input's own order.
    pub fn settle(&mut self) {
        if let Some(map) = self.free.take() {
            // ember position i holds graph-input element i: the value index k with map[k] == i.
            let mut src = vec![0u32; map.len()];
            for (k, &g) in map.iter().enumerate() {
                src[g as usize] = k as u32;
            }
            self.input_order = Some(identity(map.len()));
            self.src = src;
        }
    }
}

/// The identity order of `n` elements.
pub(crate) fn identity(n: usize) -> Vec<u32> {
    (0..n as u32).collect()
}

/// The order of a channels-first per-sample tensor `[C, d1, d2, ...]` held
/// channels-last `[d1, d2, ..., C]`: ember position → ONNX flat index.
pub(crate) fn channels_last(dims: &[usize]) -> Vec<u32> {
    let c = dims.first().copied().unwrap_or(1);
    let rest: usize = dims.iter().skip(1).product();
    let mut out = Vec::with_capacity(c * rest);
    for r in 0..rest {
        for ch in 0..c {
            out.push((ch * rest + r) as u32);
        }
    }
    out
}

/// For a transpose `perm` of a tensor of `dims`: for each flat index of the
/// output, the flat index of the input element it holds.
pub(crate) fn transpose_table(dims: &[usize], perm: &[usize]) -> Vec<u32> {
    let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    let mut in_strides = vec![1usize; dims.len()];
    for a in (0..dims.len().saturating_sub(1)).rev() {
        in_strides[a] = in_strides[a + 1] * dims[a + 1];
    }
    let n: usize = dims.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; dims.len()];
    for _ in 0..n {
        out.push(idx.iter().zip(perm).map(|(&i, &p)| i * in_strides[p]).sum::<usize>() as u32);
        for a in (0..idx.len()).rev() {
            idx[a] += 1;
            if idx[a] < out_dims[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

/// Splits a batch tensor of `dims` whose batch axis is `batch_axis` into
/// its samples, each row-major with the batch axis left out.
pub fn split_batch(data: &[f32], dims: &[usize], batch_axis: usize) -> Vec<Vec<f32>> {
    let n = dims.get(batch_axis).copied().unwrap_or(1);
    let outer: usize = dims[..batch_axis.min(dims.len())].iter().product();
    let inner: usize = dims.iter().skip(batch_axis + 1).product();
    (0..n)
        .map(|b| {
            let mut s = Vec::with_capacity(outer * inner);
            for o in 0..outer {
                let start = (o * n + b) * inner;
                s.extend_from_slice(&data[start..start + inner]);
            }
            s
        })
        .collect()
}
