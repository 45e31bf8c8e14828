//! ember on the Raspberry Pi Pico 2 (RP2350, Cortex-M33 with FPU): the
//! keyword-spotting DS-CNN (`kws-dscnn` preset: 49x10 feature maps, 6
//! classes) and the sine regressor (`sine` preset), both in int8, in one
//! firmware.
//!
//! The model blobs are read in place from flash. Each model runs on its
//! fixed inputs (`model/<name>.inputs.bin`: validation samples written with
//! the model); every output, the index of its largest value and the cycles
//! of the inference (DWT cycle counter) are logged over defmt + RTT. The
//! chip runs on its ring oscillator after reset (no clock set-up here);
//! cycles do not depend on the clock. Then the peak stack (painted before
//! the models run, `ember-board-stack`) and each model's activation RAM are
//! logged, and the core stops at a breakpoint (which ends `probe-rs run`).
#![no_std]
#![no_main]

use cortex_m::peripheral::DWT;
use cortex_m_rt::entry;
use defmt_rtt as _;
use ember_runtime::TypedModel;
use panic_probe as _;

/// The IMAGE_DEF block the RP2350 boot ROM looks for in the first 4 KiB of
/// flash (RP2350 datasheet, 5.9.5 "Minimum viable image metadata"): a
/// block holding one IMAGE_TYPE item (an executable, Arm, Secure mode,
/// RP2350) and the last-item marker, linked to itself. `memory.x` puts it
/// right after the vector table.
#[unsafe(link_section = ".start_block")]
#[used]
static IMAGE_DEF: [u32; 5] = [
    0xffff_ded3, // PICOBIN_BLOCK_MARKER_START
    0x1021_0142, // IMAGE_TYPE item (0x42), 1 word: EXE | SECURE | ARM | RP2350
    0x0000_01ff, // LAST item (0xff), size of the items: 1 word
    0x0000_0000, // link to the next block: 0, this block loops to itself
    0xab12_3579, // PICOBIN_BLOCK_MARKER_END
];

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

#[entry]
fn main() -> ! {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        defmt::panic!("core peripherals already taken");
    };
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    // SAFETY: first thing in `main` (the cycle counter set-up aside), no interrupt enabled.
    let stack = unsafe { ember_board_package::paint_cortex_m_rt_stack() };
    let mut kws_out = [0.0f32; kws::OUTPUT_LEN];
    ember_board_package::run::<kws::BoardModel>("kws_dscnn", &KWS_BLOB.0, KWS_INPUTS, &mut kws_out, DWT::cycle_count);
    let mut sine_out = [0.0f32; sine::OUTPUT_LEN];
    ember_board_package::run::<sine::BoardModel>("sine", &SINE_BLOB.0, SINE_INPUTS, &mut sine_out, DWT::cycle_count);
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
