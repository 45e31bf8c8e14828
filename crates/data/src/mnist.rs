//! MNIST: the IDX files of the original distribution and the 785-column CSV.

use std::path::Path;

use super::csv::{as_text, data_lines};
use super::{DataError, Dataset, read_bytes};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const MNIST_CSV_COLUMNS: usize = 785;

/// Loads MNIST images from an `idx3-ubyte` file and, optionally, their
/// labels from an `idx1-ubyte` file; either may be gzip-compressed.
///
/// Pixels are scaled from 0–255 to `[0, 1]`; a sample's `dims` are
/// `[rows, cols]` as stored in the header (`[28, 28]` for MNIST). The magic
/// numbers (`0x00000803` / `0x00000801`) are checked, and the data length
/// must match the header exactly, so a corrupt header is an error, never a
/// huge allocation (sizes are bounded by the file's length).
pub fn load_mnist_idx(images: &Path, labels: Option<&Path>) -> Result<Dataset, DataError> {
    let bytes = read_bytes(images)?;
    parse_idx_images(images, &bytes, labels)
}

/// Parses the bytes of an IDX images file and loads the labels file, if any.
pub(super) fn parse_idx_images(path: &Path, bytes: &[u8], labels: Option<&Path>) -> Result<Dataset, DataError> {
    let (dims, data) = parse_idx(path, bytes, IMAGES_MAGIC, 3)?;
    let (n, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(DataError::idx(path, format!("image size {rows}x{cols} is empty")));
    }
    let x = data.iter().map(|&b| f32::from(b) / 255.0).collect();
    let labels = match labels {
        None => None,
        Some(lp) => {
            let lbytes = read_bytes(lp)?;
            let (ldims, ldata) = parse_idx(lp, &lbytes, LABELS_MAGIC, 1)?;
            if ldims[0] != n {
                return Err(DataError::LabelCount {
                    image_path: path.to_path_buf(),
                    label_path: lp.to_path_buf(),
                    images: n,
                    labels: ldims[0],
                });
            }
            Some(ldata.iter().map(|&b| u32::from(b)).collect())
        }
    };
    Ok(Dataset { x, n, dims: vec![rows, cols], labels })
}

/// Checks an IDX header (magic, dimension count, sizes) and returns the
/// dimensions and the data bytes.
fn parse_idx<'a>(path: &Path, bytes: &'a [u8], magic: u32, ndims: usize) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let header_len = 4 + 4 * ndims;
    if bytes.len() < 4 {
        return Err(DataError::idx(path, format!("file is {} bytes, too short for the magic number", bytes.len())));
    }
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let found = word(0);
    if found != magic {
        let what = if magic == IMAGES_MAGIC { "images (idx3-ubyte)" } else { "labels (idx1-ubyte)" };
        return Err(DataError::idx(path, format!("bad magic 0x{found:08x}, expected 0x{magic:08x} for {what}")));
    }
    if bytes.len() < header_len {
        return Err(DataError::idx(
            path,
            format!("truncated header: {} bytes, the {ndims} dimensions need {header_len}", bytes.len()),
        ));
    }
    let dims: Vec<usize> = (0..ndims).map(|d| word(4 + 4 * d) as usize).collect();
    let available = bytes.len() - header_len;
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match expected {
        Some(e) if e == available => Ok((dims, &bytes[header_len..])),
        Some(e) if e > available => Err(DataError::idx(
            path,
            format!("header declares dimensions {dims:?} ({e} bytes of data) but the file holds only {available}"),
        )),
        Some(e) => Err(DataError::idx(
            path,
            format!("header declares dimensions {dims:?} ({e} bytes of data) but the file holds {available}"),
        )),
        None => Err(DataError::idx(path, format!("dimensions {dims:?} overflow"))),
    }
}

/// Loads the MNIST CSV format: 785 comma-separated integers per line, the
/// 784 pixels (0–255, scaled to `[0, 1]`) then the label; plain or gzip.
/// A first line that is not all numbers is skipped as a header; blank lines
/// are skipped. A wrong column count, a non-integer or a pixel outside
/// 0–255 is an error naming the line (and column). A sample's `dims` are `[784]`.
pub fn load_mnist_csv(path: &Path) -> Result<Dataset, DataError> {
    let bytes = read_bytes(path)?;
    parse_mnist_csv(path, as_text(path, &bytes)?)
}

/// Whether the first data line of `text` has 785 integer cells in 0–255.
pub(super) fn looks_like_mnist_csv(text: &str) -> bool {
    let mut lines = data_lines(text);
    let first = match lines.next() {
        Some((_, l)) if !is_numeric_line(l) => lines.next(),
        other => other,
    };
    first.is_some_and(|(_, l)| {
        let cells: Vec<&str> = l.split(',').collect();
        cells.len() == MNIST_CSV_COLUMNS && cells.iter().all(|c| c.trim().parse::<u8>().is_ok())
    })
}

fn is_numeric_line(line: &str) -> bool {
    line.split(',').all(|c| c.trim().parse::<f64>().is_ok())
}

/// Parses MNIST CSV text (see [`load_mnist_csv`]).
pub(super) fn parse_mnist_csv(path: &Path, text: &str) -> Result<Dataset, DataError> {
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for (i, (line_no, line)) in data_lines(text).enumerate() {
        if i == 0 && !is_numeric_line(line) {
            continue; // header
        }
        let count = line.split(',').count();
        if count != MNIST_CSV_COLUMNS {
            let msg = format!("expected {MNIST_CSV_COLUMNS} columns (784 pixels then the label), found {count}");
            return Err(DataError::csv(path, line_no, None, msg));
        }
        for (c, cell) in line.split(',').enumerate() {
            let cell = cell.trim();
            let v: i64 = cell
                .parse()
                .map_err(|_| DataError::csv(path, line_no, Some(c + 1), format!("{cell:?} is not an integer")))?;
            if c + 1 == MNIST_CSV_COLUMNS {
                let l = u32::try_from(v)
                    .map_err(|_| DataError::csv(path, line_no, Some(c + 1), format!("label {v} is negative")))?;
                labels.push(l);
            } else if (0..=255).contains(&v) {
                x.push(v as f32 / 255.0);
            } else {
                return Err(DataError::csv(path, line_no, Some(c + 1), format!("pixel value {v} is outside 0-255")));
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(Dataset { x, n: labels.len(), dims: vec![784], labels: Some(labels) })
}
