//! Building and running board firmware under QEMU.
