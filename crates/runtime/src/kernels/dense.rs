//! The kernel of [`crate::spec::LayerSpec::Dense`], shared by the typed layer
//! and the dynamic interpreter.

use super::gemv_acc;

/// `y = x · Wᵀ + b` for one sample (no activation).
///
/// # Shapes
/// `w`: `[out, in]` row-major (`out * in` values), `b`: `[out]`, `x`: `[in]`, `y`: `[out]`.
/// Callers guarantee the lengths (checked at load time).
pub fn dense(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
    y.copy_from_slice(b);
    gemv_acc(w, x, y);
}
