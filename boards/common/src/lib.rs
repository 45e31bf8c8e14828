//! The part of every ember QEMU firmware that does not depend on the board.
//!
//! [`run`] binds the model type `M` to the blob in place, runs every sample
//! of the fixed inputs, then tokenizes and classifies every line of the raw
//! texts with the blob's own no_std tokenizer, and prints:
//!
//! ```text
//! out <sample> <output f32 bits as 8 hex digits, space separated>
//! instret <sample> <instructions for that inference>
//! text_ids <line> <token ids, space separated>
//! text_out <line> <output f32 bits>
//! text_instret <line> <instructions to tokenize> <instructions for the inference>
//! ram_activation_bytes <M::ACTIVATION_BYTES>
//! done
//! ```
//!
//! The host (`ember_trainer::board`) compares the exact bits and ids with its
//! own runtime and tokenizer. The board supplies the output stream and its
//! instruction counter.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "build")]
extern crate std;

#[cfg(feature = "build")]
pub mod build;

use core::fmt::Write;
use core::hint::black_box;

use ember_runtime::{Blob, Error, Forward, Model, Sample, Tokenizer};

/// Why a run stopped.
#[derive(Debug)]
pub enum Failure {
    /// The runtime rejected the blob, an input or a text.
    Runtime(Error),
    /// The texts are not UTF-8.
    TextNotUtf8,
    /// Writing to the host failed.
    Output,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Runtime(e)
    }
}

impl From<core::fmt::Error> for Failure {
    fn from(_: core::fmt::Error) -> Self {
        Failure::Output
    }
}

impl Failure {
    /// A static message.
    pub fn message(&self) -> &'static str {
        match self {
            Failure::Runtime(e) => e.message(),
            Failure::TextNotUtf8 => "texts are not UTF-8",
            Failure::Output => "cannot write to the host",
        }
    }
}

fn print_sample(out: &mut impl Write, tag: &str, i: usize, s: &impl Sample, hex: bool) -> Result<(), Failure> {
    write!(out, "{tag} {i}")?;
    let mut res = Ok(());
    s.for_each_value(|v| {
        if res.is_ok() {
            res = if hex { write!(out, " {:08x}", v.to_bits()) } else { write!(out, " {}", v as u32) };
        }
    });
    res?;
    writeln!(out)?;
    Ok(())
}

/// Runs model `M` from `blob` on `inputs` (little-endian `f32`, whole
/// samples) and on each line of `texts`, printing results to `out` and
/// counting instructions with `instructions`.
///
/// # Errors
/// A [`Failure`] for a blob that does not bind to `M`, an input that is not
/// a valid sample, a text without words, or an output error.
pub fn run<M>(
    blob: &[u8],
    inputs: &[u8],
    texts: &[u8],
    out: &mut impl Write,
    mut instructions: impl FnMut() -> u64,
) -> Result<(), Failure>
where
    M: Model,
    M::Input: Sample,
    M::Output: Sample,
{
    let model = M::load(blob)?;
    let f32_le = |b: &[u8]| f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    for (i, sample) in inputs.chunks_exact(4 * M::Input::LEN).enumerate() {
        let x = M::Input::from_values(sample.chunks_exact(4).map(f32_le))?;
        let before = instructions();
        let y = black_box(model.forward(black_box(&x)));
        let after = instructions();
        print_sample(out, "out", i, &y, true)?;
        writeln!(out, "instret {i} {}", after - before)?;
    }
    if !texts.is_empty() {
        let parsed = Blob::parse(blob)?;
        let tokenizer = Tokenizer::from_blob(&parsed)?;
        let texts = core::str::from_utf8(texts).map_err(|_| Failure::TextNotUtf8)?;
        for (k, line) in texts.lines().enumerate() {
            let before = instructions();
            let x = black_box(M::Input::from_values(tokenizer.padded(line)?.map(|id| id as f32))?);
            let mid = instructions();
            let y = black_box(model.forward(black_box(&x)));
            let after = instructions();
            print_sample(out, "text_ids", k, &x, false)?;
            print_sample(out, "text_out", k, &y, true)?;
            writeln!(out, "text_instret {k} {} {}", mid - before, after - mid)?;
        }
    }
    writeln!(out, "ram_activation_bytes {}", M::ACTIVATION_BYTES)?;
    writeln!(out, "done")?;
    Ok(())
}
