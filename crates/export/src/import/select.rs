//! `Gather` (a constant index) and `Slice` of the data. When they only drop
//! axes of size 1 they are layout operators (PyTorch's `h_n[-1]` of a
//! one-direction RNN). When they pick the last step of the full sequence of
//! a forward recurrent layer (PyTorch's `out[:, -1, :]`), the layer returns
//! its last state instead (the same values). Any other selection moves data
//! and is an error.

use ember_runtime::spec::LayerSpec;

use super::ImportError;
use super::attrs;
use super::value::identity;
use super::walk::{Builder, node_err, node_name};
use crate::onnx::proto::NodeProto;

fn norm(a: i64, n: usize) -> i64 {
    if a < 0 { a + n as i64 } else { a }
}

/// For each element of the output (per sample, row-major), the input
/// element it copies; and the output's full dims.
fn selection(b: &Builder, node: &NodeProto) -> Result<(Vec<u32>, Vec<usize>), ImportError> {
    let dims = &b.x.dims;
    let r = dims.len();
    // Per axis: the input indices kept, and whether the axis stays.
    let mut keep: Vec<Vec<usize>> = dims.iter().map(|&d| (0..d).collect()).collect();
    let mut stays = vec![true; r];
    if node.op_type == "Gather" {
        let idx = b.need_const(node, 1)?;
        let a = norm(attrs::int(node, "axis", 0), r);
        let a = usize::try_from(a).ok().filter(|&a| a < r).ok_or_else(|| node_err(node, "axis out of range"))?;
        let ids: Vec<usize> = idx
            .i64s()
            .iter()
            .map(|&i| usize::try_from(norm(i, dims[a])).ok().filter(|&i| i < dims[a]))
            .collect::<Option<_>>()
            .ok_or_else(|| node_err(node, "index out of range"))?;
        if idx.dims.len() > 1 || a == b.x.batch_axis {
            return Err(node_err(node, "gathers the data over the batch or by a matrix of indices"));
        }
        keep[a] = ids;
        stays[a] = !idx.dims.is_empty();
    } else {
        let starts = b.need_const(node, 1)?.i64s();
        let ends = b.need_const(node, 2)?.i64s();
        let axes = b.input_const(node, 3)?.map(|c| c.i64s()).unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = b.input_const(node, 4)?.map(|c| c.i64s()).unwrap_or_else(|| vec![1; starts.len()]);
        for (k, &a) in axes.iter().enumerate() {
            let a = usize::try_from(norm(a, r))
                .ok()
                .filter(|&a| a < r)
                .ok_or_else(|| node_err(node, "axis out of range"))?;
            let n = dims[a] as i64;
            if steps.get(k) != Some(&1) {
                return Err(node_err(node, "a slice with a step"));
            }
            let (s, e) = (norm(starts[k], dims[a]).clamp(0, n), norm(ends[k].min(n), dims[a]).clamp(0, n));
            if a == b.x.batch_axis && (s != 0 || e != n) {
                return Err(node_err(node, "slices the batch"));
            }
            keep[a] = (s as usize..e.max(s) as usize).collect();
        }
    }
    // Enumerate the output in row-major order.
    let sample: Vec<usize> = (0..r).filter(|&a| a != b.x.batch_axis).collect();
    let mut strides = vec![1usize; r];
    let mut s = 1;
    for &a in sample.iter().rev() {
        strides[a] = s;
        s *= dims[a];
    }
    let mut table = vec![0u32];
    for &a in &sample {
        let (st, kp) = (strides[a], &keep[a]);
        table = table.iter().flat_map(|&base| kp.iter().map(move |&i| base + (i * st) as u32)).collect();
    }
    let out: Vec<usize> =
        (0..r).filter(|&a| stays[a]).map(|a| if a == b.x.batch_axis { dims[a] } else { keep[a].len() }).collect();
    Ok((table, out))
}

/// `Gather` / `Slice` on the running value.
pub(crate) fn import(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let (table, out) = selection(b, node)?;
    let old_bax = b.x.batch_axis;
    let dropped_before = if node.op_type == "Gather" && b.input_const(node, 1)?.is_some_and(|c| c.dims.is_empty()) {
        usize::from(norm(attrs::int(node, "axis", 0), b.x.dims.len()) < old_bax as i64)
    } else {
        0
    };
    let new_bax = old_bax - dropped_before;
    if table == identity(b.x.len()) {
        b.steps.push(format!("`{}` ({}) → no layer: keeps every value", node_name(node), node.op_type));
        b.x.dims = out;
        b.x.batch_axis = new_bax;
        b.fresh = None;
        return Ok(());
    }
    // The last step of a forward recurrent layer's sequence?
    let last = b.layers.len().checked_sub(1);
    let rec = last.and_then(|i| b.layers[i].recurrent().map(|r| (i, r)));
    if let Some((i, r)) = rec
        && r.return_sequences
        && r.dirs == 1
        && b.x.free.is_none()
    {
        let h = r.units;
        let mut inv = vec![0u32; b.x.src.len()];
        for (pos, &k) in b.x.src.iter().enumerate() {
            inv[k as usize] = pos as u32;
        }
        let positions: Vec<u32> = table.iter().map(|&k| inv[k as usize]).collect();
        let want: Vec<u32> = ((r.seq_len - 1) * h..r.seq_len * h).map(|p| p as u32).collect();
        if positions == want {
            let spec = match b.layers[i] {
                LayerSpec::SimpleRnn { inputs, units, seq_len, bidirectional, .. } => {
                    LayerSpec::SimpleRnn { inputs, units, seq_len, return_sequences: false, bidirectional }
                }
                LayerSpec::Lstm { inputs, units, seq_len, bidirectional, .. } => {
                    LayerSpec::Lstm { inputs, units, seq_len, return_sequences: false, bidirectional }
                }
                LayerSpec::Gru { inputs, units, seq_len, bidirectional, .. } => {
                    LayerSpec::Gru { inputs, units, seq_len, return_sequences: false, bidirectional }
                }
                other => other,
            };
            b.layers[i] = spec;
            b.steps.push(format!(
                "`{}` ({}) → the last step: {}_{i} returns its last state",
                node_name(node),
                node.op_type,
                spec.kind_name()
            ));
            b.x.dims = out;
            b.x.batch_axis = new_bax;
            b.x.src = identity(h);
            b.fresh = None;
            return Ok(());
        }
    }
    Err(node_err(node, "selects part of the data (a data move the runtime does not do)"))
}
