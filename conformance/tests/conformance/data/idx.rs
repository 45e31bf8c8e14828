//! MNIST IDX files: round trips (raw and gzip) and corrupt headers.

use ember_data::{DataError, load_auto, load_mnist_idx};

use super::{gzip, scratch_dir, write};

/// An IDX file per the format description on yann.lecun.com: magic
/// `00 00 08 <ndims>`, big-endian u32 sizes, then the bytes.
fn idx(ndims: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, ndims];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

const PIXELS: [u8; 12] = [0, 255, 51, 102, 1, 2, 3, 4, 200, 100, 50, 25];

#[test]
fn idx_round_trip_raw_and_gzip() {
    let dir = scratch_dir("idx");
    let images = idx(3, &[3, 2, 2], &PIXELS);
    let labels = idx(1, &[3], &[7, 0, 9]);
    // Raw files, and gzip files named without `.gz`: detection is by magic bytes.
    write(&dir.join("raw-images"), &images);
    write(&dir.join("raw-labels"), &labels);
    write(&dir.join("gz-images"), gzip(&images));
    write(&dir.join("gz-labels.bin"), gzip(&labels));
    for (i, l) in [("raw-images", "raw-labels"), ("gz-images", "gz-labels.bin"), ("raw-images", "gz-labels.bin")] {
        let d = load_mnist_idx(&dir.join(i), Some(&dir.join(l))).expect("valid IDX");
        assert_eq!((d.n, d.dims.as_slice()), (3, &[2, 2][..]));
        let expected: Vec<f32> = PIXELS.iter().map(|&p| f32::from(p) / 255.0).collect();
        assert_eq!(d.x, expected);
        assert_eq!(d.labels, Some(vec![7, 0, 9]));
    }
    let unlabelled = load_mnist_idx(&dir.join("gz-images"), None).expect("valid IDX");
    assert_eq!(unlabelled.labels, None);
}

#[test]
fn load_auto_finds_sibling_labels() {
    let dir = scratch_dir("idx-auto");
    write(&dir.join("t10k-images-idx3-ubyte.gz"), gzip(&idx(3, &[3, 2, 2], &PIXELS)));
    write(&dir.join("t10k-labels-idx1-ubyte"), idx(1, &[3], &[1, 2, 3]));
    let d = load_auto(&dir.join("t10k-images-idx3-ubyte.gz")).expect("auto IDX");
    assert_eq!(d.labels, Some(vec![1, 2, 3]));
    let err = load_auto(&dir.join("t10k-labels-idx1-ubyte")).expect_err("labels alone");
    assert!(err.to_string().contains("labels file"), "{err}");
}

fn idx_error(name: &str, bytes: &[u8]) -> String {
    let dir = scratch_dir("idx-bad");
    let path = dir.join(name);
    write(&path, bytes);
    let err = load_mnist_idx(&path, None).expect_err("corrupt IDX must be rejected");
    assert!(matches!(err, DataError::Idx { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(name), "message must name the file: {msg}");
    msg
}

#[test]
fn corrupt_idx_headers_are_errors() {
    let msg = idx_error("bad-magic", &idx(1, &[3, 2, 2], &PIXELS));
    assert!(msg.contains("magic"), "{msg}");
    let msg = idx_error("bad-magic2", b"PK\x03\x04 not an idx file");
    assert!(msg.contains("magic"), "{msg}");
    let msg = idx_error("short", &[0, 0]);
    assert!(msg.contains("too short"), "{msg}");
    let msg = idx_error("truncated-header", &idx(3, &[3, 2], &[]));
    assert!(msg.contains("truncated header"), "{msg}");
    // 60000 28x28 images declared, 12 bytes present: no 47 MB allocation, an error.
    let msg = idx_error("huge", &idx(3, &[60000, 28, 28], &PIXELS));
    assert!(msg.contains("holds only 12"), "{msg}");
    let msg = idx_error("overflow", &idx(3, &[u32::MAX, u32::MAX, u32::MAX], &PIXELS));
    assert!(msg.contains("overflow") || msg.contains("holds only"), "{msg}");
    let msg = idx_error("truncated-data", &idx(3, &[3, 2, 2], &PIXELS[..11]));
    assert!(msg.contains("holds only 11"), "{msg}");
    let msg = idx_error("trailing", &idx(3, &[3, 2, 2], &[PIXELS.as_slice(), &[9]].concat()));
    assert!(msg.contains("holds 13"), "{msg}");
    idx_error("empty-images", &idx(3, &[3, 0, 2], &[]));
}

#[test]
fn idx_label_problems_are_errors() {
    let dir = scratch_dir("idx-labels");
    write(&dir.join("images"), idx(3, &[3, 2, 2], &PIXELS));
    write(&dir.join("labels2"), idx(1, &[2], &[1, 2]));
    write(&dir.join("corrupt.gz"), &gzip(&idx(1, &[3], &[1, 2, 3]))[..20]);
    let err = load_mnist_idx(&dir.join("images"), Some(&dir.join("labels2"))).expect_err("count mismatch");
    assert!(err.to_string().contains("3 samples") && err.to_string().contains("2 labels"), "{err}");
    let err = load_mnist_idx(&dir.join("images"), Some(&dir.join("images"))).expect_err("images as labels");
    assert!(err.to_string().contains("magic"), "{err}");
    let err = load_mnist_idx(&dir.join("images"), Some(&dir.join("corrupt.gz"))).expect_err("cut gzip");
    assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");
    let err = load_mnist_idx(&dir.join("missing"), None).expect_err("missing file");
    assert!(matches!(err, DataError::Io { .. }) && err.to_string().contains("missing"), "{err}");
}
