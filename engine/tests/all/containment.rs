//! A hostile or broken cell never outlives its deadline, never leaves a
//! host thread running guest code, and never breaks its own session or
//! another one. Each escape attempt is followed by a working cell in the
//! same sandbox, a bystander sandbox's cell, and a check that the sandbox's
//! worker thread ends when it is shut down.

use crate::helpers::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use toolshed_engine::{CellStatus, Limits};

/// How much longer than deadline + grace a cell may take to end (instance
/// replacement, a slow CI machine).
const SLACK: Duration = Duration::from_millis(2500);

/// Runs `code` under a short deadline and asserts it ended as a timeout
/// within deadline + grace + slack; then that the sandbox still works, a
/// bystander is untouched, and the worker thread exits on shutdown.
async fn assert_contained(code: &str) {
    let bystander = sandbox();
    bystander.ok("state = 'kept'").await;
    let limits = short_deadline();
    let bound = limits.timeout + limits.grace + SLACK;
    let sb = sandbox_with(limits, Arc::new(TestBridge::default()));
    sb.ok("before = 1").await;

    let started = Instant::now();
    let out = tokio::time::timeout(bound, sb.run(code))
        .await
        .unwrap_or_else(|_| panic!("the cell outlived deadline + grace + slack:\n{code}"));
    assert_eq!(out.status, CellStatus::Timeout, "{code}\n{out:#?}");
    assert!(started.elapsed() < bound, "{code}: {:?}", started.elapsed());

    sb.assert_alive().await;
    if !out.state_reset {
        assert_eq!(sb.ok("before").await.as_deref(), Some("1"), "{code}");
    }
    assert_eq!(bystander.ok("state").await.as_deref(), Some("'kept'"));
    let TestSandbox { sandbox, dir: _dir } = sb;
    tokio::time::timeout(Duration::from_secs(5), sandbox.shutdown())
        .await
        .unwrap_or_else(|_| panic!("the worker thread is still running after:\n{code}"));
}

#[tokio::test]
async fn replaced_sys_trace_functions() {
    assert_contained(
        "import sys\nsys.settrace = lambda *a: None\nsys._getframe = None\nsys.gettrace = None\nwhile True:\n    pass",
    )
    .await;
}

#[tokio::test]
async fn replaced_import_and_builtins() {
    assert_contained(
        "import builtins\nbuiltins.__import__ = None\nbuiltins.exec = None\nbuiltins.repr = None\nbuiltins.compile = None\nwhile True:\n    pass",
    )
    .await;
}

#[tokio::test]
async fn reimported_time_sleeps_natively() {
    assert_contained("import sys\ndel sys.modules['time']\nimport time\ntime.sleep(10**6)").await;
}

#[tokio::test]
async fn native_sleeps_that_add_up_past_the_deadline() {
    assert_contained(
        "import sys\ndel sys.modules['time']\nimport time\nwhile True:\n    time.sleep(0.05)",
    )
    .await;
}

#[tokio::test]
async fn a_native_sleep_whose_interrupt_is_swallowed() {
    assert_contained(
        "import sys\ndel sys.modules['time']\nimport time\nwhile True:\n    try:\n        time.sleep(10**6)\n    except BaseException:\n        pass",
    )
    .await;
}

#[tokio::test]
async fn recreated_time_module() {
    assert_contained(
        "import sys, importlib\nsys.modules.pop('time')\nt = importlib.import_module('time')\nwhile True:\n    t.sleep(0.5)",
    )
    .await;
}

#[tokio::test]
async fn single_line_loop() {
    assert_contained("while True: pass").await;
}

#[tokio::test]
async fn interrupt_caught_and_hook_removed() {
    assert_contained(
        "import sys\nwhile True:\n    try:\n        while True: pass\n    except BaseException:\n        sys.settrace(None)",
    )
    .await;
}

#[tokio::test]
async fn spinning_finalizer() {
    assert_contained(
        "class F:\n    def __del__(self):\n        while True:\n            pass\nx = F()\ndel x\nwhile True:\n    pass",
    )
    .await;
}

#[tokio::test]
async fn spinning_gc_callback() {
    assert_contained(
        "import gc\ndef cb(*a):\n    while True:\n        pass\ngc.callbacks.append(cb)\nwhile True:\n    gc.collect()",
    )
    .await;
}

#[tokio::test]
async fn spinning_repr_of_the_result() {
    assert_contained(
        "class R:\n    def __repr__(self):\n        while True:\n            pass\nR()",
    )
    .await;
}

#[tokio::test]
async fn spinning_str_of_the_exception() {
    assert_contained(
        "class E(Exception):\n    def __str__(self):\n        while True:\n            pass\nimport time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except BaseException:\n        raise E()",
    )
    .await;
}

