//! [`Sandbox`]: one Store + Instance of the pre-initialised runtime, owned
//! by a worker thread of its own, plus everything it needs per cell.
//!
//! Cells of one sandbox run one at a time, in the order they were sent. A
//! cell that ends in a trap (hard deadline, memory exhaustion inside Rust,
//! a guest panic) discards the instance: the next cell gets a fresh one from
//! the snapshot (workbench files are untouched) and its envelope says
//! `state_reset: true`. A trapped instance is never reused: each trap leaks
//! guest stack and interpreter bookkeeping.

use crate::bridge::{NoTools, OutputSink, SpillTarget, ToolBridge, memory};
use crate::cell::{CellError, CellOutcome, CellStatus};
use crate::deadline;
use crate::engine::{Engine, WORKER_STACK_BYTES};
use crate::error::{EngineError, wasm};
use crate::limits::Limits;
use crate::workbench::{Dirs, DiskQuota, GUEST_OUTPUT_DIR};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;
use toolshed_guest_sdk::abi;
use wasmtime::{Memory, ResourceLimiter, Store, Trap, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;

/// The largest cell source accepted (it is copied into guest memory).
pub const MAX_CELL_SOURCE_BYTES: usize = 16 << 20;

/// Builds a [`Sandbox`]; see [`Engine::sandbox`].
#[derive(Clone)]
pub struct SandboxBuilder {
    engine: Engine,
    dirs: Dirs,
    limits: Limits,
    bridge: Arc<dyn ToolBridge>,
    report_reset: bool,
}

impl std::fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("dirs", &self.dirs)
            .field("limits", &self.limits)
            .finish()
    }
}

impl SandboxBuilder {
    pub(crate) fn new(engine: Engine, home: PathBuf, files: PathBuf) -> Self {
        SandboxBuilder {
            engine,
            dirs: Dirs { home, files },
            limits: Limits::default(),
            bridge: Arc::new(NoTools),
            report_reset: false,
        }
    }

    /// Sets the sandbox's limits. The memory cap is clamped to the engine's
    /// [`crate::EngineConfig::max_memory_bytes`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the bridge that runs the tools the cells call.
    pub fn bridge(mut self, bridge: Arc<dyn ToolBridge>) -> Self {
        self.bridge = bridge;
        self
    }

    /// Makes the first cell report `state_reset: true`: for an embedder
    /// recreating the sandbox of a session whose interpreter was lost (e.g.
    /// across a restart).
    pub fn report_state_reset(mut self, yes: bool) -> Self {
        self.report_reset = yes;
        self
    }

    /// Creates the directories, instantiates the snapshot and starts the
    /// sandbox's worker thread. Must be called inside a tokio runtime, which
    /// the sandbox uses to run tool batches.
    pub fn build(mut self) -> Result<Sandbox, EngineError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| EngineError::NoRuntime)?;
        self.limits.max_memory_bytes = self
            .limits
            .max_memory_bytes
            .min(self.engine.shared.config.max_memory_bytes);
        self.dirs.prepare()?;
        let spec = Arc::new(Spec {
            engine: self.engine,
            dirs: self.dirs,
            limits: self.limits,
            bridge: self.bridge,
            runtime,
        });
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let worker_spec = spec.clone();
        let report_reset = self.report_reset;
        std::thread::Builder::new()
            .name("toolshed-sandbox".into())
            .stack_size(WORKER_STACK_BYTES)
            .spawn(move || {
                let live = match Live::new(&worker_spec) {
                    Ok(live) => {
                        let _ = ready_tx.send(Ok(()));
                        live
                    }
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                worker(&worker_spec, live, report_reset, inbox);
            })
            .map_err(|e| EngineError::Instantiate(Box::new(e)))?;
        ready_rx.recv().map_err(|_| EngineError::SandboxGone)??;
        Ok(Sandbox { jobs, spec })
    }
}

/// A persistent Python interpreter with its own workbench.
///
/// Dropping it stops its worker (after any cell in flight) and frees its
/// pool slot; the directories stay.
pub struct Sandbox {
    jobs: mpsc::Sender<Job>,
    spec: Arc<Spec>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("dirs", &self.spec.dirs)
            .finish()
    }
}

