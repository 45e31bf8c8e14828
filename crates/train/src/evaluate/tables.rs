//! An entity model's inputs: table records looked up in its categories.

use std::path::Path;

use ember_data as data;

use super::{LoadedModel, ModelKind};
use crate::error::{Result, invalid};

/// The records of a table in an entity model's rows.
pub(super) struct EntityRows {
    /// Global table rows (one per column) as `f32`, `[n, columns]`.
    pub x: Vec<f32>,
    /// The targets, when asked for.
    pub target: Vec<f32>,
    /// Where each record is in the file (`line 3`, `record 2`).
    pub places: Vec<String>,
    /// Records read (with those left out for a missing target).
    pub read: usize,
}

/// An entity model's rows for the records of `path`; with `with_target`,
/// their targets (records without one left out).
pub(super) fn entity_rows(lm: &LoadedModel, path: &Path, with_target: bool) -> Result<EntityRows> {
    let ModelKind::Entity { columns, names, target } = &lm.kind else {
        invalid!("model {} is not an entity model", lm.model.name);
    };
    let col_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let recs = data::load_records(path, &col_names, with_target.then_some(target.as_str()))?;
    let (mut x, mut y, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    for (r, row) in recs.rows.iter().enumerate() {
        if with_target && recs.target[r].is_none() {
            continue;
        }
        for (k, c) in columns.iter().enumerate() {
            let value = &recs.cells[k][r];
            let known = &names[c.offset..c.offset + c.count];
            let Some(i) = known.iter().position(|n| n == value) else {
                let list: Vec<&str> = known.iter().take(12).map(String::as_str).collect();
                let more = if known.len() > 12 { ", ..." } else { "" };
                invalid!(
                    "{}, {row}, column {:?}: unknown category {value:?} (the model knows {}{more})",
                    path.display(),
                    c.name,
                    list.join(", ")
                );
            };
            x.push((c.offset + i) as f32);
        }
        if let Some(t) = recs.target.get(r).copied().flatten() {
            y.push(t);
        }
        kept.push(row.clone());
    }
    Ok(EntityRows { x, target: y, places: kept, read: recs.rows.len() })
}
