//! Atomic writes and length-checked reads of checkpoint files.
//!
//! A write goes to a fresh temporary file in the target's directory, which is
//! flushed to disk (`fsync`) and then renamed over the target; on Unix the
//! directory is flushed too, so that the rename itself survives a power cut.
//! A crash or an error at any point leaves either the old file or the new one,
//! never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

fn io_err(path: &Path, e: io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A temporary path next to `path` that no other save of this process uses.
fn temp_path(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| Error::Io {
        path: path.display().to_string(),
        message: "not a file path".into(),
    })?;
    let k = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(path.with_file_name(format!(
        ".{}.{}-{k}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Writes `path` atomically; `write` fills the temporary file.
///
/// # Errors
///
/// [`Error::Io`] naming the file when creating, writing, flushing or renaming
/// fails; `path` is then unchanged and the temporary file removed.
pub(crate) fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    let tmp = temp_path(path)?;
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        write(&mut f)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&tmp, e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path, e));
    }
    sync_dir(path);
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Flushes the directory holding `path`, so that the rename is durable. Best
/// effort: the data is already safe, and not every platform can open a
/// directory.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Reads a checkpoint file, checking the 8-byte header length against the
/// file's size before reading the header.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Checkpoint`] when it
/// is shorter than 8 bytes or its header length points past its end.
pub(crate) fn read_checked(path: &Path) -> Result<Vec<u8>> {
    let io = |e| io_err(path, e);
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let corrupt = |what: String| Error::Checkpoint {
        path: path.display().to_string(),
        what,
    };
    if len < 8 {
        return Err(corrupt(format!(
            "truncated: {len} bytes, fewer than the 8-byte header length"
        )));
    }
    let mut head = [0u8; 8];
    f.read_exact(&mut head).map_err(io)?;
    let n = u64::from_le_bytes(head);
    if n > len - 8 {
        return Err(corrupt(format!(
            "header length {n} exceeds the {} bytes that follow it (truncated, or not a safetensors file)",
            len - 8
        )));
    }
    let cap =
        usize::try_from(len).map_err(|_| corrupt(format!("{len} bytes do not fit in memory")))?;
    let mut bytes = Vec::with_capacity(cap);
    bytes.extend_from_slice(&head);
    // `take` bounds the read by the size checked above, even if the file grows.
    f.take(len - 8).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 != len {
        return Err(corrupt(format!(
            "the file changed while being read ({len} bytes expected, {} read)",
            bytes.len()
        )));
    }
    Ok(bytes)
}
