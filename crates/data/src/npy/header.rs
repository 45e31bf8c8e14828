//! The `.npy` header: parsing the Python-literal dictionary, and encoding it.

use std::path::Path;

use super::{MAGIC, NpyError};

/// The fields of a `.npy` header that matter here.
pub(super) struct Header {
    pub(super) descr: String,
    pub(super) fortran_order: bool,
    pub(super) shape: Vec<usize>,
    pub(super) data_offset: usize,
}

/// Checks the magic and version and parses the header dictionary.
pub(super) fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header, NpyError> {
    let bad = |m: &str| NpyError::BadHeader { path: path.to_path_buf(), message: m.to_string() };
    if bytes.len() < 8 || &bytes[..6] != MAGIC {
        return Err(NpyError::BadMagic { path: path.to_path_buf() });
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len, start): (usize, usize) = match (major, minor) {
        (1, 0) if bytes.len() >= 10 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        (2 | 3, 0) if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        (1..=3, 0) => return Err(bad("truncated before the header length")),
        _ => return Err(NpyError::UnsupportedVersion { path: path.to_path_buf(), major, minor }),
    };
    let end = start.checked_add(len).filter(|&e| e <= bytes.len()).ok_or_else(|| bad("truncated header"))?;
    let text = std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not text"))?;
    let mut p = Lexer { path, s: text.trim_end().as_bytes(), i: 0, depth: 0 };
    let Lit::Dict(entries) = p.value()? else {
        return Err(bad("header is not a dictionary"));
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (k, v) in entries {
        match (k.as_str(), v) {
            ("descr", Lit::Str(d)) => descr = Some(d),
            ("descr", _) => descr = Some("<structured>".to_string()),
            ("fortran_order", Lit::Bool(b)) => fortran = Some(b),
            ("shape", Lit::Tuple(dims)) => {
                let dims: Option<Vec<usize>> = dims
                    .into_iter()
                    .map(|d| if let Lit::Int(i) = d { usize::try_from(i).ok() } else { None })
                    .collect();
                shape = Some(dims.ok_or_else(|| bad("shape holds something other than sizes"))?);
            }
            (key, _) => return Err(bad(&format!("unexpected or malformed entry {key:?}"))),
        }
    }
    match (descr, fortran, shape) {
        (Some(descr), Some(fortran_order), Some(shape)) => Ok(Header { descr, fortran_order, shape, data_offset: end }),
        _ => Err(bad("missing one of 'descr', 'fortran_order', 'shape'")),
    }
}

/// `magic, version 1.0 (2.0 if the header is too long), length, dictionary`,
/// padded with spaces and a newline to a multiple of 64 bytes.
pub(super) fn encode_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let prefix = if dict.len() + 11 <= usize::from(u16::MAX) { 10 } else { 12 };
    let total = (prefix + dict.len() + 1).div_ceil(64) * 64;
    dict.extend(std::iter::repeat_n(' ', total - prefix - dict.len() - 1));
    dict.push('\n');
    let mut out = MAGIC.to_vec();
    if prefix == 10 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out
}

/// A Python literal as found in `.npy` headers.
enum Lit {
    Str(String),
    Bool(bool),
    Int(u64),
    Tuple(Vec<Lit>),
    Dict(Vec<(String, Lit)>),
}

/// A recursive-descent reader of the Python literals in a `.npy` header.
struct Lexer<'a> {
    /// The file, for errors.
    path: &'a Path,
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Lexer<'_> {
    /// A [`NpyError::BadHeader`] saying `message`.
    fn bad(&self, message: impl Into<String>) -> NpyError {
        NpyError::BadHeader { path: self.path.to_path_buf(), message: message.into() }
    }

    fn peek(&mut self) -> Option<u8> {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }

    fn value(&mut self) -> Result<Lit, NpyError> {
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let len =
                    self.s[self.i..].iter().position(|&c| c == q).ok_or_else(|| self.bad("unterminated string"))?;
                let text = String::from_utf8_lossy(&self.s[self.i..self.i + len]).into_owned();
                self.i += len + 1;
                Ok(Lit::Str(text))
            }
            Some(open @ (b'(' | b'[' | b'{')) => {
                self.i += 1;
                self.depth += 1;
                if self.depth > 4 {
                    return Err(self.bad("nested too deeply"));
                }
                let close = match open {
                    b'(' => b')',
                    b'[' => b']',
                    _ => b'}',
                };
                let (mut items, mut entries) = (Vec::new(), Vec::new());
                while !self.eat(close) {
                    let v = self.value()?;
                    if open == b'{' {
                        let Lit::Str(key) = v else { return Err(self.bad("dictionary key is not a string")) };
                        if !self.eat(b':') {
                            return Err(self.bad("expected ':' after a key"));
                        }
                        entries.push((key, self.value()?));
                    } else {
                        items.push(v);
                    }
                    if !self.eat(b',') && self.peek() != Some(close) {
                        return Err(self.bad(format!("expected ',' or '{}'", close as char)));
                    }
                }
                self.depth -= 1;
                Ok(if open == b'{' { Lit::Dict(entries) } else { Lit::Tuple(items) })
            }
            Some(b'0'..=b'9') => {
                let len = self.s[self.i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let digits = std::str::from_utf8(&self.s[self.i..self.i + len]).map_err(|e| self.bad(e.to_string()))?;
                self.i += len;
                digits.parse().map(Lit::Int).map_err(|_| self.bad(format!("size {digits} is too large")))
            }
            Some(_) if self.s[self.i..].starts_with(b"True") => {
                self.i += 4;
                Ok(Lit::Bool(true))
            }
            Some(_) if self.s[self.i..].starts_with(b"False") => {
                self.i += 5;
                Ok(Lit::Bool(false))
            }
            Some(c) => Err(self.bad(format!("unexpected character {:?}", c as char))),
            None => Err(self.bad("unexpected end of header")),
        }
    }
}
