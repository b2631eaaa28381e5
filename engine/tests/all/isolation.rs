//! The guest sees its two directories and the bridge, nothing else.

use crate::helpers::*;
use toolshed_engine::CellStatus;

/// Runs `code` and asserts it raised an exception of one of `kinds`.
async fn assert_raises(sb: &TestSandbox, code: &str, kinds: &[&str]) {
    let out = sb.run(code).await;
    assert_eq!(
        out.status,
        CellStatus::Error,
        "expected an error from {code:?}: {out:#?}"
    );
    let kind = out.error.unwrap().kind;
    assert!(
        kinds.contains(&kind.as_str()),
        "{code:?} raised {kind}, expected one of {kinds:?}"
    );
}

const OS_ERRORS: &[&str] = &[
    "PermissionError",
    "FileNotFoundError",
    "OSError",
    "NotADirectoryError",
];

#[tokio::test]
async fn only_the_workbench_and_files_mount_exist() {
    let sb = sandbox();
    assert_eq!(
        sb.ok("import os\nos.getcwd()").await.as_deref(),
        Some("'/home/user'")
    );
    assert_raises(&sb, "open('/etc/passwd').read()", OS_ERRORS).await;
    assert_raises(&sb, "import os\nos.listdir('/proc')", OS_ERRORS).await;
    assert_raises(&sb, "import os\nos.listdir('/root')", OS_ERRORS).await;
    let listing = sb
        .ok("import os\nsorted(os.listdir('/mnt/files')), os.path.isdir('/home/user')")
        .await;
    assert_eq!(listing.as_deref(), Some("([], True)"));
}

#[tokio::test]
async fn files_written_in_the_guest_are_on_the_host() {
    let sb = sandbox();
    sb.ok("open('notes.txt', 'w').write('hello')\nopen('/mnt/files/out.csv', 'w').write('a,b')")
        .await;
    let home = sb.sandbox.home_dir().to_owned();
    assert_eq!(
        std::fs::read_to_string(home.join("notes.txt")).unwrap(),
        "hello"
    );
    assert_eq!(
        std::fs::read_to_string(sb.sandbox.files_dir().join("out.csv")).unwrap(),
        "a,b"
    );
    std::fs::write(home.join("from_host.txt"), "host data").unwrap();
    assert_eq!(
        sb.ok("open('from_host.txt').read()").await.as_deref(),
        Some("'host data'")
    );
}

#[tokio::test]
async fn dot_dot_escapes_fail() {
    let sb = sandbox();
    std::fs::write(sb.dir.path().join("outside.txt"), "secret").unwrap();
    assert_raises(&sb, "open('../outside.txt').read()", OS_ERRORS).await;
    assert_raises(
        &sb,
        "open('/home/user/../../outside.txt').read()",
        OS_ERRORS,
    )
    .await;
    assert_raises(
        &sb,
        "open('/mnt/files/../../outside.txt').read()",
        OS_ERRORS,
    )
    .await;
    assert_raises(&sb, "open('../outside.txt', 'w').write('x')", OS_ERRORS).await;
    assert_eq!(
        std::fs::read_to_string(sb.dir.path().join("outside.txt")).unwrap(),
        "secret"
    );
}

#[tokio::test]
async fn absolute_host_paths_fail() {
    let sb = sandbox();
    let host_file = sb.dir.path().join("outside.txt");
    std::fs::write(&host_file, "secret").unwrap();
    assert_raises(
        &sb,
        &format!("open({:?}).read()", host_file.display().to_string()),
        OS_ERRORS,
    )
    .await;
    assert_raises(&sb, "open('/tmp/x', 'w')", OS_ERRORS).await;
}

#[tokio::test]
async fn symlinks_out_of_the_sandbox_fail() {
    let sb = sandbox();
    let secret = sb.dir.path().join("outside.txt");
    std::fs::write(&secret, "secret").unwrap();
    // Planted by a host-side process: absolute and relative targets.
    std::os::unix::fs::symlink(&secret, sb.sandbox.home_dir().join("abs_link")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", sb.sandbox.home_dir().join("rel_link")).unwrap();
    std::os::unix::fs::symlink("/etc", sb.sandbox.home_dir().join("etc_link")).unwrap();
    assert_raises(&sb, "open('abs_link').read()", OS_ERRORS).await;
    assert_raises(&sb, "open('rel_link').read()", OS_ERRORS).await;
    assert_raises(&sb, "open('etc_link/passwd').read()", OS_ERRORS).await;
    // The guest cannot make one itself.
    let made = sb
        .run("import os\nos.symlink('/etc/passwd', 'mine')\nopen('mine').read()")
        .await;
    assert_eq!(made.status, CellStatus::Error, "{made:#?}");
    // Symlinks that stay inside the sandbox still work.
    sb.ok("open('real.txt', 'w').write('ok')").await;
    std::os::unix::fs::symlink("real.txt", sb.sandbox.home_dir().join("inside")).unwrap();
    assert_eq!(
        sb.ok("open('inside').read()").await.as_deref(),
        Some("'ok'")
    );
}

#[tokio::test]
async fn no_network() {
    let sb = sandbox();
    for module in [
        "socket",
        "ssl",
        "http.client",
        "urllib.request",
        "subprocess",
        "ctypes",
        "multiprocessing",
    ] {
        let out = sb.run(&format!("import {module}")).await;
        let err = out
            .error
            .unwrap_or_else(|| panic!("import {module} succeeded"));
        assert_eq!(err.kind, "ImportError", "{module}: {err:?}");
        assert!(
            err.message
                .contains("not available in the toolshed sandbox"),
            "{module}: {}",
            err.message
        );
    }
}

#[tokio::test]
async fn threads_fail_clearly() {
    let sb = sandbox();
    let out = sb
        .run("import threading\nthreading.Thread(target=print).start()")
        .await;
    let err = out.error.unwrap();
    assert_eq!(err.kind, "RuntimeError");
    assert!(err.message.contains("no threads"), "{}", err.message);
}

#[tokio::test]
async fn no_host_environment() {
    // cargo sets CARGO_MANIFEST_DIR for tests: the host has it, the guest must not.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let sb = sandbox();
    let env = sb.ok("import os\nsorted(os.environ)").await.unwrap();
    assert!(!env.contains("CARGO"));
    assert_eq!(
        env,
        "['HOME', 'LANG', 'LOGNAME', 'PATH', 'PWD', 'PYTHONIOENCODING', 'SHELL', 'TMPDIR', 'TOOLSHED_SANDBOX', 'TZ', 'USER']"
    );
}

#[tokio::test]
async fn no_host_paths_reach_the_guest() {
    let sb = sandbox();
    // A traceback through the standard library.
    let out = sb.run("import json\njson.loads('{bad')").await;
    let err = out.error.unwrap();
    assert_eq!(err.kind, "JSONDecodeError");
    for leak in ["/root", ".cargo", "/work/", "registry"] {
        assert!(!err.traceback.contains(leak), "{leak} in {}", err.traceback);
    }
    let paths = sb
        .ok("import sys, json, os\nrepr([sys.path, sys.prefix, sys.executable, getattr(json, '__file__', ''), getattr(os, '__file__', '')])")
        .await
        .unwrap();
    for leak in ["/root", ".cargo", "/work/", "registry"] {
        assert!(!paths.contains(leak), "{leak} in {paths}");
    }
}
