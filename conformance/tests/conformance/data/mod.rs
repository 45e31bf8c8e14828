//! Integration tests of the data loaders, `.npy` files, PCA and plots.
//!
//! Expected values come from the file formats' specifications (bytes built
//! by hand here) and from independent computations in the tests, never from
//! the code under test.

mod blobs;
mod csv;
mod generated;
mod idx;
mod labeled;
mod npy;
mod pca;
mod plot;

use ember_conformance::support;

use std::io::Write;
use std::path::{Path, PathBuf};

use ember_data::Dataset;

/// A fresh, empty directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    support::scratch_dir("data-tests", name)
}

pub use support::write;

/// gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// The names of the files in `dir`.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn numbered(n: usize) -> Dataset {
    let x: Vec<f32> = (0..n * 2).map(|v| v as f32).collect();
    Dataset::new(x, vec![2], Some((0..n as u32).collect())).expect("valid dataset")
}

#[test]
fn dataset_helpers() {
    let d = numbered(10);
    assert_eq!(d.len(), 10);
    assert_eq!(d.sample(3), &[6.0, 7.0]);
    assert_eq!(d.label(3), Some(3));
    let t = d.take(4);
    assert_eq!((t.n, t.x.len(), t.labels.as_deref()), (4, 8, Some(&[0, 1, 2, 3][..])));
    assert_eq!(d.take(99).n, 10);
    let s = d.select(&[9, 0, 9]);
    assert_eq!(s.x, vec![18.0, 19.0, 0.0, 1.0, 18.0, 19.0]);
    assert_eq!(s.labels, Some(vec![9, 0, 9]));
    let r = d.clone().reshaped(vec![1, 2]).expect("same size");
    assert_eq!(r.dims, vec![1, 2]);
    assert!(d.clone().reshaped(vec![3]).is_err());
    assert!(Dataset::new(vec![0.0; 5], vec![2], None).is_err());
    assert!(Dataset::new(vec![0.0; 4], vec![2], Some(vec![1])).is_err());
}

#[test]
fn split_tail_has_keras_validation_split_semantics() {
    // Keras: split_at = int(n * (1 - validation_split)); the tail validates.
    let d = numbered(10);
    let (train, val) = d.split_tail(0.2);
    assert_eq!((train.n, val.n), (8, 2));
    assert_eq!(val.labels, Some(vec![8, 9]));
    assert_eq!(val.x, vec![16.0, 17.0, 18.0, 19.0]);
    let (train, val) = numbered(5000).split_tail(0.2);
    assert_eq!((train.n, val.n), (4000, 1000));
    let (train, val) = numbered(7).split_tail(0.25); // int(7 * 0.75) = 5
    assert_eq!((train.n, val.n), (5, 2));
    assert_eq!(d.split_tail(0.0).1.n, 0);
    assert_eq!(d.split_tail(1.0).0.n, 0);
    assert_eq!(d.split_tail(f64::NAN).0.n, 10);
}

#[test]
fn dataset_shapes_that_overflow_are_errors() {
    let err = Dataset::new(Vec::new(), vec![usize::MAX, 2], None).expect_err("the shape overflows");
    assert!(err.to_string().contains("are too large: their number of values overflows"), "{err}");
    assert!(numbered(3).reshaped(vec![usize::MAX, 2, 2]).is_err());
    assert!(numbered(3).reshaped(vec![usize::MAX / 2 + 1, 2]).is_err());
}
