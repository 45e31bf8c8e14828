//! The kernel of [`crate::spec::LayerSpec::GlobalAveragePool`], shared by
//! the typed layer and the dynamic interpreter.

/// The mean of every channel: `y[k] = (Σ_p x[p, k]) / n` over the `n`
/// steps or pixels `p`, summed in order.
///
/// # Shapes
/// `x`: `[n, y.len()]` (channels innermost) → `y`: `[channels]`.
#[inline]
pub fn global_average_pool(x: &[f32], y: &mut [f32]) {
    let c = y.len().max(1);
    y.fill(0.0);
    let mut n = 0u32;
    for cell in x.chunks_exact(c) {
        n += 1;
        for (o, &v) in y.iter_mut().zip(cell) {
            *o += v;
        }
    }
    let n = n.max(1) as f32;
    for o in y.iter_mut() {
        *o /= n;
    }
}