impl Sandbox {
    /// Runs one cell. Globals persist across cells; the value of a trailing
    /// expression is the result. Every way a cell can fail is a status in
    /// the outcome; `Err` only means the sandbox itself is gone.
    pub async fn run_cell(&self, code: &str) -> Result<CellOutcome, EngineError> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job {
                code: code.to_owned(),
                reply,
            })
            .map_err(|_| EngineError::SandboxGone)?;
        outcome.await.map_err(|_| EngineError::SandboxGone)
    }

    /// The sandbox's limits.
    pub fn limits(&self) -> &Limits {
        &self.spec.limits
    }

    /// Host path of the workbench (`/home/user`).
    pub fn home_dir(&self) -> &std::path::Path {
        &self.spec.dirs.home
    }

    /// Host path of the files mount (`/mnt/files`).
    pub fn files_dir(&self) -> &std::path::Path {
        &self.spec.dirs.files
    }
}

struct Job {
    code: String,
    reply: oneshot::Sender<CellOutcome>,
}

/// What every instance of one sandbox is made from.
struct Spec {
    engine: Engine,
    dirs: Dirs,
    limits: Limits,
    bridge: Arc<dyn ToolBridge>,
    runtime: tokio::runtime::Handle,
}

fn worker(spec: &Spec, first: Live, report_reset: bool, inbox: mpsc::Receiver<Job>) {
    let mut live = Some(first);
    let mut reset_pending = report_reset;
    while let Ok(job) = inbox.recv() {
        let started = Instant::now();
        let mut outcome = match live.as_mut() {
            Some(instance) => instance.run(&job.code),
            None => match Live::new(spec) {
                Ok(instance) => live.insert(instance).run(&job.code),
                Err(err) => restart_failed(&err, started),
            },
        };
        if outcome.state_reset {
            // The instance trapped: never reuse it.
            live = None;
        }
        if reset_pending {
            outcome.state_reset = true;
            reset_pending = false;
        }
        let _ = job.reply.send(outcome);
    }
}

fn restart_failed(err: &EngineError, started: Instant) -> CellOutcome {
    tracing::error!(error = %err, "could not start a fresh interpreter");
    CellOutcome {
        status: CellStatus::Crashed,
        stdout: String::new(),
        stderr: String::new(),
        result: None,
        error: Some(CellError {
            kind: "SandboxUnavailable".into(),
            message: "the sandbox could not start a fresh interpreter; try again later".into(),
            traceback: String::new(),
        }),
        duration_ms: started.elapsed().as_millis() as u64,
        stdout_truncated: false,
        stderr_truncated: false,
        stdout_file_path: None,
        stderr_file_path: None,
        state_reset: true,
        tool_calls: 0,
    }
}

/// The store's data.
pub(crate) struct SandboxState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) bridge: Arc<dyn ToolBridge>,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) limits: Limits,
    pub(crate) cell: CellState,
    pub(crate) quota: DiskQuota,
    pub(crate) memory: Option<Memory>,
    pub(crate) interrupt: Option<TypedFunc<(), ()>>,
}

/// Per-cell host state; reset at the start of every cell.
pub(crate) struct CellState {
    pub(crate) soft_deadline: Instant,
    pub(crate) hard_deadline: Instant,
    pub(crate) timed_out: bool,
    pub(crate) hard_stopped: bool,
    pub(crate) tool_limit_hit: bool,
    pub(crate) output_limit_hit: bool,
    pub(crate) tool_calls: u64,
    pub(crate) stdout: OutputSink,
    pub(crate) stderr: OutputSink,
    pub(crate) reply: Option<Vec<u8>>,
}

impl CellState {
    fn new(limits: &Limits, dirs: &Dirs, started: Instant) -> Self {
        static CELLS: AtomicU64 = AtomicU64::new(0);
        let serial = CELLS.fetch_add(1, Ordering::Relaxed);
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let sink = |stream: &str| {
            let guest = format!("{GUEST_OUTPUT_DIR}/cell-{stamp}-{serial}-{stream}.txt");
            let rel = guest
                .strip_prefix(crate::workbench::GUEST_FILES)
                .unwrap_or(&guest)
                .trim_start_matches('/')
                .into();
            let target = SpillTarget {
                root: dirs.files.clone(),
                rel,
            };
            OutputSink::new(
                limits.max_inline_output_bytes,
                limits.max_output_bytes,
                target,
                guest,
            )
        };
        let soft_deadline = started + limits.timeout;
        CellState {
            soft_deadline,
            hard_deadline: soft_deadline + limits.grace,
            timed_out: false,
            hard_stopped: false,
            tool_limit_hit: false,
            output_limit_hit: false,
            tool_calls: 0,
            stdout: sink("stdout"),
            stderr: sink("stderr"),
            reply: None,
        }
    }
}

