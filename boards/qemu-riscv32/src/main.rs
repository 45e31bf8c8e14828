//! ember on a QEMU RV32IMAFC (`virt`, hardware single-precision floats).
//!
//! Loads the model blob from `.rodata` (in place, no copy) and hands it, with
//! `inputs.bin` (fixed samples), `texts.txt` (raw text, one per line) and
//! `queries.txt` (similarity queries, one per line), to
//! `ember_board_common::run_with_stack`, which prints every output's exact
//! bits, token ids, nearest rows, instruction counts and the peak stack over
//! semihosting; then exits with success (a failure prints `error: <message>` and exits with failure). The
//! host (`ember_board_host`) compares them with its own runtime.
//!
//! # Quiet firmware
//! With the feature `quiet` it runs `ember_board_common::quiet::run_with_stack`
//! instead: the fixed inputs only, results only, no `core::fmt`, so that its
//! `.text` is mostly the runtime's (`cargo xtask boards` reports it).
//!
//! # Counting instructions
//! The `minstret` CSR is read right before and after each inference. QEMU
//! runs with `-icount shift=0`, which makes the count exact and repeatable.
//!
//! # Peak stack
//! Before the model runs, `main` paints the free stack (`ember_board_stack`)
//! from riscv-rt's `__estack` (the end of the static data and of the empty
//! heap) up to below its own frame; after everything has run and been
//! printed it finds the high-water mark: the `stack_peak_bytes` line.
//!
//! # FPU
//! riscv-rt sets `mstatus.FS` at start for targets with the F extension;
//! `main` checks it and turns the FPU on if it is still off.
#![no_std]
#![no_main]

use ember_board_common::StackUse;
use ember_board_stack::Stack;
use riscv::register::{minstret, mstatus};
#[cfg(not(feature = "quiet"))]
use riscv_semihosting::hprintln;
use riscv_semihosting::{debug, hio};

/// The generated model file: the model's type under its own name (for
/// example `MnistEncoder`), `BoardModel` (an alias of it, what this
/// firmware runs), `INPUT_LEN`, `OUTPUT_LEN`, `BLOB_FILE`.
#[allow(dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

/// The model blob, 16-byte aligned in `.rodata` and read in place.
static BLOB: &ember_runtime::Aligned16<[u8]> = ember_runtime::include_aligned!(concat!(env!("OUT_DIR"), "/model.emb"));
/// The input samples: little-endian `f32`, `INPUT_LEN` per sample.
const INPUTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/inputs.bin"));
const _: () = assert!(INPUTS.len().is_multiple_of(4 * model::INPUT_LEN), "inputs.bin must hold whole samples");
/// Raw texts, one per line (empty for models without a tokenizer).
#[cfg_attr(feature = "quiet", allow(dead_code))]
const TEXTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/texts.txt"));
/// Similarity queries over the first embedding table, one per line (often empty).
#[cfg_attr(feature = "quiet", allow(dead_code))]
const QUERIES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/queries.txt"));

unsafe extern "C" {
    /// riscv-rt: the lowest address the stack may reach (after the static data and the empty heap).
    static mut __estack: u32;
    /// riscv-rt: the initial stack pointer (the end of the RAM region).
    static mut _stack_start: u32;
}

/// The stack region, from riscv-rt's linker symbols.
fn stack() -> Stack {
    // SAFETY: riscv-rt's link.x puts nothing between `__estack` and
    // `_stack_start` but the stack of the single hart, both word aligned.
    unsafe { Stack::new(&raw mut __estack, &raw mut _stack_start) }
}

fn exit_failure() -> ! {
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}

#[riscv_rt::entry]
fn main() -> ! {
    let stack = stack();
    // SAFETY: `main` runs on this stack with nothing live below its frame,
    // and no interrupt is enabled.
    unsafe { stack.paint() };
    if mstatus::read().fs() == mstatus::FS::Off {
        // SAFETY: turning the FPU on only enables instructions; nothing else runs.
        unsafe { mstatus::set_fs(mstatus::FS::Initial) };
    }
    let Ok(mut out) = hio::hstdout() else {
        exit_failure();
    };
    let peak = || Some(StackUse { peak: stack.peak(), size: stack.size() });
    #[cfg(not(feature = "quiet"))]
    if let Err(e) = ember_board_common::run_with_stack::<model::BoardModel>(
        &BLOB.0,
        INPUTS,
        TEXTS,
        QUERIES,
        &mut out,
        minstret::read64,
        peak,
    ) {
        hprintln!("error: {}", e);
        exit_failure();
    }
    #[cfg(feature = "quiet")]
    if let Err(e) = ember_board_common::quiet::run_with_stack::<model::BoardModel>(
        &BLOB.0,
        INPUTS,
        &mut out,
        minstret::read64,
        peak,
    ) {
        use core::fmt::Write;
        let _ = out.write_str("error: ");
        let _ = out.write_str(e.message());
        let _ = out.write_str("\n");
        exit_failure();
    }
    loop {
        debug::exit(debug::EXIT_SUCCESS);
    }
}

#[cfg(not(feature = "quiet"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("error: panic: {}", info);
    exit_failure();
}

/// The quiet firmware's panic handler: a fixed line, no formatting.
#[cfg(feature = "quiet")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(b"error: panic\n");
    }
    exit_failure();
}
