//! Shared fixtures: one engine per test binary, sandboxes in temp dirs, and
//! a small in-process tool bridge.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use toolshed_engine::bridge::{NoTools, ToolFuture};
use toolshed_engine::{
    CellOutcome, Engine, EngineConfig, Limits, Sandbox, ToolBridge, ToolCall, ToolResult,
};

pub static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let config = EngineConfig {
        max_sandboxes: 64,
        ..EngineConfig::default()
    };
    Engine::new(config).expect("engine starts")
});

/// A sandbox in fresh temp dirs (removed when this is dropped).
pub struct TestSandbox {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
}

impl TestSandbox {
    pub async fn run(&self, code: &str) -> CellOutcome {
        self.sandbox.run_cell(code).await.expect("sandbox alive")
    }

    /// Runs a cell that must end ok and returns its result.
    pub async fn ok(&self, code: &str) -> Option<String> {
        let out = self.run(code).await;
        assert!(out.is_ok(), "cell failed: {out:#?}\n--- code ---\n{code}");
        out.result
    }

    /// Asserts the sandbox still works (same instance or a fresh one).
    pub async fn assert_alive(&self) {
        assert_eq!(self.ok("6 * 7").await.as_deref(), Some("42"));
    }
}

pub fn sandbox() -> TestSandbox {
    sandbox_with(Limits::default(), Arc::new(NoTools))
}

pub fn sandbox_with(limits: Limits, bridge: Arc<dyn ToolBridge>) -> TestSandbox {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = ENGINE
        .sandbox(dir.path().join("home"), dir.path().join("files"))
        .limits(limits)
        .bridge(bridge)
        .build()
        .expect("sandbox builds");
    TestSandbox { sandbox, dir }
}

/// Limits with a short deadline, for the limit tests.
pub fn short_deadline() -> Limits {
    Limits {
        timeout: Duration::from_millis(300),
        grace: Duration::from_millis(700),
        ..Limits::default()
    }
}

/// Tools for tests:
/// - `ECHO`: returns its arguments;
/// - `FAIL`: fails with the message in `arguments.message`;
/// - `HANG`: never completes;
/// - `PEAK`: yields once, and records the most calls in flight at once;
/// - `BIG`: returns a string of `arguments.bytes` bytes;
/// - `PANIC`: panics (a broken embedder).
#[derive(Default)]
pub struct TestBridge {
    in_flight: AtomicUsize,
    pub peak: AtomicUsize,
    pub calls: AtomicUsize,
}

impl ToolBridge for TestBridge {
    fn call(&self, call: ToolCall) -> ToolFuture<'_> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            match call.tool_slug.as_str() {
                "ECHO" => ToolResult::ok(call.arguments),
                "FAIL" => ToolResult::err(
                    call.arguments["message"]
                        .as_str()
                        .unwrap_or("failed")
                        .to_owned(),
                ),
                "HANG" => futures::future::pending().await,
                "PEAK" => {
                    let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    self.peak.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    self.in_flight.fetch_sub(1, Ordering::SeqCst);
                    ToolResult::ok(serde_json::json!({"seen": now}))
                }
                "PANIC" => panic!("the PANIC test tool panics"),
                "BIG" => {
                    let bytes = call.arguments["bytes"].as_u64().unwrap_or(0) as usize;
                    ToolResult::ok(serde_json::Value::String("b".repeat(bytes)))
                }
                other => ToolResult::err(format!("unknown tool {other}")),
            }
        })
    }
}
