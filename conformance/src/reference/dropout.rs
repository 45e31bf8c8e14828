//! The `Dropout` reference at inference: the identity (ONNX `Dropout` in
//! inference mode; the exporter writes nothing for it). The training-time
//! masking is checked against the trainer's own rules in the gradient tests.

/// One sample through `Dropout` at inference: the input unchanged.
///
/// # Shapes
/// `x`: `[len]` → `[len]`.
pub fn dropout_f64(x: &[f64]) -> Vec<f64> {
    x.to_vec()
}
