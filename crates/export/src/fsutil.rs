//! Atomic file output: every output is written to a temporary file in the
//! destination's folder, flushed to disk, then renamed over the destination,
//! so that a reader never sees a partial file and a failed command leaves
//! nothing behind.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary path beside `path`, unique within this process and
/// across processes (it contains the process id): `dir/.NAME.tmp-PID-N.EXT`.
/// It keeps the extension of `path`, for writers that choose the format from it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}-{n}{ext}", std::process::id()))
}

/// Renames `tmp` over `path`; on failure removes `tmp` and returns the error.
pub fn commit(tmp: &Path, path: &Path) -> io::Result<()> {
    fs::rename(tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(tmp);
    })
}

/// Writes `path` atomically: `fill` writes the content into a buffered
/// temporary file; only if it and the flush to disk succeed is the file
/// renamed to `path`. On any error the temporary file is removed.
pub fn write_atomic<E: From<io::Error>>(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let tmp = temp_path(path);
    let result = (|| {
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let mut w = BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok::<(), E>(())
    })();
    match result {
        Ok(()) => commit(&tmp, path).map_err(E::from),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Removes a temporary file on drop unless it was committed; for writers that
/// create the temporary file themselves (such as the PNG encoder).
pub struct TempGuard {
    path: Option<PathBuf>,
}

impl TempGuard {
    /// Guards `path`, removing it when the guard is dropped.
    pub fn new(path: PathBuf) -> Self {
        TempGuard { path: Some(path) }
    }

    /// Renames the guarded file to `dest`; the guard then removes nothing.
    pub fn commit(mut self, dest: &Path) -> io::Result<()> {
        match self.path.take() {
            Some(tmp) => commit(&tmp, dest),
            None => Ok(()),
        }
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Writes `bytes` to `path` atomically, creating its folder if needed; the
/// error names the file.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    write_atomic(path, |w| w.write_all(bytes))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}
