//! `toolshed run`, driven as a user would: the real binary, real files.

use std::process::Command;

fn toolshed() -> Command {
    Command::new(env!("CARGO_BIN_EXE_toolshed"))
}

fn envelopes(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON envelope per line"))
        .collect()
}

#[test]
fn runs_files_as_consecutive_cells_of_one_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.py"),
        "x = 21\nopen('kept.txt', 'w').write('yes')\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.py"), "print('hi')\nx * 2\n").unwrap();
    let home = dir.path().join("home");
    let out = toolshed()
        .arg("run")
        .arg("--workbench")
        .arg(&home)
        .arg(dir.path().join("a.py"))
        .arg(dir.path().join("b.py"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cells = envelopes(&out.stdout);
    assert_eq!(cells.len(), 2);
    assert_eq!(cells[0]["status"], "ok");
    assert_eq!(cells[1]["stdout"], "hi\n");
    assert_eq!(cells[1]["result"], "42");
    assert_eq!(
        std::fs::read_to_string(home.join("kept.txt")).unwrap(),
        "yes"
    );
}

#[test]
fn exit_status_is_1_when_a_cell_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.py"), "1 / 0\n").unwrap();
    std::fs::write(dir.path().join("after.py"), "'still runs'\n").unwrap();
    let out = toolshed()
        .arg("run")
        .arg(dir.path().join("bad.py"))
        .arg(dir.path().join("after.py"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let cells = envelopes(&out.stdout);
    assert_eq!(cells[0]["status"], "error");
    assert_eq!(cells[0]["error"]["type"], "ZeroDivisionError");
    assert_eq!(cells[1]["result"], "'still runs'");
}

#[test]
fn timeout_flag_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.py"), "while True:\n    pass\n").unwrap();
    let out = toolshed()
        .args(["run", "--timeout-ms", "200"])
        .arg(dir.path().join("spin.py"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(envelopes(&out.stdout)[0]["status"], "timeout");
}

#[test]
fn reads_a_cell_from_stdin() {
    use std::io::Write;
    let mut child = toolshed()
        .args(["run", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sum(range(10))\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(envelopes(&out.stdout)[0]["result"], "45");
}

#[test]
fn bad_arguments_get_a_clear_message_not_a_panic() {
    for args in [
        vec!["run"],
        vec!["run", "--timeout-ms", "0", "x.py"],
        vec!["run", "--timeout-ms", "soon", "x.py"],
        vec!["run", "--memory-mb", "999999", "x.py"],
        vec!["run", "/definitely/not/here.py"],
        vec!["frobnicate"],
    ] {
        let out = toolshed().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{args:?}: no message");
    }
}
