//! Integration tests of the text pipeline and the text loaders.
//!
//! Expected ids come from definitions implemented here (FNV-1a, the word
//! rules, Keras's `imdb.load_data` and `pad_sequences` re-implemented in
//! Python and run by numpy), or are written out by hand — never from the
//! code under test.

mod acl;
mod csv;
mod imdb;
use ember_conformance::support;
mod synthetic;
mod tokenizer;

use std::path::{Path, PathBuf};

use ember_data::text::TextData;
use ember_runtime::spec::{Side, TokenizerKind, TokenizerSpec};

/// A fresh, empty directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    support::scratch_dir("text-tests", name)
}

pub use support::write;

/// Runs a Python script (numpy available) in `dir` with `args`; returns its standard output.
pub fn run_python(dir: &Path, script: &str, args: &[&str]) -> String {
    String::from_utf8(support::run_python("numpy", dir, script, args)).expect("python output is UTF-8")
}

/// Settings for tests.
pub fn spec(kind: TokenizerKind, vocab: u32, max_len: u32, padding: Side, truncating: Side) -> TokenizerSpec {
    TokenizerSpec { kind, vocab, reserved: 3, lowercase: true, start_token: true, max_len, padding, truncating }
}

/// The rows of a data set as integer ids.
pub fn rows(t: &TextData) -> Vec<Vec<u32>> {
    (0..t.data.len()).map(|i| t.data.sample(i).iter().map(|&v| v as u32).collect()).collect()
}

/// Checks that `t`'s samples are exactly what the runtime tokenizer (the
/// device code) gives for `texts` with `t`'s settings and word list.
pub fn assert_device_agrees(t: &TextData, texts: &[&str]) {
    let bytes = t.vocab_bytes().unwrap_or_default();
    let tok = ember_runtime::text::Tokenizer::new(t.tokenizer, &bytes).expect("runtime accepts the tokenizer");
    let mut out = vec![0u32; t.tokenizer.max_len as usize];
    for (i, text) in texts.iter().enumerate() {
        tok.encode(text, &mut out).expect("text has words");
        assert_eq!(rows(t)[i], out, "sample {i} ({text:?}) differs from the device tokenizer");
    }
}
