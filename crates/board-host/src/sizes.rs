//! Section sizes of a firmware ELF, from `llvm-size -A`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{BoardError, Result, io};

/// Section sizes of a firmware ELF, in bytes (from `llvm-size -A`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Code: `.text`, plus `.vector_table` (Cortex-M) and `.init*`/`.trap` (RISC-V).
    pub text: u64,
    /// Read-only data, the model blob included: `.rodata`, `.srodata`, `.eh_frame`.
    pub rodata: u64,
    /// Initialised data (in flash and copied to RAM): `.data`, `.sdata`.
    pub data: u64,
    /// Zeroed and uninitialised RAM: `.bss`, `.sbss`, `.uninit`.
    pub bss: u64,
}

impl Sizes {
    /// Flash: text + rodata + data.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }

    /// Static RAM: data + bss (the stack, which holds the activations, is extra).
    pub fn static_ram(&self) -> u64 {
        self.data + self.bss
    }
}

/// Path of an LLVM tool from the `llvm-tools` rustup component (`llvm-size`, ...).
///
/// # Errors
/// If `rustc` cannot be run or names no host, or the tool is not installed
/// (the message says how to install it).
pub fn llvm_tool(name: &str) -> Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let text = |args: &[&str]| -> Result<String> {
        let out = Command::new(&rustc).args(args).output().map_err(io("run", &rustc))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let sysroot = text(&["--print", "sysroot"])?.trim().to_string();
    let Some(host) = text(&["-vV"])?.lines().find_map(|l| l.strip_prefix("host: ").map(str::to_string)) else {
        return Err(BoardError::Llvm("rustc -vV names no host".into()));
    };
    let path = Path::new(&sysroot).join("lib/rustlib").join(host).join("bin").join(name);
    if !path.is_file() {
        return Err(BoardError::Llvm(format!(
            "{} not found: run `rustup component add llvm-tools` (or `cargo xtask setup`)",
            path.display()
        )));
    }
    Ok(path)
}

/// Section sizes of an ELF, from `llvm-size -A`.
///
/// # Errors
/// If `llvm-size` is missing ([`llvm_tool`]) or fails, or finds no `.text`.
pub fn measure_sizes(elf: &Path) -> Result<Sizes> {
    let tool = llvm_tool("llvm-size")?;
    let out = Command::new(&tool).arg("-A").arg(elf).output().map_err(io("run", &tool))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(BoardError::Llvm(format!("llvm-size -A {} failed: {stderr}", elf.display())));
    }
    let mut sizes = Sizes::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(size)) = (words.next(), words.next().and_then(|s| s.parse::<u64>().ok())) else {
            continue;
        };
        let slot = match name {
            ".vector_table" | ".text" | ".trap" => &mut sizes.text,
            n if n.starts_with(".text.") || n.starts_with(".init") => &mut sizes.text,
            ".rodata" | ".srodata" | ".eh_frame" => &mut sizes.rodata,
            ".data" | ".sdata" => &mut sizes.data,
            ".bss" | ".sbss" | ".uninit" => &mut sizes.bss,
            _ => continue,
        };
        *slot += size;
    }
    if sizes.text == 0 {
        return Err(BoardError::Llvm(format!("llvm-size found no .text in {}", elf.display())));
    }
    Ok(sizes)
}

/// A firmware's code (`.text` symbols from `llvm-nm --size-sort`) by owner:
/// the runtime's own functions, the blob header's decoder (serde and
/// postcard, which only the runtime uses), `libm` and compiler-builtins,
/// and the rest (the board's start-up, `main` and printing, with whatever
/// runtime code was inlined into them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CodeSizes {
    /// Functions whose demangled name holds `ember_runtime`.
    pub runtime: u64,
    /// Functions of `serde`, `serde_core` and `postcard` (the header decoder).
    pub decoder: u64,
    /// Math functions (`libm`: `expf`, `tanhf`, ...) and compiler-builtins
    /// (`memcpy`, integer division, soft helpers).
    pub builtins: u64,
    /// Everything else.
    pub other: u64,
}

impl CodeSizes {
    /// Every `.text` symbol counted.
    pub fn total(&self) -> u64 {
        self.runtime + self.decoder + self.builtins + self.other
    }
}

/// Which [`CodeSizes`] field a demangled symbol name belongs to.
fn owner<'a>(sizes: &'a mut CodeSizes, name: &str) -> &'a mut u64 {
    const MATH: [&str; 9] = ["expf", "expm1f", "tanhf", "logf", "sqrtf", "fmaxf", "fminf", "floorf", "fmaf"];
    let builtin = name.contains("compiler_builtins")
        || name.contains("libm")
        || name.starts_with("__")
        || name.starts_with("mem")
        || MATH.contains(&name);
    if name.contains("ember_runtime") {
        &mut sizes.runtime
    } else if name.contains("serde") || name.contains("postcard") {
        &mut sizes.decoder
    } else if builtin {
        &mut sizes.builtins
    } else {
        &mut sizes.other
    }
}

/// The `.text` symbols of an ELF by owner ([`CodeSizes`]), from
/// `llvm-nm --size-sort -S --demangle`.
///
/// # Errors
/// If `llvm-nm` is missing ([`llvm_tool`]) or fails.
pub fn measure_code(elf: &Path) -> Result<CodeSizes> {
    let tool = llvm_tool("llvm-nm")?;
    let out =
        Command::new(&tool).args(["--size-sort", "-S", "--demangle"]).arg(elf).output().map_err(io("run", &tool))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(BoardError::Llvm(format!("llvm-nm {} failed: {stderr}", elf.display())));
    }
    let mut sizes = CodeSizes::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // `<address> <size> <type> <name>`, sizes in hex; code is type t or T.
        let mut words = line.splitn(4, ' ');
        let (Some(_), Some(size), Some(kind), Some(name)) = (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Ok(size) = u64::from_str_radix(size, 16) else { continue };
        if kind.eq_ignore_ascii_case("t") {
            *owner(&mut sizes, name) += size;
        }
    }
    Ok(sizes)
}
