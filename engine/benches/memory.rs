//! Private memory per idle sandbox: starts 200 sandboxes, runs one cell in
//! each, and reports the growth of the process's private memory
//! (Private_Clean + Private_Dirty of /proc/self/smaps_rollup) per sandbox.
//!
//! `cargo bench -p toolshed-engine --bench memory`

use std::time::Instant;
use toolshed_engine::{Engine, EngineConfig};

const SANDBOXES: usize = 200;

fn private_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").expect("Linux /proc");
    text.lines()
        .filter(|l| l.starts_with("Private_Clean:") || l.starts_with("Private_Dirty:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let engine = Engine::new(EngineConfig {
        max_sandboxes: SANDBOXES as u32 + 8,
        ..EngineConfig::default()
    })
    .expect("engine");
    let dir = tempfile::tempdir().unwrap();
    // Warm up: one sandbox, so shared pages are already resident.
    let warm = engine
        .sandbox(dir.path().join("warm/h"), dir.path().join("warm/f"))
        .build()
        .unwrap();
    rt.block_on(warm.run_cell("x = 1")).unwrap();

    let before = private_kib();
    let started = Instant::now();
    let mut sandboxes = Vec::with_capacity(SANDBOXES);
    for i in 0..SANDBOXES {
        let sandbox = engine
            .sandbox(
                dir.path().join(format!("{i}/h")),
                dir.path().join(format!("{i}/f")),
            )
            .build()
            .unwrap();
        let out = rt
            .block_on(sandbox.run_cell("x = 1\ny = [i for i in range(100)]"))
            .unwrap();
        assert!(out.is_ok());
        sandboxes.push(sandbox);
    }
    let elapsed = started.elapsed();
    let after = private_kib();
    let per = (after.saturating_sub(before)) as f64 / SANDBOXES as f64 / 1024.0;
    println!(
        "{SANDBOXES} idle sandboxes: private memory +{:.1} MiB in all, {per:.2} MiB per sandbox; started in {:.1} ms ({:.2} ms each)",
        (after.saturating_sub(before)) as f64 / 1024.0,
        elapsed.as_secs_f64() * 1000.0,
        elapsed.as_secs_f64() * 1000.0 / SANDBOXES as f64
    );
}
