//! Shared fixtures: one engine per test binary, sandboxes in temp dirs, and
//! a small in-process tool bridge.

use std::sync::{Arc, LazyLock};
use toolshed_engine::{CellOutcome, Engine, EngineConfig, Limits, Sandbox};

pub static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let config = EngineConfig {
        max_sandboxes: 64,
        ..EngineConfig::default()
    };
    Engine::new(config).expect("engine starts")
});

/// A sandbox in fresh temp dirs (kept alive by the returned guard).
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
}

pub fn sandbox() -> TestSandbox {
    sandbox_with(
        Limits::default(),
        Arc::new(toolshed_engine::bridge::NoTools),
    )
}

pub fn sandbox_with(limits: Limits, bridge: Arc<dyn toolshed_engine::ToolBridge>) -> TestSandbox {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = ENGINE
        .sandbox(dir.path().join("home"), dir.path().join("files"))
        .limits(limits)
        .bridge(bridge)
        .build()
        .expect("sandbox builds");
    TestSandbox { sandbox, dir }
}
