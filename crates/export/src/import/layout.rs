//! `Flatten`, `Reshape`, `Squeeze`, `Unsqueeze`, `Transpose`, `Identity`
//! and `Dropout` (the identity at inference): they move no data in ember's
//! buffer. A reshape keeps the ONNX row-major order, so only the shape and
//! the batch axis change; a transpose rewrites the order table
//! ([`Value::src`](super::value::Value)). The batch axis may move (an RNN's
//! `[T, B, I]`), but a `Reshape` or `Flatten` must keep the batch alone
//! and first.

use super::consts::reshape_dims;
use super::value::transpose_table;
use super::walk::{Builder, node_err};
use super::{ImportError, attrs};
use crate::onnx::proto::NodeProto;

fn norm_axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let a = if a < 0 { a + r } else { a };
    (0..r).contains(&a).then_some(a as usize)
}

/// Applies a layout operator to the running value.
pub(crate) fn import(b: &mut Builder, node: &NodeProto) -> Result<(), ImportError> {
    let old = b.x.dims.clone();
    let bax = b.x.batch_axis;
    let bad_axis = || node_err(node, "axis out of range");
    let (dims, new_bax) = match node.op_type.as_str() {
        "Identity" | "Dropout" => {
            b.steps.push(format!(
                "`{}` ({}) → nothing (identity at inference)",
                super::walk::node_name(node),
                node.op_type
            ));
            return Ok(());
        }
        "Flatten" => {
            let a = attrs::int(node, "axis", 1);
            let a = if a < 0 { a + old.len() as i64 } else { a };
            let axis = usize::try_from(a).ok().filter(|&a| a <= old.len()).ok_or_else(bad_axis)?;
            let outer: usize = old[..axis].iter().product();
            if bax >= axis || outer != old[bax] {
                return Err(node_err(
                    node,
                    format!("Flatten at axis {axis} of {old:?} merges the batch with other axes"),
                ));
            }
            (vec![outer, old[axis..].iter().product()], 0)
        }
        "Reshape" => {
            let target = b.need_const(node, 1)?.i64s();
            if bax != 0 {
                return Err(node_err(node, "Reshape of a value whose batch axis is not first"));
            }
            let allow_zero = attrs::int(node, "allowzero", 0) == 1;
            let target: Vec<i64> = if allow_zero {
                target
            } else {
                target
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| if t == 0 { old.get(i).map_or(0, |&d| d as i64) } else { t })
                    .collect()
            };
            let dims = reshape_dims(&old, &target).map_err(|e| node_err(node, e))?;
            if dims.first() != Some(&old[0]) {
                return Err(node_err(
                    node,
                    format!("Reshape of {old:?} to {dims:?} does not keep the batch dimension first"),
                ));
            }
            (dims, 0)
        }
        "Squeeze" => {
            let axes = match b.input_const(node, 1)? {
                Some(c) => c.i64s(),
                None => attrs::ints(node, "axes"),
            };
            let axes: Vec<usize> = if axes.is_empty() {
                (0..old.len()).filter(|&a| old[a] == 1 && a != bax).collect()
            } else {
                axes.iter().map(|&a| norm_axis(a, old.len()).ok_or_else(bad_axis)).collect::<Result<_, _>>()?
            };
            if axes.contains(&bax) {
                return Err(node_err(node, "Squeeze removes the batch axis"));
            }
            if axes.iter().any(|&a| old[a] != 1) {
                return Err(node_err(node, "Squeeze of an axis whose size is not 1"));
            }
            let dims = old.iter().enumerate().filter(|(a, _)| !axes.contains(a)).map(|(_, &d)| d).collect();
            (dims, bax - axes.iter().filter(|&&a| a < bax).count())
        }
        "Unsqueeze" => {
            let axes = match b.input_const(node, 1)? {
                Some(c) => c.i64s(),
                None => attrs::ints(node, "axes"),
            };
            let r = old.len() + axes.len();
            let mut axes: Vec<usize> =
                axes.iter().map(|&a| norm_axis(a, r).ok_or_else(bad_axis)).collect::<Result<_, _>>()?;
            axes.sort_unstable();
            let mut dims = Vec::with_capacity(r);
            let (mut k, mut new_bax) = (0, 0);
            for a in 0..r {
                if axes.contains(&a) {
                    dims.push(1);
                } else {
                    if k == bax {
                        new_bax = a;
                    }
                    dims.push(*old.get(k).ok_or_else(bad_axis)?);
                    k += 1;
                }
            }
            (dims, new_bax)
        }
        "Transpose" => {
            let perm: Vec<usize> = match attrs::ints(node, "perm") {
                p if p.is_empty() => (0..old.len()).rev().collect(),
                p => p.iter().map(|&a| norm_axis(a, old.len()).ok_or_else(bad_axis)).collect::<Result<_, _>>()?,
            };
            let mut seen = perm.clone();
            seen.sort_unstable();
            if seen != (0..old.len()).collect::<Vec<_>>() {
                return Err(node_err(node, format!("perm {perm:?} is not a permutation")));
            }
            let new_bax = perm.iter().position(|&p| p == bax).ok_or_else(bad_axis)?;
            // The per-sample transpose: the same perm without the batch axis.
            let sample_dims: Vec<usize> = b.x.sample_dims();
            let renumber = |a: usize| if a > bax { a - 1 } else { a };
            let sp: Vec<usize> = perm.iter().filter(|&&p| p != bax).map(|&p| renumber(p)).collect();
            let table = transpose_table(&sample_dims, &sp); // new flat -> old flat
            let mut inv = vec![0u32; table.len()];
            for (new, &old_k) in table.iter().enumerate() {
                inv[old_k as usize] = new as u32;
            }
            b.x.src = b.x.src.iter().map(|&k| inv[k as usize]).collect();
            if let Some(free) = &b.x.free {
                b.x.free = Some(table.iter().map(|&k| free[k as usize]).collect());
            }
            (perm.iter().map(|&p| old[p]).collect(), new_bax)
        }
        other => return Err(node_err(node, format!("{other} is not a layout operator"))),
    };
    b.steps.push(format!(
        "`{}` ({}) → no layer: {:?} becomes {:?} (batch axis {})",
        super::walk::node_name(node),
        node.op_type,
        old,
        dims,
        new_bax
    ));
    b.x.dims = dims;
    b.x.batch_axis = new_bax;
    b.fresh = None;
    Ok(())
}
