//! `.npy` files: bytes built by hand per the NumPy format specification
//! (`numpy/lib/format.py`), round trips and rejected files.

use ember_data::load_auto;
use ember_data::npy::{NpyError, read_npy, write_npy};

use super::{files_in, scratch_dir, write};

/// A `.npy` file: magic, version, little-endian header length (u16 for 1.0,
/// u32 for 2.0 / 3.0), the header padded with spaces and a newline so that
/// the data starts at a multiple of 64, then the data.
fn npy(major: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if major == 1 { 10 } else { 12 };
    let padded = (prefix + dict.len() + 1).div_ceil(64) * 64 - prefix;
    let header = format!("{dict}{}\n", " ".repeat(padded - dict.len() - 1));
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[major, 0]);
    if major == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn read_bytes(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), NpyError> {
    let dir = scratch_dir("npy-read");
    let path = dir.join("a.npy");
    write(&path, bytes);
    read_npy(&path)
}

fn le<const N: usize, T: Copy>(values: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

#[test]
fn write_matches_numpy_byte_for_byte_and_reads_back() {
    let dir = scratch_dir("npy");
    let path = dir.join("m.npy");
    let data = [1.0f32, 2.0, 3.0, 4.0, 5.5, -6.25];
    write_npy(&path, &[2, 3], &data).expect("write");
    let bytes = std::fs::read(&path).expect("read back");
    // np.save("m.npy", np.array([[1, 2, 3], [4, 5.5, -6.25]], dtype="<f4"))
    let expected = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", &le(&data, f32::to_le_bytes));
    assert_eq!(bytes, expected);
    assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00\x76\x00");
    assert_eq!(read_npy(&path).expect("read"), (vec![2, 3], data.to_vec()));
    // 1-D, scalar and empty arrays; overwriting an existing file.
    for (shape, values) in [(vec![4], vec![0.5f32; 4]), (vec![], vec![7.0]), (vec![0, 5], vec![])] {
        write_npy(&path, &shape, &values).expect("write");
        assert_eq!(read_npy(&path).expect("read"), (shape, values));
    }
    assert_eq!(files_in(&dir), vec!["m.npy"]);
}

#[test]
fn reads_hand_written_files_of_every_dtype() {
    let f8 = npy(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
        &le(&[0.5f64, -1e10, 3.0], f64::to_le_bytes),
    );
    assert_eq!(read_bytes(&f8).expect("f8"), (vec![3], vec![0.5, -1e10, 3.0]));
    let i4 = npy(
        1,
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }",
        &le(&[1i32, -2, 3, 70000], i32::to_le_bytes),
    );
    assert_eq!(read_bytes(&i4).expect("i4"), (vec![2, 2], vec![1.0, -2.0, 3.0, 70000.0]));
    let i8 =
        npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", &le(&[-5i64, 1 << 40], i64::to_le_bytes));
    assert_eq!(read_bytes(&i8).expect("i8"), (vec![2], vec![-5.0, (1u64 << 40) as f32]));
    let u1 = npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 4), }", &[0, 1, 128, 255]);
    assert_eq!(read_bytes(&u1).expect("u1"), (vec![1, 4], vec![0.0, 1.0, 128.0, 255.0]));
    // Version 2.0 and 3.0 (u32 header length), other key order and quoting.
    let f4 = le(&[1.5f32, 2.5], f32::to_le_bytes);
    let v2 = npy(2, "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}", &f4);
    assert_eq!(read_bytes(&v2).expect("v2"), (vec![2], vec![1.5, 2.5]));
    let v3 = npy(3, "{'descr':'<f4','fortran_order':False,'shape':(1,2)}", &f4);
    assert_eq!(read_bytes(&v3).expect("v3"), (vec![1, 2], vec![1.5, 2.5]));
    let scalar = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", &f4[..4]);
    assert_eq!(read_bytes(&scalar).expect("scalar"), (vec![], vec![1.5]));
}

fn rejected(bytes: &[u8]) -> (NpyError, String) {
    let err = read_bytes(bytes).expect_err("must be rejected");
    let msg = err.to_string();
    assert!(msg.contains("a.npy"), "message must name the file: {msg}");
    (err, msg)
}

