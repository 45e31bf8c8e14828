//! ember on the nRF52840-DK (Cortex-M4F at 64 MHz): the IMDB-shaped LSTM
//! text classifier (`lstm` preset: 5000-word embedding, LSTM of 100 units,
//! Dense sigmoid) in int8, classifying the texts of `texts.txt`.
//!
//! The model blob is read in place from flash. Each line of `texts.txt` is
//! tokenized by the blob's own `no_std` tokenizer (its word list and rules
//! travel in the blob), run through the typed model, and its label
//! (`pos` when P(positive) ≥ 0.5), score and cycle counts (DWT cycle
//! counter: tokenizing, inference) are logged over defmt + RTT. Then the
//! peak stack (painted before the model runs, `ember-board-stack`) and the
//! model's activation RAM are logged, and the core stops at a breakpoint
//! (which ends `probe-rs run`).
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m::peripheral::DWT;
use cortex_m_rt::entry;
use defmt_rtt as _;
use ember_runtime::{Blob, Forward, Sample, Tokenizer, TypedModel};
use panic_probe as _;

ember_board_package::include_model!(
    /// The generated model file (`ember export --rust`): `BoardModel`, the typed
    /// model, and its `INPUT_LEN`, `OUTPUT_LEN`, `SEQ_LEN`, `VOCAB`.
    mod model = "lstm"
);

/// The model blob, 16-byte aligned in flash and read in place.
static BLOB: &ember_runtime::Aligned16<[u8]> = ember_board_package::model_blob!("lstm");

/// The model's activation RAM (`ACTIVATION_BYTES`): logged, and read from
/// the ELF by `cargo xtask board-packages` for the size table.
#[unsafe(no_mangle)]
#[used]
static EMBER_ACTIVATION_BYTES: [u32; 1] = [model::BoardModel::ACTIVATION_BYTES as u32];

/// The texts to classify, one per line.
const TEXTS: &str = include_str!("../texts.txt");

/// Classifies every line of [`TEXTS`] and logs the results.
#[inline(never)]
fn classify_all() {
    let Ok(model) = model::BoardModel::load(&BLOB.0) else {
        defmt::panic!("the blob does not match the generated type (regenerate model/lstm.rs with the blob)");
    };
    let blob = match Blob::parse(&BLOB.0) {
        Ok(b) => b,
        Err(e) => defmt::panic!("blob: {}", e),
    };
    let tokenizer = match Tokenizer::from_blob(&blob) {
        Ok(t) => t,
        Err(e) => defmt::panic!("the blob has no tokenizer: {}", e),
    };
    let classes = ["neg", "pos"];
    for (k, line) in TEXTS.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let start = DWT::cycle_count();
        let ids = match tokenizer.padded(line) {
            Ok(ids) => ids,
            Err(e) => defmt::panic!("text {}: {}", k, e),
        };
        let x = match <model::BoardModel as ember_runtime::Layer>::Input::from_values(ids.map(|id| id as f32)) {
            Ok(x) => black_box(x),
            Err(e) => defmt::panic!("text {}: {}", k, e),
        };
        let tokenized = DWT::cycle_count();
        let y = black_box(model.forward(&x));
        let done = DWT::cycle_count();
        let mut score = 0.0f32;
        y.for_each_value(|v| score = v);
        defmt::info!(
            "text {=usize}: {=str} (P(pos) = {=f32}); {=u32} cycles to tokenize, {=u32} for the inference: {=str}",
            k,
            classes[usize::from(score >= 0.5)],
            score,
            tokenized.wrapping_sub(start),
            done.wrapping_sub(tokenized),
            line
        );
    }
}

#[entry]
fn main() -> ! {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        defmt::panic!("core peripherals already taken");
    };
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    // SAFETY: first thing in `main` (the cycle counter set-up aside), no interrupt enabled.
    let stack = unsafe { ember_board_package::paint_cortex_m_rt_stack() };
    classify_all();
    defmt::info!(
        "peak stack {=usize} bytes (of {=usize}); activation RAM (ACTIVATION_BYTES) {=u32} bytes",
        stack.peak(),
        stack.size(),
        EMBER_ACTIVATION_BYTES[0]
    );
    ember_board_package::finish();
    loop {
        cortex_m::asm::bkpt();
    }
}
