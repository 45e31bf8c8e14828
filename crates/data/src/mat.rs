//! MATLAB Level 5 MAT-files (the format of `save -v6` / `save -v7` and of
//! `scipy.io.savemat`), read whole into [`MatValue`]s.
//!
//! # Format
//!
//! A 128-byte header (116 bytes of text, 8 bytes of subsystem offset, the
//! version `0x0100` and the endian indicator: the bytes `IM` for a
//! little-endian file, `MI` for a big-endian one), then data elements. Each
//! element has an 8-byte tag (type and byte count, both `u32`) and data
//! padded to a multiple of 8 bytes; an element of at most 4 bytes may use the
//! *small element* format (type and count as two `u16` in the first 4 bytes,
//! the data in the next 4). A top-level element is an `miMATRIX` (one
//! variable) or an `miCOMPRESSED` holding a zlib stream of one `miMATRIX`.
//!
//! An `miMATRIX` holds the array flags (class, complex bit), the dimensions,
//! the name, then by class: the real values (numeric classes; MATLAB may
//! store them in a smaller integer type than the class, any numeric type is
//! accepted), the characters (`mxCHAR`: `miUTF8`, `miUTF16`, `miUINT16`,
//! `miUINT8`, `miUTF32`), one `miMATRIX` per cell (`mxCELL`), or the field
//! names and one `miMATRIX` per field per element (`mxSTRUCT`). Every array
//! is column-major (MATLAB order).
//!
//! Complex, sparse, object, function-handle and opaque arrays are kept as
//! [`MatValue::Unsupported`] (so that the other variables of a file still
//! load); MATLAB v7.3 files (HDF5) and v4 files are rejected with a message
//! saying so.
//!
//! # Robustness
//!
//! Every length read from the file is checked against the bytes that remain
//! before anything is allocated, nesting is limited to [`MAX_DEPTH`] levels,
//! and a compressed element (only whole variables may be compressed, as
//! MATLAB and scipy write them) is decompressed only up to the size its own
//! tag announces, so corrupt bytes give a [`DataError::Mat`] naming the file
//! and the variable, never a panic or an unbounded allocation.

use std::io::Read;
use std::path::Path;

use super::{DataError, read_bytes};

/// The deepest nesting of cells and structs accepted.
pub const MAX_DEPTH: usize = 64;

const HEADER_LEN: usize = 128;

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;
const MI_UTF16: u32 = 17;
const MI_UTF32: u32 = 18;

const MX_CELL: u32 = 1;
const MX_STRUCT: u32 = 2;
const MX_OBJECT: u32 = 3;
const MX_CHAR: u32 = 4;
const MX_SPARSE: u32 = 5;
const MX_DOUBLE: u32 = 6;
const MX_UINT64: u32 = 15;
const MX_FUNCTION: u32 = 16;
const MX_OPAQUE: u32 = 17;

/// One MATLAB array.
///
/// `dims` are MATLAB's dimensions (at least two, `[rows, columns, ...]`);
/// elements are in column-major order, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum MatValue {
    /// A numeric or logical array of any class (`double`, `single`,
    /// `int8` … `uint64`, `logical`), converted to `f64` (exact except for
    /// 64-bit integers beyond 2⁵³).
    Numeric {
        /// Dimensions.
        dims: Vec<usize>,
        /// The values, column-major.
        data: Vec<f64>,
    },
    /// A character array: one string per row (`dims[0]` rows of
    /// `product(dims[1..])` characters each, as stored, padding spaces kept).
    /// An empty character array (a zero dimension) has no rows.
    Char {
        /// Dimensions.
        dims: Vec<usize>,
        /// One string per row.
        text: Vec<String>,
    },
    /// A cell array.
    Cell {
        /// Dimensions.
        dims: Vec<usize>,
        /// The cells, column-major.
        items: Vec<MatValue>,
    },
    /// A struct array: the field names in file order, each with one value per
    /// struct element (column-major).
    Struct {
        /// Dimensions.
        dims: Vec<usize>,
        /// `(name, values)`, `values.len()` = the number of elements.
        fields: Vec<(String, Vec<MatValue>)>,
    },
    /// An array this reader does not decode (complex, sparse, object,
    /// function handle, opaque); `class` says which.
    Unsupported {
        /// Dimensions.
        dims: Vec<usize>,
        /// For example `"sparse"` or `"complex double"`.
        class: String,
    },
}

