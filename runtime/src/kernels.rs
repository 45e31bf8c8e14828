//! Slice kernels shared by the typed layers and the dynamic interpreter, so
//! that both compute exactly the same thing.

use nalgebra::{DMatrixView, DVectorView, DVectorViewMut};

/// `y = x · Wᵀ + b` for one sample (no activation).
///
/// # Shapes
/// `w`: `[out, in]` row-major (`out * in` values), `b`: `[out]`, `x`: `[in]`, `y`: `[out]`.
/// Callers guarantee the lengths (checked at load time); a mismatch panics in
/// nalgebra's view constructors, which the typed and dynamic paths rule out.
pub fn dense(w: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
    let (n_in, n_out) = (x.len(), y.len());
    // Row-major [out, in] is column-major [in, out]: column o holds W[o, :].
    let wt = DMatrixView::from_slice(w, n_in, n_out);
    let xv = DVectorView::from_slice(x, n_in);
    let mut yv = DVectorViewMut::from_slice(y, n_out);
    yv.copy_from_slice(b);
    yv.gemv_tr(1.0, &wt, &xv, 1.0);
}
