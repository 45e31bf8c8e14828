//! The runtime's error type: flat, payload-free, `Copy + Eq`.

use core::fmt;

/// Everything that can go wrong when a blob is read or bound to a model type.
///
/// Forward passes never fail: all checks happen at load time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The byte string is shorter than the fixed preamble plus checksum.
    TooShort,
    /// The first four bytes are not `EMBR`.
    BadMagic,
    /// The format version is not one this runtime reads.
    UnsupportedVersion,
    /// A reserved preamble field is not zero.
    ReservedNotZero,
    /// The total length recorded in the preamble differs from the byte string's length.
    LengthMismatch,
    /// The CRC-32 over the blob does not match the stored one.
    ChecksumMismatch,
    /// The blob does not start on a 16-byte boundary, so tensors cannot be viewed in place.
    Misaligned,
    /// The header length points past the end of the blob.
    HeaderOutOfBounds,
    /// The postcard header could not be decoded (corrupt, or more entries than the runtime holds).
    HeaderDecode,
    /// The header decoded but left unused bytes inside its recorded length.
    HeaderTrailingBytes,
    /// A tensor's offset is not a multiple of 16.
    TensorMisaligned,
    /// A tensor lies (partly) outside the data section, or overlaps the one before it.
    TensorOutOfBounds,
    /// A tensor's element type is not the one its layer needs.
    TensorType,
    /// A dimension list is empty, too long, or holds a zero or oversized dimension.
    BadDims,
    /// A layer's tensor does not have the dimensions its spec requires.
    TensorShape,
    /// The header lists a different number of tensors than its layers need.
    TensorCount,
    /// A layer's recorded shapes are inconsistent (for example 0 units).
    BadLayer,
    /// A layer's input size differs from the previous layer's output size.
    LayerChain,
    /// The model's declared input or output does not match its layers.
    IoMismatch,
    /// The blob's layer kind or activation differs from the one the Rust type expects.
    LayerKind,
    /// The blob's layer sizes differ from the const generics of the Rust type.
    LayerShape,
    /// The blob has more or fewer layers than the Rust type.
    LayerCount,
    /// A caller-provided buffer is too small (dynamic interpreter only).
    BufferTooSmall,
    /// The input length differs from the model's input size (dynamic interpreter only).
    InputShape,
    /// The target is big-endian; blob tensors are little-endian and viewed in place.
    UnsupportedTarget,
    /// A token id is not below the embedding's vocabulary size.
    TokenOutOfRange,
    /// The text holds no word to classify.
    EmptyText,
    /// The blob has no tokenizer, or its word list is missing or malformed.
    NoTokenizer,
    /// An input value is NaN or infinite.
    NonFinite,
    /// A named asset, column or category is not in the model.
    NotFound,
    /// An asset (`vocab`, `columns`) is malformed: not UTF-8, a bad line, or
    /// counts that do not add up to the model's table.
    BadAsset,
    /// Search arguments disagree: a zero dimension, a table that is not whole
    /// rows, a row range or row past the table, a query or output of the
    /// wrong length, or room for no result.
    BadQuery,
    /// A search query vector is zero or not finite (no direction to compare).
    ZeroQuery,
    /// A version-2 blob's quantization table does not hold exactly one entry per layer.
    QuantCount,
    /// A layer's quantization mode is one its kind cannot run in.
    UnsupportedQuant,
    /// An int8 layer's input or output scale is not finite and positive, or
    /// its zero point is outside `[-128, 127]`.
    BadQuantParams,
    /// A requantization pair has a shift outside `[-31, 30]` or a multiplier
    /// that is neither 0 nor in `[2^30, 2^31)`.
    BadRequant,
    /// A quantization scale tensor holds a value that is not finite and positive.
    BadScale,
}

impl Error {
    /// A static, human-readable description.
    pub const fn message(self) -> &'static str {
        match self {
            Error::TooShort => "blob is shorter than its preamble and checksum",
            Error::BadMagic => "not an ember blob (bad magic)",
            Error::UnsupportedVersion => "unsupported blob format version",
            Error::ReservedNotZero => "reserved preamble field is not zero",
            Error::LengthMismatch => "blob length differs from the length in its preamble (truncated or padded)",
            Error::ChecksumMismatch => "CRC-32 mismatch (corrupt blob)",
            Error::Misaligned => "blob is not 16-byte aligned in memory",
            Error::HeaderOutOfBounds => "header length points past the end of the blob",
            Error::HeaderDecode => "header cannot be decoded",
            Error::HeaderTrailingBytes => "header has trailing bytes",
            Error::TensorMisaligned => "tensor offset is not 16-byte aligned",
            Error::TensorOutOfBounds => "tensor lies outside the data section or overlaps another",
            Error::TensorType => "tensor has the wrong element type",
            Error::BadDims => "invalid dimension list",
            Error::TensorShape => "tensor dimensions differ from the layer spec",
            Error::TensorCount => "tensor count differs from what the layers need",
            Error::BadLayer => "layer has inconsistent shapes",
            Error::LayerChain => "layer input size differs from the previous layer's output",
            Error::IoMismatch => "model input/output description does not match its layers",
            Error::LayerKind => "layer kind or activation differs from the Rust type",
            Error::LayerShape => "layer sizes differ from the Rust type",
            Error::LayerCount => "layer count differs from the Rust type",
            Error::BufferTooSmall => "buffer too small",
            Error::InputShape => "input length differs from the model input",
            Error::UnsupportedTarget => "big-endian targets are not supported",
            Error::TokenOutOfRange => "token id is outside the embedding's vocabulary",
            Error::EmptyText => "text holds no word",
            Error::NoTokenizer => "model has no tokenizer (or its word list is missing or malformed)",
            Error::NonFinite => "input holds NaN or an infinite value",
            Error::NotFound => "no such asset, column or category in the model",
            Error::BadAsset => "model asset is malformed (not UTF-8, a bad line, or counts that do not add up)",
            Error::BadQuery => "search arguments are inconsistent (dimension, table, row range, query length or K = 0)",
            Error::ZeroQuery => "query vector is zero or not finite",
            Error::QuantCount => "quantization table does not hold one entry per layer",
            Error::UnsupportedQuant => "layer kind cannot run in its quantization mode",
            Error::BadQuantParams => {
                "int8 layer input/output scale is not finite and positive, or a zero point is outside [-128, 127]"
            }
            Error::BadRequant => "requantization shift outside [-31, 30] or multiplier neither 0 nor in [2^30, 2^31)",
            Error::BadScale => "quantization scale is not finite and positive",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for Error {}
