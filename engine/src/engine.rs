//! [`Engine`]: one wasmtime engine per process, the pre-initialised runtime
//! module, and the epoch ticker that drives every sandbox's deadline.

use crate::config::EngineConfig;
use crate::error::{EngineError, wasm};
use crate::state::SandboxState;
use crate::{bridge, poll, quota, snapshot};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use wasmtime::{InstanceAllocationStrategy, InstancePre, Linker, PoolingAllocationConfig};

/// Wasm stack available to a guest. Python recursion up to the recursion
/// limit needs far more than wasmtime's 512 KiB default.
pub(crate) const MAX_WASM_STACK_BYTES: usize = 8 << 20;
/// Native stack of a sandbox's worker thread: the wasm stack plus room for
/// the host functions it calls.
pub(crate) const WORKER_STACK_BYTES: usize = MAX_WASM_STACK_BYTES + (8 << 20);
/// Table elements one instance may have (RustPython's function table).
const MAX_TABLE_ELEMENTS: usize = 1 << 18;

/// The shared, cheap-to-clone engine. Build sandboxes with
/// [`Engine::sandbox`].
#[derive(Clone)]
pub struct Engine {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.shared.config)
            .finish()
    }
}

pub(crate) struct Shared {
    pub(crate) config: EngineConfig,
    pub(crate) wasmtime: wasmtime::Engine,
    /// The snapshot, linked with WASI, the quota and poll wrappers and the
    /// bridge.
    pub(crate) pre: InstancePre<SandboxState>,
    /// The memory of a fresh instance, which checkpoints are diffed against
    /// (taken on first use).
    pub(crate) base_memory: std::sync::OnceLock<Arc<Vec<u8>>>,
    /// Kept for its `Drop`, which stops the thread.
    _ticker: Ticker,
}

impl Engine {
    /// Creates the engine: loads (or, on first start, pre-initialises,
    /// compiles and caches) the Python runtime and starts the epoch ticker.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        let wasmtime = wasmtime::Engine::new(&wasmtime_config(&config))
            .map_err(|e| EngineError::Config(wasm(e)))?;
        let module = snapshot::load(&wasmtime, &config.cache_dir)?;

        let mut linker = Linker::new(&wasmtime);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut SandboxState| &mut s.wasi)
            .map_err(|e| EngineError::Config(wasm(e)))?;
        quota::add_to_linker(&mut linker).map_err(|e| EngineError::Config(wasm(e)))?;
        poll::add_to_linker(&mut linker).map_err(|e| EngineError::Config(wasm(e)))?;
        bridge::register(&mut linker).map_err(|e| EngineError::Config(wasm(e)))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| EngineError::Runtime(wasm(e)))?;

        let ticker = Ticker::start(wasmtime.clone(), config.epoch_tick);
        Ok(Engine {
            shared: Arc::new(Shared {
                config,
                wasmtime,
                pre,
                base_memory: std::sync::OnceLock::new(),
                _ticker: ticker,
            }),
        })
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// SHA-256 of the embedded runtime (hex), for logs and cache keys.
    pub fn runtime_hash(&self) -> &'static str {
        snapshot::RUNTIME_SHA256
    }
}

fn wasmtime_config(config: &EngineConfig) -> wasmtime::Config {
    let mut cfg = wasmtime::Config::new();
    cfg.epoch_interruption(true);
    cfg.max_wasm_stack(MAX_WASM_STACK_BYTES);
    // Sandboxes never run on fibers, but the setting must cover the stack.
    cfg.async_stack_size(MAX_WASM_STACK_BYTES + (1 << 20));
    // The deadline callback only looks at the innermost frame.
    cfg.wasm_backtrace_max_frames(NonZeroUsize::new(1));
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(config.max_sandboxes)
        .total_memories(config.max_sandboxes)
        .total_tables(config.max_sandboxes)
        .max_memory_size(config.max_memory_bytes as usize)
        .table_elements(MAX_TABLE_ELEMENTS)
        .max_unused_warm_slots(config.max_sandboxes.min(100))
        .total_stacks(1);
    cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    cfg.memory_init_cow(true);
    if config.perf_map {
        cfg.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    cfg
}

/// A thread that advances the engine's epoch every tick.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: wasmtime::Engine, tick: std::time::Duration) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("toolshed-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .ok();
        Ticker { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
