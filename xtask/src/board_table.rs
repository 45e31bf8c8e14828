//! The sizes of the real-board packages' release ELFs and the table of
//! `boards/README.md` (and each package's README) that shows them.
//!
//! * Flash and static RAM come from the ELF's section headers
//!   (`llvm-readobj --elf-output-style=GNU -S`, which is `llvm-readelf -S`):
//!   every allocated section counts, whatever its name (the ESP32-C3's
//!   `.rwtext` and `.rwdata_dummy`, the RP2040's `.boot2`); `NOBITS` ones
//!   (`.bss`, `.uninit`) are RAM only, writable ones (`.data`) are flash and
//!   RAM, the rest flash. Two `NOBITS` sections of esp-hal's linker script
//!   are left out: `.stack` (the whole free RAM, reserved for the stack) and
//!   `.rotext_dummy` (a gap in the flash address space).
//! * Activation RAM is each model's `ACTIVATION_BYTES`, which the firmware
//!   exports as the `u32` array `EMBER_ACTIVATION_BYTES` (one per model, in
//!   the order of the package's models): read from the ELF itself, so it is
//!   the typed model's own constant.
//! * Peak stack needs the firmware to run: measured for the packages whose
//!   release ELF runs on a QEMU machine ([`crate::board_stack`]); the table
//!   names the emulated core that stands for the others.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use ember_board_host::llvm_tool;

use crate::board_packages::{PACKAGES, Package};

/// The section and symbol that give the models' activation RAM.
const ACTIVATION_SYMBOL: &str = "EMBER_ACTIVATION_BYTES";
/// The lines that enclose the generated table in a README.
const BEGIN: &str = "<!-- board-table: written by `cargo xtask board-packages`, do not edit -->";
const END: &str = "<!-- end of board-table -->";

/// An allocated section of an ELF.
struct Section {
    nobits: bool,
    writable: bool,
    addr: u64,
    offset: u64,
    size: u64,
}

/// `NOBITS` sections that are no static RAM (see the module docs).
const NOT_STATIC: &[&str] = &[".stack", ".rotext_dummy"];

/// The allocated sections of `elf`, from `llvm-readelf -S -W`.
fn sections(elf: &Path) -> Result<Vec<Section>> {
    let text = tool_output("llvm-readobj", &["--elf-output-style=GNU", "-S", "-W"], elf)?;
    let mut out = Vec::new();
    for line in text.lines() {
        // `  [Nr] Name Type Address Off Size ES Flg Lk Inf Al`; Flg may be empty.
        let Some((_, rest)) = line.split_once(']') else { continue };
        let w: Vec<&str> = rest.split_whitespace().collect();
        if w.len() < 9 || w[0] == "Name" {
            continue;
        }
        let flags = if w.len() >= 10 { w[6] } else { "" };
        let hex = |s: &str| u64::from_str_radix(s, 16).with_context(|| format!("bad number `{s}` in `{line}`"));
        if flags.contains('A') && !(w[1] == "NOBITS" && NOT_STATIC.contains(&w[0])) {
            out.push(Section {
                nobits: w[1] == "NOBITS",
                writable: flags.contains('W'),
                addr: hex(w[2])?,
                offset: hex(w[3])?,
                size: hex(w[4])?,
            });
        }
    }
    if out.is_empty() {
        bail!("llvm-readelf found no allocated section in {}", elf.display());
    }
    Ok(out)
}

