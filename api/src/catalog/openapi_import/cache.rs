//! Imported toolkits kept on disk between starts: importing GitHub's
//! document takes about half a second in a release build (seconds in a
//! debug one), reading the result back a fraction of that.
//!
//! An entry is keyed by a hash of the overlay, the document and the running
//! binary (its size and modification time), so editing either file or
//! upgrading toolshed imports again. Entries live in `$TOOLSHED_CACHE_DIR`,
//! else `$XDG_CACHE_HOME/toolshed/toolkits`, else
//! `~/.cache/toolshed/toolkits`; one per toolkit slug is kept. Failing to
//! read or write the cache only costs the import.

use super::Imported;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Where entries live, if anywhere.
fn dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TOOLSHED_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("toolshed/toolkits"))
}

/// The key of an import of `document` as `overlay` says.
pub fn key(slug: &str, overlay: &str, document: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [overlay.as_bytes(), document] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    if let Some(meta) = std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::metadata(exe).ok())
    {
        hash.update(meta.len().to_le_bytes());
        if let Some(modified) = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        {
            hash.update(modified.as_nanos().to_le_bytes());
        }
    }
    let digest = hash.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{slug}-{hex}")
}

/// The entry for `key`, if there is a readable one.
pub fn get(key: &str) -> Option<Imported> {
    let path = dir()?.join(format!("{key}.json"));
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Stores `imported` under `key` and removes the slug's older entries.
pub fn put(key: &str, imported: &Imported) {
    let Some(dir) = dir() else { return };
    let stored = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let bytes = serde_json::to_vec(imported)?;
        let mut file = tempfile::NamedTempFile::new_in(&dir)?;
        std::io::Write::write_all(&mut file, &bytes)?;
        file.persist(dir.join(format!("{key}.json")))
            .map_err(|e| e.error)?;
        let slug = format!("{}-", imported.toolkit.slug);
        for entry in std::fs::read_dir(&dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Exactly `<slug>-<32 hex>.json`: `google` must not take
            // `google-calendar`'s entries.
            let ours = name
                .strip_prefix(&slug)
                .and_then(|rest| rest.strip_suffix(".json"))
                .is_some_and(|hash| {
                    hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit())
                });
            if ours && name != format!("{key}.json") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    })();
    if let Err(e) = stored {
        tracing::debug!(dir = %dir.display(), error = %e, "cannot cache an imported toolkit");
    }
}
