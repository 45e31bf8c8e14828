//! ember on the QEMU Cortex-M boards. This one file is the firmware of all
//! three Cortex-M packages (their `Cargo.toml` names it as their binary):
//!
//! | package           | QEMU machine  | core                          | target                       |
//! |-------------------|---------------|-------------------------------|------------------------------|
//! | `qemu-cortex-m0`  | `microbit`    | nRF51822, Cortex-M0, no FPU   | `thumbv6m-none-eabi`         |
//! | `qemu-cortex-m4`  | `mps2-an386`  | Cortex-M4F                    | `thumbv7em-none-eabihf`      |
//! | `qemu-cortex-m33` | `mps2-an505`  | Cortex-M33 with FPU, secure   | `thumbv8m.main-none-eabihf`  |
//!
//! What differs between them is outside this file: each package's
//! `.cargo/config.toml` names its target, its QEMU command line and that
//! machine's processor clock (`EMBER_CORE_CLOCK_HZ`), and its `memory.x` its
//! flash and RAM. On the Cortex-M0 `f32` arithmetic is compiler-builtins'
//! soft float, which rounds as IEEE 754 says, so the bits still match the host.
//!
//! Loads the model blob from flash (in place, no copy) and hands it, with
//! `inputs.bin` (fixed samples), `texts.txt` (raw text, one per line) and
//! `queries.txt` (similarity queries, one per line), to
//! `ember_board_common::run_with_stack`, which prints every output's exact
//! bits, token ids, nearest rows, instruction counts and the peak stack over
//! semihosting; then exits with success (a failure, a panic or a hard fault
//! prints `error: <message>` and exits with failure). The host
//! (`ember_board_host`) compares them with its own runtime.
//!
//! # Quiet firmware
//! With the feature `quiet` it runs `ember_board_common::quiet::run_with_stack`
//! instead: the fixed inputs only, results only, no `core::fmt`, so that its
//! `.text` is mostly the runtime's (`cargo xtask boards` reports it).
//!
//! # Counting instructions
//! The DWT cycle counter reads 0 under QEMU (and a Cortex-M0 has none), so
//! this firmware counts with SysTick on the processor clock (reload
//! `0xFF_FFFF`, wraps counted in the SysTick exception). QEMU runs with
//! `-icount shift=0`: every instruction advances virtual time by exactly
//! 1 ns, so one tick is `10^9 / EMBER_CORE_CLOCK_HZ` instructions: 40 on the
//! mps2-an386 (25 MHz), 50 on the mps2-an505 (20 MHz), 62.5 on the microbit
//! (16 MHz; the count is then rounded down to a whole instruction). The
//! count is repeatable run to run and within one tick of the exact count
//! (an exact count needs a QEMU TCG plugin).
//!
//! # Peak stack
//! Before the model runs, `main` paints the free stack (`ember_board_stack`)
//! from the end of the static data (`__sheap`) up to below its own frame;
//! after everything has run and been printed it finds the high-water mark:
//! the `stack_peak_bytes` line. The stack region is cortex-m-rt's: from
//! `_stack_start` (the end of RAM) down to `__sheap`.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{ExceptionFrame, entry, exception};
#[cfg(not(feature = "quiet"))]
use cortex_m_semihosting::hprintln;
use cortex_m_semihosting::{debug, hio};
use ember_board_common::StackUse;
use ember_board_stack::Stack;

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

/// The processor clock SysTick counts, in Hz (the package's `.cargo/config.toml`).
const CORE_CLOCK_HZ: u64 = decimal(env!("EMBER_CORE_CLOCK_HZ"));
/// Instructions per SysTick tick as a fraction `(numerator, denominator)`:
/// 1 ns per instruction (`-icount shift=0`), `10^9 / CORE_CLOCK_HZ` ns per tick.
const INSTRUCTIONS_PER_TICK: (u64, u64) = {
    let (mut a, mut b) = (1_000_000_000, CORE_CLOCK_HZ);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    (1_000_000_000 / a, CORE_CLOCK_HZ / a)
};
/// SysTick reload value: the full 24-bit range.
const RELOAD: u32 = 0x00FF_FFFF;
/// SysTick wraps so far (each wrap is `RELOAD + 1` ticks). Only the SysTick
/// exception writes it (a load and a store: the Cortex-M0 has no atomic add).
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// A decimal number at compile time (a build error if `text` is not one).
const fn decimal(text: &str) -> u64 {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "EMBER_CORE_CLOCK_HZ is empty");
    let (mut value, mut k) = (0u64, 0);
    while k < bytes.len() {
        assert!(bytes[k].is_ascii_digit(), "EMBER_CORE_CLOCK_HZ must be a decimal number of Hz");
        value = value * 10 + (bytes[k] - b'0') as u64;
        k += 1;
    }
    value
}

#[exception]
fn SysTick() {
    WRAPS.store(WRAPS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// Starts SysTick as a free-running counter on the processor clock.
fn start_counter(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    // The current value reads 0 until the first tick reloads it, which would
    // put the first reading a whole period ahead: wait for the reload.
    while SYST::get_current() == 0 {}
}

/// Instructions executed since [`start_counter`], with a resolution of one
/// tick ([`INSTRUCTIONS_PER_TICK`]), rounded down.
fn instructions() -> u64 {
    loop {
        let wraps = WRAPS.load(Ordering::SeqCst);
        let current = SYST::get_current();
        if WRAPS.load(Ordering::SeqCst) == wraps {
            let ticks = u64::from(wraps) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current);
            let (num, den) = INSTRUCTIONS_PER_TICK;
            return ticks * num / den;
        }
    }
}

unsafe extern "C" {
    /// cortex-m-rt: the end of the static data, the lowest address the stack may reach.
    static mut __sheap: u32;
    /// cortex-m-rt: the initial stack pointer (the end of RAM).
    static mut _stack_start: u32;
}

/// The stack region, from cortex-m-rt's linker symbols.
fn stack() -> Stack {
    // SAFETY: cortex-m-rt's link.x puts nothing between `__sheap` and
    // `_stack_start` but the stack (no heap is used), both word aligned.
    unsafe { Stack::new(&raw mut __sheap, &raw mut _stack_start) }
}

fn exit_failure() -> ! {
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}

#[entry]
fn main() -> ! {
    let stack = stack();
    // SAFETY: `main` runs on this stack with nothing live below its frame,
    // and SysTick, the only exception that uses it, is not started yet.
    unsafe { stack.paint() };
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
    let peak = || Some(StackUse { peak: stack.peak(), size: stack.size() });
    #[cfg(not(feature = "quiet"))]
    if let Err(e) = ember_board_common::run_with_stack::<model::BoardModel>(
        &BLOB.0,
        INPUTS,
        TEXTS,
        QUERIES,
        &mut out,
        instructions,
        peak,
    ) {
        hprintln!("error: {}", e);
        exit_failure();
    }
    #[cfg(feature = "quiet")]
    if let Err(e) =
        ember_board_common::quiet::run_with_stack::<model::BoardModel>(&BLOB.0, INPUTS, &mut out, instructions, peak)
    {
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

/// A fault (a bad memory access, a stack that ran past its region) ends the
/// run at once with an error line, instead of cortex-m-rt's endless loop.
#[exception]
unsafe fn HardFault(_frame: &ExceptionFrame) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(b"error: hard fault\n");
    }
    exit_failure();
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
