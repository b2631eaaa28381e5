//! The guest's filesystem and environment, and the disk quota.
//!
//! The guest sees exactly two directories, both WASI preopens backed by
//! cap-std (so `..`, absolute paths and symlinks cannot lead outside them):
//! [`GUEST_HOME`] (the workbench and the working directory) and
//! [`GUEST_FILES`] (the files mount). Its environment is the fixed [`ENV`];
//! nothing of the host's leaks in.
//! The disk quota over both directories is in `quota`.

use crate::error::EngineError;
use std::path::PathBuf;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// The workbench inside the guest; also `HOME` and the working directory.
pub const GUEST_HOME: &str = "/home/user";
/// The files mount inside the guest.
pub const GUEST_FILES: &str = "/mnt/files";
/// Where spilled cell output goes, inside the files mount.
pub const GUEST_OUTPUT_DIR: &str = "/mnt/files/.toolshed/output";

/// The guest's whole environment.
pub const ENV: &[(&str, &str)] = &[
    ("HOME", GUEST_HOME),
    ("PWD", GUEST_HOME),
    ("USER", "user"),
    ("LOGNAME", "user"),
    ("SHELL", "/bin/sh"),
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("LANG", "C.UTF-8"),
    ("TZ", "UTC"),
    ("TMPDIR", "/home/user/.tmp"),
    ("PYTHONIOENCODING", "utf-8"),
    ("TOOLSHED_SANDBOX", "1"),
];

/// Host directories behind the guest's two preopens.
#[derive(Clone, Debug)]
pub(crate) struct Dirs {
    pub home: PathBuf,
    pub files: PathBuf,
}

impl Dirs {
    /// Creates both directories (and `~/.tmp`) if needed.
    pub(crate) fn prepare(&self) -> Result<(), EngineError> {
        for dir in [&self.home, &self.files, &self.home.join(".tmp")] {
            std::fs::create_dir_all(dir).map_err(|source| EngineError::Workbench {
                path: dir.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// A WASI context builder with the preopens and environment; stdio is empty
/// (cell output goes through the bridge), there is no network.
pub(crate) fn wasi_builder(dirs: &Dirs) -> Result<WasiCtxBuilder, EngineError> {
    let mut builder = WasiCtxBuilder::new();
    // Guest code runs on a thread of its own that may block: file
    // operations run right there instead of each being sent to tokio's
    // blocking pool and waited for (two thread wake-ups per call).
    builder
        .envs(ENV)
        .args(&["python"])
        .allow_blocking_current_thread(true);
    for (host, guest) in [(&dirs.home, GUEST_HOME), (&dirs.files, GUEST_FILES)] {
        builder
            .preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| EngineError::Workbench {
                path: host.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
    }
    Ok(builder)
}
