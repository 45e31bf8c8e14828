//! The error type of the text pipeline and the text loaders.

use std::path::{Path, PathBuf};

use crate::DataError;
use crate::npy::NpyError;

/// Why text data could not be loaded or tokenized.
///
/// Every message about a file names it; members of an `.npz` archive are
/// named `archive.npz:member.npy`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// A file or folder could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The tokenizer settings are unusable.
    #[error("invalid tokenizer settings: {0}")]
    Spec(String),
    /// An `.npz` file is not a readable zip archive (corrupt or truncated).
    #[error("{}: not a readable .npz (zip) archive: {message}", path.display())]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An `.npz` archive lacks an array the loader needs.
    #[error("{}: no array named {member:?} in the archive (found: {})", path.display(), found.join(", "))]
    MissingMember {
        /// The archive.
        path: PathBuf,
        /// The array name, for example `x_train`.
        member: String,
        /// The arrays the archive holds.
        found: Vec<String>,
    },
    /// A numeric `.npy` array (or its header) could not be read.
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// A pickled (object) array is malformed or uses something this reader
    /// refuses to interpret.
    #[error("{}: pickle byte {offset}: {message}", path.display())]
    Pickle {
        /// The file or archive member.
        path: PathBuf,
        /// Byte offset of the offending opcode inside the pickle stream.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// An array has the wrong shape or contents for a sequence data set.
    #[error("{}: {message}", path.display())]
    Layout {
        /// The file or archive member.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Samples and labels do not belong together.
    #[error("{} has {samples} samples but {} has {labels} labels", samples_path.display(), labels_path.display())]
    LabelCount {
        /// Where the samples are.
        samples_path: PathBuf,
        /// Where the labels are.
        labels_path: PathBuf,
        /// Number of samples.
        samples: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A text holds no word at all (an empty or punctuation-only text).
    #[error("{where_}: text holds no word (empty, or only spaces and punctuation)")]
    NoWords {
        /// The file, or `file, line N`, or `text N`.
        where_: String,
    },
    /// A text file is not UTF-8.
    #[error("{where_}: not valid UTF-8 text")]
    NotUtf8 {
        /// The file, or `file, line N`.
        where_: String,
    },
    /// A folder data set lacks files or folders it needs.
    #[error("{}: {message}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What is missing.
        message: String,
    },
    /// A CSV file is malformed.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number, when one line is at fault.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A JSON word index (`imdb_word_index.json`) is malformed.
    #[error("{}: bad word index: {message}", path.display())]
    WordIndex {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// N-gram settings are unusable (a window shorter than 2 words, a
    /// vocabulary size of 0 or too large).
    #[error("invalid n-gram settings: {0}")]
    NgramSettings(String),
    /// A data set or file was empty or could not be assembled.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl TextError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        TextError::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn layout(path: &Path, message: impl Into<String>) -> Self {
        TextError::Layout { path: path.to_path_buf(), message: message.into() }
    }

    pub(crate) fn csv(path: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        TextError::Csv { path: path.to_path_buf(), line, message: message.into() }
    }
}
