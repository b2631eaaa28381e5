//! The disk quota: what the workbench and the files mount may hold
//! together, in bytes ([`Limits::max_disk_bytes`]) and in files plus
//! directories ([`Limits::max_disk_inodes`]).
//!
//! What is charged is what the host filesystem spends: allocated blocks
//! (so a sparse file costs what it really uses, and a write into a hole
//! is not free), each inode once however many hard links point at it. The
//! tree is walked through directory handles (`openat`, never long ambient
//! paths, never following symlinks); anything that cannot be measured makes
//! the quota count as full rather than being skipped.
//!
//! It is enforced by wrapping WASI calls and then calling wasmtime-wasi's
//! own implementation: `fd_write` and `fd_pwrite` (whatever the fd number:
//! fds 0-2 can be closed and reused for files) fail with `ENOSPC` before a
//! byte reaches the host disk; `path_open` with `O_CREAT`,
//! `path_create_directory`, `path_link` and `path_symlink` fail with
//! `EDQUOT` at the inode cap. Usage is tracked as an upper bound (every
//! admitted byte or inode is added) and re-measured before anything is
//! refused, so deleting files makes room again.
//!
//! Host-side writes on the session's behalf (spilled cell output) are
//! charged against the same quota (see `output`).

use crate::limits::Limits;
use crate::state::SandboxState;
use crate::wasi::with_wasi;
use crate::workbench::Dirs;
use cap_std::fs::{Dir, MetadataExt};
use std::collections::HashSet;
use wasmtime::{Caller, Linker};
use wasmtime_wasi::p1::wasi_snapshot_preview1 as p1;

/// WASI errno `nospc`.
const ERRNO_NOSPC: i32 = 51;
/// WASI errno `dquot`.
const ERRNO_DQUOT: i32 = 19;
/// `oflags::creat`.
const OFLAGS_CREAT: i32 = 1;
/// Bytes charged per inode on top of its blocks (a directory entry, the
/// inode itself): keeps millions of empty files from being free.
const INODE_OVERHEAD_BYTES: u64 = 512;

/// What the two directories hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Allocated bytes (blocks × 512) plus a small charge per inode.
    pub bytes: u64,
    /// Files, directories and symlinks.
    pub inodes: u64,
}

impl DiskUsage {
    /// Measures a sandbox's workbench (`home`) and files mount (`files`), as
    /// its quota counts them: for an embedder writing into them on the
    /// sandbox's behalf (uploads, saved tool output), which should charge
    /// the same quota. Blocking (it walks both trees).
    pub fn of_sandbox(home: &std::path::Path, files: &std::path::Path, max_inodes: u64) -> Self {
        let dirs = Dirs {
            home: home.to_owned(),
            files: files.to_owned(),
        };
        DiskUsage::measure(&dirs, max_inodes)
    }

    /// Bytes still free under `limits`' disk quota.
    pub fn bytes_free(&self, limits: &Limits) -> u64 {
        limits.max_disk_bytes.saturating_sub(self.bytes)
    }

    /// "Cannot be measured": as full as anything can be.
    const FULL: DiskUsage = DiskUsage {
        bytes: u64::MAX,
        inodes: u64::MAX,
    };

    /// Measures both directories. Stops early (and reports full) past
    /// `max_inodes` entries, so a flood cannot make the walk itself costly.
    pub(crate) fn measure(dirs: &Dirs, max_inodes: u64) -> DiskUsage {
        let mut walk = Walk {
            seen: HashSet::new(),
            usage: DiskUsage::default(),
            limit: max_inodes.saturating_add(1),
        };
        for root in [&dirs.home, &dirs.files] {
            let dir = match Dir::open_ambient_dir(root, cap_std::ambient_authority()) {
                Ok(dir) => dir,
                // Not created yet: holds nothing.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(_) => return DiskUsage::FULL,
            };
            if walk.dir(&dir, 0).is_err() {
                return DiskUsage::FULL;
            }
        }
        walk.usage
    }
}

/// Deepest directory nesting measured; deeper trees count as full (each
/// level holds a directory handle open during the walk).
const MAX_WALK_DEPTH: usize = 512;

struct Walk {
    seen: HashSet<(u64, u64)>,
    usage: DiskUsage,
    limit: u64,
}

/// The walk could not measure something (or hit a bound).
struct Unmeasurable;