#[test]
fn rejects_bad_files_with_clear_errors() {
    let f4 = le(&[1.0f32, 2.0], f32::to_le_bytes);
    let ok = |descr: &str, fortran: &str, shape: &str| {
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}")
    };
    let (e, _) = rejected(b"\x93NUMPZ\x01\x00\x00\x00");
    assert!(matches!(e, NpyError::BadMagic { .. }));
    let (e, _) = rejected(b"PK");
    assert!(matches!(e, NpyError::BadMagic { .. }));
    let mut v9 = npy(1, &ok("<f4", "False", "(2,)"), &f4);
    v9[6] = 9;
    assert!(matches!(rejected(&v9).0, NpyError::UnsupportedVersion { major: 9, .. }));
    let (e, msg) = rejected(&npy(1, &ok("<f4", "True", "(2,)"), &f4));
    assert!(matches!(e, NpyError::FortranOrder { .. }) && msg.contains("fortran"), "{msg}");
    for descr in [">f4", "<c8", "<f2", "<U3"] {
        let (e, msg) = rejected(&npy(1, &ok(descr, "False", "(2,)"), &f4));
        assert!(matches!(e, NpyError::UnsupportedDtype { .. }) && msg.contains(descr), "{msg}");
    }
    let structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }";
    assert!(matches!(rejected(&npy(1, structured, &f4)).0, NpyError::UnsupportedDtype { .. }));
    let (e, msg) = rejected(&npy(1, &ok("<f4", "False", "(3,)"), &f4));
    assert!(matches!(e, NpyError::DataSize { expected: 12, found: 8, .. }) && msg.contains("truncated"), "{msg}");
    let (e, _) = rejected(&npy(1, &ok("<f4", "False", "(1,)"), &f4));
    assert!(matches!(e, NpyError::DataSize { expected: 4, found: 8, .. }));
    let (e, _) = rejected(&npy(1, &ok("<f4", "False", "(4294967296, 4294967296, 4294967296)"), &f4));
    assert!(matches!(e, NpyError::DataSize { .. }));
    let full = npy(1, &ok("<f4", "False", "(2,)"), &f4);
    for bad in [&full[..9], &full[..40]] {
        assert!(matches!(rejected(bad).0, NpyError::BadHeader { .. }));
    }
    for dict in ["hello", "{'descr': '<f4'}", "((((((((((", "{'descr': '<f4', 'shape': (-1,), 'fortran_order': False}"]
    {
        let (e, msg) = rejected(&npy(1, dict, &f4));
        assert!(matches!(e, NpyError::BadHeader { .. }), "{dict}: {msg}");
    }
}

#[test]
fn write_errors_leave_no_file() {
    let dir = scratch_dir("npy-write");
    let err = write_npy(&dir.join("x.npy"), &[2, 2], &[1.0; 3]).expect_err("shape mismatch");
    assert!(matches!(err, NpyError::ShapeMismatch { len: 3, .. }) && err.to_string().contains("x.npy"), "{err}");
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
    // A missing folder is created; a folder that cannot exist (a file is in
    // the way) is an I/O error that leaves nothing behind.
    write_npy(&dir.join("new-dir").join("x.npy"), &[1], &[1.0]).expect("missing folders are created");
    let blocked = scratch_dir("npy-blocked");
    std::fs::write(blocked.join("file"), b"x").unwrap();
    let err = write_npy(&blocked.join("file").join("x.npy"), &[1], &[1.0]).expect_err("a file is in the way");
    assert!(matches!(err, NpyError::Io { .. }), "{err:?}");
    assert_eq!(files_in(&blocked).len(), 1, "{:?}", files_in(&blocked));
}

#[test]
fn load_auto_refuses_a_sample_shape_that_overflows() {
    // No values at all, so the data size matches, but one sample of shape
    // [2^33, 2^33] would hold 2^66 values: an error naming the file, not an
    // overflow panic.
    let dir = scratch_dir("npy-overflow");
    let path = dir.join("huge.npy");
    write(&path, npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 8589934592, 8589934592), }", &[]));
    let err = load_auto(&path).expect_err("the sample shape overflows");
    let msg = err.to_string();
    assert!(msg.contains("huge.npy") && msg.contains("are too large: their number of values overflows"), "{msg}");
}