#[tokio::test]
async fn replaced_stdout() {
    assert_contained(
        "import sys\nclass W:\n    def write(self, s):\n        while True:\n            pass\n    def flush(self):\n        pass\nsys.stdout = W()\nprint('x')",
    )
    .await;
}

#[tokio::test]
async fn nested_generators() {
    assert_contained(
        "def inner():\n    while True:\n        yield 1\ndef outer():\n    while True:\n        yield from inner()\nfor _ in outer():\n    pass",
    )
    .await;
}

#[tokio::test]
async fn tool_batch_that_never_returns() {
    assert_contained("run_composio_tools([('HANG', {})] * 5)").await;
}

#[tokio::test]
async fn deep_recursion_in_the_loop() {
    assert_contained("def f(n):\n    while True:\n        if n < 900:\n            f(n + 1)\nf(0)")
        .await;
}

#[tokio::test]
async fn driver_globals_tampered() {
    // Reaching the driver's namespace through a helper's globals and
    // breaking its error formatting does not break the session.
    let sb = sandbox();
    let out = sb
        .run("g = run_composio_tool.__globals__\ng['_traceback'] = None\ng['_scrub'] = None\n1 / 0")
        .await;
    assert_eq!(out.status, CellStatus::Error, "{out:#?}");
    assert_eq!(out.error.unwrap().kind, "ZeroDivisionError");
    sb.assert_alive().await;
}

#[tokio::test]
async fn replaced_stdout_is_restored_for_the_next_cell() {
    let sb = sandbox();
    sb.ok("import sys, io\nsys.stdout = io.StringIO()").await;
    let out = sb.run("print('visible')").await;
    assert_eq!(out.stdout, "visible\n", "{out:#?}");
}

#[tokio::test]
async fn the_status_does_not_trust_exception_names() {
    // A cell raising the sandbox's own exceptions is an ordinary error.
    let sb = sandbox();
    let out = sb.run("raise CellTimeout('fake')").await;
    assert_eq!(out.status, CellStatus::Error, "{out:#?}");
    let out = sb
        .run("class ToolCallLimitExceeded(BaseException): pass\nraise ToolCallLimitExceeded()")
        .await;
    assert_eq!(out.status, CellStatus::Error, "{out:#?}");
}

/// A memory limit small enough to reach quickly.
fn small_memory() -> Limits {
    Limits {
        max_memory_bytes: 256 << 20,
        ..Limits::default()
    }
}

async fn assert_memory_error_is_recoverable(fill: &str) {
    let bystander = sandbox();
    bystander.ok("state = 'kept'").await;
    let sb = sandbox_with(small_memory(), Arc::new(TestBridge::default()));
    sb.ok("before = 1").await;
    let out = sb.run(fill).await;
    assert_eq!(out.status, CellStatus::MemoryLimit, "{fill}\n{out:#?}");
    assert!(
        !out.state_reset,
        "{fill}: the interpreter was reset\n{out:#?}"
    );
    assert_eq!(out.error.as_ref().unwrap().kind, "MemoryError");
    // The state is intact: the user can look at it, free it and go on.
    assert_eq!(sb.ok("before").await.as_deref(), Some("1"));
    sb.ok("import gc\nfor name in [n for n in globals() if n.startswith('big')]:\n    del globals()[name]\ngc.collect()")
        .await;
    assert_eq!(sb.ok("len('y' * 10**7)").await.as_deref(), Some("10000000"));
    assert_eq!(bystander.ok("state").await.as_deref(), Some("'kept'"));
}

#[tokio::test]
async fn memory_error_from_a_growing_list_is_recoverable() {
    assert_memory_error_is_recoverable("big = []\nwhile True:\n    big.append('x' * 10**6)").await;
}

#[tokio::test]
async fn memory_error_from_a_growing_dict_is_recoverable() {
    assert_memory_error_is_recoverable(
        "big = {}\ni = 0\nwhile True:\n    big[i] = [i] * 1000\n    i += 1",
    )
    .await;
}

#[tokio::test]
async fn memory_error_from_one_huge_allocation_is_recoverable() {
    assert_memory_error_is_recoverable("big = 1\nbig_too = bytearray(600 * 2**20)").await;
}

#[tokio::test]
async fn memory_error_can_be_caught_and_handled() {
    let sb = sandbox_with(small_memory(), Arc::new(TestBridge::default()));
    let out = sb
        .run("big = []\ntry:\n    while True:\n        big.append('x' * 10**6)\nexcept MemoryError:\n    big.clear()\n'recovered'")
        .await;
    assert_eq!(out.result.as_deref(), Some("'recovered'"), "{out:#?}");
    assert!(!out.state_reset);
    sb.assert_alive().await;
}

