//! The guest's filesystem and environment, and the disk quota.
//!
//! The guest sees exactly two directories, both WASI preopens backed by
//! cap-std (so `..`, absolute paths and symlinks cannot lead outside them):
//! [`GUEST_HOME`] (the workbench and the working directory) and
//! [`GUEST_FILES`] (the files mount). Its environment is the fixed [`ENV`];
//! nothing of the host's leaks in.
//!
//! The quota is enforced by wrapping WASI's `fd_write` and `fd_pwrite`
//! (then calling wasmtime-wasi's own implementation): a write that would take the two directories past the quota fails with
//! `ENOSPC` (an `OSError` in Python) before a byte reaches the host disk.

use crate::error::EngineError;
use crate::store::SandboxState;
use std::path::{Path, PathBuf};
use wasmtime::{Caller, Linker};
use wasmtime_wasi::p1::{WasiP1Ctx, wasi_snapshot_preview1 as p1};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wiggle::GuestMemory;

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

/// WASI errno `nospc`.
const ERRNO_NOSPC: i32 = 51;

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
    builder.envs(ENV).args(&["python"]);
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

/// Bytes stored in the two directories, and the quota over them.
#[derive(Debug)]
pub(crate) struct DiskQuota {
    dirs: Dirs,
    max_bytes: u64,
    /// An upper bound of current usage: measured, plus every byte written
    /// since (overwrites count twice until the next measurement).
    used_bytes: u64,
}

impl DiskQuota {
    pub(crate) fn new(dirs: Dirs, max_bytes: u64) -> Self {
        let used_bytes = usage(&dirs);
        DiskQuota {
            dirs,
            max_bytes,
            used_bytes,
        }
    }

    /// The directories the quota covers.
    pub(crate) fn dirs(&self) -> &Dirs {
        &self.dirs
    }

    /// Reserves room for a write of `bytes`, re-measuring before refusing.
    fn reserve(&mut self, bytes: u64) -> bool {
        if self.used_bytes.saturating_add(bytes) > self.max_bytes {
            self.used_bytes = usage(&self.dirs);
            if self.used_bytes.saturating_add(bytes) > self.max_bytes {
                return false;
            }
        }
        self.used_bytes += bytes;
        true
    }
}

/// Sum of the sizes of regular files under both directories (symlinks are
/// not followed).
fn usage(dirs: &Dirs) -> u64 {
    fn walk(dir: &Path, total: &mut u64) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                walk(&entry.path(), total);
            } else if meta.is_file() {
                *total = total.saturating_add(meta.len());
            }
        }
    }
    let mut total = 0;
    walk(&dirs.home, &mut total);
    walk(&dirs.files, &mut total);
    total
}

/// Shadows WASI's `fd_write` and `fd_pwrite` with quota-checking versions
/// that call wasmtime-wasi's own implementation once the write is admitted.
pub(crate) fn add_quota_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "fd_write",
        |mut caller: Caller<'_, SandboxState>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32| {
            if !admit(&mut caller, fd, iovs, iovs_len) {
                return Ok(ERRNO_NOSPC);
            }
            with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::fd_write(
                    wasi, memory, fd, iovs, iovs_len, nwritten,
                ))
            })
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "fd_pwrite",
        |mut caller: Caller<'_, SandboxState>,
         fd: i32,
         iovs: i32,
         iovs_len: i32,
         offset: i64,
         nwritten: i32| {
            if !admit(&mut caller, fd, iovs, iovs_len) {
                return Ok(ERRNO_NOSPC);
            }
            with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::fd_pwrite(
                    wasi, memory, fd, iovs, iovs_len, offset, nwritten,
                ))
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Runs a wasmtime-wasi preview1 function against this store's WASI context
/// and the guest's memory.
fn with_wasi(
    caller: &mut Caller<'_, SandboxState>,
    f: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let Some(memory) = caller.data().memory else {
        wasmtime::bail!("the guest has no memory");
    };
    let (data, state) = memory.data_and_store_mut(caller);
    let mut guest = GuestMemory::Unshared(data);
    f(&mut state.wasi, &mut guest)
}

/// Whether a write of the iovecs at `iovs` fits the quota. Writes to stdio
/// do not touch the disk. Malformed iovecs are admitted: the original
/// function rejects them with the right errno.
fn admit(caller: &mut Caller<'_, SandboxState>, fd: i32, iovs: i32, iovs_len: i32) -> bool {
    if (0..=2).contains(&fd) {
        return true;
    }
    let Some(memory) = caller.data().memory else {
        return true;
    };
    let data = memory.data(&*caller);
    let mut total: u64 = 0;
    for i in 0..iovs_len.max(0) as u32 {
        let at = (iovs as u32).wrapping_add(i.wrapping_mul(8));
        let Ok(iov) = crate::bridge::memory::read(data, at, 8) else {
            return true;
        };
        let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
        total = total.saturating_add(u64::from(len));
    }
    caller.data_mut().quota.reserve(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_refuses_past_the_limit_and_remeasures() {
        let home = tempfile::tempdir().unwrap();
        let files = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            home: home.path().to_owned(),
            files: files.path().to_owned(),
        };
        std::fs::write(home.path().join("a"), vec![0u8; 600]).unwrap();
        let mut quota = DiskQuota::new(dirs, 1000);
        assert!(quota.reserve(300));
        std::fs::write(files.path().join("b"), vec![0u8; 300]).unwrap();
        assert!(!quota.reserve(200));
        // Deleting the file frees its room (found by re-measuring).
        std::fs::remove_file(home.path().join("a")).unwrap();
        assert!(quota.reserve(700));
    }
}