impl MatValue {
    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        match self {
            MatValue::Numeric { dims, .. }
            | MatValue::Char { dims, .. }
            | MatValue::Cell { dims, .. }
            | MatValue::Struct { dims, .. }
            | MatValue::Unsupported { dims, .. } => dims,
        }
    }

    /// What kind of array this is, for messages: `numeric`, `char`, `cell`,
    /// `struct`, or the unsupported class.
    pub fn kind(&self) -> &str {
        match self {
            MatValue::Numeric { .. } => "numeric",
            MatValue::Char { .. } => "char",
            MatValue::Cell { .. } => "cell",
            MatValue::Struct { .. } => "struct",
            MatValue::Unsupported { class, .. } => class,
        }
    }

    /// Field `name` of the first element of a struct array (`None` for
    /// anything else, an empty struct array or an absent field).
    pub fn field(&self, name: &str) -> Option<&MatValue> {
        match self {
            MatValue::Struct { fields, .. } => fields.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.first()),
            _ => None,
        }
    }

    /// A character array as one string: its rows joined by `\n` (a row
    /// vector gives its text, an empty array `""`); `None` for other kinds.
    pub fn as_text(&self) -> Option<String> {
        match self {
            MatValue::Char { text, .. } => Some(text.join("\n")),
            _ => None,
        }
    }
}

/// Reads a MAT-file (plain, or gzip-compressed as a whole): its variables
/// `(name, value)` in file order.
///
/// # Errors
/// [`DataError::Io`], [`DataError::Gzip`], and [`DataError::Mat`] naming
/// the file, the variable and what is wrong (see [`parse_mat`]).
pub fn read_mat(path: &Path) -> Result<Vec<(String, MatValue)>, DataError> {
    let bytes = read_bytes(path)?;
    parse_mat(path, &bytes)
}

/// Parses the bytes of a MAT-file (see [`read_mat`]); `path` names it in
/// errors.
///
/// # Errors
/// [`DataError::Mat`] for a file shorter than the header, without the
/// `IM`/`MI` indicator, of another version (v7.3 HDF5 files are named as
/// such), or with a truncated or malformed element, a corrupt zlib stream, an
/// unknown type or class, or nesting deeper than [`MAX_DEPTH`].
pub fn parse_mat(path: &Path, bytes: &[u8]) -> Result<Vec<(String, MatValue)>, DataError> {
    let err = |message: String| DataError::Mat { path: path.to_path_buf(), message };
    let big = check_header(bytes).map_err(|e| err(e.0))?;
    let mut r = Reader { bytes, pos: HEADER_LEN, big };
    let mut vars = Vec::new();
    while r.remaining() > 0 {
        if r.remaining() < 8 && bytes[r.pos..].iter().all(|&b| b == 0) {
            break;
        }
        let at = r.pos;
        let where_ = |e: Malformed| {
            let n = vars.len() + 1;
            err(format!("top-level element {n} (at byte {at}): {e}"))
        };
        let (ty, data) = r.element().map_err(where_)?;
        let (name, value) = match ty {
            MI_MATRIX => parse_matrix(data, big, 0),
            MI_COMPRESSED => decompress(data, big).and_then(|inner| {
                let mut ir = Reader { bytes: &inner, pos: 0, big };
                match ir.element()? {
                    (MI_MATRIX, d) => parse_matrix(d, big, 0),
                    (t, _) => {
                        Err(Malformed(format!("the compressed element holds a {} element, not a matrix", type_name(t))))
                    }
                }
            }),
            t => Err(Malformed(format!("expected a matrix or compressed element, found {}", type_name(t)))),
        }
        .map_err(where_)?;
        vars.push((name, value));
    }
    Ok(vars)
}