impl Walk {
    fn dir(&mut self, dir: &Dir, depth: usize) -> Result<(), Unmeasurable> {
        if depth > MAX_WALK_DEPTH {
            return Err(Unmeasurable);
        }
        for entry in dir.entries().map_err(|_| Unmeasurable)? {
            let entry = entry.map_err(|_| Unmeasurable)?;
            // Does not follow symlinks.
            let meta = entry.metadata().map_err(|_| Unmeasurable)?;
            if self.seen.insert((meta.dev(), meta.ino())) {
                self.usage.inodes += 1;
                self.usage.bytes = self
                    .usage
                    .bytes
                    .saturating_add(meta.blocks().saturating_mul(512))
                    .saturating_add(INODE_OVERHEAD_BYTES);
                if self.usage.inodes > self.limit {
                    return Err(Unmeasurable);
                }
            }
            if meta.is_dir() {
                let sub = entry.open_dir().map_err(|_| Unmeasurable)?;
                self.dir(&sub, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// The quota of one sandbox and an upper bound of its current usage.
#[derive(Debug)]
pub(crate) struct DiskQuota {
    dirs: Dirs,
    max_bytes: u64,
    max_inodes: u64,
    /// Measured, plus everything admitted since (an upper bound).
    used: DiskUsage,
}

impl DiskQuota {
    pub(crate) fn new(dirs: Dirs, limits: &Limits) -> Self {
        let used = DiskUsage::measure(&dirs, limits.max_disk_inodes);
        DiskQuota {
            dirs,
            max_bytes: limits.max_disk_bytes,
            max_inodes: limits.max_disk_inodes,
            used,
        }
    }

    fn remeasure(&mut self) {
        self.used = DiskUsage::measure(&self.dirs, self.max_inodes);
    }

    /// Reserves room for `bytes` more, re-measuring before refusing.
    pub(crate) fn reserve_bytes(&mut self, bytes: u64) -> bool {
        if self.used.bytes.saturating_add(bytes) > self.max_bytes {
            self.remeasure();
            if self.used.bytes.saturating_add(bytes) > self.max_bytes {
                return false;
            }
        }
        self.used.bytes = self.used.bytes.saturating_add(bytes);
        true
    }

    /// Reserves one more inode, re-measuring before refusing.
    pub(crate) fn reserve_inode(&mut self) -> bool {
        if self.used.inodes.saturating_add(1) > self.max_inodes {
            self.remeasure();
            if self.used.inodes.saturating_add(1) > self.max_inodes {
                return false;
            }
        }
        self.used.inodes = self.used.inodes.saturating_add(1);
        self.used.bytes = self.used.bytes.saturating_add(INODE_OVERHEAD_BYTES);
        true
    }
}

/// Registers the quota-checking wrappers of the WASI calls that write or
/// create.
pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "fd_write",
        |mut caller: Caller<'_, SandboxState>, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32| {
            if !admit_write(&mut caller, iovs, iovs_len) {
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
            if !admit_write(&mut caller, iovs, iovs_len) {
                return Ok(ERRNO_NOSPC);
            }
            with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::fd_pwrite(
                    wasi, memory, fd, iovs, iovs_len, offset, nwritten,
                ))
            })
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "path_open",
        |mut caller: Caller<'_, SandboxState>,
         fd: i32,
         dirflags: i32,
         path: i32,
         path_len: i32,
         oflags: i32,
         rights_base: i64,
         rights_inheriting: i64,
         fdflags: i32,
         opened: i32| {
            if oflags & OFLAGS_CREAT != 0 && !caller.data_mut().quota.reserve_inode() {
                return Ok(ERRNO_DQUOT);
            }
            with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::path_open(
                    wasi,
                    memory,
                    fd,
                    dirflags,
                    path,
                    path_len,
                    oflags,
                    rights_base,
                    rights_inheriting,
                    fdflags,
                    opened,
                ))
            })
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "path_create_directory",
        |mut caller: Caller<'_, SandboxState>, fd: i32, path: i32, path_len: i32| {
            if !caller.data_mut().quota.reserve_inode() {
                return Ok(ERRNO_DQUOT);
            }
            with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::path_create_directory(
                    wasi, memory, fd, path, path_len,
                ))
            })
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "path_link",
        |mut caller: Caller<'_, SandboxState>,
         old_fd: i32,
         old_flags: i32,
         old_path: i32,
         old_path_len: i32,
         new_fd: i32,
         new_path: i32,
         new_path_len: i32| {
            if !caller.data_mut().quota.reserve_inode() {
                return Ok(ERRNO_DQUOT);
            }
            with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::path_link(
                    wasi,
                    memory,
                    old_fd,
                    old_flags,
                    old_path,
                    old_path_len,
                    new_fd,
                    new_path,
                    new_path_len,
                ))
            })
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "path_symlink",
        |mut caller: Caller<'_, SandboxState>,
         old_path: i32,
         old_path_len: i32,
         fd: i32,
         new_path: i32,
         new_path_len: i32| {
            if !caller.data_mut().quota.reserve_inode() {
                return Ok(ERRNO_DQUOT);
            }
            with_wasi(&mut caller, |wasi, memory| {
                wasmtime_wasi::runtime::in_tokio(p1::path_symlink(
                    wasi,
                    memory,
                    old_path,
                    old_path_len,
                    fd,
                    new_path,
                    new_path_len,
                ))
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Whether a write of the iovecs at `iovs` fits the quota, whatever the fd.
/// Malformed iovecs are admitted: the original function rejects them with
/// the right errno.
fn admit_write(caller: &mut Caller<'_, SandboxState>, iovs: i32, iovs_len: i32) -> bool {
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
    caller.data_mut().quota.reserve_bytes(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> (tempfile::TempDir, Dirs) {
        let root = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            home: root.path().join("home"),
            files: root.path().join("files"),
        };
        dirs.prepare().unwrap();
        (root, dirs)
    }

    fn limits(max_disk_bytes: u64, max_disk_inodes: u64) -> Limits {
        Limits {
            max_disk_bytes,
            max_disk_inodes,
            ..Limits::default()
        }
    }

    #[test]
    fn refuses_past_the_limit_and_remeasures() {
        let (_root, dirs) = dirs();
        std::fs::write(dirs.home.join("a"), vec![1u8; 600_000]).unwrap();
        let mut quota = DiskQuota::new(dirs.clone(), &limits(1_000_000, 1000));
        assert!(quota.reserve_bytes(300_000));
        std::fs::write(dirs.files.join("b"), vec![1u8; 300_000]).unwrap();
        assert!(!quota.reserve_bytes(200_000));
        // Deleting the file frees its room (found by re-measuring).
        std::fs::remove_file(dirs.home.join("a")).unwrap();
        assert!(quota.reserve_bytes(600_000));
    }

    #[test]
    fn sparse_files_cost_their_blocks_and_links_count_once() {
        let (_root, dirs) = dirs();
        let file = std::fs::File::create(dirs.home.join("sparse")).unwrap();
        file.set_len(10 << 30).unwrap();
        std::fs::write(dirs.home.join("data"), vec![1u8; 100_000]).unwrap();
        std::fs::hard_link(dirs.home.join("data"), dirs.files.join("link")).unwrap();
        let usage = DiskUsage::measure(&dirs, 1000);
        // home/.tmp, sparse, data (+ its link, same inode)
        assert_eq!(usage.inodes, 3, "{usage:?}");
        assert!(usage.bytes < 200_000, "{usage:?}");
        assert!(usage.bytes >= 100_000, "{usage:?}");
    }

    #[test]
    fn deep_trees_are_measured_without_long_paths() {
        let (_root, dirs) = dirs();
        // Deeper than PATH_MAX (4096) in total length.
        let name = "d".repeat(200);
        let mut dir = Dir::open_ambient_dir(&dirs.home, cap_std::ambient_authority()).unwrap();
        for _ in 0..40 {
            dir.create_dir(&name).unwrap();
            dir = dir.open_dir(&name).unwrap();
        }
        dir.write("leaf", vec![1u8; 50_000]).unwrap();
        let usage = DiskUsage::measure(&dirs, 1000);
        assert_eq!(usage.inodes, 1 + 40 + 1, "{usage:?}");
        assert!(usage.bytes >= 50_000, "{usage:?}");
    }

    #[test]
    fn missing_directories_hold_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            home: root.path().join("not-yet"),
            files: root.path().join("neither"),
        };
        assert_eq!(DiskUsage::measure(&dirs, 10), DiskUsage::default());
    }

    #[test]
    fn inode_floods_are_capped_and_unmeasurable_counts_as_full() {
        let (_root, dirs) = dirs();
        for i in 0..20 {
            std::fs::write(dirs.files.join(format!("f{i}")), b"").unwrap();
        }
        let mut quota = DiskQuota::new(dirs.clone(), &limits(1 << 30, 25));
        for i in 20..24 {
            assert!(quota.reserve_inode());
            std::fs::write(dirs.files.join(format!("f{i}")), b"").unwrap();
        }
        // 25 inodes now (with home/.tmp): the next one is refused.
        assert!(!quota.reserve_inode());
        // Past the cap the walk stops and reports full.
        assert_eq!(DiskUsage::measure(&dirs, 5), DiskUsage::FULL);
    }
}
