//! Hibernating sessions: a sandbox that is evicted (idle, to make room, at
//! shutdown) leaves its interpreter's checkpoint in a [`CheckpointStore`],
//! and the session's next cell resumes from it with every variable as it
//! was (`state_reset: false`).
//!
//! A live session is also checkpointed once it has been idle for
//! `--checkpoint-after-secs` after a cell, so `kill -9` loses at most the
//! cells since. The store also records whether cells ran after the stored
//! checkpoint (marked before the first such cell, cleared when a checkpoint
//! is written); resuming while it is marked means those cells were lost:
//! the first cell says `state_reset: true` and `state_reset_reason` names
//! the checkpoint's time.
//!
//! A checkpoint that cannot be restored (another runtime build, damaged) is
//! kept aside for inspection and the session starts fresh.

use std::io;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toolshed_engine::Sandbox;

/// A stored checkpoint.
pub struct Stored {
    /// The image ([`Sandbox::checkpoint`]).
    pub image: Vec<u8>,
    /// When it was written (Unix seconds).
    pub written_at: u64,
}

/// Where checkpoints are kept, by session id. Calls block (callers run them
/// on tokio's blocking pool). [`LocalDir`] keeps them in the data
/// directory; an object store (S3 and the like) can implement the same
/// operations for a deployment of several nodes, where any node resumes any
/// session.
pub trait CheckpointStore: Send + Sync + 'static {
    /// Stores `image` as the session's checkpoint, whole or not at all.
    fn put(&self, session: &str, image: &[u8]) -> io::Result<()>;
    /// The session's checkpoint, if there is one.
    fn get(&self, session: &str) -> io::Result<Option<Stored>>;
    /// Removes the session's checkpoint (there is no state to keep).
    fn remove(&self, session: &str) -> io::Result<()>;
    /// Moves a checkpoint that could not be restored aside, for inspection;
    /// returns where (for the message).
    fn reject(&self, session: &str) -> io::Result<String>;
    /// Records that cells ran after the stored checkpoint.
    fn mark_changed(&self, session: &str) -> io::Result<()>;
    /// Whether cells ran after the stored checkpoint.
    fn changed(&self, session: &str) -> io::Result<bool>;
    /// The running interpreter matches the stored checkpoint (or none).
    fn clear_changed(&self, session: &str) -> io::Result<()>;
    /// Bytes the session's checkpoints take (for the operator's report).
    fn bytes(&self, session: &str) -> io::Result<u64>;
}

/// The checkpoint's file name in a session's folder.
pub const CHECKPOINT_FILE: &str = "interpreter.ckpt";
/// Where a refused checkpoint is moved.
pub const REJECTED_FILE: &str = "interpreter.ckpt.rejected";
/// Present while cells have run since the checkpoint on disk.
pub const CHANGED_FILE: &str = "interpreter.dirty";

/// Checkpoints as files in each session's folder under `sessions/` of the
/// data directory, beside (not inside) its home and files mount, so they
/// do not count against the disk quota and go when the session's folder
/// is deleted. Writes are atomic: a temporary file, fsync, rename, fsync of
/// the folder; a session folder that no longer exists is not recreated.
#[derive(Debug)]
pub struct LocalDir {
    sessions: PathBuf,
}

impl LocalDir {
    /// The store over `sessions` (the data directory's `sessions/`).
    pub fn new(sessions: PathBuf) -> LocalDir {
        LocalDir { sessions }
    }

    fn file(&self, session: &str, name: &str) -> PathBuf {
        self.sessions.join(session).join(name)
    }
}

fn absent_ok(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl CheckpointStore for LocalDir {
    fn put(&self, session: &str, image: &[u8]) -> io::Result<()> {
        let path = self.file(session, CHECKPOINT_FILE);
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(image)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        if let Ok(folder) = std::fs::File::open(dir) {
            let _ = folder.sync_all();
        }
        Ok(())
    }

    fn get(&self, session: &str) -> io::Result<Option<Stored>> {
        let path = self.file(session, CHECKPOINT_FILE);
        let image = match std::fs::read(&path) {
            Ok(image) => image,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let written_at = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        Ok(Some(Stored { image, written_at }))
    }

    fn remove(&self, session: &str) -> io::Result<()> {
        absent_ok(std::fs::remove_file(self.file(session, CHECKPOINT_FILE)))
    }

    fn reject(&self, session: &str) -> io::Result<String> {
        std::fs::rename(
            self.file(session, CHECKPOINT_FILE),
            self.file(session, REJECTED_FILE),
        )?;
        Ok(format!("{REJECTED_FILE} in the session's folder"))
    }

    fn mark_changed(&self, session: &str) -> io::Result<()> {
        std::fs::write(self.file(session, CHANGED_FILE), b"")
    }

    fn changed(&self, session: &str) -> io::Result<bool> {
        self.file(session, CHANGED_FILE).try_exists()
    }

    fn clear_changed(&self, session: &str) -> io::Result<()> {
        absent_ok(std::fs::remove_file(self.file(session, CHANGED_FILE)))
    }

    fn bytes(&self, session: &str) -> io::Result<u64> {
        [CHECKPOINT_FILE, REJECTED_FILE]
            .iter()
            .map(|name| match std::fs::metadata(self.file(session, name)) {
                Ok(meta) => Ok(meta.len()),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(0),
                Err(err) => Err(err),
            })
            .sum()
    }
}

/// What saving a sandbox's state did.
pub enum Saved {
    /// A checkpoint of this many bytes was stored.
    Image(u64),
    /// There was no state to keep (the interpreter was reset and nothing
    /// ran since); any older checkpoint was removed, so it cannot be
    /// resumed by mistake.
    Nothing,
}

/// Takes `sandbox`'s checkpoint and stores it as `session`'s. Errors are
/// logged by the caller; the session then starts fresh next time.
pub async fn save(
    store: Arc<dyn CheckpointStore>,
    session: String,
    sandbox: &Sandbox,
) -> Result<Saved, String> {
    let image = sandbox
        .checkpoint()
        .await
        .map_err(|e| format!("checkpoint: {e}"))?;
    tokio::task::spawn_blocking(move || match image {
        Some(bytes) => store
            .put(&session, &bytes)
            .map(|()| Saved::Image(bytes.len() as u64)),
        None => store.remove(&session).map(|()| Saved::Nothing),
    })
    .await
    .map_err(|e| format!("checkpoint writer: {e}"))?
    .map_err(|e| format!("storing the checkpoint: {e}"))
}

/// [`CheckpointStore::mark_changed`] off the async workers; a failure is
/// logged (the worst outcome is a resume that does not say cells were lost).
pub async fn mark_changed(store: &Arc<dyn CheckpointStore>, session: &str) {
    let (store, id) = (store.clone(), session.to_owned());
    let marked = tokio::task::spawn_blocking(move || store.mark_changed(&id)).await;
    if !matches!(marked, Ok(Ok(()))) {
        tracing::warn!(session, "could not record that the interpreter changed");
    }
}

/// [`CheckpointStore::clear_changed`], logged on failure.
pub fn clear_changed(store: &dyn CheckpointStore, session: &str) {
    if let Err(err) = store.clear_changed(session) {
        tracing::warn!(session, error = %err, "could not clear the interpreter's changed mark");
    }
}
