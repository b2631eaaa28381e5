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

/// Runs `toolshed run ARGS CELLS...`, failing the test if it has not exited
/// within `bound` (the child is killed then).
fn run_bounded(args: &[&str], cells: &[&str], bound: std::time::Duration) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = toolshed();
    cmd.arg("run")
        .arg("--workbench")
        .arg(dir.path().join("home"))
        .args(args);
    for (i, cell) in cells.iter().enumerate() {
        let path = dir.path().join(format!("cell{i}.py"));
        std::fs::write(&path, cell).unwrap();
        cmd.arg(path);
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(bound) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("toolshed run did not finish within {bound:?}");
        }
    }
}

#[test]
fn hostile_cells_end_at_their_deadline_and_the_sandbox_goes_on() {
    let cells = [
        // Replaces what a Python-level interrupt would call, then spins.
        "import sys\nsys.settrace = None\nsys._getframe = None\nwhile True:\n    pass\n",
        "6 * 7\n",
        // The native time.sleep blocks in WASI poll_oneoff.
        "import sys\ndel sys.modules['time']\nimport time\ntime.sleep(10**6)\n",
        "6 * 7\n",
        "import datetime\ndatetime.datetime.strptime('2024-02-29 13:05', '%Y-%m-%d %H:%M').isoformat()\n",
    ];
    let out = run_bounded(
        &["--timeout-ms", "1000"],
        &cells,
        std::time::Duration::from_secs(60),
    );
    let envelopes = envelopes(&out.stdout);
    let status: Vec<&str> = envelopes
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        status,
        ["timeout", "ok", "timeout", "ok", "ok"],
        "{envelopes:#?}"
    );
    assert!(
        envelopes.iter().all(|e| e["state_reset"] == false),
        "{envelopes:#?}"
    );
    assert_eq!(envelopes[1]["result"], "42");
    assert_eq!(envelopes[4]["result"], "'2024-02-29T13:05:00'");
    // Each timeout ended within its deadline plus the grace period.
    for i in [0, 2] {
        let ms = envelopes[i]["duration_ms"].as_u64().unwrap();
        assert!(ms < 1000 + 2000 + 1000, "cell {i} took {ms} ms");
    }
}

#[test]
fn a_memory_error_keeps_the_session() {
    let cells = [
        "big = []\nwhile True:\n    big.append('x' * 10**6)\n",
        "len(big) > 10\n",
        "del big\n'y' * 3\n",
    ];
    let out = run_bounded(
        &["--memory-mb", "256"],
        &cells,
        std::time::Duration::from_secs(120),
    );
    let envelopes = envelopes(&out.stdout);
    let status: Vec<&str> = envelopes
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["memory_limit", "ok", "ok"], "{envelopes:#?}");
    assert!(
        envelopes.iter().all(|e| e["state_reset"] == false),
        "{envelopes:#?}"
    );
    assert_eq!(envelopes[0]["error"]["type"], "MemoryError");
    assert_eq!(envelopes[1]["result"], "True");
    assert_eq!(envelopes[2]["result"], "'yyy'");
}

#[test]
fn serving_beyond_loopback_needs_a_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = toolshed()
        .args(["serve", "--addr", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--public-url is required"), "{stderr}");
}

#[test]
fn secrets_rotate_reseals_under_a_new_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let create = toolshed()
        .args(["keys", "create", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        create.status.success(),
        "{}",
        String::from_utf8_lossy(&create.stderr)
    );
    let before = std::fs::read_to_string(data.join("master.key")).unwrap();
    let rotate = toolshed()
        .args(["secrets", "rotate", "--data-dir"])
        .arg(&data)
        .env_remove("TOOLSHED_MASTER_KEY")
        .output()
        .unwrap();
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let after = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_ne!(before, after);
    assert!(!data.join("master.key.new").exists());
}

#[test]
fn state_carries_the_interpreter_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.ckpt");
    let write = |name: &str, code: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, code).unwrap();
        path
    };
    let first = write(
        "a.py",
        "import re\nwords = re.compile(r'\\w+')\ndef count(s):\n    return len(words.findall(s))\ntotal = count('one two')",
    );
    let second = write("b.py", "total += count('three four five')\ntotal");
    let out = toolshed()
        .arg("run")
        .arg("--state")
        .arg(&state)
        .arg(&first)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(state.exists());
    let out = toolshed()
        .arg("run")
        .arg("--state")
        .arg(&state)
        .arg(&second)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cells = envelopes(&out.stdout);
    assert_eq!(cells[0]["result"], "5", "{cells:?}");
    assert_eq!(cells[0]["state_reset"], false);

    // A damaged state file is refused with a clear message, and left alone.
    std::fs::write(&state, b"garbage").unwrap();
    let out = toolshed()
        .arg("run")
        .arg("--state")
        .arg(&state)
        .arg(&second)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("state.ckpt") && stderr.contains("checkpoint"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&state).unwrap(), b"garbage");
}
