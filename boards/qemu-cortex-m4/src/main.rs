//! ember on a QEMU Cortex-M4F (`mps2-an386`).
//!
//! Loads the model blob from flash (in place, no copy), runs every sample of
//! `inputs.bin` through it and prints, over semihosting:
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
//! The DWT cycle counter reads 0 under QEMU, so this board counts with
//! SysTick on the processor clock (reload `0xFF_FFFF`, wraps counted in the
//! SysTick exception). QEMU runs with `-icount shift=0`: every instruction
//! advances virtual time by exactly 1 ns, and the mps2-an386 processor clock
//! is 25 MHz, so one tick is [`INSTRUCTIONS_PER_TICK`] = 40 instructions. The
//! count is repeatable run to run, a multiple of 40 and within ±40
//! instructions of the exact count (an exact count needs a QEMU TCG plugin).
#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use cortex_m_semihosting::{debug, hprint, hprintln};
use ember_runtime::{Forward, Model as _, SVector};

/// The generated model type: `Model`, `INPUT_LEN`, `OUTPUT_LEN`, `BLOB_FILE`.
#[allow(dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}
use model::{INPUT_LEN, Model, OUTPUT_LEN};

/// The model blob, 16-byte aligned in flash and read in place.
static BLOB: &ember_runtime::Aligned16<[u8]> = ember_runtime::include_aligned!(concat!(env!("OUT_DIR"), "/model.emb"));
/// The input samples: little-endian `f32`, `INPUT_LEN` per sample.
const INPUTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/inputs.bin"));
/// Bytes per input sample.
const SAMPLE_BYTES: usize = 4 * INPUT_LEN;
const _: () = assert!(!INPUTS.is_empty() && INPUTS.len() % SAMPLE_BYTES == 0, "inputs.bin must hold whole samples");

/// Instructions per SysTick tick: 1 ns per instruction (`-icount shift=0`) at a 25 MHz clock.
const INSTRUCTIONS_PER_TICK: u64 = 40;
/// SysTick reload value: the full 24-bit range.
const RELOAD: u32 = 0x00FF_FFFF;
/// SysTick wraps so far (each wrap is `RELOAD + 1` ticks).
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Starts SysTick as a free-running counter on the processor clock.
fn start_counter(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Instructions executed since [`start_counter`], with a resolution of [`INSTRUCTIONS_PER_TICK`].
fn instructions() -> u64 {
    loop {
        let wraps = WRAPS.load(Ordering::SeqCst);
        let current = SYST::get_current();
        if WRAPS.load(Ordering::SeqCst) == wraps {
            let ticks = u64::from(wraps) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current);
            return ticks * INSTRUCTIONS_PER_TICK;
        }
    }
}

fn exit_failure() -> ! {
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}

#[entry]
fn main() -> ! {
    let model = match Model::load(&BLOB.0) {
        Ok(m) => m,
        Err(e) => {
            hprintln!("error: {}", e.message());
            exit_failure();
        }
    };
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        hprintln!("error: core peripherals already taken");
        exit_failure();
    };
    start_counter(peripherals.SYST);
    for (i, sample) in INPUTS.chunks_exact(SAMPLE_BYTES).enumerate() {
        let x = SVector::<f32, INPUT_LEN>::from_iterator(
            sample.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        let before = instructions();
        let y: SVector<f32, OUTPUT_LEN> = black_box(model.forward(black_box(&x)));
        let after = instructions();
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
