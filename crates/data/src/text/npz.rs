//! `.npz` archives (zip files of `.npy` members, stored or deflated) holding
//! integer sequences: object arrays of lists (pickled) or integer matrices.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::pickle::read_object_sequences;
use super::{MAX_CLASSES, TextError};
use crate::npy::{NpyError, parse_npy};

/// An open `.npz` archive.
pub(crate) struct Npz {
    path: PathBuf,
    archive: ZipArchive<Cursor<Vec<u8>>>,
}

impl Npz {
    /// Opens (reads whole) the archive at `path`.
    pub(crate) fn open(path: &Path) -> Result<Npz, TextError> {
        let bytes = std::fs::read(path).map_err(|e| TextError::io(path, e))?;
        if bytes.is_empty() {
            return Err(TextError::Zip { path: path.to_path_buf(), message: "the file is empty".into() });
        }
        let archive = ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| TextError::Zip { path: path.to_path_buf(), message: e.to_string() })?;
        Ok(Npz { path: path.to_path_buf(), archive })
    }

    /// The array names (member names without `.npy`), sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.archive.file_names().map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string()).collect();
        names.sort();
        names
    }

    /// How errors name a member: `archive.npz:name.npy`.
    pub(crate) fn member_path(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("{}:{name}.npy", self.path.display()))
    }

    /// The bytes of array `name` (member `name.npy`, or `name`).
    fn member(&mut self, name: &str) -> Result<Vec<u8>, TextError> {
        let file = format!("{name}.npy");
        let found = [file.as_str(), name].into_iter().find(|n| self.archive.index_for_name(n).is_some());
        let Some(found) = found else {
            return Err(TextError::MissingMember {
                path: self.path.clone(),
                member: name.to_string(),
                found: self.names(),
            });
        };
        let member_path = self.member_path(name);
        let zip_err = |m: String| TextError::Zip { path: member_path.clone(), message: m };
        let mut f = self.archive.by_name(found).map_err(|e| zip_err(e.to_string()))?;
        let size = f.size();
        // The directory entry's size is only a claim: reserve at most 64 MiB
        // up front, the rest grows with the bytes that really decompress.
        let mut out = Vec::with_capacity(size.min(1 << 26) as usize);
        let read = (&mut f).take(size).read_to_end(&mut out);
        drop(f);
        read.map_err(|e| zip_err(format!("cannot decompress: {e}")))?;
        if out.len() as u64 != size {
            return Err(zip_err(format!("member holds {} bytes but its directory entry says {size}", out.len())));
        }
        Ok(out)
    }

    /// Array `name` as integer sequences: a one-dimensional object array of
    /// lists of integers (one per sample), or a two-dimensional integer
    /// array (each row one sample, taken whole).
    pub(crate) fn sequences(&mut self, name: &str) -> Result<Vec<Vec<i64>>, TextError> {
        let bytes = self.member(name)?;
        let path = self.member_path(name);
        match parse_npy(&path, &bytes) {
            Ok((shape, values)) => {
                let &[n, len] = shape.as_slice() else {
                    return Err(TextError::layout(
                        &path,
                        format!(
                            "numeric array of shape {shape:?}; expected [samples, length] or an object array of lists"
                        ),
                    ));
                };
                if len == 0 && n > 0 {
                    // No data bounds `n` then: refuse rather than make `n` empty samples.
                    return Err(TextError::layout(
                        &path,
                        format!("numeric array of shape {shape:?} has samples of length 0; expected [samples, length]"),
                    ));
                }
                let ints = integers(&path, &values)?;
                Ok(if len == 0 { Vec::new() } else { ints.chunks(len).map(<[i64]>::to_vec).collect() })
            }
            Err(NpyError::UnsupportedDtype { descr, .. }) if descr == "|O" => {
                read_object_sequences(&path, &bytes[data_offset(&bytes)..])
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Array `name` as labels: a one-dimensional (or `[n, 1]`) array of
    /// class numbers (non-negative integers below [`MAX_CLASSES`]).
    pub(crate) fn labels(&mut self, name: &str) -> Result<Vec<u32>, TextError> {
        let bytes = self.member(name)?;
        let path = self.member_path(name);
        let (shape, values) = parse_npy(&path, &bytes)?;
        if !matches!(shape.as_slice(), [_] | [_, 1]) {
            return Err(TextError::layout(&path, format!("labels of shape {shape:?}; expected one label per sample")));
        }
        integers(&path, &values)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| match u32::try_from(v) {
                Ok(label) if label < MAX_CLASSES => Ok(label),
                Ok(_) => Err(TextError::layout(
                    &path,
                    format!("label {v} at index {i} is not below {MAX_CLASSES} (the most classes a data set may have)"),
                )),
                Err(_) => Err(TextError::layout(&path, format!("label {v} is not a class number"))),
            })
            .collect()
    }
}

/// Where the data starts after a `.npy` header that [`parse_npy`] accepted.
fn data_offset(bytes: &[u8]) -> usize {
    let at = match bytes {
        [_, _, _, _, _, _, 1, _, a, b, ..] => 10 + usize::from(u16::from_le_bytes([*a, *b])),
        [_, _, _, _, _, _, _, _, a, b, c, d, ..] => 12 + u32::from_le_bytes([*a, *b, *c, *d]) as usize,
        _ => bytes.len(),
    };
    at.min(bytes.len())
}

/// The values as integers (each must be one).
fn integers(path: &Path, values: &[f32]) -> Result<Vec<i64>, TextError> {
    values
        .iter()
        .map(|&v| {
            if v.fract() == 0.0 && v.is_finite() {
                Ok(v as i64)
            } else {
                Err(TextError::layout(path, format!("value {v} is not an integer")))
            }
        })
        .collect()
}
