//! ember on a QEMU RV32IMAFC (`virt`, hardware single-precision floats).
//!
//! Loads the model blob from `.rodata` (in place, no copy) and hands it, with
//! `inputs.bin` (fixed samples), `texts.txt` (raw text, one per line) and
//! `queries.txt` (similarity queries, one per line), to
//! `ember_board_common::run`, which prints every output's exact bits, token
//! ids, nearest rows and instruction counts over semihosting; then exits with
//! success (a failure prints `error: <message>` and exits with failure). The
//! host (`ember_board_host`) compares them with its own runtime.
//!
//! # Quiet firmware
//! With the feature `quiet` it runs `ember_board_common::quiet::run`
//! instead: the fixed inputs only, results only, no `core::fmt`, so that its
//! `.text` is mostly the runtime's (`cargo xtask boards` reports it).
//!
//! # Counting instructions
//! The `minstret` CSR is read right before and after each inference. QEMU
//! runs with `-icount shift=0`, which makes the count exact and repeatable.
//!
//! # FPU
//! riscv-rt sets `mstatus.FS` at start for targets with the F extension;
//! `main` checks it and turns the FPU on if it is still off.
#![no_std]
#![no_main]

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

fn exit_failure() -> ! {
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}

#[riscv_rt::entry]
fn main() -> ! {
    if mstatus::read().fs() == mstatus::FS::Off {
        // SAFETY: turning the FPU on only enables instructions; nothing else runs.
        unsafe { mstatus::set_fs(mstatus::FS::Initial) };
    }
    let Ok(mut out) = hio::hstdout() else {
        exit_failure();
    };
    #[cfg(not(feature = "quiet"))]
    if let Err(e) =
        ember_board_common::run::<model::BoardModel>(&BLOB.0, INPUTS, TEXTS, QUERIES, &mut out, minstret::read64)
    {
        hprintln!("error: {}", e);
        exit_failure();
    }
    #[cfg(feature = "quiet")]
    if let Err(e) = ember_board_common::quiet::run::<model::BoardModel>(&BLOB.0, INPUTS, &mut out, minstret::read64) {
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
