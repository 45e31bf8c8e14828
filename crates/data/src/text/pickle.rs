//! A small, safe reader of the pickles `np.save` writes for a one-dimensional
//! object array of lists of integers (the Keras IMDB `x_*` arrays).
//!
//! It is a stack machine over the pickle opcodes of protocols 2–5 that such
//! a pickle uses, and nothing else: it never imports or calls anything. The
//! only globals it accepts are `numpy.core.multiarray._reconstruct` (or
//! `numpy._core…`), `numpy.ndarray`, `numpy.dtype`, `numpy…scalar` (numpy
//! integer scalars inside the lists) and `_codecs.encode` (how protocol 2
//! spells bytes); their "calls" are interpreted here, with their arguments
//! checked. Every other opcode or global is refused with an error naming it.
//! Memory stays proportional to the input: every value costs at least one
//! input byte, and lists shared through the memo may not add up to more
//! integers than the input has bytes.

use std::collections::HashMap;
use std::path::Path;

use super::TextError;

/// A value on the stack: small ones inline, the rest in the arena.
#[derive(Clone, Copy, Debug)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Obj(usize),
}

/// A global this reader knows how to interpret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Global {
    Reconstruct,
    Ndarray,
    Dtype,
    Scalar,
    CodecsEncode,
}

/// An object value.
#[derive(Debug)]
enum Obj {
    Str(String),
    /// Bytes, and Python 2 `str` (`BINSTRING`).
    Bytes(Vec<u8>),
    Global(Global),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dtype {
        descr: String,
        /// The byte-order character from the dtype's state (`<`, `>`, `|`, `=`).
        order: Option<u8>,
    },
    Array {
        shape: Vec<usize>,
        /// The object elements, once the array's state is set.
        items: Option<Vec<Value>>,
    },
}

/// Reads the pickle of a one-dimensional object array whose elements are
/// lists (or tuples) of integers; `path` names the file in errors.
pub(crate) fn read_object_sequences(path: &Path, bytes: &[u8]) -> Result<Vec<Vec<i64>>, TextError> {
    let mut vm = Vm {
        path,
        bytes,
        pos: 0,
        op_at: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        arena: Vec::new(),
    };
    let top = vm.run()?;
    vm.sequences(top)
}

struct Vm<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pos: usize,
    /// Where the opcode being run starts (for errors).
    op_at: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
    arena: Vec<Obj>,
}

type R<T> = Result<T, TextError>;

impl<'a> Vm<'a> {
    fn err(&self, message: impl Into<String>) -> TextError {
        TextError::Pickle { path: self.path.to_path_buf(), offset: self.op_at, message: message.into() }
    }

    fn take(&mut self, n: u64) -> R<&'a [u8]> {
        let left = self.bytes.len() - self.pos;
        if n > left as u64 {
            return Err(self.err(format!("truncated: {n} more bytes needed but only {left} remain")));
        }
        let s = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> R<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> R<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    /// A signed 32-bit length (negative is an error).
    fn len_i32(&mut self) -> R<u64> {
        let n = self.u32()? as i32;
        u64::try_from(n).map_err(|_| self.err(format!("negative length {n}")))
    }

