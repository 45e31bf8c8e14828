//! Runs one model on its fixed inputs and logs what it computed; marks the
//! end of the run.

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};

use ember_runtime::{Forward, Layer, Sample, TypedModel};

/// Set to `DONE` (ASCII, little-endian) by [`finish`] once every model has
/// run: a host that runs the firmware under QEMU (`cargo xtask
/// board-packages`) reads it to tell the end of the run from a panic.
#[unsafe(no_mangle)]
pub static EMBER_DONE: AtomicU32 = AtomicU32::new(0);

/// Marks the end of the run in [`EMBER_DONE`] and logs `done`.
pub fn finish() {
    EMBER_DONE.store(u32::from_le_bytes(*b"DONE"), Ordering::SeqCst);
    defmt::info!("done");
}

/// The little-endian `f32` in the first 4 bytes of `b` (at least 4 long).
#[inline]
pub fn f32_le(b: &[u8]) -> f32 {
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Copies the values of `y` into `out` (those that fit) and returns how
/// many values `y` holds.
#[inline]
pub fn store_values<S: Sample>(y: &S, out: &mut [f32]) -> usize {
    let mut n = 0;
    y.for_each_value(|v| {
        if let Some(slot) = out.get_mut(n) {
            *slot = v;
        }
        n += 1;
    });
    n
}

/// Runs model `M` from `blob` on every sample of `inputs` (little-endian
/// `f32`, whole samples) and logs each output (through `out`, which holds
/// one output), its largest value's index and the cycles the inference
/// took (`cycles`: a cycle counter, modulo 2^32).
pub fn run<M>(name: &str, blob: &[u8], inputs: &[u8], out: &mut [f32], cycles: impl Fn() -> u32)
where
    M: TypedModel,
    <M as Layer>::Input: Sample,
    <M as Layer>::Output: Sample,
{
    let model = match M::load(blob) {
        Ok(m) => m,
        Err(e) => defmt::panic!("{=str}: the blob does not match the generated type: {}", name, e),
    };
    for (i, sample) in inputs.chunks_exact(4 * <M as Layer>::Input::LEN).enumerate() {
        let x = match <M as Layer>::Input::from_values(sample.chunks_exact(4).map(f32_le)) {
            Ok(x) => x,
            Err(e) => defmt::panic!("{=str}: input {=usize}: {}", name, i, e),
        };
        let start = cycles();
        let y = black_box(model.forward(black_box(&x)));
        let spent = cycles().wrapping_sub(start);
        let n = store_values(&y, out);
        let values = &out[..n.min(out.len())];
        let top = values.iter().enumerate().fold(0, |best, (k, v)| if *v > values[best] { k } else { best });
        defmt::info!("{=str} input {=usize}: {=[?]} (largest: {=usize}); {=u32} cycles", name, i, values, top, spent);
    }
}
