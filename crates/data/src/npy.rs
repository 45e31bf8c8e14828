//! NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), C order only.
//!
//! Reading accepts little-endian `<f4`, `<f8`, `<i4`, `<i8` and `|u1`
//! arrays, converted to `f32` (`f8`/`i4`/`i8` round to the nearest `f32`;
//! `u1` values stay 0–255, unscaled). Writing always produces `<f4`, in
//! version 1.0 unless the header needs version 2.0, atomically (temporary
//! file in the same directory, then rename). See the format specification
//! in `numpy/lib/format.py`.

use std::io::Write;
use std::path::{Path, PathBuf};

mod header;

use header::{Header, encode_header, parse_header};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Why a `.npy` file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file does not start with `\x93NUMPY`.
    #[error("{}: not a .npy file (bad magic bytes)", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
    },
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("{}: unsupported .npy format version {major}.{minor}", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header is truncated or is not the expected Python dictionary.
    #[error("{}: bad .npy header: {message}", path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An element type other than `<f4`, `<f8`, `<i4`, `<i8`, `|u1`.
    #[error("{}: unsupported dtype {descr:?} (supported: <f4, <f8, <i4, <i8, |u1)", path.display())]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The `descr` field.
        descr: String,
    },
    /// The array is stored in Fortran (column-major) order.
    #[error("{}: fortran_order arrays are not supported; save a C-ordered array", path.display())]
    FortranOrder {
        /// The file.
        path: PathBuf,
    },
    /// The data after the header is not the size the shape implies.
    #[error("{}: shape {shape:?} needs {expected} bytes of data but the file holds {found}{}", path.display(),
        if found < expected { " (truncated)" } else { "" })]
    DataSize {
        /// The file.
        path: PathBuf,
        /// The shape from the header.
        shape: Vec<usize>,
        /// Bytes the shape and dtype imply.
        expected: u64,
        /// Bytes present after the header.
        found: u64,
    },
    /// `write_npy` was given a shape whose product is not the data length.
    #[error("{}: shape {shape:?} holds {} values but {len} were given", path.display(),
        shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).map_or("too many".to_string(), |p| p.to_string()))]
    ShapeMismatch {
        /// The file.
        path: PathBuf,
        /// The shape given.
        shape: Vec<usize>,
        /// The number of values given.
        len: usize,
    },
}

/// Reads a `.npy` file: its shape and its values as `f32` in C order.
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f32>), NpyError> {
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io { path: path.to_path_buf(), source })?;
    parse_npy(path, &bytes)
}

/// Parses the bytes of a `.npy` file (see [`read_npy`]); `path` names it in errors.
pub(crate) fn parse_npy(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), NpyError> {
    let Header { descr, fortran_order, shape, data_offset } = parse_header(path, bytes)?;
    if fortran_order {
        return Err(NpyError::FortranOrder { path: path.to_path_buf() });
    }
    let (size, convert): (usize, fn(&[u8]) -> f32) = match descr.as_str() {
        "<f4" => (4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "<f8" => (8, |b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32),
        "<i4" => (4, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32),
        "<i8" => (8, |b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32),
        "|u1" | "<u1" => (1, |b| f32::from(b[0])),
        _ => return Err(NpyError::UnsupportedDtype { path: path.to_path_buf(), descr }),
    };
    let data = &bytes[data_offset..];
    let expected = shape.iter().try_fold(size as u64, |acc, &d| acc.checked_mul(d as u64)).unwrap_or(u64::MAX);
    if expected != data.len() as u64 {
        return Err(NpyError::DataSize { path: path.to_path_buf(), shape, expected, found: data.len() as u64 });
    }
    Ok((shape, data.chunks_exact(size).map(convert).collect()))
}

/// Writes `data` with `shape` as a little-endian `<f4`, C-order `.npy` file,
/// atomically: a temporary file in the same directory is written, synced and
/// renamed over `path`, so no partial file is ever left. An empty `shape` is
/// a scalar (one value).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), NpyError> {
    let product = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if product != Some(data.len()) {
        return Err(NpyError::ShapeMismatch { path: path.to_path_buf(), shape: shape.to_vec(), len: data.len() });
    }
    let header = encode_header("<f4", shape);
    ember_export::fsutil::write_atomic(path, |w| {
        w.write_all(&header)?;
        for v in data {
            w.write_all(&v.to_le_bytes())?;
        }
        Ok::<(), std::io::Error>(())
    })
    .map_err(|source| NpyError::Io { path: path.to_path_buf(), source })
}
