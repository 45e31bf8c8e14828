//! Slice kernels shared by the typed layers and the dynamic interpreter, so
//! that both compute exactly the same thing.
//!
//! One layer kind, one file (`dense`, `rnn`, `lstm`, `gru`, `conv2d`,
//! `max_pool2d`, `upsample2d`, `batch_norm`, `entity_dot`,
//! `depthwise_conv2d`, `average_pool2d`, `global_average_pool`; Embedding,
//! Flatten and Dropout only copy values and have none). The 1-D window kinds
//! run the 2-D kernels on a map of height 1 (`Conv1d` → [`conv2d`],
//! `MaxPool1d` → [`max_pool2d`], `AveragePool1d` → [`average_pool2d`]).
//! `recurrent` holds what the recurrent cells share; `blocked` holds the
//! register-blocked [`gemv_acc`] that Dense and the recurrent gates sum
//! with; this module holds the fixed-order [`dot`] that the other kernels
//! sum with.
//!
//! # Host SIMD
//! Every SIMD path computes exactly the bits of the portable code (the
//! boards' bits), so the host and the boards agree. x86-64: `blocked_sse`
//! (SSE, the baseline, always); with the `std` feature, AVX (`blocked_avx`,
//! `conv2d_avx`) and AVX2 (`activation_avx` with `math_avx`: the LSTM, GRU and RNN gates), each
//! taken only if `is_x86_feature_detected!` finds it. aarch64:
//! `blocked_neon` (NEON, the baseline) and, with `std`, `conv2d_neon`. None
//! uses a fused multiply-add.
//! The environment variable `EMBER_HOST_SIMD=0` turns the run-time-detected
//! x86-64 paths off (the SSE baseline and scalar code remain), for
//! comparisons ([`host_simd`]).

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod activation_avx;
mod average_pool2d;
mod batch_norm;
mod blocked;
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
mod blocked_arm;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod blocked_avx;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod blocked_neon;
#[cfg(target_arch = "x86_64")]
mod blocked_sse;
mod conv2d;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod conv2d_avx;
#[cfg(all(feature = "std", target_arch = "aarch64", target_feature = "neon"))]
mod conv2d_neon;
mod dense;
mod depthwise_conv2d;
mod entity_dot;
mod global_average_pool;
mod gru;
mod lstm;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod math_avx;
mod max_pool2d;
mod recurrent;
mod rnn;
mod upsample2d;

pub use average_pool2d::average_pool2d;
pub use batch_norm::batch_norm;
pub use blocked::{gemv_acc, gemv_acc_portable, row_dot, row_dot_portable};
pub use conv2d::conv2d;
pub use dense::dense;
pub use depthwise_conv2d::depthwise_conv2d;
pub use entity_dot::{EntityParams, entity_dot};
pub use global_average_pool::global_average_pool;
pub use gru::gru_step;
pub use lstm::lstm_step;
pub use max_pool2d::max_pool2d;
pub use recurrent::{CellParams, GateParams, run_direction};
pub use rnn::rnn_step;
pub use upsample2d::upsample2d;

/// `v[k] = σ(v[k])` for every `k` ([`crate::activation::sigmoid`]'s bits;
/// eight at a time on an x86-64 host with AVX2).
#[inline]
pub fn sigmoid_in_place(v: &mut [f32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    activation_avx::sigmoid_in_place(v);
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    v.iter_mut().for_each(|x| *x = crate::activation::sigmoid(*x));
}

/// `v[k] = tanh(v[k])` for every `k` (`libm::tanhf`'s bits; eight at a
/// time on an x86-64 host with AVX2).
#[inline]
pub fn tanh_in_place(v: &mut [f32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    activation_avx::tanh_in_place(v);
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    v.iter_mut().for_each(|x| *x = libm::tanhf(*x));
}

/// Whether the run-time-detected host paths may run: unless the
/// environment variable `EMBER_HOST_SIMD` is `0` (read once). They compute
/// the same bits either way; this is for comparing speeds.
#[cfg(feature = "std")]
pub fn host_simd() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering};
    // 0: not read yet, 1: on, 2: off.
    static STATE: AtomicU8 = AtomicU8::new(0);
    match STATE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let on = std::env::var_os("EMBER_HOST_SIMD").is_none_or(|v| v != "0");
            STATE.store(if on { 1 } else { 2 }, Ordering::Relaxed);
            on
        }
    }
}

/// Independent partial sums of [`dot`]: enough to fill the SIMD lanes of a
/// host (two SSE registers) and to hide the latency of an MCU's FPU.
const LANES: usize = 8;

/// `Σ a[i]·b[i]` over the common length, summed in `LANES` interleaved
/// partial sums (element `i` goes to sum `i % LANES`), then the partial sums
/// in order, then the tail. The order is fixed, so every target computes the
/// same bits.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let mut sum = acc.iter().sum::<f32>();
    for (x, y) in ta.iter().zip(tb) {
        sum += x * y;
    }
    sum
}
