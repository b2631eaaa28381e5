//! Hibernating sessions: a sandbox that is evicted (idle, to make room, at
//! shutdown) leaves its interpreter's checkpoint in the session's folder,
//! `sessions/{id}/interpreter.ckpt` (beside its home and files mount, so it
//! does not count against the disk quota), and the session's next cell
//! resumes from it with every variable as it was (`state_reset: false`).
//!
//! A live session is also checkpointed once it has been idle for
//! `--checkpoint-after-secs` after a cell, so `kill -9` loses at most the
//! cells since. `interpreter.dirty` marks that cells ran after the
//! checkpoint on disk: it is made before the first such cell and removed
//! when a checkpoint is written. Resuming while it exists means those cells
//! were lost: the first cell says `state_reset: true` and
//! `state_reset_reason` names the checkpoint's time.
//!
//! A checkpoint is written to a temporary file, synced and renamed, so a
//! crash leaves the old one or the new one, never half of one. One that
//! cannot be restored (another runtime build, damaged) is kept as
//! `interpreter.ckpt.rejected` for inspection and the session starts fresh.

use std::io::Write;
use std::path::{Path, PathBuf};
use toolshed_engine::Sandbox;

/// The checkpoint's file name in a session's folder.
pub const CHECKPOINT_FILE: &str = "interpreter.ckpt";
/// Where a refused checkpoint is moved.
pub const REJECTED_FILE: &str = "interpreter.ckpt.rejected";
/// Present while cells have run since the checkpoint on disk.
pub const DIRTY_FILE: &str = "interpreter.dirty";

/// The checkpoint file of the session whose home is `home`.
pub fn checkpoint_path(home: &Path) -> PathBuf {
    home.parent().unwrap_or(home).join(CHECKPOINT_FILE)
}

/// The marker that cells ran after the checkpoint (see the module docs).
pub fn dirty_path(home: &Path) -> PathBuf {
    home.parent().unwrap_or(home).join(DIRTY_FILE)
}

/// Marks that a cell is about to run after the last checkpoint.
pub async fn mark_dirty(home: &Path) {
    let path = dirty_path(home);
    if let Err(err) = tokio::fs::write(&path, b"").await {
        tracing::warn!(path = %path.display(), error = %err, "could not mark a session's interpreter as changed");
    }
}

/// The checkpoint on disk holds every cell that ran.
pub fn clear_dirty(home: &Path) {
    match std::fs::remove_file(dirty_path(home)) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(error = %err, "could not clear a session's changed marker"),
    }
}

/// When the checkpoint at `path` was written, as RFC 3339.
pub fn written_at(path: &Path) -> String {
    let secs = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    crate::timestamp::rfc3339(secs)
}

/// Takes `sandbox`'s checkpoint and writes it to `path`; returns its size
/// (`None`: there was no state to keep, and any older checkpoint is
/// removed so it cannot be resumed by mistake). Errors are logged by the
/// caller; the session then starts fresh next time.
pub async fn save(path: PathBuf, sandbox: &Sandbox) -> Result<Option<u64>, String> {
    let image = sandbox
        .checkpoint()
        .await
        .map_err(|e| format!("checkpoint: {e}"))?;
    tokio::task::spawn_blocking(move || match image {
        Some(bytes) => write_atomically(&path, &bytes).map(|()| Some(bytes.len() as u64)),
        None => match std::fs::remove_file(&path) {
            Ok(()) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(format!("{}: {err}", path.display())),
        },
    })
    .await
    .map_err(|e| format!("checkpoint writer: {e}"))?
}

/// Temp file in the same folder, fsync, rename, fsync the folder. The
/// folder is not created: a session deleted meanwhile stays deleted.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// Moves a checkpoint that could not be restored aside.
pub fn reject(path: &Path) {
    let aside = path.with_file_name(REJECTED_FILE);
    if let Err(err) = std::fs::rename(path, &aside) {
        tracing::warn!(path = %path.display(), error = %err, "could not move a refused checkpoint aside");
    }
}