fn tool_output(tool: &str, args: &[&str], elf: &Path) -> Result<String> {
    let path = llvm_tool(tool)?;
    let out = Command::new(&path).args(args).arg(elf).output().with_context(|| format!("cannot run {tool}"))?;
    if !out.status.success() {
        bail!("{tool} {} failed: {}", elf.display(), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `u32` values of the array [`ACTIVATION_SYMBOL`] in `elf`.
fn activation_bytes(elf: &Path, secs: &[Section]) -> Result<Vec<u64>> {
    let nm = tool_output("llvm-nm", &["-S", "--defined-only"], elf)?;
    let Some((addr, size)) = nm.lines().find_map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        (w.len() == 4 && w[3] == ACTIVATION_SYMBOL)
            .then(|| Some((u64::from_str_radix(w[0], 16).ok()?, u64::from_str_radix(w[1], 16).ok()?)))
            .flatten()
    }) else {
        bail!("{} exports no {ACTIVATION_SYMBOL}", elf.display());
    };
    let Some(s) = secs.iter().find(|s| !s.nobits && s.addr <= addr && addr + size <= s.addr + s.size) else {
        bail!("{ACTIVATION_SYMBOL} is in no loaded section of {}", elf.display());
    };
    let bytes = fs::read(elf).with_context(|| format!("cannot read {}", elf.display()))?;
    let start = usize::try_from(s.offset + (addr - s.addr))?;
    let raw = bytes.get(start..start + usize::try_from(size)?).context("symbol outside the file")?;
    Ok(raw.chunks_exact(4).map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect())
}

/// The figures of one package's firmware.
pub struct Row {
    package: &'static Package,
    /// Flash: every loaded section (code, read-only data with the blobs, `.data`'s image).
    flash: u64,
    /// Static RAM: `.data` and `.bss` (the stack, which holds the activations, is extra).
    static_ram: u64,
    /// Each model's blob bytes.
    blobs: Vec<u64>,
    /// Each model's `ACTIVATION_BYTES`.
    activation: Vec<u64>,
    /// The firmware's peak stack and the QEMU machine it was measured on.
    pub peak: Option<(u64, &'static str)>,
}

impl Row {
    /// Measures the release ELF of package `p` in the checkout `root`.
    pub fn measure(p: &'static Package, root: &Path) -> Result<Row> {
        let elf = &p.elf(root);
        let secs = sections(elf)?;
        let flash = secs.iter().filter(|s| !s.nobits).map(|s| s.size).sum();
        let static_ram = secs.iter().filter(|s| s.nobits || s.writable).map(|s| s.size).sum();
        let activation = activation_bytes(elf, &secs)?;
        if activation.len() != p.models.len() {
            bail!("{}: {ACTIVATION_SYMBOL} holds {} values for {} models", p.dir, activation.len(), p.models.len());
        }
        let mut blobs = Vec::new();
        for m in p.models {
            let blob = p.path(root).join("model").join(format!("{}.emb", m.file));
            blobs.push(fs::metadata(&blob).with_context(|| format!("cannot read {}", blob.display()))?.len());
        }
        Ok(Row { package: p, flash, static_ram, blobs, activation, peak: None })
    }

    /// Whether the firmware fits: flash, and static RAM plus the peak stack
    /// (where measured, else the largest activation RAM, a lower bound of
    /// the stack) in RAM.
    fn fits(&self) -> String {
        let p = self.package;
        let stack = match self.peak {
            Some((peak, _)) => peak,
            None => self.activation.iter().copied().max().unwrap_or(0),
        };
        let ram = self.static_ram + stack;
        let (f, r) = (pct(self.flash, p.flash_kib), pct(ram, p.ram_kib));
        let ok = self.flash <= p.flash_kib * 1024 && ram <= p.ram_kib * 1024;
        format!("{} (flash {f:.0}%, RAM {r:.0}%)", if ok { "yes" } else { "**no**" })
    }

    /// The Markdown lines of this firmware: one per model.
    fn markdown(&self) -> String {
        let p = self.package;
        let mut s = String::new();
        for (k, m) in p.models.iter().enumerate() {
            let board = if k == 0 { format!("`{}`: {}", p.dir, p.board) } else { "″".into() };
            let _ = writeln!(
                s,
                "| {board} | {} | {} | {} | {} | {} | {} | {} |",
                m.label(),
                kib(self.blobs[k]),
                kib(self.flash),
                kib(self.static_ram),
                kib(self.activation[k]),
                match self.peak {
                    Some((peak, machine)) => format!("{} (this ELF on QEMU `{machine}`)", kib(peak)),
                    None => format!("on {}: see boards/README.md", p.emulated),
                },
                self.fits()
            );
        }
        s
    }
}

fn pct(bytes: u64, kib_total: u64) -> f64 {
    100.0 * bytes as f64 / (kib_total * 1024) as f64
}

fn kib(bytes: u64) -> String {
    format!("{bytes} B ({:.1} KiB)", bytes as f64 / 1024.0)
}

/// The table's header.
const HEADER: &str = "| board | model | blob | firmware flash | static RAM | activation RAM | peak stack | fits |\n\
                      |---|---|---|---|---|---|---|---|\n";

/// Replaces the generated block of `path` with `table` (appends it if absent).
fn replace_block(path: &Path, table: &str) -> Result<()> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let block = format!("{BEGIN}\n{table}{END}");
    let new = match (text.find(BEGIN), text.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{block}{}", &text[..a], &text[b + END.len()..]),
        _ => format!("{}\n\n{block}\n", text.trim_end()),
    };
    crate::board_models::write_if_changed(path, new.as_bytes())
}

/// Writes the table into `boards/README.md` (every package) and each
/// package's README (its own lines).
pub fn write(root: &Path, rows: &[Row]) -> Result<()> {
    let all: String = rows.iter().map(Row::markdown).collect();
    replace_block(&root.join("boards/README.md"), &format!("{HEADER}{all}"))?;
    for r in rows {
        replace_block(&r.package.path(root).join("README.md"), &format!("{HEADER}{}", r.markdown()))?;
    }
    debug_assert_eq!(rows.len(), PACKAGES.len());
    Ok(())
}

/// Prints the table.
pub fn print(rows: &[Row]) {
    println!(
        "\n{:<22} {:<26} {:>9} {:>9} {:>10} {:>11} {:>11}  fits",
        "package", "model", "blob", "flash", "static RAM", "act. RAM", "peak stack"
    );
    for r in rows {
        for (k, m) in r.package.models.iter().enumerate() {
            println!(
                "{:<22} {:<26} {:>9} {:>9} {:>10} {:>11} {:>11}  {}",
                r.package.dir,
                m.label(),
                r.blobs[k],
                r.flash,
                r.static_ram,
                r.activation[k],
                r.peak.map_or_else(|| "-".into(), |(p, _)| p.to_string()),
                r.fits()
            );
        }
    }
}
