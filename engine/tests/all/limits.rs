//! Every limit ends the cell with a structured status; the sandbox keeps
//! working (or is reset and says so), and other sandboxes are unaffected.

use crate::helpers::*;
use std::sync::Arc;
use toolshed_engine::bridge::NoTools;
use toolshed_engine::{CellStatus, Limits};

/// Runs `code` under a short deadline; asserts it timed out, then that the
/// same sandbox and a bystander still work.
async fn assert_times_out(code: &str) -> toolshed_engine::CellOutcome {
    let bystander = sandbox();
    bystander.ok("state = 'kept'").await;
    let sb = sandbox_with(short_deadline(), Arc::new(TestBridge::default()));
    sb.ok("before = 1").await;
    let out = sb.run(code).await;
    assert_eq!(out.status, CellStatus::Timeout, "{code}: {out:#?}");
    assert_eq!(out.error.as_ref().unwrap().kind, "CellTimeout", "{out:#?}");
    sb.assert_alive().await;
    if !out.state_reset {
        // Soft interrupt: the interpreter kept its state.
        assert_eq!(sb.ok("before").await.as_deref(), Some("1"));
    }
    assert_eq!(bystander.ok("state").await.as_deref(), Some("'kept'"));
    out
}

#[tokio::test]
async fn busy_loop_is_interrupted_softly() {
    let out = assert_times_out("while True:\n    pass").await;
    assert!(
        !out.state_reset,
        "a Python loop must stop without a reset: {out:#?}"
    );
}

#[tokio::test]
async fn loop_in_a_function_is_interrupted_softly() {
    let out =
        assert_times_out("def spin():\n    n = 0\n    while True:\n        n += 1\nspin()").await;
    assert!(!out.state_reset, "{out:#?}");
    assert!(out.error.unwrap().traceback.contains("spin"));
}

#[tokio::test]
async fn sleep_ends_at_the_deadline() {
    let out = assert_times_out("import time\ntime.sleep(10**6)").await;
    assert!(!out.state_reset, "{out:#?}");
}

#[tokio::test]
async fn a_native_sleep_within_the_deadline_sleeps_its_whole_time() {
    // The native `time.sleep` (reached by re-importing `time`) goes through
    // WASI's `poll_oneoff`, which the host sleeps itself.
    let sb = sandbox();
    let slept = sb
        .ok("import sys\ndel sys.modules['time']\nimport time\nt = time.monotonic()\ntime.sleep(0.05)\ntime.monotonic() - t >= 0.05")
        .await;
    assert_eq!(slept.as_deref(), Some("True"));
}

#[tokio::test]
async fn huge_power_ends_at_the_deadline() {
    assert_times_out("7**(10**8)").await;
}

#[tokio::test]
async fn catastrophic_regex_ends_at_the_deadline() {
    assert_times_out("import re\nre.match(r'(a+)+$', 'a' * 40 + 'b')").await;
}

#[tokio::test]
async fn slow_tool_call_ends_at_the_deadline() {
    let out = assert_times_out("run_composio_tool('HANG', {})").await;
    assert!(!out.state_reset, "{out:#?}");
}

#[tokio::test]
async fn catching_the_interrupt_does_not_escape_it() {
    assert_times_out("while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass").await;
}

#[tokio::test]
async fn repeated_timeouts_leave_the_interpreter_healthy() {
    let sb = sandbox_with(short_deadline(), Arc::new(NoTools));
    sb.ok("keep = 'me'").await;
    for _ in 0..12 {
        let out = sb.run("while True:\n    pass").await;
        assert_eq!(out.status, CellStatus::Timeout);
        assert!(!out.state_reset);
    }
    // Deep recursion still works, so no stack was leaked.
    sb.ok("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nassert f(800) == 800")
        .await;
    assert_eq!(sb.ok("keep").await.as_deref(), Some("'me'"));
}

#[tokio::test]
async fn memory_limit() {
    let limits = Limits {
        max_memory_bytes: 256 << 20,
        ..Limits::default()
    };
    let bystander = sandbox();
    bystander.ok("ok = True").await;
    let sb = sandbox_with(limits, Arc::new(NoTools));
    sb.ok("kept = 1").await;
    // One allocation past the cap.
    let out = sb.run("s = 'x' * (400 * 1024 * 1024)").await;
    assert_eq!(out.status, CellStatus::MemoryLimit, "{out:#?}");
    assert_eq!(out.error.unwrap().kind, "MemoryError");
    sb.assert_alive().await;
    // Growing until the cap: a MemoryError (state kept) or a trap (state
    // reset), both reported as memory_limit.
    let out = sb
        .run("blocks = []\nwhile True:\n    blocks.append(bytearray(1024 * 1024))")
        .await;
    assert_eq!(out.status, CellStatus::MemoryLimit, "{out:#?}");
    // With the memory still held, the next cell may itself run out: then it
    // says so and the sandbox starts afresh.
    let out = sb.run("blocks = None").await;
    assert!(
        out.is_ok() || (out.status == CellStatus::MemoryLimit && out.state_reset),
        "{out:#?}"
    );
    sb.assert_alive().await;
    assert_eq!(bystander.ok("ok").await.as_deref(), Some("True"));
}

