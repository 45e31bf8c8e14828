//! ember on a QEMU RV32IMAFC (`virt`, hardware single-precision floats).
//!
//! Loads the model blob from `.rodata` (in place, no copy), runs every sample
//! of `inputs.bin` through it and prints, over semihosting:
//!
//! ```text
//! out <sample> <output bits as 8 hex digits, space separated>
//! instret <sample> <instructions for that inference>
//! ram_activation_bytes <Model::ACTIVATION_BYTES>
//! done
//! ```
//!
//! then exits with success (a failure prints `error: <message>` and exits with
//! failure). The host (`ember_trainer::board`) compares the exact bits with
//! its own runtime.
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

use core::hint::black_box;

use ember_runtime::{Forward, Model as _, SVector};
use riscv::register::{minstret, mstatus};
use riscv_semihosting::{debug, hprint, hprintln};

/// The generated model type: `Model`, `INPUT_LEN`, `OUTPUT_LEN`, `BLOB_FILE`.
#[allow(dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::{INPUT_LEN, Model, OUTPUT_LEN};

/// The model blob, 16-byte aligned in `.rodata` and read in place.
static BLOB: &ember_runtime::Aligned16<[u8]> = ember_runtime::include_aligned!(concat!(env!("OUT_DIR"), "/model.emb"));
/// The input samples: little-endian `f32`, `INPUT_LEN` per sample.
const INPUTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/inputs.bin"));
/// Bytes per input sample.
const SAMPLE_BYTES: usize = 4 * INPUT_LEN;
const _: () = assert!(!INPUTS.is_empty() && INPUTS.len() % SAMPLE_BYTES == 0, "inputs.bin must hold whole samples");

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
    let model = match Model::load(&BLOB.0) {
        Ok(m) => m,
        Err(e) => {
            hprintln!("error: {}", e.message());
            exit_failure();
        }
    };
    for (i, sample) in INPUTS.chunks_exact(SAMPLE_BYTES).enumerate() {
        let x = SVector::<f32, INPUT_LEN>::from_iterator(
            sample.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        let before = minstret::read64();
        let y: SVector<f32, OUTPUT_LEN> = black_box(model.forward(black_box(&x)));
        let after = minstret::read64();
        hprint!("out {}", i);
        for v in y.iter() {
            hprint!(" {:08x}", v.to_bits());
        }
        hprintln!();
        hprintln!("instret {} {}", i, after - before);
    }
    hprintln!("ram_activation_bytes {}", Model::ACTIVATION_BYTES);
    hprintln!("done");
    loop {
        debug::exit(debug::EXIT_SUCCESS);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("error: panic: {}", info);
    exit_failure();
}