/// Checks the 128-byte header; `true` for a big-endian file.
fn check_header(bytes: &[u8]) -> Result<bool, Malformed> {
    if bytes.starts_with(b"\x89HDF") {
        return Err(Malformed(
            "this is an HDF5 file (MATLAB v7.3), which is not supported; save with -v7 or -v6".into(),
        ));
    }
    if bytes.len() < HEADER_LEN {
        return Err(Malformed(format!(
            "the file is {} bytes, shorter than the 128-byte header of a MATLAB 5 MAT-file",
            bytes.len()
        )));
    }
    let big = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => {
            return Err(Malformed(format!(
                "no endian indicator at bytes 126-127 (found {other:02x?}, expected \"IM\" or \"MI\"): \
                 not a MATLAB 5 MAT-file (v4 and text files are not supported)"
            )));
        }
    };
    let version =
        if big { u16::from_be_bytes([bytes[124], bytes[125]]) } else { u16::from_le_bytes([bytes[124], bytes[125]]) };
    match version {
        0x0100 => Ok(big),
        0x0200 => {
            Err(Malformed("this is a MATLAB v7.3 (HDF5) MAT-file, which is not supported; save with -v7 or -v6".into()))
        }
        v => Err(Malformed(format!("unsupported MAT-file version 0x{v:04x} (expected 0x0100)"))),
    }
}

/// Decompresses an `miCOMPRESSED` element's zlib stream: exactly the one
/// element it holds (tag and announced data), nothing more.
fn decompress(data: &[u8], big: bool) -> Result<Vec<u8>, Malformed> {
    let mut z = flate2::read::ZlibDecoder::new(data);
    let mut tag = [0u8; 8];
    z.read_exact(&mut tag).map_err(|e| Malformed(format!("bad zlib stream in a compressed element: {e}")))?;
    let first = read_u32(&tag[..4], big);
    let total = if first >> 16 != 0 { 8 } else { 8 + u64::from(read_u32(&tag[4..], big)) };
    let mut out = Vec::with_capacity(total.min(1 << 24) as usize);
    out.extend_from_slice(&tag);
    (&mut z)
        .take(total - 8)
        .read_to_end(&mut out)
        .map_err(|e| Malformed(format!("bad zlib stream in a compressed element: {e}")))?;
    if (out.len() as u64) < total {
        return Err(Malformed(format!(
            "the compressed element ends after {} bytes but its inner element announces {total}",
            out.len()
        )));
    }
    Ok(out)
}

/// What is wrong inside a MAT-file, before the file's name is added
/// ([`DataError::Mat`]); each level of nesting puts its place in front
/// (`variable `x`: cell 2: ...`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Malformed(String);

impl Malformed {
    /// The same fault, placed: `place: fault`.
    fn context(self, place: impl std::fmt::Display) -> Self {
        Malformed(format!("{place}: {}", self.0))
    }
}

/// Reads data elements from a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    big: bool,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The next element: its type and data (padding skipped).
    fn element(&mut self) -> Result<(u32, &'a [u8]), Malformed> {
        let rest = &self.bytes[self.pos..];
        if rest.len() < 8 {
            return Err(Malformed(format!(
                "truncated: {} bytes left where an 8-byte element tag was expected",
                rest.len()
            )));
        }
        let first = read_u32(&rest[..4], self.big);
        if first >> 16 != 0 {
            let (ty, n) = (first & 0xffff, (first >> 16) as usize);
            if n > 4 {
                return Err(Malformed(format!("small element of {} claims {n} bytes (at most 4 fit)", type_name(ty))));
            }
            self.pos += 8;
            return Ok((ty, &rest[4..4 + n]));
        }
        let n = read_u32(&rest[4..8], self.big) as usize;
        if n > rest.len() - 8 {
            return Err(Malformed(format!(
                "truncated: an element of type {} and {n} bytes but only {} bytes remain",
                type_name(first),
                rest.len() - 8
            )));
        }
        self.pos += 8 + n;
        if first != MI_COMPRESSED {
            self.pos = (self.pos + (8 - n % 8) % 8).min(self.bytes.len());
        }
        Ok((first, &rest[8..8 + n]))
    }

    /// The next element, which must be of type `want` (`what` names it).
    fn expect(&mut self, want: &[u32], what: &str) -> Result<&'a [u8], Malformed> {
        let (ty, data) = self.element().map_err(|e| e.context(what))?;
        if want.contains(&ty) {
            Ok(data)
        } else {
            Err(Malformed(format!("{what}: expected {}, found {}", type_name(want[0]), type_name(ty))))
        }
    }
}