#[tokio::test]
async fn output_flood_is_capped_and_spilled_to_a_file() {
    let limits = Limits {
        max_inline_output_bytes: 1000,
        max_output_bytes: 100_000,
        ..Limits::default()
    };
    let sb = sandbox_with(limits, Arc::new(NoTools));
    let out = sb
        .run("for i in range(2000):\n    print(f'line {i:05}')")
        .await;
    assert_eq!(out.status, CellStatus::Ok);
    assert!(out.stdout_truncated);
    assert_eq!(out.stdout.len(), 1000);
    let path = out.stdout_file_path.clone().expect("spill file");
    assert!(path.starts_with("/mnt/files/.toolshed/output/"), "{path}");
    // The full text is in the file, readable from the guest and the host.
    let host = sb
        .sandbox
        .files_dir()
        .join(path.trim_start_matches("/mnt/files/"));
    let full = std::fs::read_to_string(host).unwrap();
    assert_eq!(full.lines().count(), 2000);
    assert!(full.ends_with("line 01999\n"));
    assert_eq!(
        sb.ok(&format!("len(open({path:?}).read().splitlines())"))
            .await
            .as_deref(),
        Some("2000")
    );

    // Past the total cap the cell ends with output_limit.
    let out = sb.run("while True:\n    print('x' * 1000)").await;
    assert_eq!(out.status, CellStatus::OutputLimit, "{out:#?}");
    sb.assert_alive().await;
}

#[tokio::test]
async fn tool_call_limit() {
    let limits = Limits {
        max_tool_calls: 10,
        ..Limits::default()
    };
    let sb = sandbox_with(limits, Arc::new(TestBridge::default()));
    let out = sb
        .run("r = run_composio_tools([{'tool_slug': 'ECHO', 'arguments': {}}] * 8)\nlen(r)")
        .await;
    assert_eq!(out.result.as_deref(), Some("8"));
    assert_eq!(out.tool_calls, 8);
    let out = sb
        .run("for i in range(20):\n    run_composio_tool('ECHO', {'i': i})")
        .await;
    assert_eq!(out.status, CellStatus::ToolLimit, "{out:#?}");
    assert_eq!(out.tool_calls, 10);
    // The count is per cell.
    assert_eq!(
        sb.ok("run_composio_tool('ECHO', {'a': 1})[1]")
            .await
            .as_deref(),
        Some("''")
    );
}

#[tokio::test]
async fn deep_recursion_is_a_recursion_error() {
    let sb = sandbox();
    let out = sb.run("def f(n):\n    return f(n + 1)\nf(0)").await;
    assert_eq!(out.status, CellStatus::Error, "{out:#?}");
    assert_eq!(out.error.unwrap().kind, "RecursionError");
    assert!(!out.state_reset);
    sb.ok("def g(n):\n    return 0 if n == 0 else 1 + g(n - 1)\nassert g(900) == 900")
        .await;
}

#[tokio::test]
async fn recursion_limit_is_configurable() {
    let limits = Limits {
        max_recursion_depth: 200,
        ..Limits::default()
    };
    let sb = sandbox_with(limits, Arc::new(NoTools));
    assert_eq!(
        sb.ok("import sys\nsys.getrecursionlimit()")
            .await
            .as_deref(),
        Some("200")
    );
    let out = sb
        .run("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nf(500)")
        .await;
    assert_eq!(out.error.unwrap().kind, "RecursionError");
}

#[tokio::test]
async fn disk_quota() {
    let limits = Limits {
        max_disk_bytes: 2 << 20,
        ..Limits::default()
    };
    let sb = sandbox_with(limits, Arc::new(NoTools));
    sb.ok("open('small.bin', 'wb').write(b'x' * 1024)").await;
    let out = sb
        .run("with open('big.bin', 'wb') as f:\n    for _ in range(100):\n        f.write(b'y' * 100_000)")
        .await;
    assert_eq!(out.status, CellStatus::Error, "{out:#?}");
    let err = out.error.unwrap();
    assert_eq!(err.kind, "OSError", "{err:?}");
    assert!(
        err.message.contains("28") || err.message.to_lowercase().contains("space"),
        "{err:?}"
    );
    let on_disk = std::fs::metadata(sb.sandbox.home_dir().join("big.bin"))
        .unwrap()
        .len();
    assert!(on_disk <= 2 << 20, "{on_disk} bytes written past the quota");
    // Freeing space makes room again.
    sb.ok("import os\nos.remove('big.bin')\nopen('again.bin', 'wb').write(b'z' * 1_000_000)")
        .await;
    // The files mount shares the quota.
    let out = sb
        .run("open('/mnt/files/huge.bin', 'wb').write(b'w' * 3_000_000)")
        .await;
    assert_eq!(out.status, CellStatus::Error);
}

#[tokio::test]
async fn oversized_source_is_rejected() {
    let sb = sandbox();
    let code = format!("x = '{}'", "a".repeat(17 << 20));
    let out = sb.run(&code).await;
    assert_eq!(out.status, CellStatus::Error);
    assert_eq!(out.error.unwrap().kind, "ValueError");
    sb.assert_alive().await;
}

#[tokio::test]
async fn a_busy_sandbox_does_not_block_others() {
    let busy = sandbox_with(
        Limits {
            timeout: std::time::Duration::from_secs(5),
            ..Limits::default()
        },
        Arc::new(NoTools),
    );
    let other = sandbox();
    let spinning = tokio::spawn(async move {
        let out = busy.run("while True:\n    pass").await;
        (busy, out)
    });
    // The busy cell holds its own worker thread only: others keep working.
    for i in 0..20 {
        assert_eq!(
            other.ok(&format!("{i} * 2")).await,
            Some((i * 2).to_string())
        );
    }
    assert!(
        !spinning.is_finished(),
        "the busy cell should still be running"
    );
    let (_busy, out) = spinning.await.unwrap();
    assert_eq!(out.status, CellStatus::Timeout);
}
