//! ember on an ESP32-C3 board (RV32IMC at 160 MHz, no FPU): the gesture
//! classifier (`gesture-conv1d` preset: 64 steps of 3-axis acceleration, 5
//! gestures) in int8.
//!
//! The model blob is read in place from flash (mapped through the cache).
//! The model runs on its fixed inputs (`model/gesture_conv1d.inputs.bin`:
//! validation windows written with the model); every output, the index of
//! its largest value and the cycles of the inference (the core's machine
//! performance counter) are logged over defmt, which esp-println sends on
//! the board's USB or UART port and `espflash --monitor` decodes. Then the
//! peak stack (painted before the model runs, `ember-board-stack`) and the
//! model's activation RAM are logged, and the core waits.
#![no_std]
#![no_main]

use ember_board_stack::Stack;
use ember_runtime::TypedModel;
use esp_hal::main;
use esp_println as _;

esp_bootloader_esp_idf::esp_app_desc!();

ember_board_package::include_model!(
    /// The gesture classifier (`ember export --rust`): `BoardModel`, `OUTPUT_LEN`, ...
    mod gesture = "gesture_conv1d"
);

static BLOB: &ember_runtime::Aligned16<[u8]> = ember_board_package::model_blob!("gesture_conv1d");
static INPUTS: &[u8] = ember_board_package::model_inputs!("gesture_conv1d");

/// The model's activation RAM (`ACTIVATION_BYTES`): logged, and read from
/// the ELF by `cargo xtask board-packages` for the size table.
#[unsafe(no_mangle)]
#[used]
static EMBER_ACTIVATION_BYTES: [u32; 1] = [gesture::BoardModel::ACTIVATION_BYTES as u32];

unsafe extern "C" {
    /// The lowest address of the stack (esp-hal's `stack.x`).
    static mut _stack_end: u32;
    /// The initial stack pointer, the end of the data RAM (esp-hal's `stack.x`).
    static mut _stack_start: u32;
}

/// Starts the core's cycle counter: the machine performance counter of
/// the ESP32-C3 (technical reference manual, "Performance Counter"), set to
/// count clock cycles (`mpcer` = 1) and enabled (`mpcmr` = 1).
fn start_cycle_counter() {
    // SAFETY: writes the performance counter's own CSRs, nothing else.
    unsafe {
        core::arch::asm!("csrw 0x7e0, {0}", "csrw 0x7e1, {0}", in(reg) 1usize);
    }
}

/// Clock cycles counted so far, modulo 2^32 (`mpccr`).
fn cycles() -> u32 {
    let count: u32;
    // SAFETY: reads a counter CSR.
    unsafe {
        core::arch::asm!("csrr {0}, 0x7e2", out(reg) count);
    }
    count
}

#[main]
fn main() -> ! {
    // Clocks at their default, and the watchdogs the bootloader left running off.
    let _peripherals = esp_hal::init(esp_hal::Config::default());
    start_cycle_counter();
    // SAFETY: esp-hal's stack runs from `_stack_end` up to `_stack_start`;
    // nothing else lives there, and no interrupt is enabled.
    let stack = unsafe { Stack::new(&raw mut _stack_end, &raw mut _stack_start) };
    // SAFETY: called from `main`, before anything runs below this frame.
    unsafe { stack.paint() };
    let mut out = [0.0f32; gesture::OUTPUT_LEN];
    ember_board_package::run::<gesture::BoardModel>("gesture_conv1d", &BLOB.0, INPUTS, &mut out, cycles);
    defmt::info!(
        "peak stack {=usize} bytes (of {=usize}); activation RAM (ACTIVATION_BYTES) {=u32} bytes",
        stack.peak(),
        stack.size(),
        EMBER_ACTIVATION_BYTES[0]
    );
    ember_board_package::finish();
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    loop {
        core::hint::spin_loop();
    }
}
