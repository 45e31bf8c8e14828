//! ONNX export (placeholder module; filled in by the ONNX writer).
