//! ember on the Raspberry Pi Pico (RP2040, Cortex-M0+, no FPU): the
//! keyword-spotting DS-CNN (`kws-dscnn` preset: 49x10 feature maps, 6
//! classes) and the sine regressor (`sine` preset), both in int8, in one
//! firmware.
//!
//! The model blobs are read in place from flash. Each model runs on its
//! fixed inputs (`model/<name>.inputs.bin`: validation samples written with
//! the model); every output, the index of its largest value and the cycles
//! of the inference are logged over defmt + RTT. Cycles are counted with
//! SysTick on the processor clock (the Cortex-M0+ has no DWT cycle counter):
//! the chip runs on its ring oscillator after reset (about 6 MHz, no clock
//! set-up here), and cycles do not depend on the clock. Then the peak stack
//! (painted before the models run, `ember-board-stack`) and each model's
//! activation RAM are logged, and the core stops at a breakpoint (which ends
//! `probe-rs run`).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use defmt_rtt as _;
use ember_runtime::TypedModel;
use panic_probe as _;

/// The second-stage bootloader for the Pico's W25Q080-compatible flash.
#[unsafe(link_section = ".boot2")]
#[used]
static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

ember_board_package::include_model!(
    /// The keyword-spotting model (`ember export --rust`): `BoardModel`, `OUTPUT_LEN`, ...
    mod kws = "kws_dscnn"
);

ember_board_package::include_model!(
    /// The sine regressor.
    mod sine = "sine"
);

static KWS_BLOB: &ember_runtime::Aligned16<[u8]> = ember_board_package::model_blob!("kws_dscnn");
static KWS_INPUTS: &[u8] = ember_board_package::model_inputs!("kws_dscnn");
static SINE_BLOB: &ember_runtime::Aligned16<[u8]> = ember_board_package::model_blob!("sine");
static SINE_INPUTS: &[u8] = ember_board_package::model_inputs!("sine");

/// Each model's activation RAM (`ACTIVATION_BYTES`), in the order above:
/// logged, and read from the ELF by `cargo xtask board-packages` for the
/// size table.
#[unsafe(no_mangle)]
#[used]
static EMBER_ACTIVATION_BYTES: [u32; 2] =
    [kws::BoardModel::ACTIVATION_BYTES as u32, sine::BoardModel::ACTIVATION_BYTES as u32];

/// SysTick reload value: the full 24-bit range.
const RELOAD: u32 = 0x00FF_FFFF;
/// SysTick wraps so far (each wrap is `RELOAD + 1` cycles). Only the
/// SysTick handler writes it (the M0+ has no atomic read-modify-write).
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.store(WRAPS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// Processor cycles since SysTick was started, modulo 2^32.
fn cycles() -> u32 {
    loop {
        let wraps = WRAPS.load(Ordering::SeqCst);
        let current = SYST::get_current();
        if WRAPS.load(Ordering::SeqCst) == wraps {
            return wraps.wrapping_mul(RELOAD + 1).wrapping_add(RELOAD - current);
        }
    }
}

#[entry]
fn main() -> ! {
    let Some(cp) = cortex_m::Peripherals::take() else {
        defmt::panic!("core peripherals already taken");
    };
    // SAFETY: first thing in `main` (the cycle counter set-up aside), no interrupt enabled.
    let stack = unsafe { ember_board_package::paint_cortex_m_rt_stack() };
    let mut syst = cp.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    let mut kws_out = [0.0f32; kws::OUTPUT_LEN];
    ember_board_package::run::<kws::BoardModel>("kws_dscnn", &KWS_BLOB.0, KWS_INPUTS, &mut kws_out, cycles);
    let mut sine_out = [0.0f32; sine::OUTPUT_LEN];
    ember_board_package::run::<sine::BoardModel>("sine", &SINE_BLOB.0, SINE_INPUTS, &mut sine_out, cycles);
    defmt::info!(
        "peak stack {=usize} bytes (of {=usize}); activation RAM (ACTIVATION_BYTES): kws_dscnn {=u32}, sine {=u32} bytes",
        stack.peak(),
        stack.size(),
        EMBER_ACTIVATION_BYTES[0],
        EMBER_ACTIVATION_BYTES[1]
    );
    ember_board_package::finish();
    loop {
        cortex_m::asm::bkpt();
    }
}
