//! [`OutputSink`]: one output stream of one cell. The first
//! [`Limits::max_inline_output_bytes`](crate::Limits) stay in memory for the
//! envelope; once a stream passes that, everything it wrote (from the first
//! byte) goes to a file in the files mount, up to
//! [`Limits::max_output_bytes`](crate::Limits), after which the cell ends
//! with `output_limit`.

use crate::quota::DiskQuota;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use toolshed_guest_sdk::abi::ErrorCode;

/// One output stream of one cell.
#[derive(Debug)]
pub(crate) struct OutputSink {
    inline: String,
    inline_cap: usize,
    total_cap: u64,
    written: u64,
    spill: Option<Spill>,
    spill_to: Option<(SpillTarget, String)>,
    truncated: bool,
}

/// Where a spill file goes: a path relative to the files mount's host
/// folder, opened through a directory capability so that symlinks the
/// guest planted in the mount cannot redirect the write.
#[derive(Debug)]
pub(crate) struct SpillTarget {
    /// The files mount's host folder.
    pub(crate) root: PathBuf,
    /// The file, relative to it.
    pub(crate) rel: PathBuf,
}

#[derive(Debug)]
struct Spill {
    file: File,
    guest_path: String,
}

impl OutputSink {
    /// A sink that keeps `inline_cap` bytes inline and spills to `host_path`
    /// (shown to the guest as `guest_path`).
    pub(crate) fn new(
        inline_cap: usize,
        total_cap: u64,
        target: SpillTarget,
        guest_path: String,
    ) -> Self {
        OutputSink {
            inline: String::new(),
            inline_cap,
            total_cap,
            written: 0,
            spill: None,
            spill_to: Some((target, guest_path)),
            truncated: false,
        }
    }

    /// Appends text; `OutputLimit` once the total cap is passed, or when
    /// the spill file would take the sandbox past its disk quota (spills
    /// are charged to the session like any file it writes).
    pub(crate) fn append(&mut self, text: &str, quota: &mut DiskQuota) -> Result<(), ErrorCode> {
        let new_total = self.written.saturating_add(text.len() as u64);
        if new_total > self.total_cap {
            return Err(ErrorCode::OutputLimit);
        }
        self.written = new_total;
        if self.spill.is_none() && self.inline.len() + text.len() <= self.inline_cap {
            self.inline.push_str(text);
            return Ok(());
        }
        let charge = if self.spill.is_none() {
            self.inline.len() + text.len()
        } else {
            text.len()
        };
        if !quota.reserve_bytes(charge as u64) {
            return Err(ErrorCode::OutputLimit);
        }
        if self.spill.is_none() {
            self.start_spill()?;
        }
        let spill = self.spill.as_mut().ok_or(ErrorCode::Internal)?;
        spill
            .file
            .write_all(text.as_bytes())
            .map_err(|_| ErrorCode::Internal)?;
        // Keep filling the inline preview up to its cap.
        if self.inline.len() < self.inline_cap {
            let room = self.inline_cap - self.inline.len();
            self.inline.push_str(prefix(text, room));
        }
        self.truncated = true;
        Ok(())
    }

    /// Appends as much of `text` as the total cap and the quota allow;
    /// returns whether any of it was left out.
    pub(crate) fn append_lossy(&mut self, text: &str, quota: &mut DiskQuota) -> bool {
        let room = self.total_cap.saturating_sub(self.written);
        let part = prefix(text, usize::try_from(room).unwrap_or(usize::MAX));
        let cut = part.len() < text.len();
        if self.append(part, quota).is_err() {
            self.truncated = true;
            return true;
        }
        if cut {
            self.truncated = true;
        }
        cut
    }

