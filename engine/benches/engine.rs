//! Engine benchmarks: sandbox start, trivial cells and the tool bridge.
//!
//! `cargo bench -p toolshed-engine --bench engine`. Figures and the machine
//! they were taken on are in docs/BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use toolshed_engine::bridge::ToolFuture;
use toolshed_engine::{Engine, EngineConfig, Sandbox, ToolBridge, ToolCall, ToolResult};

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    Engine::new(EngineConfig {
        max_sandboxes: 256,
        ..EngineConfig::default()
    })
    .expect("engine")
});

/// Returns the arguments: the cheapest possible tool.
struct Echo;

impl ToolBridge for Echo {
    fn call(&self, call: ToolCall) -> ToolFuture<'_> {
        Box::pin(std::future::ready(ToolResult::ok(call.arguments)))
    }
}

fn new_sandbox(dir: &tempfile::TempDir, n: usize) -> Sandbox {
    ENGINE
        .sandbox(
            dir.path().join(format!("h{n}")),
            dir.path().join(format!("f{n}")),
        )
        .bridge(Arc::new(Echo))
        .build()
        .expect("sandbox")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn start(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    LazyLock::force(&ENGINE);
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    c.bench_function("sandbox: new sandbox to first trivial cell", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let began = Instant::now();
                let sandbox = new_sandbox(&dir, n);
                let out = rt.block_on(sandbox.run_cell("1")).unwrap();
                total += began.elapsed();
                assert!(out.is_ok());
                drop(sandbox);
            }
            total
        })
    });
}

fn cells(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = new_sandbox(&dir, 0);
    rt.block_on(sandbox.run_cell("x = 1")).unwrap();
    c.bench_function("cell: trivial cell `x` on a live sandbox", |b| {
        b.to_async(&rt)
            .iter(|| async { sandbox.run_cell("x").await.unwrap() })
    });
    c.bench_function("cell: `x = 1 + 1`", |b| {
        b.to_async(&rt)
            .iter(|| async { sandbox.run_cell("x = 1 + 1").await.unwrap() })
    });
}

fn tools(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = new_sandbox(&dir, 0);
    let mut group = c.benchmark_group("bridge");
    group.throughput(criterion::Throughput::Elements(10_000));
    group.sample_size(20);
    rt.block_on(sandbox.run_cell(
        "calls = [{'tool_slug': 'ECHO', 'arguments': {'id': i, 'q': 'x'}} for i in range(10_000)]",
    ))
    .unwrap();
    group.bench_function("10,000 calls in one run_composio_tools batch", |b| {
        b.to_async(&rt).iter(|| async {
            let out = sandbox
                .run_cell("r = run_composio_tools(calls)")
                .await
                .unwrap();
            assert!(out.is_ok(), "{out:?}");
        })
    });
    group.bench_function("10,000 single run_composio_tool calls", |b| {
        b.to_async(&rt).iter(|| async {
            let out = sandbox
                .run_cell(
                    "for i in range(10_000):\n    run_composio_tool('ECHO', {'id': i, 'q': 'x'})",
                )
                .await
                .unwrap();
            assert!(out.is_ok(), "{out:?}");
        })
    });
    group.finish();
}

criterion_group!(benches, start, cells, tools);
criterion_main!(benches);