    fn line(&mut self) -> R<&'a str> {
        let rest = &self.bytes[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(self.err("truncated: GLOBAL name without its line end"));
        };
        self.pos += end + 1;
        std::str::from_utf8(&rest[..end]).map_err(|_| self.err("GLOBAL name is not text"))
    }

    fn obj(&mut self, o: Obj) -> Value {
        self.arena.push(o);
        Value::Obj(self.arena.len() - 1)
    }

    fn push_obj(&mut self, o: Obj) {
        let v = self.obj(o);
        self.stack.push(v);
    }

    fn pop(&mut self) -> R<Value> {
        if self.stack.len() <= self.marks.last().copied().unwrap_or(0) {
            return Err(self.err("stack underflow"));
        }
        self.stack.pop().ok_or_else(|| self.err("stack underflow"))
    }

    fn pop_mark(&mut self) -> R<Vec<Value>> {
        let Some(m) = self.marks.pop() else {
            return Err(self.err("no MARK to pop to"));
        };
        Ok(self.stack.split_off(m))
    }

    fn top(&self) -> R<Value> {
        match self.stack.last() {
            Some(&v) if self.stack.len() > self.marks.last().copied().unwrap_or(0) => Ok(v),
            _ => Err(self.err("stack underflow")),
        }
    }

    fn text(&self, v: Value) -> Option<&str> {
        match v {
            Value::Obj(i) => match &self.arena[i] {
                Obj::Str(s) => Some(s),
                Obj::Bytes(b) => std::str::from_utf8(b).ok(),
                _ => None,
            },
            _ => None,
        }
    }

    fn bytes_of(&self, v: Value) -> Option<&[u8]> {
        match v {
            Value::Obj(i) => match &self.arena[i] {
                Obj::Bytes(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    fn tuple(&self, v: Value) -> Option<&[Value]> {
        match v {
            Value::Obj(i) => match &self.arena[i] {
                Obj::Tuple(t) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }

    fn describe(&self, v: Value) -> &'static str {
        match v {
            Value::None => "None",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an int",
            Value::Obj(i) => match &self.arena[i] {
                Obj::Str(_) => "a str",
                Obj::Bytes(_) => "bytes",
                Obj::Global(_) => "a global",
                Obj::Tuple(_) => "a tuple",
                Obj::List(_) => "a list",
                Obj::Dtype { .. } => "a numpy dtype",
                Obj::Array { .. } => "a numpy array",
            },
        }
    }

    fn global(&self, module: &str, name: &str) -> R<Global> {
        let numpy_core = matches!(module, "numpy.core.multiarray" | "numpy._core.multiarray");
        Ok(match (module, name) {
            (_, "_reconstruct") if numpy_core => Global::Reconstruct,
            (_, "scalar") if numpy_core => Global::Scalar,
            ("numpy", "ndarray") => Global::Ndarray,
            ("numpy", "dtype") => Global::Dtype,
            ("_codecs", "encode") => Global::CodecsEncode,
            _ => {
                return Err(self.err(format!(
                    "refusing global {module}.{name}: only the numpy array globals of an object array are accepted"
                )));
            }
        })
    }

    fn int_bytes(&self, b: &[u8]) -> R<i64> {
        if b.len() > 8 {
            return Err(self.err(format!("integer of {} bytes is too large", b.len())));
        }
        let fill = if b.last().is_some_and(|&x| x & 0x80 != 0) { 0xff } else { 0 };
        let mut full = [fill; 8];
        full[..b.len()].copy_from_slice(b);
        Ok(i64::from_le_bytes(full))
    }

    /// Runs to `STOP` and returns the value on top.
    fn run(&mut self) -> R<Value> {
        loop {
            self.op_at = self.pos;
            let op = self.u8().map_err(|_| self.err("truncated: the pickle ends without STOP"))?;
            match op {
                0x80 => {
                    let v = self.u8()?;
                    if !(2..=5).contains(&v) {
                        return Err(self.err(format!("unsupported pickle protocol {v} (2 to 5 are read)")));
                    }
                }
                0x95 => {
                    let n = self.u64()?;
                    if n > (self.bytes.len() - self.pos) as u64 {
                        return Err(self.err(format!("truncated: FRAME of {n} bytes runs past the end")));
                    }
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let g = self.global(module, name)?;
                    self.push_obj(Obj::Global(g));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(m), Some(n)) = (self.text(module), self.text(name)) else {
                        return Err(self.err("STACK_GLOBAL needs two strings"));
                    };
                    let g = self.global(m, n)?;
                    self.push_obj(Obj::Global(g));
                }
                b'X' | 0x8c | 0x8d => {
                    let n = match op {
                        b'X' => u64::from(self.u32()?),
                        0x8c => u64::from(self.u8()?),
                        _ => self.u64()?,
                    };
                    let raw = self.take(n)?;
                    let s = std::str::from_utf8(raw).map_err(|_| self.err("string is not valid UTF-8"))?;
                    self.push_obj(Obj::Str(s.to_string()));
                }
                b'T' | b'U' | b'C' | b'B' | 0x8e => {
                    let n = match op {
                        b'T' => self.len_i32()?,
                        b'U' | b'C' => u64::from(self.u8()?),
                        b'B' => u64::from(self.u32()?),
                        _ => self.u64()?,
                    };
                    let raw = self.take(n)?.to_vec();
                    self.push_obj(Obj::Bytes(raw));
                }
                b'q' | b'r' | 0x94 => {
                    let key = match op {
                        b'q' => u32::from(self.u8()?),
                        b'r' => self.u32()?,
                        _ => u32::try_from(self.memo.len()).map_err(|_| self.err("memo is full"))?,
                    };
                    let v = self.top()?;
                    self.memo.insert(key, v);
                }
                b'h' | b'j' => {
                    let key = if op == b'h' { u32::from(self.u8()?) } else { self.u32()? };
                    let v = *self.memo.get(&key).ok_or_else(|| self.err(format!("memo entry {key} is not set")))?;
                    self.stack.push(v);
                }
                b'(' => self.marks.push(self.stack.len()),
                b')' => self.push_obj(Obj::Tuple(Vec::new())),
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push_obj(Obj::Tuple(items));
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.push_obj(Obj::Tuple(items));
                }
                b']' => self.push_obj(Obj::List(Vec::new())),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push_obj(Obj::List(items));
                }
                b'a' | b'e' => {
                    let items = if op == b'a' { vec![self.pop()?] } else { self.pop_mark()? };
                    let target = self.top()?;
                    match target {
                        Value::Obj(i) if matches!(self.arena[i], Obj::List(_)) => {
                            if let Obj::List(list) = &mut self.arena[i] {
                                list.extend(items);
                            }
                        }
                        other => return Err(self.err(format!("APPEND to {}, not a list", self.describe(other)))),
                    }
                }
                b'J' => {
                    let v = self.u32()? as i32;
                    self.stack.push(Value::Int(v.into()));
                }
                b'K' => {
                    let v = self.u8()?;
                    self.stack.push(Value::Int(v.into()));
                }
                b'M' => {
                    let b = self.take(2)?;
                    self.stack.push(Value::Int(u16::from_le_bytes([b[0], b[1]]).into()));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a { u64::from(self.u8()?) } else { self.len_i32()? };
                    let raw = self.take(n)?;
                    let v = self.int_bytes(raw)?;
                    self.stack.push(Value::Int(v));
                }
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'N' => self.stack.push(Value::None),
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let v = self.reduce(callable, args)?;
                    self.stack.push(v);
                }
                b'b' => {
                    let state = self.pop()?;
                    let target = self.top()?;
                    self.build(target, state)?;
                }
                b'.' => {
                    let v = self.pop()?;
                    return Ok(v);
                }
                _ => {
                    return Err(self.err(format!(
                        "opcode {} (0x{op:02x}) is not allowed: only the opcodes numpy writes for an \
                         object array of lists of integers are read",
                        opcode_name(op)
                    )));
                }
            }
        }
    }

    /// Interprets `callable(*args)` for the accepted globals.
    fn reduce(&mut self, callable: Value, args: Value) -> R<Value> {
        let g = match callable {
            Value::Obj(i) => match self.arena[i] {
                Obj::Global(g) => g,
                _ => return Err(self.err(format!("REDUCE calls {}", self.describe(callable)))),
            },
            _ => return Err(self.err(format!("REDUCE calls {}", self.describe(callable)))),
        };
        let Some(args) = self.tuple(args).map(<[Value]>::to_vec) else {
            return Err(self.err("REDUCE arguments are not a tuple"));
        };
        match (g, args.as_slice()) {
            (Global::Reconstruct, &[cls, shape, code]) => {
                let is_ndarray = matches!(cls, Value::Obj(i) if matches!(self.arena[i], Obj::Global(Global::Ndarray)));
                if !is_ndarray || self.tuple(shape).is_none() || self.bytes_of(code).is_none() {
                    return Err(self.err("numpy _reconstruct with unexpected arguments"));
                }
                Ok(self.obj(Obj::Array { shape: Vec::new(), items: None }))
            }
            (Global::Dtype, &[descr, _, _]) => {
                let descr = self.text(descr).ok_or_else(|| self.err("numpy dtype name is not a string"))?.to_string();
                Ok(self.obj(Obj::Dtype { descr, order: None }))
            }
            (Global::CodecsEncode, &[text, encoding]) => {
                let (Some(t), Some("latin1" | "latin-1")) = (self.text(text), self.text(encoding)) else {
                    return Err(self.err("_codecs.encode is only read for a string and 'latin1'"));
                };
                let bytes: Option<Vec<u8>> = t.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
                let bytes = bytes.ok_or_else(|| self.err("_codecs.encode of a character beyond latin-1"))?;
                Ok(self.obj(Obj::Bytes(bytes)))
            }
            (Global::Scalar, &[dtype, data]) => self.scalar(dtype, data),
            (g, _) => Err(self.err(format!("cannot call {g:?} with {} arguments", args.len()))),
        }
    }

    /// A numpy integer scalar: `scalar(dtype, raw bytes)`.
    fn scalar(&self, dtype: Value, data: Value) -> R<Value> {
        let (descr, order) = match dtype {
            Value::Obj(i) => match &self.arena[i] {
                Obj::Dtype { descr, order } => (descr.as_str(), *order),
                _ => return Err(self.err("numpy scalar without a dtype")),
            },
            _ => return Err(self.err("numpy scalar without a dtype")),
        };
        let raw = self.bytes_of(data).ok_or_else(|| self.err("numpy scalar data is not bytes"))?;
        let (signed, size) = match descr {
            "i1" => (true, 1),
            "i2" => (true, 2),
            "i4" => (true, 4),
            "i8" => (true, 8),
            "u1" => (false, 1),
            "u2" => (false, 2),
            "u4" => (false, 4),
            "u8" => (false, 8),
            _ => return Err(self.err(format!("numpy scalar of dtype {descr:?} is not an integer"))),
        };
        if raw.len() != size {
            return Err(self.err(format!("numpy {descr} scalar of {} bytes", raw.len())));
        }
        let mut le = raw.to_vec();
        if order == Some(b'>') {
            le.reverse();
        }
        let mut full = [0u8; 8];
        full[..size].copy_from_slice(&le);
        if signed && le[size - 1] & 0x80 != 0 {
            full[size..].fill(0xff);
        }
        if !signed && size == 8 && full[7] & 0x80 != 0 {
            return Err(self.err("numpy u8 scalar beyond the i64 range"));
        }
        Ok(Value::Int(i64::from_le_bytes(full)))
    }

    /// Interprets `BUILD` (`__setstate__`) of a dtype or an array.
    fn build(&mut self, target: Value, state: Value) -> R<()> {
        let Value::Obj(t) = target else {
            return Err(self.err(format!("BUILD on {}", self.describe(target))));
        };
        let Some(st) = self.tuple(state).map(<[Value]>::to_vec) else {
            return Err(self.err("BUILD state is not a tuple"));
        };
        match self.arena[t] {
            Obj::Dtype { .. } => {
                let order = st.get(1).and_then(|&v| self.text(v)).and_then(|s| s.bytes().next());
                if !matches!(order, Some(b'<' | b'>' | b'|' | b'=')) {
                    return Err(self.err("numpy dtype state without a byte order"));
                }
                if let Obj::Dtype { order: o, .. } = &mut self.arena[t] {
                    *o = order;
                }
                Ok(())
            }
            Obj::Array { .. } => {
                // (version, shape, dtype, is_fortran, data), or without version.
                let st = if st.len() == 5 { &st[1..] } else { &st[..] };
                let &[shape, dtype, fortran, data] = st else {
                    return Err(self.err(format!("numpy array state of {} items", st.len())));
                };
                let shape = self.tuple(shape).ok_or_else(|| self.err("numpy array shape is not a tuple"))?;
                let shape: Option<Vec<usize>> =
                    shape.iter().map(|&d| if let Value::Int(d) = d { usize::try_from(d).ok() } else { None }).collect();
                let shape = shape.ok_or_else(|| self.err("numpy array shape holds something other than sizes"))?;
                if matches!(fortran, Value::Bool(true)) && shape.len() > 1 {
                    return Err(self.err("Fortran-ordered object arrays are not read"));
                }
                let descr = match dtype {
                    Value::Obj(i) => match &self.arena[i] {
                        Obj::Dtype { descr, .. } => descr.clone(),
                        _ => return Err(self.err("numpy array state without a dtype")),
                    },
                    _ => return Err(self.err("numpy array state without a dtype")),
                };
                if !descr.starts_with('O') {
                    return Err(self.err(format!(
                        "pickled numpy array of dtype {descr:?}: only object arrays (of lists) are read here"
                    )));
                }
                let items = match data {
                    Value::Obj(i) => match &self.arena[i] {
                        Obj::List(items) => items.clone(),
                        _ => return Err(self.err("object array data is not a list")),
                    },
                    _ => return Err(self.err("object array data is not a list")),
                };
                let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                if count != Some(items.len()) {
                    return Err(self.err(format!("object array of shape {shape:?} holds {} elements", items.len())));
                }
                self.arena[t] = Obj::Array { shape, items: Some(items) };
                Ok(())
            }
            _ => Err(self.err(format!("BUILD on {}", self.describe(target)))),
        }
    }

    /// The pickled array's elements as integer sequences.
    fn sequences(&self, top: Value) -> R<Vec<Vec<i64>>> {
        let layout = |m: String| TextError::layout(self.path, m);
        let (shape, items) = match top {
            Value::Obj(i) => match &self.arena[i] {
                Obj::Array { shape, items: Some(items) } => (shape, items),
                _ => return Err(layout(format!("the pickle holds {}, not a numpy object array", self.describe(top)))),
            },
            _ => return Err(layout(format!("the pickle holds {}, not a numpy object array", self.describe(top)))),
        };
        if shape.len() != 1 {
            return Err(layout(format!(
                "object array of shape {shape:?}; expected one dimension (one list per sample)"
            )));
        }
        let mut total = 0usize;
        let mut out = Vec::with_capacity(items.len());
        for (k, &item) in items.iter().enumerate() {
            let values = match item {
                Value::Obj(i) => match &self.arena[i] {
                    Obj::List(v) | Obj::Tuple(v) => v,
                    _ => return Err(layout(format!("element {k} is {}, not a list of integers", self.describe(item)))),
                },
                _ => return Err(layout(format!("element {k} is {}, not a list of integers", self.describe(item)))),
            };
            total += values.len();
            if total > self.bytes.len() {
                return Err(layout("lists shared through the memo expand beyond the size of the file".into()));
            }
            let seq: Option<Vec<i64>> =
                values.iter().map(|&v| if let Value::Int(x) = v { Some(x) } else { None }).collect();
            let seq = seq.ok_or_else(|| layout(format!("element {k} holds something other than integers")))?;
            out.push(seq);
        }
        Ok(out)
    }
}

/// The name of a pickle opcode, for error messages.
fn opcode_name(op: u8) -> &'static str {
    match op {
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'L' => "LONG",
        b'S' => "STRING",
        b'V' => "UNICODE",
        b'G' => "BINFLOAT",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b's' => "SETITEM",
        b'u' => "SETITEMS",
        b'g' => "GET",
        b'p' => "PUT",
        b'i' => "INST",
        b'o' => "OBJ",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        0x81 => "NEWOBJ",
        0x92 => "NEWOBJ_EX",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "(unknown)",
    }
}
