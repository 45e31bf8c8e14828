//! The `EntityDot` reference, from `LayerSpec::EntityDot`'s definition: a
//! factorisation machine over batch-normalised entity embeddings.

/// The output for one sample, one row id per column:
/// `n_k = (e_k - mean_k) / sqrt(var_k + eps) · gamma_k + beta_k` with
/// `e_k = weight[id_k]`, then `y = Σ_{j<k} n_j · n_k + Σ_k bias[id_k]`.
///
/// # Shapes
/// `params`: `weight` `[rows, dim]`, `bias` `[rows]`, then `gamma`, `beta`,
/// `mean`, `var`, each `[columns, dim]`; `ids`: `[columns]` → the scalar `y`.
pub fn entity_dot_f64(params: &[Vec<f64>], dim: usize, epsilon: f64, ids: &[usize]) -> f64 {
    let p = params;
    let normed: Vec<Vec<f64>> = ids
        .iter()
        .enumerate()
        .map(|(k, &id)| {
            (0..dim)
                .map(|i| {
                    let e = p[0][id * dim + i];
                    let at = k * dim + i;
                    (e - p[4][at]) / (p[5][at] + epsilon).sqrt() * p[2][at] + p[3][at]
                })
                .collect()
        })
        .collect();
    let mut y = 0.0;
    for j in 0..ids.len() {
        for k in j + 1..ids.len() {
            y += normed[j].iter().zip(&normed[k]).map(|(a, b)| a * b).sum::<f64>();
        }
    }
    y + ids.iter().map(|&id| p[1][id]).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_columns_identity_norm() {
        // Identity batch norm (gamma 1, beta 0, mean 0, var 1, eps 0): y = e_0 · e_1 + biases.
        let p = [vec![1.0, 2.0, 3.0, 4.0], vec![0.5, -0.25], vec![1.0; 4], vec![0.0; 4], vec![0.0; 4], vec![1.0; 4]];
        assert_eq!(entity_dot_f64(&p, 2, 0.0, &[0, 1]), 1.0 * 3.0 + 2.0 * 4.0 + 0.5 - 0.25);
    }
}
