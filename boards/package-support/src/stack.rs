//! The peak-stack measurement of a cortex-m-rt firmware (feature
//! `cortex-m-rt`).

use ember_board_stack::Stack;

unsafe extern "C" {
    /// End of the static data: the lowest address the stack may reach (cortex-m-rt).
    static mut __sheap: u32;
    /// The initial stack pointer, the end of RAM (cortex-m-rt).
    static mut _stack_start: u32;
}

/// Paints the free part of cortex-m-rt's stack (from the end of the static
/// data to `_stack_start`) and returns it, to read the peak from later.
///
/// # Safety
/// Call it once, first thing in `main`, before any interrupt is enabled:
/// nothing else may live in the stack region, and nothing may run below
/// the caller's frame yet.
pub unsafe fn paint_cortex_m_rt_stack() -> Stack {
    // SAFETY: cortex-m-rt's stack runs from the end of the static data to
    // `_stack_start`; nothing else lives there (the caller's promise).
    let stack = unsafe { Stack::new(&raw mut __sheap, &raw mut _stack_start) };
    // SAFETY: nothing runs below this frame yet (the caller's promise).
    unsafe { stack.paint() };
    stack
}
