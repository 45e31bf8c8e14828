//! [`TrainError`]: what can go wrong while reading a model file, loading
//! data, training, exporting or looking inside a trained model.

use std::path::{Path, PathBuf};

use ember_data::DataError;
use ember_data::text::TextError;
use ember_export::ExportError;
use ember_nn::error::NnError;

use crate::plot::PlotError;

/// An error of `ember-train`. The errors of the crates below it are wrapped
/// unchanged (their messages, and their causes, are this error's).
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A data file could not be loaded, or generated data could not be built.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Text data could not be loaded or tokenized.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The fit loop, evaluation or a checkpoint failed.
    #[error(transparent)]
    Nn(#[from] NnError),
    /// The trained model could not be built or encoded.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The runtime rejected a blob or a search (embedding queries).
    #[error(transparent)]
    Runtime(#[from] ember_runtime::Error),
    /// A plot could not be written.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// A file or folder could not be written or created.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: `write`, `create`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A model file is not valid TOML, or does not have the fields of one.
    #[error(transparent)]
    ModelFile(#[from] toml::de::Error),
    /// A model configuration is unusable (a layer that does not fit its
    /// input, an unknown loss, a missing section, ...).
    #[error("{0}")]
    Config(String),
    /// The training history could not be encoded.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Anything else that is wrong with the inputs: data that does not fit
    /// the model, an unknown word or column, a bad query.
    #[error("{0}")]
    Invalid(String),
}

impl TrainError {
    /// A [`TrainError::Config`] with this message.
    pub fn config(message: impl Into<String>) -> Self {
        TrainError::Config(message.into())
    }

    /// A [`TrainError::Invalid`] with this message.
    pub fn invalid(message: impl Into<String>) -> Self {
        TrainError::Invalid(message.into())
    }

    /// A [`TrainError::Io`] for `action` (`write`, `create`) on `path`.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        TrainError::Io { action, path: path.to_path_buf(), source }
    }
}

/// `Result` with a [`TrainError`].
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

/// Returns early with a [`TrainError::Invalid`] built like `format!`.
macro_rules! invalid {
    ($($arg:tt)*) => {
        return Err($crate::error::TrainError::Invalid(format!($($arg)*)))
    };
}

/// Returns early with a [`TrainError::Config`] built like `format!`.
macro_rules! bad_config {
    ($($arg:tt)*) => {
        return Err($crate::error::TrainError::Config(format!($($arg)*)))
    };
}

pub(crate) use {bad_config, invalid};
