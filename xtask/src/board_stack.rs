//! Peak stack of a real-board firmware, measured by running its release ELF
//! unchanged on a QEMU machine with the same core and memory map: the
//! nRF52840-DK's on `mps2-an386` (Cortex-M4F, flash at 0, RAM at
//! 0x20000000) and the STM32F411's on `netduinoplus2` (an STM32F405:
//! Cortex-M4F, flash at 0x08000000, 128 KiB of RAM at 0x20000000).
//!
//! The firmware paints its free stack (`ember-board-stack`) before the
//! models run and stops at a breakpoint after them; under QEMU, with no
//! debugger, the breakpoint escalates to a HardFault and the core spins in
//! cortex-m-rt's `HardFault_`. This module polls the program counter
//! through the QEMU monitor until it is there, saves the stack region
//! (`pmemsave`, from `__sheap` to `_stack_start`) and finds the lowest word
//! that no longer holds the paint, exactly as `Stack::peak` does on the
//! board. The firmware sets `EMBER_DONE` to [`DONE`] once every model has
//! run, so a panic (which also ends in `HardFault_`) is an error here. (The
//! defmt log goes to an RTT buffer that nobody reads here.)

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ember_board_host::llvm_tool;

/// The pattern `ember-board-stack` paints (`ember_board_stack::PAINT`).
const PAINT: u32 = 0xC5AC_CE55;
/// `EMBER_DONE` of a firmware that ran every model (ASCII `DONE`).
const DONE: u32 = 0x454E_4F44;
/// How long a firmware may run before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The address and size of each named symbol of `elf` (`llvm-nm -S`).
fn symbols(elf: &Path, names: &[&str]) -> Result<Vec<(u64, u64)>> {
    let nm = llvm_tool("llvm-nm")?;
    let out = Command::new(&nm).args(["-S", "--defined-only"]).arg(elf).output().context("cannot run llvm-nm")?;
    let text = String::from_utf8_lossy(&out.stdout);
    names
        .iter()
        .map(|name| {
            text.lines()
                .find_map(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    match w.as_slice() {
                        [a, s, _, n] if n == name => {
                            Some((u64::from_str_radix(a, 16).ok()?, u64::from_str_radix(s, 16).ok()?))
                        }
                        [a, _, n] if n == name => Some((u64::from_str_radix(a, 16).ok()?, 0)),
                        _ => None,
                    }
                })
                .with_context(|| format!("{} has no symbol {name}", elf.display()))
        })
        .collect()
}

/// A QEMU with its monitor on stdin/stdout.
struct Qemu {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Qemu {
    fn start(machine: &str, elf: &Path) -> Result<Qemu> {
        let mut child = Command::new("qemu-system-arm")
            .args(["-M", machine, "-display", "none", "-serial", "null", "-monitor", "stdio", "-kernel"])
            .arg(elf)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start qemu-system-arm (cargo xtask setup installs it)")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Qemu { child, stdin, lines })
    }

    /// The program counter, from `info registers` (`R15=xxxxxxxx`).
    fn pc(&mut self) -> Result<u64> {
        writeln!(self.stdin, "info registers").context("QEMU monitor closed")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else { break };
            if let Some(at) = line.find("R15=") {
                let hex = line[at + 4..].chars().take(8).collect::<String>();
                return u64::from_str_radix(&hex, 16).with_context(|| format!("bad R15 in `{line}`"));
            }
        }
        bail!("QEMU's monitor did not answer `info registers`")
    }

    /// Saves each `(address, size, file)` region of memory, then quits.
    fn save_and_quit(mut self, regions: &[(u64, u64, &Path)]) -> Result<()> {
        for (addr, size, file) in regions {
            writeln!(self.stdin, "pmemsave {addr:#x} {size:#x} \"{}\"", file.display())
                .context("QEMU monitor closed")?;
        }
        writeln!(self.stdin, "quit").context("QEMU monitor closed")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        bail!("QEMU did not quit")
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `elf` on QEMU's `machine` until it stops in `HardFault_` and
/// returns its peak stack in bytes.
pub fn peak_stack(machine: &str, elf: &Path, scratch: &Path) -> Result<u64> {
    let syms = symbols(elf, &["__sheap", "_stack_start", "HardFault_", "EMBER_DONE"])?;
    let ((bottom, _), (top, _), (fault, fault_len), (done, _)) = (syms[0], syms[1], syms[2], syms[3]);
    let fault_end = fault + fault_len.max(2);
    let mut qemu = Qemu::start(machine, elf)?;
    let started = Instant::now();
    loop {
        let pc = qemu.pc()? & !1;
        if (fault..fault_end).contains(&pc) {
            break;
        }
        if started.elapsed() > TIMEOUT {
            bail!("{} did not stop within {} s on {machine} (pc {pc:#x})", elf.display(), TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::fs::create_dir_all(scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
    let (dump, status) = (scratch.join("stack.bin"), scratch.join("done.bin"));
    qemu.save_and_quit(&[(bottom, top - bottom, &dump), (done, 4, &status)])?;
    let flag = std::fs::read(&status).with_context(|| format!("cannot read {}", status.display()))?;
    if flag.get(..4) != Some(&DONE.to_le_bytes()[..]) {
        bail!("{} stopped on {machine} before every model had run (a panic?)", elf.display());
    }
    let bytes = std::fs::read(&dump).with_context(|| format!("cannot read {}", dump.display()))?;
    let untouched = bytes.chunks_exact(4).take_while(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) == PAINT).count();
    if untouched == 0 {
        bail!(
            "{}: no painted word at the bottom of the stack: the firmware did not paint, or overflowed",
            elf.display()
        );
    }
    Ok((top - bottom) - 4 * untouched as u64)
}
