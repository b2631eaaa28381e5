//! [`DataDirLock`]: one process drives a data directory's sessions at a
//! time. `serve` and `mcp` (stdio) each take it; a second one fails with a
//! clear message instead of starting a second interpreter for a session
//! whose files the first one is using.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Name of the lock file in the data directory.
const LOCK_FILE: &str = "toolshed.lock";

/// An exclusive lock on a data directory, held until dropped (or the
/// process ends, however it ends: the OS releases it).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock, or says which process holds it.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, String> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            format!(
                "{}: cannot create the data directory: {e}",
                data_dir.display()
            )
        })?;
        let path = data_dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                return Err(format!(
                    "the data directory {} is in use by another toolshed process{}: only one \
                     `toolshed serve` or `toolshed mcp` may drive its sessions at a time. Stop \
                     it, or connect MCP clients to that server's /tool_router/<session>/mcp URL",
                    data_dir.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" ({holder})")
                    }
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("{}: cannot lock: {e}", path.display()));
            }
        }
        // Who holds it, for the next one's message (advisory text only).
        let _ = file.set_len(0);
        let _ = writeln!(
            file,
            "pid {}, `toolshed {}`",
            std::process::id(),
            std::env::args().nth(1).unwrap_or_default()
        );
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let refused = DataDirLock::acquire(dir.path()).unwrap_err();
        assert!(
            refused.contains("in use by another toolshed process"),
            "{refused}"
        );
        assert!(
            refused.contains(&format!("pid {}", std::process::id())),
            "{refused}"
        );
        drop(first);
        assert!(DataDirLock::acquire(dir.path()).is_ok());
    }
}
