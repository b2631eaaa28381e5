//! The tool bridge: batches, order, errors, concurrency, and code written
//! for Composio's workbench.

use crate::helpers::*;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use toolshed_engine::{CellStatus, Limits};

#[tokio::test]
async fn single_call_success_and_error_tuples() {
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    assert_eq!(
        sb.ok("run_composio_tool('echo', {'a': [1, 2.5, None, True, 'é']})")
            .await
            .as_deref(),
        Some("({'data': {'a': [1, 2.5, None, True, 'é']}}, '')")
    );
    assert_eq!(
        sb.ok("run_composio_tool('FAIL', {'message': 'nope'})")
            .await
            .as_deref(),
        Some("({}, 'nope')")
    );
    assert_eq!(
        sb.ok("run_composio_tool('MISSING')").await.as_deref(),
        Some("({}, 'unknown tool MISSING')")
    );
}

#[tokio::test]
async fn batches_keep_order_and_report_per_call_errors() {
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    let code = r#"
calls = []
for i in range(100):
    if i % 10 == 3:
        calls.append({'tool_slug': 'FAIL', 'arguments': {'message': f'bad {i}'}})
    else:
        calls.append({'tool_slug': 'ECHO', 'arguments': {'i': i}})
results = run_composio_tools(calls, max_concurrency=7)
assert len(results) == 100
for i, (res, err) in enumerate(results):
    if i % 10 == 3:
        assert err == f'bad {i}', (i, err)
    else:
        assert err == '' and res['data']['i'] == i, (i, res, err)
sum(1 for _, err in results if err)
"#;
    assert_eq!(sb.ok(code).await.as_deref(), Some("10"));
}

#[tokio::test]
async fn batch_of_ten_thousand() {
    let bridge = Arc::new(TestBridge::default());
    let sb = sandbox_with(Limits::default(), bridge.clone());
    let code = "r = run_composio_tools([{'tool_slug': 'ECHO', 'arguments': {'n': n}} for n in range(10_000)])\n[x[0]['data']['n'] for x in r] == list(range(10_000))";
    let out = sb.run(code).await;
    assert_eq!(out.result.as_deref(), Some("True"), "{out:#?}");
    assert_eq!(out.tool_calls, 10_000);
    assert_eq!(bridge.calls.load(Ordering::Relaxed), 10_000);
}

#[tokio::test]
async fn batches_run_concurrently_within_the_bound() {
    let bridge = Arc::new(TestBridge::default());
    let sb = sandbox_with(Limits::default(), bridge.clone());
    sb.ok("run_composio_tools([('PEAK', {})] * 200, max_concurrency=25)")
        .await;
    assert_eq!(bridge.peak.load(Ordering::SeqCst), 25);
    let bridge = Arc::new(TestBridge::default());
    let limits = Limits {
        tool_concurrency: 8,
        ..Limits::default()
    };
    let sb = sandbox_with(limits, bridge.clone());
    sb.ok("run_composio_tools([('PEAK', {})] * 100)").await;
    assert_eq!(bridge.peak.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn thread_pool_code_from_composio_workbench_still_works() {
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    let code = r#"
from concurrent.futures import ThreadPoolExecutor, as_completed

def fetch(i):
    res, err = run_composio_tool('ECHO', {'i': i})
    if err:
        raise RuntimeError(err)
    return res['data']['i'] * 2

with ThreadPoolExecutor(max_workers=8) as pool:
    futures = {pool.submit(fetch, i): i for i in range(50)}
    doubled = sorted(f.result() for f in as_completed(futures))
with ThreadPoolExecutor(4) as pool:
    mapped = list(pool.map(fetch, range(10)))
with ThreadPoolExecutor() as pool:
    failing = pool.submit(lambda: 1 / 0)
(doubled == [2 * i for i in range(50)], mapped, type(failing.exception()).__name__)
"#;
    assert_eq!(
        sb.ok(code).await.as_deref(),
        Some("(True, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18], 'ZeroDivisionError')")
    );
}

#[tokio::test]
async fn bad_helper_arguments_raise_python_exceptions() {
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    for (code, kind) in [
        (
            "run_composio_tool('ECHO', ['not', 'a', 'dict'])",
            "TypeError",
        ),
        ("run_composio_tool('', {})", "ValueError"),
        ("run_composio_tool(None, {})", "ValueError"),
        ("run_composio_tools([42])", "TypeError"),
        (
            "run_composio_tools([('ECHO', {})], max_concurrency=0)",
            "ValueError",
        ),
        ("run_composio_tool('ECHO', {'x': object()})", "TypeError"),
        (
            "run_composio_tool('ECHO', {'x': float('nan')})",
            "ValueError",
        ),
        ("run_composio_tool('ECHO', {'x': 10**30})", "ValueError"),
    ] {
        let out = sb.run(code).await;
        assert_eq!(out.status, CellStatus::Error, "{code}");
        assert_eq!(out.error.unwrap().kind, kind, "{code}");
    }
    assert_eq!(sb.ok("run_composio_tools([])").await.as_deref(), Some("[]"));
    sb.assert_alive().await;
}

#[tokio::test]
async fn credentials_never_enter_the_guest() {
    // The guest only ever sends slugs and arguments; nothing else crosses.
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    let out = sb
        .ok("run_composio_tool('ECHO', {'k': 1}, account='ca_123')")
        .await;
    assert_eq!(out.as_deref(), Some("({'data': {'k': 1}}, '')"));
}

#[tokio::test]
async fn tool_results_keep_key_order() {
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    let out = sb.ok("list(run_composio_tool('ECHO', {'zeta': 1, 'alpha': 2, 'mid': {'y': 1, 'b': 2}})[0]['data'].items())").await;
    assert_eq!(
        out.as_deref(),
        Some("[('zeta', 1), ('alpha', 2), ('mid', {'y': 1, 'b': 2})]")
    );
}
