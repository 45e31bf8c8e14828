//! ember on a QEMU Cortex-M4F (`mps2-an386`).
//!
//! Loads the model blob from flash (in place, no copy) and hands it, with
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
//! The DWT cycle counter reads 0 under QEMU, so this board counts with
//! SysTick on the processor clock (reload `0xFF_FFFF`, wraps counted in the
//! SysTick exception). QEMU runs with `-icount shift=0`: every instruction
//! advances virtual time by exactly 1 ns, and the mps2-an386 processor clock
//! is 25 MHz, so one tick is [`INSTRUCTIONS_PER_TICK`] = 40 instructions. The
//! count is repeatable run to run, a multiple of 40 and within ±40
//! instructions of the exact count (an exact count needs a QEMU TCG plugin).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
#[cfg(not(feature = "quiet"))]
use cortex_m_semihosting::hprintln;
use cortex_m_semihosting::{debug, hio};

/// The generated model file: the model's type under its own name (for
/// example `MnistEncoder`), `BoardModel` (an alias of it, what this
/// firmware runs), `INPUT_LEN`, `OUTPUT_LEN`, `BLOB_FILE`.
#[allow(dead_code)]
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

/// The model blob, 16-byte aligned in flash and read in place.
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
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        if let Ok(mut out) = hio::hstdout() {
            let _ = out.write_all(b"error: core peripherals already taken\n");
        }
        exit_failure();
    };
    start_counter(peripherals.SYST);
    let Ok(mut out) = hio::hstdout() else {
        exit_failure();
    };
    #[cfg(not(feature = "quiet"))]
    if let Err(e) =
        ember_board_common::run::<model::BoardModel>(&BLOB.0, INPUTS, TEXTS, QUERIES, &mut out, instructions)
    {
        hprintln!("error: {}", e);
        exit_failure();
    }
    #[cfg(feature = "quiet")]
    if let Err(e) = ember_board_common::quiet::run::<model::BoardModel>(&BLOB.0, INPUTS, &mut out, instructions) {
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
