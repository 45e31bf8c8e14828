//! The `Embedding` reference, ONNX `Gather` on axis 0: each id selects one
//! row of the table.

/// Looks every id up in the table, in order.
///
/// # Shapes
/// `table`: `[vocab, dim]`; `ids`: `[seq_len]` → `[seq_len, dim]`.
///
/// # Panics
/// If an id is not below `vocab` (the runtime rejects it before here).
pub fn embedding_f64(table: &[f64], dim: usize, ids: &[usize]) -> Vec<f64> {
    ids.iter().flat_map(|&id| table[id * dim..(id + 1) * dim].to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_in_id_order() {
        let table = [0.0, 1.0, 10.0, 11.0, 20.0, 21.0];
        assert_eq!(embedding_f64(&table, 2, &[2, 0, 2]), [20.0, 21.0, 0.0, 1.0, 20.0, 21.0]);
    }
}