fn read_u32(b: &[u8], big: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
}

/// A readable name of an element type.
fn type_name(ty: u32) -> String {
    let name = match ty {
        MI_INT8 => "miINT8",
        MI_UINT8 => "miUINT8",
        MI_INT16 => "miINT16",
        MI_UINT16 => "miUINT16",
        MI_INT32 => "miINT32",
        MI_UINT32 => "miUINT32",
        MI_SINGLE => "miSINGLE",
        MI_DOUBLE => "miDOUBLE",
        MI_INT64 => "miINT64",
        MI_UINT64 => "miUINT64",
        MI_MATRIX => "miMATRIX",
        MI_COMPRESSED => "miCOMPRESSED",
        MI_UTF8 => "miUTF8",
        MI_UTF16 => "miUTF16",
        MI_UTF32 => "miUTF32",
        _ => return format!("unknown type {ty}"),
    };
    name.to_string()
}

/// The contents of an `miMATRIX` element: its name and value.
fn parse_matrix(data: &[u8], big: bool, depth: usize) -> Result<(String, MatValue), Malformed> {
    if depth > MAX_DEPTH {
        return Err(Malformed(format!("cells and structs nested deeper than {MAX_DEPTH} levels")));
    }
    if data.is_empty() {
        // MATLAB writes empty fields and cells as an empty miMATRIX.
        return Ok((String::new(), MatValue::Numeric { dims: vec![0, 0], data: Vec::new() }));
    }
    let mut r = Reader { bytes: data, pos: 0, big };
    let flags = r.expect(&[MI_UINT32], "array flags")?;
    if flags.len() < 4 {
        return Err(Malformed(format!("array flags of {} bytes (expected 8)", flags.len())));
    }
    let flags = read_u32(flags, big);
    let (class, complex) = (flags & 0xff, flags & 0x800 != 0);
    let dims_data = r.expect(&[MI_INT32], "dimensions")?;
    if dims_data.len() % 4 != 0 || dims_data.is_empty() {
        return Err(Malformed(format!(
            "dimensions element of {} bytes (expected a positive multiple of 4)",
            dims_data.len()
        )));
    }
    let dims = dims_data
        .chunks_exact(4)
        .map(|c| {
            let d = read_u32(c, big) as i32;
            usize::try_from(d).map_err(|_| Malformed(format!("negative dimension {d}")))
        })
        .collect::<Result<Vec<usize>, Malformed>>()?;
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Malformed(format!("dimensions {dims:?} overflow")))?;
    let name_bytes = r.expect(&[MI_INT8, MI_UINT8], "array name")?;
    let name = String::from_utf8_lossy(name_bytes).trim_end_matches('\0').to_string();
    let in_var = |e: Malformed| if name.is_empty() { e } else { e.context(format_args!("variable `{name}`")) };
    let value = match class {
        MX_DOUBLE..=MX_UINT64 if complex => {
            let class = format!("complex {}", class_name(class));
            Ok(MatValue::Unsupported { dims, class })
        }
        MX_DOUBLE..=MX_UINT64 => numeric(&mut r, dims, count, class),
        MX_CHAR => chars(&mut r, dims, count),
        MX_CELL => cell(&mut r, dims, count, depth),
        MX_STRUCT => structure(&mut r, dims, count, depth),
        MX_OBJECT | MX_SPARSE | MX_FUNCTION | MX_OPAQUE => {
            Ok(MatValue::Unsupported { dims, class: class_name(class).to_string() })
        }
        c => Err(Malformed(format!("unknown array class {c}"))),
    }
    .map_err(in_var)?;
    Ok((name, value))
}

fn class_name(class: u32) -> &'static str {
    match class {
        MX_CELL => "cell",
        MX_STRUCT => "struct",
        MX_OBJECT => "object",
        MX_CHAR => "char",
        MX_SPARSE => "sparse",
        MX_DOUBLE => "double",
        7 => "single",
        8 => "int8",
        9 => "uint8",
        10 => "int16",
        11 => "uint16",
        12 => "int32",
        13 => "uint32",
        14 => "int64",
        MX_UINT64 => "uint64",
        MX_FUNCTION => "function handle",
        MX_OPAQUE => "opaque",
        _ => "unknown",
    }
}

