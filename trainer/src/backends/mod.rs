//! Reference backends (tract, ONNX Runtime) that run exported ONNX models.
