//! `ember` on the convolutional presets: `conv-ae` on the bundled MNIST CSV
//! and `conv-denoise` on MNIST IDX files (gzip, written here from the same
//! digits), each exported (whole model and 4x4x8 encoder), verified on every
//! backend and run; bad image input (wrong size, corrupt IDX header, pixels
//! outside the declared range) giving a clear message, a non-zero exit and
//! no partial file.

use std::io::Write;
use std::path::{Path, PathBuf};

use ember_export::Model;
use flate2::Compression;
use flate2::write::GzEncoder;

use super::{fails, history_losses, listing, npy_f32, read_npy_f32, s, scratch, succeeds};

/// IDX bytes: magic `0x0000_08NN` (unsigned bytes, `NN` dimensions), the
/// dimensions big-endian, then the data.
fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The first `n` bundled digits as `train-images-idx3-ubyte.gz` and
/// `train-labels-idx1-ubyte.gz` in `dir`; returns the images path.
fn write_idx(dir: &Path, n: usize) -> PathBuf {
    let ds = ember_data::bundled_mnist().unwrap();
    let pixels: Vec<u8> = ds.x[..n * 784].iter().map(|&v| (v * 255.0).round() as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| ds.label(i).unwrap() as u8).collect();
    let images = dir.join("train-images-idx3-ubyte.gz");
    std::fs::write(&images, gz(&idx(&[n as u32, 28, 28], &pixels))).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte.gz"), gz(&idx(&[n as u32], &labels))).unwrap();
    images
}

/// Checks the files of a trained image autoencoder and that `ember verify`
/// passes on the model and on its encoder, whose output is the 4x4x8 code.
fn check_trained(dir: &Path, name: &str, picture: &str) {
    for f in [
        format!("{name}.emb"),
        format!("{name}.onnx"),
        format!("{name}_encoder.emb"),
        format!("{name}_encoder.onnx"),
        picture.to_string(),
        "loss.png".into(),
        "report.md".into(),
        "history.json".into(),
    ] {
        assert!(dir.join(&f).is_file(), "{f} missing from {:?}", listing(dir));
    }
    let losses = history_losses(dir);
    assert!(losses.last() < losses.first(), "{name}: training loss did not fall: {losses:?}");
    let enc = Model::from_blob(&std::fs::read(dir.join(format!("{name}_encoder.emb"))).unwrap()).unwrap();
    assert_eq!(enc.output().dims.as_slice(), &[4, 4, 8], "{name}: the encoder's code");
    assert_eq!(enc.input.dims.as_slice(), &[28, 28, 1]);
    for m in [name.to_string(), format!("{name}_encoder")] {
        let (onnx, emb) = (dir.join(format!("{m}.onnx")), dir.join(format!("{m}.emb")));
        let out = succeeds(&["verify", s(&onnx), s(&emb)]);
        assert!(out.contains("tract") && out.contains("onnxruntime"), "{out}");
    }
}

#[test]
fn conv_ae_trains_on_the_csv_exports_and_verifies() {
    let dir = scratch("conv_ae");
    succeeds(&["train", "conv-ae", "--out", s(&dir), "--epochs", "2", "--max-samples", "600", "-q"]);
    check_trained(&dir, "conv_ae", "reconstructions.png");
    // The encoder runs on its own from the command line: 128 values per image.
    let ds = ember_data::bundled_mnist().unwrap();
    let input = dir.join("digits.npy");
    std::fs::write(&input, npy_f32(&[3, 28, 28, 1], &ds.x[..3 * 784])).unwrap();
    let codes = dir.join("codes.npy");
    succeeds(&["run", s(&dir.join("conv_ae_encoder.emb")), "--input", s(&input), "--output", s(&codes)]);
    let (shape, values) = read_npy_f32(&codes);
    assert_eq!(shape, vec![3, 128]);
    assert!(values.iter().all(|v| *v >= 0.0) && values.iter().any(|v| *v > 0.0), "ReLU codes: {values:?}");
}

#[test]
fn conv_denoise_trains_on_idx_files_exports_and_verifies() {
    let dir = scratch("conv_denoise");
    let images = write_idx(&dir, 500);
    let out = dir.join("out");
    succeeds(&[
        "train",
        "conv-denoise",
        "--data",
        s(&images),
        "--out",
        s(&out),
        "--epochs",
        "2",
        "--noise",
        "gaussian:0.3",
        "-q",
    ]);
    check_trained(&out, "conv_denoise", "denoising.png");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("500 samples"), "{report}");
}

#[test]
fn bad_image_input_is_a_clear_error_and_leaves_nothing() {
    let dir = scratch("conv_bad");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let wrong_size = idx(&[2, 27, 28], &[9; 2 * 27 * 28]);
    let mut bad_magic = idx(&[2, 28, 28], &[9; 2 * 28 * 28]);
    bad_magic[2] = 0x0d; // float data where unsigned bytes are expected
    let short = idx(&[3, 28, 28], &[9; 2 * 28 * 28]);
    let over: String = (0..4).map(|_| vec!["0.5"; 783].join(",") + ",2.5\n").collect();
    let cases = [
        (write("small-idx3-ubyte", &wrong_size), vec!["756", "784"]),
        (write("magic-idx3-ubyte", &bad_magic), vec!["magic-idx3-ubyte"]),
        (write("short-idx3-ubyte", &short), vec!["short-idx3-ubyte"]),
        (write("over.csv", over.as_bytes()), vec!["2.5", "outside", "[0, 1]"]),
    ];
    for (i, (data, needles)) in cases.iter().enumerate() {
        let out = dir.join(format!("out{i}"));
        fails(&["train", "conv-ae", "--data", s(data), "--out", s(&out), "--epochs", "1", "-q"], needles);
        assert!(listing(&out).is_empty(), "{}: partial output {:?}", data.display(), listing(&out));
    }
    // `ember run` on a conv model: the image size and the declared pixel range.
    let model = dir.join("m");
    succeeds(&["train", "conv-ae", "--out", s(&model), "--epochs", "1", "--max-samples", "64", "-q"]);
    let blob = model.join("conv_ae_encoder.emb");
    let out = dir.join("y.npy");
    let small = write("small.npy", &npy_f32(&[1, 27, 28, 1], &[0.5; 756]));
    fails(&["run", s(&blob), "--input", s(&small), "--output", s(&out)], &["[1, 27, 28, 1]", "28, 28, 1"]);
    let mut pixels = vec![0.5f32; 784];
    pixels[100] = 255.0;
    let raw = write("raw.npy", &npy_f32(&[1, 28, 28, 1], &pixels));
    fails(&["run", s(&blob), "--input", s(&raw), "--output", s(&out)], &["255", "outside", "[0, 1]"]);
    assert!(!out.exists(), "a failed run left {}", out.display());
}