/// The real part of a numeric array.
fn numeric(r: &mut Reader<'_>, dims: Vec<usize>, count: usize, class: u32) -> Result<MatValue, Malformed> {
    let what = format!("{} data", class_name(class));
    let (ty, bytes) = r.element().map_err(|e| e.context(&what))?;
    let data = numbers(ty, bytes, r.big).map_err(|e| e.context(&what))?;
    if data.len() != count {
        return Err(Malformed(format!(
            "{what}: dimensions {dims:?} need {count} values but {} are stored",
            data.len()
        )));
    }
    Ok(MatValue::Numeric { dims, data })
}

/// The values of a numeric element as `f64`.
fn numbers(ty: u32, b: &[u8], big: bool) -> Result<Vec<f64>, Malformed> {
    macro_rules! conv {
        ($t:ty, $n:expr) => {{
            if b.len() % $n != 0 {
                return Err(Malformed(format!("{} bytes are not a whole number of {}", b.len(), type_name(ty))));
            }
            b.chunks_exact($n)
                .map(|c| {
                    let a: [u8; $n] = c.try_into().unwrap_or([0; $n]);
                    (if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }) as f64
                })
                .collect()
        }};
    }
    Ok(match ty {
        MI_INT8 => b.iter().map(|&v| f64::from(v as i8)).collect(),
        MI_UINT8 => b.iter().map(|&v| f64::from(v)).collect(),
        MI_INT16 => conv!(i16, 2),
        MI_UINT16 => conv!(u16, 2),
        MI_INT32 => conv!(i32, 4),
        MI_UINT32 => conv!(u32, 4),
        MI_SINGLE => conv!(f32, 4),
        MI_DOUBLE => conv!(f64, 8),
        MI_INT64 => conv!(i64, 8),
        MI_UINT64 => conv!(u64, 8),
        t => return Err(Malformed(format!("{} is not a numeric type", type_name(t)))),
    })
}

