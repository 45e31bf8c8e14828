//! Peak stack measurement by painting, for every ember firmware (the QEMU
//! boards and the real-board packages).
//!
//! Before the model runs, [`Stack::paint`] fills the free part of the stack
//! (from its lowest address up to a little below the current stack pointer)
//! with [`PAINT`]. After the model has run, [`Stack::peak`] scans up from the
//! lowest address for the first word that no longer holds the pattern: the
//! stack never reached below it, so `top - that address` is the peak stack
//! use of the whole firmware (its `main`, the runtime and the model), to the
//! word. A word the program happened to write with the pattern itself would
//! make the figure at most that much too small; the pattern is an unlikely
//! float, pointer and instruction.
//!
//! The stack region comes from the linker: with `cortex-m-rt` and `riscv-rt`
//! the stack grows down from `_stack_start` to the end of the static data
//! (`__sheap` / `_sheap`, the start of the unused heap region), which is what
//! the firmware passes to [`Stack::new`].
//!
//! ```text
//! unsafe extern "C" {
//!     static mut __sheap: u32;
//!     static mut _stack_start: u32;
//! }
//! let stack = unsafe { Stack::new(&raw mut __sheap, &raw mut _stack_start) };
//! unsafe { stack.paint() };
//! run_the_model();
//! let bytes = stack.peak();
//! ```
#![no_std]

use core::ptr;

/// The word painted over the free stack.
pub const PAINT: u32 = 0xC5AC_CE55;

/// Bytes left unpainted below the stack pointer when painting, so that
/// [`Stack::paint`]'s own frame is never overwritten.
pub const MARGIN: usize = 256;

/// A descending stack: words `[bottom, top)`, `top` the initial stack pointer.
#[derive(Clone, Copy, Debug)]
pub struct Stack {
    bottom: *mut u32,
    top: *mut u32,
}

impl Stack {
    /// The stack between the end of the static data (`bottom`, the lowest
    /// address the stack may reach) and the initial stack pointer (`top`).
    ///
    /// # Safety
    /// `[bottom, top)` must be this core's stack region, word aligned, with
    /// nothing but the stack in it, and `bottom <= top`.
    pub unsafe fn new(bottom: *mut u32, top: *mut u32) -> Self {
        Stack { bottom, top }
    }

    /// Size of the whole region in bytes.
    pub fn size(&self) -> usize {
        (self.top as usize).saturating_sub(self.bottom as usize)
    }

    /// Fills every word from `bottom` up to [`MARGIN`] bytes below the
    /// current stack pointer with [`PAINT`].
    ///
    /// # Safety
    /// Must run on this stack, with no live data below the stack pointer
    /// (call it from `main`, with interrupts that use this stack not yet
    /// running).
    #[inline(never)]
    pub unsafe fn paint(&self) {
        let here = current_sp();
        let end = here.saturating_sub(MARGIN) & !3;
        let mut p = self.bottom;
        while (p as usize) < end {
            // SAFETY: `p` is inside the free part of the stack region (the
            // caller's contract), below every live frame.
            unsafe {
                ptr::write_volatile(p, PAINT);
                p = p.add(1);
            }
        }
    }

    /// Peak stack use in bytes since [`Stack::paint`]: from `top` down to
    /// the lowest word that no longer holds the paint. Equal to
    /// [`Stack::size`] when the stack reached `bottom` (it may then have
    /// overflowed into the static data).
    pub fn peak(&self) -> usize {
        let mut p = self.bottom as *const u32;
        while (p as usize) < self.top as usize {
            // SAFETY: `p` is inside `[bottom, top)`, the region `new` was given.
            let word = unsafe { ptr::read_volatile(p) };
            if word != PAINT {
                break;
            }
            // SAFETY: still inside the region (checked by the loop condition).
            p = unsafe { p.add(1) };
        }
        (self.top as usize).saturating_sub(p as usize)
    }
}

/// An address inside the current stack frame: the stack pointer, give or
/// take this function's own frame.
#[inline(never)]
fn current_sp() -> usize {
    let marker = 0u32;
    let addr = ptr::addr_of!(marker) as usize;
    core::hint::black_box(&marker);
    addr
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn peak_finds_the_lowest_written_word() {
        // A fake stack in a buffer: paint it by hand (the real `paint` works
        // relative to the host's own stack pointer), then "use" the top 40 bytes.
        let mut buf = vec![0u32; 64];
        let bottom = buf.as_mut_ptr();
        let top = unsafe { bottom.add(64) };
        let stack = unsafe { Stack::new(bottom, top) };
        buf.iter_mut().for_each(|w| *w = PAINT);
        assert_eq!(stack.peak(), 0);
        for w in &mut buf[54..] {
            *w = 7;
        }
        assert_eq!(stack.peak(), 40);
        buf[3] = 1; // a deep excursion counts even if the words above it kept the paint
        assert_eq!(stack.peak(), (64 - 3) * 4);
        buf[0] = 0;
        assert_eq!(stack.peak(), stack.size());
    }
}