    fn start_spill(&mut self) -> Result<(), ErrorCode> {
        let (target, guest_path) = self.spill_to.take().ok_or(ErrorCode::Internal)?;
        let root = cap_std::fs::Dir::open_ambient_dir(&target.root, cap_std::ambient_authority())
            .map_err(|_| ErrorCode::Internal)?;
        if let Some(parent) = target.rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            root.create_dir_all(parent)
                .map_err(|_| ErrorCode::Internal)?;
            if let Ok(dir) = root.open_dir(parent) {
                prune_spills(&dir, KEEP_SPILL_FILES - 1);
            }
        }
        let mut file = root
            .create(&target.rel)
            .map_err(|_| ErrorCode::Internal)?
            .into_std();
        file.write_all(self.inline.as_bytes())
            .map_err(|_| ErrorCode::Internal)?;
        self.spill = Some(Spill { file, guest_path });
        Ok(())
    }

    /// The inline text, whether it was truncated, and the guest path of the
    /// full text when it was.
    pub(crate) fn finish(mut self) -> (String, bool, Option<String>) {
        let path = self.spill.take().map(|mut spill| {
            let _ = spill.file.flush();
            spill.guest_path
        });
        (self.inline, self.truncated, path)
    }
}

/// Spill files kept in the output folder: older ones are deleted when a
/// new one starts, so a session that prints a lot does not fill its quota
/// with old output.
const KEEP_SPILL_FILES: usize = 16;

/// Deletes all but the `keep` newest `cell-*` files of `dir`.
fn prune_spills(dir: &cap_std::fs::Dir, keep: usize) {
    let Ok(entries) = dir.entries() else { return };
    let mut spills: Vec<(std::time::SystemTime, std::ffi::OsString)> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("cell-"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            if !meta.is_file() {
                return None;
            }
            Some((meta.modified().ok()?.into_std(), e.file_name()))
        })
        .collect();
    spills.sort_by(|a, b| b.cmp(a));
    for (_, name) in spills.into_iter().skip(keep) {
        let _ = dir.remove_file(name);
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char
/// boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(root: &std::path::Path) -> DiskQuota {
        let dirs = crate::workbench::Dirs {
            home: root.join("h"),
            files: root.join("f"),
        };
        dirs.prepare().unwrap();
        DiskQuota::new(dirs, &crate::limits::Limits::default())
    }

    fn target(root: &std::path::Path, rel: &str) -> SpillTarget {
        SpillTarget {
            root: root.to_owned(),
            rel: rel.into(),
        }
    }

    #[test]
    fn a_planted_symlink_cannot_redirect_the_spill() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink("../outside", root.join(".toolshed")).unwrap();
        let mut q = quota(dir.path());
        let mut sink = OutputSink::new(2, 100, target(&root, ".toolshed/out.txt"), "/g".into());
        assert_eq!(
            sink.append("more than two bytes", &mut q),
            Err(ErrorCode::Internal)
        );
        assert!(!outside.join("out.txt").exists());
    }

    #[test]
    fn keeps_small_output_inline() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = quota(dir.path());
        let mut sink = OutputSink::new(10, 100, target(dir.path(), "out.txt"), "/g/out.txt".into());
        sink.append("hello", &mut q).unwrap();
        sink.append(" you", &mut q).unwrap();
        let (inline, truncated, path) = sink.finish();
        assert_eq!(inline, "hello you");
        assert!(!truncated);
        assert_eq!(path, None);
        assert!(!dir.path().join("out.txt").exists());
    }

    #[test]
    fn spills_everything_to_a_file_past_the_inline_cap() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("sub/out.txt");
        let mut q = quota(dir.path());
        let mut sink = OutputSink::new(
            8,
            100,
            target(dir.path(), "sub/out.txt"),
            "/g/out.txt".into(),
        );
        sink.append("abcdef", &mut q).unwrap();
        sink.append("ghijkl", &mut q).unwrap();
        sink.append("mn", &mut q).unwrap();
        let (inline, truncated, path) = sink.finish();
        assert_eq!(inline, "abcdefgh");
        assert!(truncated);
        assert_eq!(path.as_deref(), Some("/g/out.txt"));
        assert_eq!(std::fs::read_to_string(host).unwrap(), "abcdefghijklmn");
    }

    #[test]
    fn refuses_past_the_total_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = quota(dir.path());
        let mut sink = OutputSink::new(4, 10, target(dir.path(), "o"), "/g/o".into());
        sink.append("12345678", &mut q).unwrap();
        assert_eq!(sink.append("abc", &mut q), Err(ErrorCode::OutputLimit));
    }

    #[test]
    fn never_splits_a_character() {
        assert_eq!(prefix("héllo", 2), "h");
        assert_eq!(prefix("héllo", 3), "hé");
        assert_eq!(prefix("abc", 10), "abc");
    }
}
