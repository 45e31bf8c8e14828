//! What the real-board packages (`boards/nrf52840-dk`, `rp-pico`,
//! `rp-pico2`, `esp32-c3`, `stm32f411-blackpill`) share, apart from their
//! hardware (clocks, cycle counters, boot blocks, panic handlers and
//! `memory.x` stay in each package):
//!
//! * feature `build` (host only, std): [`build`], what each `build.rs` does:
//!   check that the model files are in `model/` (else stop with the command
//!   that writes them), hand `memory.x` and the linker scripts to the linker;
//! * feature `firmware` (the default, `no_std`, logs with defmt): [`run()`],
//!   which runs a model on its fixed inputs and logs what it computed, the
//!   helpers it is made of ([`f32_le`], [`store_values`]) and [`finish`],
//!   which marks the end of the run in [`EMBER_DONE`]; the macros that
//!   include the package's model files ([`include_model!`],
//!   [`model_blob!`], [`model_inputs!`]);
//! * feature `cortex-m-rt`: [`paint_cortex_m_rt_stack`], the start of the
//!   peak-stack measurement (`ember-board-stack`) on cortex-m-rt's stack.
#![cfg_attr(not(feature = "build"), no_std)]

#[cfg(feature = "build")]
pub mod build;
#[cfg(feature = "firmware")]
mod model;
#[cfg(feature = "firmware")]
mod run;
#[cfg(feature = "cortex-m-rt")]
mod stack;

#[cfg(feature = "firmware")]
pub use ember_runtime;
#[cfg(feature = "firmware")]
pub use run::{EMBER_DONE, f32_le, finish, run, store_values};
#[cfg(feature = "cortex-m-rt")]
pub use stack::paint_cortex_m_rt_stack;
