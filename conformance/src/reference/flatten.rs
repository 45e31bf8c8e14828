//! The `Flatten` reference, ONNX `Flatten` on axis 1: a sample is already
//! stored flat (HWC maps, time-major sequences), so the values pass
//! unchanged and only the shape the next layer sees changes.

/// One sample through `Flatten`: the same values in the same order.
///
/// # Shapes
/// `x`: any `[d0, d1, ...]` → `[d0 · d1 · ...]`.
pub fn flatten_f64(x: &[f64]) -> Vec<f64> {
    x.to_vec()
}
