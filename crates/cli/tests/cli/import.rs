//! `ember import`: bad ONNX input fails with a clear message, a non-zero
//! exit and no file in the output folder; a small model imports and runs.
//! The ONNX files are built at test time with the `onnx` Python package
//! (`onnx.helper`), the round trips of real exporters are in
//! `import_frameworks.rs`.

use std::path::{Path, PathBuf};

use super::{ember, fails, listing, s, scratch, succeeds};

/// Runs a Python snippet that writes ONNX files with `onnx.helper`; `OUT` is the folder.
fn python(dir: &Path, code: &str) {
    let py = ember_verify::backends::python().unwrap_or_else(|e| panic!("{e}\n(install with `cargo xtask setup`)"));
    let prelude = "import sys, onnx\nfrom onnx import helper as h, TensorProto as T\nimport numpy as np\nOUT = sys.argv[1]\n\
                   def save(m, name):\n    onnx.save(m, OUT + '/' + name)\n\
                   def f32(name, dims): return h.make_tensor_value_info(name, T.FLOAT, dims)\n\
                   def init(name, a): return onnx.numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)\n";
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(format!("{prelude}{code}"))
        .arg(dir)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A folder with the input models, and an empty output folder.
fn setup(name: &str, code: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(&format!("import_{name}"));
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    python(&models, code);
    (models, dir.join("out"))
}

const DENSE: &str = "W = np.arange(12, dtype=np.float32).reshape(4, 3) / 10 - 0.5\n\
    g = h.make_graph([h.make_node('Gemm', ['x', 'W', 'b'], ['y'], name='fc', transB=1), h.make_node('Relu', ['y'], ['z'], name='act')],\n\
    'g', [f32('x', ['N', 3])], [f32('z', ['N', 4])], [init('W', W), init('b', [0.1, -0.2, 0.3, 0.0])])\n\
    save(h.make_model(g, opset_imports=[h.make_opsetid('', 17)]), 'tiny_fc.onnx')\n";

#[test]
fn import_writes_blob_rust_and_report_and_the_blob_runs() {
    let (models, out) = setup("ok", DENSE);
    let stdout = succeeds(&["import", s(&models.join("tiny_fc.onnx")), "--out", s(&out)]);
    assert!(stdout.contains("verified against ONNX Runtime"), "{stdout}");
    assert_eq!(listing(&out), ["tiny_fc.emb", "tiny_fc.report.md", "tiny_fc.rs"]);
    let rs = std::fs::read_to_string(out.join("tiny_fc.rs")).unwrap();
    assert!(rs.contains("pub type TinyFc") && rs.contains("BoardModel"), "{rs}");
    let report = std::fs::read_to_string(out.join("tiny_fc.report.md")).unwrap();
    assert!(report.contains("**ok**"), "{report}");
    // The blob runs: y = relu(x · Wᵀ + b), computed here from the weights above.
    let x = out.join("x.npy");
    ember_data::npy::write_npy(&x, &[1, 3], &[1.0, 2.0, -1.0]).unwrap();
    let y = out.join("y.npy");
    succeeds(&["run", s(&out.join("tiny_fc.emb")), "--input", s(&x), "--output", s(&y)]);
    let (_, got) = ember_data::npy::read_npy(&y).unwrap();
    let w: Vec<f32> = (0..12).map(|i| i as f32 / 10.0 - 0.5).collect();
    let b = [0.1f32, -0.2, 0.3, 0.0];
    for u in 0..4 {
        let want = (w[u * 3] + 2.0 * w[u * 3 + 1] - w[u * 3 + 2] + b[u]).max(0.0);
        assert!((got[u] - want).abs() < 1e-5, "output {u}: {} vs {want}", got[u]);
    }
}

#[test]
fn import_names_every_unsupported_node_and_writes_nothing() {
    let code = "g = h.make_graph([h.make_node('Exp', ['x'], ['a'], name='exponential'), h.make_node('Relu', ['a'], ['b'], name='act'),\n\
        h.make_node('Pow', ['b', 'e'], ['c'], name='power'), h.make_node('LeakyRelu', ['c'], ['y'], name='leaky')],\n\
        'g', [f32('x', ['N', 3])], [f32('y', ['N', 3])], [init('e', [2.0])])\n\
        save(h.make_model(g, opset_imports=[h.make_opsetid('', 17)]), 'bad.onnx')\n";
    let (models, out) = setup("unsupported", code);
    let err = fails(
        &["import", s(&models.join("bad.onnx")), "--out", s(&out)],
        &["3 unsupported ONNX nodes", "`exponential` (Exp)", "`power` (Pow)", "`leaky` (LeakyRelu)"],
    );
    assert!(!err.contains("`act`"), "Relu is supported: {err}");
    assert!(listing(&out).is_empty(), "files left: {:?}", listing(&out));
}

#[test]
fn import_rejects_a_dynamic_dimension_unless_the_shape_is_given() {
    let code = "W = np.ones((2, 4), dtype=np.float32)\n\
        g = h.make_graph([h.make_node('Flatten', ['x'], ['f'], name='flat'), h.make_node('Gemm', ['f', 'W'], ['y'], name='fc', transB=1)],\n\
        'g', [f32('x', ['N', 'rows', 2])], [f32('y', ['N', 2])], [init('W', W)])\n\
        save(h.make_model(g, opset_imports=[h.make_opsetid('', 17)]), 'dyn.onnx')\n";
    let (models, out) = setup("dynamic", code);
    let model = models.join("dyn.onnx");
    fails(&["import", s(&model), "--out", s(&out)], &["input `x`", "dynamic dimension 1", "`rows`", "--input-shape"]);
    assert!(listing(&out).is_empty(), "files left: {:?}", listing(&out));
    succeeds(&["import", s(&model), "--out", s(&out), "--input-shape", "2,2"]);
    assert_eq!(listing(&out), ["dyn.emb", "dyn.report.md", "dyn.rs"]);
}

#[test]
fn import_rejects_corrupt_truncated_and_non_onnx_files() {
    let (models, out) = setup("corrupt", DENSE);
    let good = std::fs::read(models.join("tiny_fc.onnx")).unwrap();
    let truncated = models.join("truncated.onnx");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let corrupt = models.join("corrupt.onnx");
    let mut bytes = good.clone();
    bytes[..8].copy_from_slice(&[0xff; 8]);
    std::fs::write(&corrupt, &bytes).unwrap();
    let text = models.join("notes.onnx");
    std::fs::write(&text, "this is a text file, not a model\n").unwrap();
    let empty = models.join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    for bad in [&truncated, &corrupt, &text, &empty] {
        fails(&["import", s(bad), "--out", s(&out)], &["cannot import", "not a valid ONNX model"]);
        assert!(listing(&out).is_empty(), "{}: files left: {:?}", bad.display(), listing(&out));
    }
    fails(&["import", s(&models.join("missing.onnx")), "--out", s(&out)], &["cannot read"]);
    assert!(listing(&out).is_empty());
    let _ = ember;
}

#[test]
fn import_exporter_shaped_graphs_and_the_nchw_input_layout() {
    let dir = scratch("import_graphs");
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    let py = ember_verify::backends::python().unwrap_or_else(|e| panic!("{e}\n(install with `cargo xtask setup`)"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/import_graphs.py");
    let out = std::process::Command::new(py).arg(&script).arg(&models).output().expect("python runs");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    let out = dir.join("out");
    for name in [
        "torchlike",
        "keraslike",
        "torch_lstm_last",
        "torch_lstm_hn",
        "torch_lstm_slice",
        "weight_only_qdq",
        "keras_cnn",
    ] {
        let stdout = succeeds(&["import", s(&models.join(format!("{name}.onnx"))), "--out", s(&out)]);
        assert!(stdout.contains("verified against ONNX Runtime"), "{name}: {stdout}");
    }
    // The NCHW CNN: the blob's input is the channels-last transpose, said in the metadata and report.
    let blob = std::fs::read(out.join("torchlike.emb")).unwrap();
    let model = ember_export::Model::from_blob(&blob).unwrap();
    assert_eq!(model.input.dims.as_slice(), [8, 8, 3]);
    assert_eq!(model.meta("onnx_input_layout"), Some("NCHW"));
    let report = std::fs::read_to_string(out.join("torchlike.report.md")).unwrap();
    assert!(report.contains("`bn1` (BatchNormalization) → folded into conv2d_0"), "{report}");
    // The NHWC Keras CNN keeps its input layout.
    let keras = ember_export::Model::from_blob(&std::fs::read(out.join("keras_cnn.emb")).unwrap()).unwrap();
    assert_eq!(keras.input.dims.as_slice(), [6, 6, 3]);
    assert_eq!(keras.meta("onnx_input_layout"), None);
    // The LSTM heads that pick the last step return the last state.
    let lstm = ember_export::Model::from_blob(&std::fs::read(out.join("torch_lstm_last.emb")).unwrap()).unwrap();
    assert!(matches!(lstm.layers[0], ember_runtime::spec::LayerSpec::Lstm { return_sequences: false, .. }));
}
