//! The quiet firmware (a board's `quiet` feature): it runs the model on the
//! fixed inputs and prints only the results, with no `core::fmt` formatting
//! (numbers are written digit by digit here), no tokenizer and no similarity
//! search, so that what is left in `.text` besides the runtime's code is the
//! board's start-up and a few hundred bytes of printing. Its `.text` is the
//! code-size figure of `cargo xtask boards`.
//!
//! It prints the lines of the protocol that concern the fixed inputs:
//!
//! ```text
//! out <sample> <output f32 bits as 8 hex digits, space separated>
//! instret <sample> <instructions for that inference>
//! ram_activation_bytes <M::ACTIVATION_BYTES>
//! stack_peak_bytes <peak stack bytes> <stack region bytes>   (run_with_stack only)
//! done
//! ```
//!
//! Texts and queries are ignored. A failure is reported by the caller as
//! `error: <Failure::message>`.

use core::fmt::{self, Write};
use core::hint::black_box;

use ember_runtime::{Forward, Sample, TypedModel};

use crate::protocol::{TAG_DONE, TAG_INSTRET, TAG_OUT, TAG_RAM, TAG_STACK};
use crate::{Failure, StackUse};

/// Writes `bytes`, ASCII digits and spaces built here.
fn ascii(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    out.write_str(core::str::from_utf8(bytes).map_err(|_| fmt::Error)?)
}

/// The powers of ten in a `u64`, largest first.
const POWERS_OF_TEN: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut k = 19;
    while k > 0 {
        p[k - 1] = p[k] * 10;
        k -= 1;
    }
    p
};

/// Writes `v` in decimal, by subtracting powers of ten (no 64-bit division
/// routine in the firmware).
fn decimal(out: &mut impl Write, mut v: u64) -> fmt::Result {
    let mut digits = [0u8; 20];
    let mut len = 0;
    for (k, &power) in POWERS_OF_TEN.iter().enumerate() {
        let mut d = b'0';
        while v >= power {
            v -= power;
            d += 1;
        }
        if d != b'0' || len > 0 || k == POWERS_OF_TEN.len() - 1 {
            digits[len] = d;
            len += 1;
        }
    }
    ascii(out, &digits[..len])
}

/// Writes ` ` and `bits` as 8 lowercase hex digits.
fn hex32(out: &mut impl Write, bits: u32) -> fmt::Result {
    let mut text = [b' '; 9];
    for (k, c) in text[1..].iter_mut().enumerate() {
        let nibble = ((bits >> (28 - 4 * k)) & 0xF) as u8;
        *c = if nibble < 10 { b'0' + nibble } else { b'a' + nibble - 10 };
    }
    ascii(out, &text)
}

/// Writes `<tag> <index>`.
fn tag(out: &mut impl Write, tag: &str, index: u64) -> fmt::Result {
    out.write_str(tag)?;
    out.write_str(" ")?;
    decimal(out, index)
}

/// Runs model `M` from `blob` on `inputs` (little-endian `f32`, whole
/// samples), printing only the lines of the module docs to `out` and
/// counting instructions with `instructions`.
///
/// # Errors
/// A [`Failure`] for a blob that does not bind to `M`, an input that is not
/// a valid sample, or an output error.
pub fn run<M>(
    blob: &[u8],
    inputs: &[u8],
    out: &mut impl Write,
    instructions: impl FnMut() -> u64,
) -> Result<(), Failure<'static>>
where
    M: TypedModel,
    M::Input: Sample,
    M::Output: Sample,
{
    run_with_stack::<M>(blob, inputs, out, instructions, || None)
}

/// [`run`], then `stack_peak_bytes` from `stack` (called once, after
/// everything else has run and been printed) before `done`.
///
/// # Errors
/// As [`run`].
pub fn run_with_stack<M>(
    blob: &[u8],
    inputs: &[u8],
    out: &mut impl Write,
    mut instructions: impl FnMut() -> u64,
    stack: impl FnOnce() -> Option<StackUse>,
) -> Result<(), Failure<'static>>
where
    M: TypedModel,
    M::Input: Sample,
    M::Output: Sample,
{
    let model = crate::load::<M>(blob)?;
    let f32_le = |b: &[u8]| f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    for (i, sample) in inputs.chunks_exact(4 * M::Input::LEN).enumerate() {
        let x = M::Input::from_values(sample.chunks_exact(4).map(f32_le))?;
        let before = instructions();
        let y = black_box(model.forward(black_box(&x)));
        let after = instructions();
        tag(out, TAG_OUT, i as u64)?;
        let mut res = Ok(());
        y.for_each_value(|v| {
            if res.is_ok() {
                res = hex32(out, v.to_bits());
            }
        });
        res?;
        out.write_str("\n")?;
        tag(out, TAG_INSTRET, i as u64)?;
        out.write_str(" ")?;
        decimal(out, after - before)?;
        out.write_str("\n")?;
    }
    out.write_str(TAG_RAM)?;
    out.write_str(" ")?;
    decimal(out, M::ACTIVATION_BYTES as u64)?;
    out.write_str("\n")?;
    if let Some(s) = stack() {
        out.write_str(TAG_STACK)?;
        for v in [s.peak, s.size] {
            out.write_str(" ")?;
            decimal(out, v as u64)?;
        }
        out.write_str("\n")?;
    }
    out.write_str(TAG_DONE)?;
    out.write_str("\n")?;
    Ok(())
}
