//! [`NnError`]: what can go wrong while training, evaluating or
//! checkpointing a network.

use std::io;
use std::path::PathBuf;

/// An error of the fit loop, of evaluation or of a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// The inputs are not a whole number of samples.
    #[error("inputs hold {values} values, not a whole number of {sample_len}-value samples")]
    InputShape {
        /// Values given.
        values: usize,
        /// Values per sample.
        sample_len: usize,
    },
    /// The targets do not match the number of samples.
    #[error("{samples} samples need {} target values ({per_sample} each), got {got}", samples * per_sample)]
    TargetShape {
        /// Samples in the inputs.
        samples: usize,
        /// Target values per sample.
        per_sample: usize,
        /// Target values given.
        got: usize,
    },
    /// The inputs or targets hold a NaN or an infinity.
    #[error("training data holds a NaN or infinite value (value index {index})")]
    NonFinite {
        /// Index of the first such value (inputs first, then targets).
        index: usize,
    },
    /// An input of an embedding is not a token id of its vocabulary.
    #[error("input {value} at sample {sample}, position {position} is not a token id in 0..{vocab}")]
    TokenId {
        /// The offending value.
        value: f32,
        /// Sample (row) index in the data.
        sample: usize,
        /// Position in the sequence.
        position: usize,
        /// Vocabulary size.
        vocab: usize,
    },
    /// An input of an entity layer is not a row of its table.
    #[error("input {value} at sample {sample}, column {column} is not a row id in 0..{rows}")]
    RowId {
        /// The offending value.
        value: f32,
        /// Sample (row) index in the data.
        sample: usize,
        /// Categorical column.
        column: usize,
        /// Rows of the table (categories of every column).
        rows: usize,
    },
    /// A batch size of zero.
    #[error("batch size must be at least 1")]
    BatchSize,
    /// A validation split outside `[0, 1)`.
    #[error("validation split must be in [0, 1), got {0}")]
    ValidationSplit(f32),
    /// The validation split leaves nothing to train on.
    #[error("no training samples left after the validation split")]
    NoTrainingSamples,
    /// The loss became NaN or infinite.
    #[error("loss became {value} at epoch {epoch} batch {batch}: lower the learning rate")]
    Diverged {
        /// The loss value.
        value: f64,
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
    },
    /// A checkpoint could not be read.
    #[error("cannot read checkpoint {}", path.display())]
    CheckpointRead {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A checkpoint could not be written.
    #[error("cannot write checkpoint {}", path.display())]
    CheckpointWrite {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A checkpoint could not be encoded.
    #[error("cannot encode checkpoint")]
    CheckpointEncode(#[source] postcard::Error),
    /// The file does not start with the checkpoint magic.
    #[error("{} is not an ember checkpoint", path.display())]
    NotACheckpoint {
        /// The file.
        path: PathBuf,
    },
    /// The file is a checkpoint of another format version.
    #[error(
        "checkpoint {} was written by {} ember (format {found}, this ember reads format {expected}); \
         start without --resume",
        path.display(),
        if found < expected { "an older" } else { "a newer" }
    )]
    CheckpointVersion {
        /// The file.
        path: PathBuf,
        /// Format version of the file.
        found: u8,
        /// Format version this build reads.
        expected: u8,
    },
    /// The file is shorter than its header announces.
    #[error("checkpoint {} is truncated: {actual} bytes, its header announces {expected}", path.display())]
    CheckpointTruncated {
        /// The file.
        path: PathBuf,
        /// Length announced by the header (or the smallest possible checkpoint).
        expected: u64,
        /// Length of the file.
        actual: u64,
    },
    /// The file is longer than its header announces.
    #[error("checkpoint {} is damaged: {actual} bytes, its header announces {expected}", path.display())]
    CheckpointTrailing {
        /// The file.
        path: PathBuf,
        /// Length announced by the header.
        expected: u64,
        /// Length of the file.
        actual: u64,
    },
    /// The payload does not match its CRC-32.
    #[error(
        "checkpoint {} is corrupt: checksum mismatch (stored {stored:08x}, computed {computed:08x})",
        path.display()
    )]
    CheckpointChecksum {
        /// The file.
        path: PathBuf,
        /// CRC-32 stored in the file.
        stored: u32,
        /// CRC-32 of the payload read.
        computed: u32,
    },
    /// The payload passed its checksum but does not decode.
    #[error("checkpoint {} is corrupt", path.display())]
    CheckpointDecode {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: postcard::Error,
    },
    /// The checkpoint's parameter sizes differ from the network's.
    #[error("checkpoint was made for a different architecture ({saved:?} parameter sizes, model has {model:?})")]
    CheckpointArchitecture {
        /// Parameter sizes in the checkpoint.
        saved: Vec<usize>,
        /// Parameter sizes of the network.
        model: Vec<usize>,
    },
    /// Parts of the checkpoint disagree with each other.
    #[error("checkpoint is inconsistent: {0}")]
    CheckpointInconsistent(&'static str),
    /// The checkpoint was made with other training settings.
    #[error("checkpoint was made with different training settings; start without --resume or use the same settings")]
    CheckpointSettings,
    /// Bad learning-rate schedule settings.
    #[error("learning-rate schedule: {0}")]
    Schedule(String),
    /// Bad class weights, or class weights on a loss that is not a classifier's.
    #[error("class weights: {0}")]
    ClassWeights(String),
    /// A sparse categorical target is not a class index of the output.
    #[error("sample {sample} has label {value}, not a class index in 0..{classes}")]
    Label {
        /// 0-based sample.
        sample: usize,
        /// The target value.
        value: f32,
        /// Output units (classes).
        classes: usize,
    },
}
