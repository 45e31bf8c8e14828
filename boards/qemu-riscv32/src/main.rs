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
use riscv_semihosting::{debug, hio, hprintln};

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
const TEXTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/texts.txt"));
/// Similarity queries over the first embedding table, one per line (often empty).
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
    let result =
        ember_board_common::run::<model::BoardModel>(&BLOB.0, INPUTS, TEXTS, QUERIES, &mut out, minstret::read64);
    if let Err(e) = result {
        hprintln!("error: {}", e);
        exit_failure();
    }
    loop {
        debug::exit(debug::EXIT_SUCCESS);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("error: panic: {}", info);
    exit_failure();
}
