//! The disk quota holds against every route a cell can take, with a small
//! quota so the tests are fast: file descriptors 0-2 reused for files,
//! sparse files, hard links, renames, deep trees past the host's PATH_MAX,
//! inode floods, and output spilled on the cell's behalf.

use crate::helpers::*;
use std::sync::Arc;
use toolshed_engine::bridge::NoTools;
use toolshed_engine::{CellStatus, Limits};

const QUOTA: u64 = 4 << 20;

fn small_disk() -> Limits {
    Limits {
        max_disk_bytes: QUOTA,
        max_disk_inodes: 200,
        ..Limits::default()
    }
}

/// Blocks the host actually allocated under both directories.
fn host_usage(sb: &TestSandbox) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fn walk(dir: &std::path::Path, total: &mut u64) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let meta = entry.path().symlink_metadata().unwrap();
            *total += meta.blocks() * 512;
            if meta.is_dir() {
                walk(&entry.path(), total);
            }
        }
    }
    let mut total = 0;
    walk(sb.sandbox.home_dir(), &mut total);
    walk(sb.sandbox.files_dir(), &mut total);
    total
}

/// Runs a cell that must fail with an `OSError` whose errno is `errno`.
async fn assert_os_error(sb: &TestSandbox, code: &str, errno: &str) {
    let out = sb.run(code).await;
    assert_eq!(out.status, CellStatus::Error, "{code}\n{out:#?}");
    let err = out.error.unwrap();
    assert_eq!(err.kind, "OSError", "{code}\n{err:?}");
    assert_eq!(
        sb.ok("import errno\n(errno.ENOSPC, errno.EDQUOT)")
            .await
            .as_deref(),
        Some("(51, 19)")
    );
    assert!(err.message.contains(errno), "{code}\n{err:?}");
}

#[tokio::test]
async fn writes_through_reused_stdio_descriptors_are_charged() {
    let sb = sandbox_with(small_disk(), Arc::new(NoTools));
    let fds = sb
        .ok("import os\nfor fd in (0, 1, 2):\n    os.close(fd)\nfds = [os.open(f'f{i}.bin', os.O_WRONLY | os.O_CREAT) for i in range(3)]\nsorted(fds)")
        .await;
    assert_eq!(fds.as_deref(), Some("[0, 1, 2]"), "fds 0-2 were not reused");
    assert_os_error(
        &sb,
        "for _ in range(60):\n    os.write(1, b'y' * 100_000)",
        "51",
    )
    .await;
    assert!(
        host_usage(&sb) <= QUOTA,
        "{} bytes on disk",
        host_usage(&sb)
    );
}

#[tokio::test]
async fn sparse_files_are_charged_by_their_blocks() {
    let sb = sandbox_with(small_disk(), Arc::new(NoTools));
    // A 1 GB hole costs nothing and is allowed...
    sb.ok("f = open('sparse.bin', 'wb')\nf.seek(10**9)\nf.write(b'x')\nf.flush()")
        .await;
    assert_eq!(
        sb.ok("import os\nos.path.getsize('sparse.bin')")
            .await
            .as_deref(),
        Some("1000000001")
    );
    // ...real data still fits...
    sb.ok("open('real.bin', 'wb').write(b'r' * 2_000_000)")
        .await;
    // ...and filling the hole is charged like any write.
    assert_os_error(
        &sb,
        "f.seek(0)\nfor _ in range(40):\n    f.write(b'z' * 100_000)\n    f.flush()",
        "51",
    )
    .await;
    assert!(host_usage(&sb) <= QUOTA + (1 << 20), "{}", host_usage(&sb));
}

#[tokio::test]
async fn hard_links_and_renames_count_each_file_once() {
    let sb = sandbox_with(small_disk(), Arc::new(NoTools));
    sb.ok("import os\nopen('one.bin', 'wb').write(b'1' * 1_000_000)\nfor i in range(10):\n    os.link('one.bin', f'link{i}.bin')\nos.rename('link0.bin', '/mnt/files/moved.bin')")
        .await;
    // Ten links to 1 MB are 1 MB: 2 MB more still fit.
    sb.ok("open('two.bin', 'wb').write(b'2' * 2_000_000)").await;
    assert_os_error(&sb, "open('three.bin', 'wb').write(b'3' * 2_000_000)", "51").await;
}

#[tokio::test]
async fn deep_trees_past_the_host_path_limit_are_measured() {
    // The guest's paths stop short of 4,096 bytes, but behind a long host
    // prefix (as a deployment's data directory can be) the host paths of
    // the deepest files are longer than the host's PATH_MAX.
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("p".repeat(200)).join("q".repeat(200));
    let sandbox = ENGINE
        .sandbox(prefix.join("home"), prefix.join("files"))
        .limits(small_disk())
        .bridge(Arc::new(NoTools))
        .build()
        .expect("sandbox builds");
    let sb = TestSandbox { sandbox, dir };
    sb.ok("import os\nname = 'd' * 200\nfor _ in range(19):\n    os.mkdir(name)\n    os.chdir(name)\nopen('deep.bin', 'wb').write(b'd' * 3_000_000)\nlen(os.getcwd())")
        .await;
    let deepest = prefix
        .join("home")
        .join(vec!["d".repeat(200); 19].join("/"));
    assert!(
        deepest.as_os_str().len() > 4096,
        "{}",
        deepest.as_os_str().len()
    );
    assert_os_error(
        &sb,
        "os.chdir('/home/user')\nopen('top.bin', 'wb').write(b't' * 2_000_000)",
        "51",
    )
    .await;
}

#[tokio::test]
async fn inode_floods_stop_at_the_cap_and_deleting_makes_room() {
    let sb = sandbox_with(small_disk(), Arc::new(NoTools));
    assert_os_error(
        &sb,
        "import os\nos.mkdir('flood')\nfor i in range(300):\n    open(f'flood/f{i}', 'w').close()",
        "19",
    )
    .await;
    assert_os_error(
        &sb,
        "for i in range(300):\n    os.mkdir(f'flood/d{i}')",
        "19",
    )
    .await;
    sb.ok("import shutil\nshutil.rmtree('flood')\nfor i in range(100):\n    open(f'again{i}', 'w').close()")
        .await;
}

#[tokio::test]
async fn spilled_output_is_charged_to_the_quota() {
    let sb = sandbox_with(small_disk(), Arc::new(NoTools));
    let out = sb
        .run("for _ in range(100):\n    print('p' * 100_000)")
        .await;
    assert_eq!(out.status, CellStatus::OutputLimit, "{out:#?}");
    assert!(host_usage(&sb) <= QUOTA, "{}", host_usage(&sb));
    sb.assert_alive().await;
}

#[tokio::test]
async fn old_spill_files_are_pruned() {
    let limits = Limits {
        max_inline_output_bytes: 1000,
        ..Limits::default()
    };
    let sb = sandbox_with(limits, Arc::new(NoTools));
    for _ in 0..30 {
        let out = sb.run("print('s' * 5000)").await;
        assert!(
            out.stdout_truncated && out.stdout_file_path.is_some(),
            "{out:#?}"
        );
    }
    let spills = std::fs::read_dir(sb.sandbox.files_dir().join(".toolshed/output"))
        .unwrap()
        .count();
    assert!(spills <= 16, "{spills} spill files kept");
}
