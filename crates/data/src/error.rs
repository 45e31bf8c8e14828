//! The error type of every data loader.

use std::path::{Path, PathBuf};

use crate::npy::NpyError;

/// Why a data file could not be loaded.
///
/// Every message names the file; CSV messages also name the 1-based line and,
/// where one cell is at fault, the 1-based column.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file starts with the gzip magic bytes but does not decompress.
    #[error("{}: corrupt gzip stream: {source}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: std::io::Error,
    },
    /// The file holds no data at all.
    #[error("{}: file is empty (no data rows)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// An IDX file (MNIST images or labels) is malformed.
    #[error("{}: invalid IDX file: {message}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A CSV file is malformed.
    #[error("{}: line {line}{}: {message}", path.display(), column.map(|c| format!(", column {c}")).unwrap_or_default())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column number, when a single cell is at fault.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A `.npy` file could not be read.
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// Images and labels do not belong together.
    #[error("{} has {images} samples but {} has {labels} labels", image_path.display(), label_path.display())]
    LabelCount {
        /// The images file.
        image_path: PathBuf,
        /// The labels file.
        label_path: PathBuf,
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// [`load_auto`](super::load_auto) does not recognise the format.
    #[error("{}: unrecognised data format: {message}", path.display())]
    Unrecognised {
        /// The file.
        path: PathBuf,
        /// What was seen.
        message: String,
    },
    /// A MATLAB MAT-file is malformed or of an unsupported version.
    #[error("{}: invalid MAT-file: {message}", path.display())]
    Mat {
        /// The file.
        path: PathBuf,
        /// What is wrong, and in which variable.
        message: String,
    },
    /// A table (CSV or JSON records / columns) cannot be used: an unknown
    /// column, a bad target value, a malformed record.
    #[error("{}: {message}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the row or record and the column.
        message: String,
    },
    /// A dataset was built from inconsistent parts (not from a file).
    #[error("invalid dataset: {0}")]
    Invalid(String),
}

impl DataError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        DataError::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn idx(path: &Path, message: impl Into<String>) -> Self {
        DataError::Idx { path: path.to_path_buf(), message: message.into() }
    }

    pub(crate) fn csv(path: &Path, line: usize, column: Option<usize>, message: impl Into<String>) -> Self {
        DataError::Csv { path: path.to_path_buf(), line, column, message: message.into() }
    }
}
