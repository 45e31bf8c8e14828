//! ember on the STM32F411 "Black Pill" (STM32F411CE, Cortex-M4F): the
//! convolutional MNIST encoder (the encoder of the `conv-ae` preset: three
//! conv + max-pool stages, 28x28x1 digits to 4x4x8 codes) in f32 and in
//! int8, both in one firmware.
//!
//! The model blobs are read in place from flash. Both encoders run on the
//! same fixed digits (`model/conv_ae_encoder.inputs.bin`: validation digits
//! written with the models); for each digit the first values of both codes,
//! the largest difference between them and the cycles of each inference
//! (DWT cycle counter; the chip runs on its 16 MHz HSI after reset, no clock
//! set-up here) are logged over defmt + RTT, the whole codes at the `debug`
//! level (`DEFMT_LOG=debug`). Then the peak stack (painted before the
//! models run, `ember-board-stack`) and each model's activation RAM are
//! logged, and the core stops at a breakpoint (which ends `probe-rs run`).
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m::peripheral::DWT;
use cortex_m_rt::entry;
use defmt_rtt as _;
use ember_runtime::{Forward, Layer, Sample, TypedModel};
use panic_probe as _;

ember_board_package::include_model!(
    /// The f32 encoder (`ember export --rust`): `BoardModel`, `INPUT_LEN`, `OUTPUT_LEN`.
    mod f32_model = "conv_ae_encoder"
);

ember_board_package::include_model!(
    /// The int8 encoder.
    mod int8_model = "conv_ae_encoder_int8"
);

static F32_BLOB: &ember_runtime::Aligned16<[u8]> = ember_board_package::model_blob!("conv_ae_encoder");
static INT8_BLOB: &ember_runtime::Aligned16<[u8]> = ember_board_package::model_blob!("conv_ae_encoder_int8");
/// The digits both encoders run on (`f32`, little-endian, 784 per digit).
static INPUTS: &[u8] = ember_board_package::model_inputs!("conv_ae_encoder");

/// Each model's activation RAM (`ACTIVATION_BYTES`: f32, then int8):
/// logged, and read from the ELF by `cargo xtask board-packages` for the
/// size table.
#[unsafe(no_mangle)]
#[used]
static EMBER_ACTIVATION_BYTES: [u32; 2] =
    [f32_model::BoardModel::ACTIVATION_BYTES as u32, int8_model::BoardModel::ACTIVATION_BYTES as u32];

const CODE: usize = f32_model::OUTPUT_LEN;
const _: () = assert!(int8_model::OUTPUT_LEN == CODE && int8_model::INPUT_LEN == f32_model::INPUT_LEN);

/// Runs the bound model `m` on `x`, writes its output into `out` and
/// returns the cycles it took. Never inlined: each model's activations live
/// in this function's own frame, so the two models' frames never coexist
/// on the stack (inlined twice into one caller, they did: 144 KB of stack).
#[inline(never)]
fn infer<F>(m: &F, x: &F::Input, out: &mut [f32; CODE]) -> u32
where
    F: Forward,
    F::Output: Sample,
{
    let start = DWT::cycle_count();
    let y = black_box(m.forward(black_box(x)));
    let spent = DWT::cycle_count().wrapping_sub(start);
    ember_board_package::store_values(&y, out);
    spent
}

/// Encodes every digit with both models and logs the codes.
#[inline(never)]
fn encode_all() {
    let f32_enc = match f32_model::BoardModel::load(&F32_BLOB.0) {
        Ok(m) => m,
        Err(e) => defmt::panic!("f32 blob: {}", e),
    };
    let int8_enc = match int8_model::BoardModel::load(&INT8_BLOB.0) {
        Ok(m) => m,
        Err(e) => defmt::panic!("int8 blob: {}", e),
    };
    type Input = <f32_model::BoardModel as Layer>::Input;
    let (mut a, mut b) = ([0.0f32; CODE], [0.0f32; CODE]);
    for (i, digit) in INPUTS.chunks_exact(4 * f32_model::INPUT_LEN).enumerate() {
        let x = match Input::from_values(digit.chunks_exact(4).map(ember_board_package::f32_le)) {
            Ok(x) => x,
            Err(e) => defmt::panic!("digit {}: {}", i, e),
        };
        let f32_cycles = infer(&f32_enc, &x, &mut a);
        let int8_cycles = infer(&int8_enc, &x, &mut b);
        let diff = a.iter().zip(&b).fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
        let peak = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        defmt::info!(
            "digit {=usize}: f32 code {=[?]}..., int8 code {=[?]}...; max |int8 - f32| = {=f32} (max |f32| = {=f32}); {=u32} cycles f32, {=u32} int8",
            i,
            &a[..6],
            &b[..6],
            diff,
            peak,
            f32_cycles,
            int8_cycles
        );
        defmt::debug!("digit {=usize}: f32 code {=[?]}", i, &a[..]);
        defmt::debug!("digit {=usize}: int8 code {=[?]}", i, &b[..]);
    }
}

#[entry]
fn main() -> ! {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        defmt::panic!("core peripherals already taken");
    };
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    // SAFETY: first thing in `main` (the cycle counter set-up aside), no interrupt enabled.
    let stack = unsafe { ember_board_package::paint_cortex_m_rt_stack() };
    encode_all();
    defmt::info!(
        "peak stack {=usize} bytes (of {=usize}); activation RAM (ACTIVATION_BYTES): f32 {=u32}, int8 {=u32} bytes",
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
