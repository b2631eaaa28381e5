//! Engine benchmarks: sandbox start, trivial cells, the tool bridge,
//! workbench files, and checkpoints (save, and restore to the first cell)
//! of a fresh, a typical and a 100 MB session.
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
    // The floor under every cell: a job to a sandbox's worker thread and
    // its reply back, as `Sandbox::run_cell` sends them, with no work.
    let (jobs, inbox) = std::sync::mpsc::channel::<tokio::sync::oneshot::Sender<()>>();
    let worker = std::thread::spawn(move || {
        while let Ok(reply) = inbox.recv() {
            let _ = reply.send(());
        }
    });
    c.bench_function(
        "cell: baseline, an empty round trip to a worker thread",
        |b| {
            b.to_async(&rt).iter(|| async {
                let (reply, done) = tokio::sync::oneshot::channel();
                jobs.send(reply).unwrap();
                done.await.unwrap();
            })
        },
    );
    drop(jobs);
    worker.join().unwrap();
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

/// Workbench file operations: every open, read, write and close is a WASI
/// call the host makes on the sandbox's behalf.
fn files(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = new_sandbox(&dir, 0);
    let mut group = c.benchmark_group("workbench");
    group.sample_size(20);
    group.bench_function("1,000 files of 1 KiB written and read back", |b| {
        b.to_async(&rt).iter(|| async {
            let out = sandbox
                .run_cell(
                    "for i in range(1000):\n    with open(f'f{i}.txt', 'w') as f:\n        f.write('x' * 1024)\n\
                     n = 0\nfor i in range(1000):\n    with open(f'f{i}.txt') as f:\n        n += len(f.read())\n\
                     assert n == 1024 * 1000",
                )
                .await
                .unwrap();
            assert!(out.is_ok(), "{out:?}");
        })
    });
    group.finish();
}

/// The sessions checkpoints are measured on: what their cells leave behind.
const CHECKPOINTED: [(&str, &str); 3] = [
    ("fresh", "x = 1"),
    (
        "typical",
        "records = {i: {'id': i, 'name': f'n{i}', 'tags': [i % 3, i % 5]} for i in range(20000)}\n\
         big = list(range(200000))\n\
         def f(x):\n    return x * 2\n\
         class K:\n    pass\n\
         k = K()",
    ),
    (
        "100 MB heap",
        "import random\nrandom.seed(1)\nheap = [random.getrandbits(64) for _ in range(2_500_000)]",
    ),
];

fn checkpoints(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    LazyLock::force(&ENGINE);
    let dir = tempfile::tempdir().unwrap();
    for (n, (name, code)) in CHECKPOINTED.iter().enumerate() {
        let sandbox = new_sandbox(&dir, 10_000 + n);
        let out = rt.block_on(sandbox.run_cell(code)).unwrap();
        assert!(out.is_ok(), "{out:?}");
        let image = rt.block_on(sandbox.checkpoint()).unwrap().unwrap();
        eprintln!("checkpoint of a {name} session: {} KiB", image.len() >> 10);
        c.bench_function(&format!("checkpoint: save, {name} session"), |b| {
            b.iter(|| rt.block_on(sandbox.checkpoint()).unwrap().unwrap().len())
        });
        let mut m = 0;
        c.bench_function(
            &format!("checkpoint: restore to first cell, {name} session"),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        m += 1;
                        let began = Instant::now();
                        let restored = ENGINE
                            .sandbox(
                                dir.path().join(format!("rh{n}-{m}")),
                                dir.path().join(format!("rf{n}-{m}")),
                            )
                            .restore(image.clone())
                            .build()
                            .expect("restores");
                        let out = rt.block_on(restored.run_cell("1")).unwrap();
                        total += began.elapsed();
                        assert!(out.is_ok() && !out.state_reset);
                    }
                    total
                })
            },
        );
    }
}

criterion_group!(benches, start, cells, tools, files, checkpoints);
criterion_main!(benches);