/// Caps linear memory and remembers whether the cap was hit.
pub(crate) struct MemoryLimiter {
    max_bytes: u64,
    pub(crate) denied: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.max_bytes {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// The guest's reply to `toolshed_run_cell`.
#[derive(Deserialize)]
struct GuestReply {
    result: Option<String>,
    error: Option<CellError>,
}

/// A live instance and its typed exports.
struct Live {
    store: Store<SandboxState>,
    alloc: TypedFunc<u32, u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
    run_cell: TypedFunc<(u32, u32), u64>,
}

impl Live {
    fn new(spec: &Spec) -> Result<Live, EngineError> {
        let shared = &spec.engine.shared;
        let wasi = crate::workbench::wasi_builder(&spec.dirs)?.build_p1();
        let state = SandboxState {
            wasi,
            limiter: MemoryLimiter {
                max_bytes: spec.limits.max_memory_bytes,
                denied: false,
            },
            bridge: spec.bridge.clone(),
            runtime: spec.runtime.clone(),
            limits: spec.limits.clone(),
            cell: CellState::new(&spec.limits, &spec.dirs, Instant::now()),
            quota: DiskQuota::new(spec.dirs.clone(), spec.limits.max_disk_bytes),
            memory: None,
            interrupt: None,
        };
        let mut store = Store::new(&shared.wasmtime, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(deadline::on_epoch);
        store.set_epoch_deadline(u64::MAX / 2);

        let instance = shared
            .pre
            .instantiate(&mut store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let typed = |store: &mut Store<SandboxState>, name: &str| {
            instance.get_func(&mut *store, name).ok_or_else(|| {
                EngineError::Instantiate(format!("the runtime does not export {name}").into())
            })
        };
        let alloc = typed(&mut store, abi::EXPORT_ALLOC)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let dealloc = typed(&mut store, abi::EXPORT_DEALLOC)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let run_cell = typed(&mut store, abi::EXPORT_RUN_CELL)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let interrupt = typed(&mut store, abi::EXPORT_INTERRUPT)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| EngineError::Instantiate("the runtime does not export memory".into()))?;
        store.data_mut().memory = Some(memory);
        store.data_mut().interrupt = Some(interrupt);

        let mut live = Live {
            store,
            alloc,
            dealloc,
            run_cell,
        };
        if spec.limits.max_recursion_depth != crate::limits::DEFAULT_MAX_RECURSION_DEPTH {
            let setup = format!(
                "import sys as _s\n_s.setrecursionlimit({})\ndel _s",
                spec.limits.max_recursion_depth.max(50)
            );
            let outcome = live.run(&setup);
            if !outcome.is_ok() {
                return Err(EngineError::Instantiate(
                    format!("could not apply the recursion limit: {:?}", outcome.error).into(),
                ));
            }
        }
        Ok(live)
    }

    /// Runs one cell. A trap sets `state_reset` (the caller then discards
    /// this instance).
    fn run(&mut self, code: &str) -> CellOutcome {
        let started = Instant::now();
        self.store.data_mut().limiter.denied = false;
        let limits = self.store.data().limits.clone();
        let dirs = self.store.data().quota_dirs();
        self.store.data_mut().cell = CellState::new(&limits, &dirs, started);

        if code.len() > MAX_CELL_SOURCE_BYTES {
            return self.finish(
                started,
                CellStatus::Error,
                None,
                Some(CellError {
                    kind: "ValueError".into(),
                    message: format!(
                        "the cell's source is {} bytes; at most {MAX_CELL_SOURCE_BYTES} are accepted",
                        code.len()
                    ),
                    traceback: String::new(),
                }),
                false,
            );
        }

        self.store.set_epoch_deadline(1);
        let outcome = self.call_guest(code);
        self.store.set_epoch_deadline(u64::MAX / 2);
        match outcome {
            Ok(reply) => {
                let status = self.classify(reply.error.as_ref());
                self.finish(started, status, reply.result, reply.error, false)
            }
            Err(trap) => {
                let (status, error) = self.describe_trap(&trap);
                tracing::warn!(status = status.as_str(), error = %trap, "cell ended in a trap; replacing the interpreter");
                self.finish(started, status, None, Some(error), true)
            }
        }
    }

    fn call_guest(&mut self, code: &str) -> wasmtime::Result<GuestReply> {
        let len = code.len() as u32;
        let ptr = self.alloc.call(&mut self.store, len)?;
        let memory = self
            .store
            .data()
            .memory
            .ok_or_else(|| wasmtime::format_err!("no memory"))?;
        memory::write(memory.data_mut(&mut self.store), ptr, code.as_bytes())
            .map_err(|_| wasmtime::format_err!("the guest returned an out-of-bounds buffer"))?;
        let packed = self.run_cell.call(&mut self.store, (ptr, len))?;
        let (reply_ptr, reply_len) = abi::unpack(packed);
        let reply = memory::read(memory.data(&self.store), reply_ptr, reply_len)
            .map_err(|_| wasmtime::format_err!("the guest returned an out-of-bounds reply"))
            .and_then(|bytes| {
                serde_json::from_slice::<GuestReply>(bytes)
                    .map_err(|e| wasmtime::format_err!("the guest returned a malformed reply: {e}"))
            });
        self.dealloc.call(&mut self.store, (reply_ptr, reply_len))?;
        reply
    }

    fn classify(&self, error: Option<&CellError>) -> CellStatus {
        let state = self.store.data();
        let Some(error) = error else {
            return CellStatus::Ok;
        };
        match error.kind.as_str() {
            "CellTimeout" => CellStatus::Timeout,
            "ToolCallLimitExceeded" => CellStatus::ToolLimit,
            "OutputLimitExceeded" => CellStatus::OutputLimit,
            "MemoryError" if state.limiter.denied => CellStatus::MemoryLimit,
            _ if state.cell.tool_limit_hit => CellStatus::ToolLimit,
            _ if state.cell.output_limit_hit => CellStatus::OutputLimit,
            _ if state.cell.timed_out => CellStatus::Timeout,
            _ => CellStatus::Error,
        }
    }

    fn describe_trap(&self, trap: &wasmtime::Error) -> (CellStatus, CellError) {
        let state = self.store.data();
        let limits = &state.limits;
        let (status, kind, message) = if state.cell.hard_stopped || state.cell.timed_out {
            (
                CellStatus::Timeout,
                "CellTimeout",
                format!(
                    "the cell ran past its {} ms deadline and did not stop within the {} ms grace period; the interpreter was restarted",
                    limits.timeout.as_millis(),
                    limits.grace.as_millis()
                ),
            )
        } else if state.limiter.denied {
            (
                CellStatus::MemoryLimit,
                "MemoryError",
                format!(
                    "the cell exhausted the sandbox's {} MiB memory limit; the interpreter was restarted",
                    limits.max_memory_bytes >> 20
                ),
            )
        } else {
            let why = match trap.downcast_ref::<Trap>() {
                Some(Trap::StackOverflow) => "it ran out of stack".to_owned(),
                Some(trap) => format!("wasm trap: {trap}"),
                None => "the interpreter failed".to_owned(),
            };
            (
                CellStatus::Crashed,
                "SandboxCrashed",
                format!(
                    "the interpreter stopped abnormally ({why}); it was restarted with an empty state"
                ),
            )
        };
        (
            status,
            CellError {
                kind: kind.into(),
                message: message.clone(),
                traceback: format!("{kind}: {message}\n"),
            },
        )
    }

    fn finish(
        &mut self,
        started: Instant,
        status: CellStatus,
        result: Option<String>,
        error: Option<CellError>,
        state_reset: bool,
    ) -> CellOutcome {
        let limits = self.store.data().limits.clone();
        let dirs = self.store.data().quota_dirs();
        let cell = std::mem::replace(
            &mut self.store.data_mut().cell,
            CellState::new(&limits, &dirs, started),
        );
        let (stdout, stdout_truncated, stdout_file_path) = cell.stdout.finish();
        let (stderr, stderr_truncated, stderr_file_path) = cell.stderr.finish();
        CellOutcome {
            status,
            stdout,
            stderr,
            result,
            error,
            duration_ms: duration_ms(started.elapsed()),
            stdout_truncated,
            stderr_truncated,
            stdout_file_path,
            stderr_file_path,
            state_reset,
            tool_calls: cell.tool_calls,
        }
    }
}

impl SandboxState {
    fn quota_dirs(&self) -> Dirs {
        self.quota.dirs().clone()
    }
}

fn duration_ms(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