/// A character array: rows of characters.
fn chars(r: &mut Reader<'_>, dims: Vec<usize>, count: usize) -> Result<MatValue, Malformed> {
    if count == 0 {
        return Ok(MatValue::Char { dims, text: Vec::new() });
    }
    let (ty, b) = r.element().map_err(|e| e.context("char data"))?;
    let big = r.big;
    let whole = |n: usize| {
        if b.len() % n == 0 {
            Ok(())
        } else {
            Err(Malformed(format!("char data of {} bytes is not a whole number of {}", b.len(), type_name(ty))))
        }
    };
    // Code units: UTF-16 units (decoded per row) or whole characters.
    let (units, utf16): (Vec<u32>, bool) = match ty {
        MI_UTF8 => (String::from_utf8_lossy(b).chars().map(u32::from).collect(), false),
        MI_UINT8 | MI_INT8 => (b.iter().map(|&c| u32::from(c)).collect(), false),
        MI_UTF16 | MI_UINT16 => {
            whole(2)?;
            let units = b
                .chunks_exact(2)
                .map(|c| {
                    u32::from(if big { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
                })
                .collect();
            (units, true)
        }
        MI_UTF32 | MI_UINT32 => {
            whole(4)?;
            (b.chunks_exact(4).map(|c| read_u32(c, big)).collect(), false)
        }
        t => return Err(Malformed(format!("char data: {} is not a character type", type_name(t)))),
    };
    if units.len() != count {
        return Err(Malformed(format!(
            "char data: dimensions {dims:?} need {count} characters but {} are stored",
            units.len()
        )));
    }
    let rows = dims[0];
    let cols = count / rows;
    let text = (0..rows)
        .map(|i| {
            let row = (0..cols).map(|j| units[i + j * rows]);
            if utf16 {
                String::from_utf16_lossy(&row.map(|u| u as u16).collect::<Vec<u16>>())
            } else {
                row.map(|u| char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
            }
        })
        .collect();
    Ok(MatValue::Char { dims, text })
}

/// Checks that `n` more elements can be present (each takes at least an
/// 8-byte tag) before allocating room for them.
fn room(r: &Reader<'_>, n: usize, what: &str) -> Result<(), Malformed> {
    match n.checked_mul(8) {
        Some(bytes) if bytes <= r.remaining() => Ok(()),
        _ => Err(Malformed(format!("truncated: {n} {what} cannot fit in the {} bytes that remain", r.remaining()))),
    }
}

/// The next element as a nested array (its own name is ignored).
fn nested(r: &mut Reader<'_>, depth: usize) -> Result<MatValue, Malformed> {
    let big = r.big;
    match r.element()? {
        (MI_MATRIX, d) => parse_matrix(d, big, depth + 1).map(|(_, v)| v),
        // Only whole variables are compressed; refusing nested streams also
        // keeps the memory a file can claim bounded.
        (MI_COMPRESSED, _) => {
            Err(Malformed("a compressed element inside a variable (only whole variables may be)".into()))
        }
        (t, _) => Err(Malformed(format!("expected a matrix element, found {}", type_name(t)))),
    }
}

fn cell(r: &mut Reader<'_>, dims: Vec<usize>, count: usize, depth: usize) -> Result<MatValue, Malformed> {
    room(r, count, "cells")?;
    let items = (0..count)
        .map(|i| nested(r, depth).map_err(|e| e.context(format_args!("cell {}", i + 1))))
        .collect::<Result<Vec<_>, Malformed>>()?;
    Ok(MatValue::Cell { dims, items })
}

fn structure(r: &mut Reader<'_>, dims: Vec<usize>, count: usize, depth: usize) -> Result<MatValue, Malformed> {
    let len = r.expect(&[MI_INT32], "field name length")?;
    if len.len() != 4 {
        return Err(Malformed(format!("field name length element of {} bytes (expected 4)", len.len())));
    }
    let len = read_u32(len, r.big) as usize;
    let names = r.expect(&[MI_INT8, MI_UINT8], "field names")?;
    if len == 0 {
        return Err(Malformed("field name length is 0".into()));
    }
    if names.len() % len != 0 {
        return Err(Malformed(format!(
            "field names of {} bytes are not a whole number of {len}-byte names",
            names.len()
        )));
    }
    let names: Vec<String> = names
        .chunks_exact(len)
        .map(|n| {
            let end = n.iter().position(|&b| b == 0).unwrap_or(n.len());
            String::from_utf8_lossy(&n[..end]).into_owned()
        })
        .collect();
    let total = count.checked_mul(names.len()).ok_or_else(|| Malformed("struct dimensions overflow".into()))?;
    room(r, total, "struct field values")?;
    let mut values: Vec<Vec<MatValue>> = names.iter().map(|_| Vec::with_capacity(count)).collect();
    for e in 0..count {
        for (f, name) in names.iter().enumerate() {
            let v = nested(r, depth).map_err(|err| {
                if count == 1 {
                    err.context(format_args!("field `{name}`"))
                } else {
                    err.context(format_args!("element {}, field `{name}`", e + 1))
                }
            })?;
            values[f].push(v);
        }
    }
    Ok(MatValue::Struct { dims, fields: names.into_iter().zip(values).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian element: tag, data, padding.
    fn el(ty: u32, data: &[u8]) -> Vec<u8> {
        let mut v = ty.to_le_bytes().to_vec();
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v.resize(v.len().div_ceil(8) * 8, 0);
        v
    }

    fn header() -> Vec<u8> {
        let mut h = b"MATLAB 5.0 MAT-file, test".to_vec();
        h.resize(124, b' ');
        h.extend_from_slice(&0x0100u16.to_le_bytes());
        h.extend_from_slice(b"IM");
        h
    }

    fn matrix(class: u32, dims: &[i32], name: &str, rest: &[u8]) -> Vec<u8> {
        let mut body = el(MI_UINT32, &[class as u8, 0, 0, 0, 0, 0, 0, 0]);
        body.extend(el(MI_INT32, &dims.iter().flat_map(|d| d.to_le_bytes()).collect::<Vec<u8>>()));
        body.extend(el(MI_INT8, name.as_bytes()));
        body.extend_from_slice(rest);
        el(MI_MATRIX, &body)
    }

    #[test]
    fn reads_a_hand_built_double_with_small_elements() {
        let mut f = header();
        // The data as a small element: two int8 values in the tag.
        let mut small = (MI_INT8 | (2 << 16)).to_le_bytes().to_vec();
        small.extend_from_slice(&[7, 0xfe, 0, 0]);
        f.extend(matrix(MX_DOUBLE, &[1, 2], "x", &small));
        let vars = parse_mat(Path::new("t.mat"), &f).expect("parses");
        assert_eq!(vars, vec![("x".into(), MatValue::Numeric { dims: vec![1, 2], data: vec![7.0, -2.0] })]);
    }

    #[test]
    fn huge_dimensions_are_an_error_not_an_allocation() {
        let mut f = header();
        f.extend(matrix(MX_CELL, &[1 << 20, 1 << 20], "c", &[]));
        let e = parse_mat(Path::new("t.mat"), &f).unwrap_err().to_string();
        assert!(e.contains("t.mat") && e.contains("cannot fit"), "{e}");
        let mut f = header();
        f.extend(matrix(MX_DOUBLE, &[i32::MAX, i32::MAX], "d", &el(MI_DOUBLE, &[0; 8])));
        let e = parse_mat(Path::new("t.mat"), &f).unwrap_err().to_string();
        assert!(e.contains("values"), "{e}");
    }

    #[test]
    fn a_compressed_element_is_read_only_as_far_as_it_claims() {
        use std::io::Write;
        let compress = |inner: &[u8]| {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(inner).expect("compress");
            el(MI_COMPRESSED, &z.finish().expect("compress"))
        };
        let var = matrix(MX_DOUBLE, &[1, 1], "x", &el(MI_DOUBLE, &2.5f64.to_le_bytes()));
        let mut f = header();
        f.extend(compress(&var));
        let vars = parse_mat(Path::new("t.mat"), &f).expect("parses");
        assert_eq!(vars, vec![("x".into(), MatValue::Numeric { dims: vec![1, 1], data: vec![2.5] })]);
        // An inner tag claiming almost 4 GiB over a few bytes of data.
        let mut lie = var.clone();
        lie[4..8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        let mut f = header();
        f.extend(compress(&lie));
        let e = parse_mat(Path::new("t.mat"), &f).unwrap_err().to_string();
        assert!(e.contains("ends after"), "{e}");
        // A compressed element inside a cell is refused.
        let mut f = header();
        f.extend(matrix(MX_CELL, &[1, 1], "c", &compress(&var)));
        let e = parse_mat(Path::new("t.mat"), &f).unwrap_err().to_string();
        assert!(e.contains("variable `c`: cell 1: a compressed element inside a variable"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut inner = matrix(MX_DOUBLE, &[0, 0], "", &el(MI_DOUBLE, &[]));
        for _ in 0..(MAX_DEPTH + 2) {
            inner = matrix(MX_CELL, &[1, 1], "", &inner);
        }
        let mut f = header();
        f.extend(inner);
        let e = parse_mat(Path::new("t.mat"), &f).unwrap_err().to_string();
        assert!(e.contains("nested deeper"), "{e}");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut f = header();
        let mut s = Vec::new();
        for c in "hello".encode_utf16() {
            s.extend_from_slice(&c.to_le_bytes());
        }
        f.extend(matrix(MX_CHAR, &[1, 5], "s", &el(MI_UINT16, &s)));
        let vars = parse_mat(Path::new("t.mat"), &f).expect("parses");
        assert_eq!(vars[0].1.as_text().as_deref(), Some("hello"));
        for cut in 0..f.len() {
            let got = parse_mat(Path::new("t.mat"), &f[..cut]);
            if cut == HEADER_LEN {
                assert_eq!(got.expect("a header alone is an empty file"), Vec::new());
            } else {
                assert!(got.is_err(), "cut at {cut}");
            }
        }
        // Every single-byte corruption is handled (error or value), never a panic.
        for i in 128..f.len() {
            for b in [0u8, 0xff, 0x7f, 0x10] {
                let mut g = f.clone();
                g[i] = b;
                let _ = parse_mat(Path::new("t.mat"), &g);
            }
        }
    }
}