// What the guest sends back is bounded on the host like its output: a huge
// repr, shell output or error message is capped inline (the rest is in a
// file), and a tool batch's reply stops at an eighth of the memory limit.

#[tokio::test]
async fn a_huge_result_repr_is_capped_and_saved_whole() {
    let sb = sandbox();
    let out = sb.run("'r' * (3 << 20)").await;
    assert!(out.is_ok(), "{out:#?}");
    assert!(out.result_truncated);
    assert!(out.result.as_ref().unwrap().len() <= 1 << 20);
    let path = out.result_file_path.expect("the whole repr is in a file");
    let host = sb
        .sandbox
        .files_dir()
        .join(path.strip_prefix("/mnt/files/").unwrap());
    assert_eq!(std::fs::metadata(host).unwrap().len(), (3 << 20) + 2);
}

#[tokio::test]
async fn huge_shell_output_is_capped_and_saved_whole() {
    let sb = sandbox();
    sb.ok("open('big.txt', 'w').write('line\\n' * 1_000_000)")
        .await;
    let out = sb
        .sandbox
        .run_bash("cat big.txt; echo done >&2")
        .await
        .unwrap();
    assert_eq!(out.exit_code, Some(0), "{out:#?}");
    assert!(out.stdout_truncated && out.stdout.len() <= 1 << 20);
    assert_eq!(out.stderr, "done\n");
    let path = out.stdout_file_path.expect("the whole output is in a file");
    let host = sb
        .sandbox
        .files_dir()
        .join(path.strip_prefix("/mnt/files/").unwrap());
    assert_eq!(std::fs::metadata(host).unwrap().len(), 5_000_000);
}

#[tokio::test]
async fn huge_error_messages_are_capped() {
    let sb = sandbox();
    let out = sb.run("raise ValueError('e' * 5_000_000)").await;
    let error = out.error.unwrap();
    assert!(
        error.message.len() <= (1 << 20) + 64,
        "{}",
        error.message.len()
    );
    assert!(error.traceback.len() <= (1 << 20) + 64);
    assert!(
        error.traceback.ends_with("eee\n"),
        "the end of the traceback is kept"
    );
}

#[tokio::test]
async fn a_tool_batch_reply_stops_at_an_eighth_of_the_memory_limit() {
    let sb = sandbox_with(small_memory(), Arc::new(TestBridge::default()));
    let out = sb
        .run("res = run_composio_tools([('BIG', {'bytes': 1 << 20})] * 60)\nok = sum(1 for r, e in res if not e)\nerrors = [e for r, e in res if e]\n(len(res), ok, errors[0][:40], errors[-1][:7])")
        .await;
    assert!(out.is_ok(), "{out:#?}");
    let result = out.result.unwrap();
    // 32 MiB of 1 MiB results: about 31 fit.
    assert!(result.starts_with("(60, 3"), "{result}");
    assert!(
        result.contains("this result did not fit") && result.contains("'not run'"),
        "{result}"
    );
    sb.assert_alive().await;
}

#[tokio::test]
async fn a_panicking_tool_bridge_resets_the_interpreter_not_the_worker() {
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    sb.ok("kept = 1").await;
    let out = sb.run("run_composio_tool('PANIC', {})").await;
    assert_eq!(out.status, CellStatus::Crashed, "{out:#?}");
    assert!(out.state_reset);
    sb.assert_alive().await;
    assert_eq!(
        sb.ok("run_composio_tool('ECHO', {'a': 1})[0]")
            .await
            .as_deref(),
        Some("{'data': {'a': 1}}")
    );
}

#[tokio::test]
async fn a_bash_cell_that_loops_ends_at_its_deadline() {
    let sb = sandbox_with(short_deadline(), Arc::new(TestBridge::default()));
    sb.ok("kept = 1").await;
    for command in [
        "python -c 'while True: pass'",
        "python -c 'import time; time.sleep(100)'",
        "echo x | python -c 'while True:\n    pass'",
    ] {
        let out = tokio::time::timeout(Duration::from_secs(5), sb.sandbox.run_bash(command))
            .await
            .unwrap_or_else(|_| panic!("{command} outlived its deadline"))
            .unwrap();
        assert_eq!(out.status, CellStatus::Timeout, "{command}: {out:#?}");
        assert_eq!(out.exit_code, None);
        sb.assert_alive().await;
    }
    assert_eq!(sb.ok("kept").await.as_deref(), Some("1"));
}
