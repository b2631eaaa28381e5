//! [`Sandbox`] and [`SandboxBuilder`]: a persistent interpreter on a worker
//! thread of its own.
//!
//! Cells of one sandbox run one at a time, in the order they were sent. A
//! cell that ends in a trap (hard deadline, memory exhaustion inside Rust,
//! a guest panic) discards the instance: the next cell gets a fresh one from
//! the snapshot (workbench files are untouched) and its envelope says
//! `state_reset: true`.
//!
//! Between cells a sandbox can be checkpointed ([`Sandbox::checkpoint`]) and
//! a new one built from the checkpoint ([`SandboxBuilder::restore`]), in
//! this process or another: see [`crate::checkpoint`].

use crate::cell::{CellError, CellKind, CellOutcome, CellStatus};
use crate::checkpoint::Image;
use crate::engine::{Engine, WORKER_STACK_BYTES};
use crate::error::EngineError;
use crate::instance::{Instance, Spec};
use crate::limits::Limits;
use crate::tool::{NoTools, ToolBridge};
use crate::workbench::Dirs;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;
use tokio::sync::oneshot;

/// Builds a [`Sandbox`]; see [`Engine::sandbox`].
#[derive(Clone)]
pub struct SandboxBuilder {
    engine: Engine,
    dirs: Dirs,
    limits: Limits,
    bridge: Arc<dyn ToolBridge>,
    report_reset: bool,
    reset_reason: Option<String>,
    restore: Option<Arc<Vec<u8>>>,
}

impl std::fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("dirs", &self.dirs)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Engine {
    /// Starts building a sandbox whose workbench (`/home/user`, the working
    /// directory) is the host directory `home` and whose files mount
    /// (`/mnt/files`) is `files`. Both are created if missing.
    pub fn sandbox(&self, home: impl Into<PathBuf>, files: impl Into<PathBuf>) -> SandboxBuilder {
        SandboxBuilder {
            engine: self.clone(),
            dirs: Dirs {
                home: home.into(),
                files: files.into(),
            },
            limits: Limits::default(),
            bridge: Arc::new(NoTools),
            report_reset: false,
            reset_reason: None,
            restore: None,
        }
    }
}

impl SandboxBuilder {
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

    /// Makes the first cell report `state_reset: true` with `reason` in its
    /// `state_reset_reason` (e.g. the sandbox resumed from a checkpoint
    /// older than the last cells that ran).
    pub fn state_reset_reason(mut self, reason: impl Into<String>) -> Self {
        self.report_reset = true;
        self.reset_reason = Some(reason.into());
        self
    }

    /// Starts the sandbox from a checkpoint ([`Sandbox::checkpoint`]) instead
    /// of a fresh interpreter. [`SandboxBuilder::build`] fails with
    /// [`EngineError::Checkpoint`] when the image cannot be used (another
    /// runtime build, damaged, too large for the limits): the embedder then
    /// builds a fresh sandbox and keeps the image aside.
    pub fn restore(mut self, image: Vec<u8>) -> Self {
        self.restore = Some(Arc::new(image));
        self
    }

    /// Creates the directories, instantiates the snapshot (or restores the
    /// checkpoint) and starts the sandbox's worker thread. Must be called
    /// inside a tokio runtime, which the sandbox uses to run tool batches.
    pub fn build(mut self) -> Result<Sandbox, EngineError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| EngineError::NoRuntime)?;
        self.limits.max_memory_bytes = self
            .limits
            .max_memory_bytes
            .min(self.engine.shared.config.max_memory_bytes);
        let image = match &self.restore {
            Some(bytes) => Some(Image::decode(
                bytes.clone(),
                crate::snapshot::RUNTIME_SHA256,
                self.limits.max_memory_bytes,
            )?),
            None => None,
        };
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
        let (exited_tx, exited) = oneshot::channel();
        let worker_spec = spec.clone();
        let report_reset = self.report_reset.then(|| self.reset_reason.clone());
        std::thread::Builder::new()
            .name("toolshed-sandbox".into())
            .stack_size(WORKER_STACK_BYTES)
            .spawn(move || {
                // Dropped when the thread ends, however it ends.
                let _exited = exited_tx;
                let started = match &image {
                    Some(image) => Instance::restore(&worker_spec, image),
                    None => Instance::new(&worker_spec),
                };
                let live = match started {
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
        Ok(Sandbox { jobs, spec, exited })
    }
}

/// A persistent Python interpreter with its own workbench.
///
/// Dropping it stops its worker (after any cell in flight) and frees its
/// pool slot; the directories stay.
pub struct Sandbox {
    jobs: mpsc::Sender<Job>,
    spec: Arc<Spec>,
    /// Resolves (with an error) when the worker thread has ended.
    exited: oneshot::Receiver<()>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("dirs", &self.spec.dirs)
            .finish()
    }
}

impl Sandbox {
    /// Runs one Python cell. Globals persist across cells; the value of a
    /// trailing expression is the result. Every way a cell can fail is a
    /// status in the outcome; `Err` only means the sandbox itself is gone.
    pub async fn run_cell(&self, code: &str) -> Result<CellOutcome, EngineError> {
        self.run(CellKind::Python, code).await
    }

    /// Runs a command line in the sandbox shell, in the same interpreter
    /// (so `python FILE` sees the cells' globals). Its output is the
    /// outcome's `stdout`/`stderr` (same caps and spills as a Python cell);
    /// `exit_code` is set when it ran to the end.
    pub async fn run_bash(&self, command: &str) -> Result<CellOutcome, EngineError> {
        self.run(CellKind::Bash, command).await
    }

    async fn run(&self, kind: CellKind, code: &str) -> Result<CellOutcome, EngineError> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job::Cell {
                kind,
                code: code.to_owned(),
                reply,
            })
            .map_err(|_| EngineError::SandboxGone)?;
        outcome.await.map_err(|_| EngineError::SandboxGone)
    }

    /// The interpreter's state as a checkpoint (after the cells sent before
    /// it), for [`SandboxBuilder::restore`]; `None` when there is no state
    /// to keep (the last cell reset the interpreter and none ran since).
    pub async fn checkpoint(&self) -> Result<Option<Vec<u8>>, EngineError> {
        let (reply, image) = oneshot::channel();
        self.jobs
            .send(Job::Checkpoint { reply })
            .map_err(|_| EngineError::SandboxGone)?;
        image.await.map_err(|_| EngineError::SandboxGone)?
    }

    /// Stops the sandbox and waits until its worker thread has ended (after
    /// the cell in flight, if any).
    pub async fn shutdown(self) {
        let Sandbox { jobs, exited, .. } = self;
        drop(jobs);
        let _ = exited.await;
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

enum Job {
    Cell {
        kind: CellKind,
        code: String,
        reply: oneshot::Sender<CellOutcome>,
    },
    Checkpoint {
        reply: oneshot::Sender<Result<Option<Vec<u8>>, EngineError>>,
    },
}

/// `live`'s checkpoint, diffed against the engine's base memory (taken from
/// a fresh instance the first time).
fn checkpoint(spec: &Spec, live: Option<&mut Instance>) -> Result<Option<Vec<u8>>, EngineError> {
    let Some(live) = live else {
        return Ok(None);
    };
    let shared = &spec.engine.shared;
    let base = match shared.base_memory.get() {
        Some(base) => base.clone(),
        None => {
            let fresh = Instance::instantiate(spec, 0)?.memory_copy()?;
            shared.base_memory.get_or_init(|| Arc::new(fresh)).clone()
        }
    };
    // Buffered writes go to their own files before the state is kept.
    let _ = live.run(CellKind::Python, crate::instance::FLUSH_FILES);
    let image = live.checkpoint(&base)?;
    Ok(Some(image.encode(crate::snapshot::RUNTIME_SHA256)))
}

fn worker(
    spec: &Spec,
    first: Instance,
    report_reset: Option<Option<String>>,
    inbox: mpsc::Receiver<Job>,
) {
    let mut live = Some(first);
    let mut reset_pending = report_reset;
    while let Ok(job) = inbox.recv() {
        let (kind, code, reply) = match job {
            Job::Cell { kind, code, reply } => (kind, code, reply),
            Job::Checkpoint { reply } => {
                let taken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    checkpoint(spec, live.as_mut())
                }))
                .unwrap_or_else(|_| {
                    Err(EngineError::Instantiate(
                        "taking the checkpoint panicked".into(),
                    ))
                });
                let _ = reply.send(taken);
                continue;
            }
        };
        let job = CellJob { kind, code, reply };
        let started = Instant::now();
        // A panic on the host side of a cell (in a host function, or in the
        // embedder's tool bridge) must not take the worker with it: the
        // instance is discarded like after a trap and the worker goes on.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match live.as_mut() {
            Some(instance) => instance.run(job.kind, &job.code),
            None => match Instance::new(spec) {
                Ok(instance) => live.insert(instance).run(job.kind, &job.code),
                Err(err) => restart_failed(&err, started),
            },
        }));
        let mut outcome = ran.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, "a cell's host side panicked; replacing the interpreter");
            host_panicked(started)
        });
        if outcome.state_reset {
            // The instance trapped: never reuse it.
            live = None;
        }
        if let Some(reason) = reset_pending.take() {
            outcome.state_reset = true;
            outcome.state_reset_reason = reason;
        }
        let _ = job.reply.send(outcome);
    }
}

struct CellJob {
    kind: CellKind,
    code: String,
    reply: oneshot::Sender<CellOutcome>,
}

fn host_panicked(started: Instant) -> CellOutcome {
    crashed(
        started,
        "SandboxCrashed",
        "the host failed while running this cell (logged); the interpreter was restarted with an empty state",
    )
}

fn restart_failed(err: &EngineError, started: Instant) -> CellOutcome {
    tracing::error!(error = %err, "could not start a fresh interpreter");
    crashed(
        started,
        "SandboxUnavailable",
        "the sandbox could not start a fresh interpreter; try again later",
    )
}

/// The outcome of a cell whose interpreter is gone (`state_reset`).
fn crashed(started: Instant, kind: &str, message: &str) -> CellOutcome {
    CellOutcome {
        status: CellStatus::Crashed,
        stdout: String::new(),
        stderr: String::new(),
        result: None,
        result_truncated: false,
        result_file_path: None,
        error: Some(CellError {
            kind: kind.into(),
            message: message.into(),
            traceback: format!("{kind}: {message}\n"),
        }),
        duration_ms: started.elapsed().as_millis() as u64,
        stdout_truncated: false,
        stderr_truncated: false,
        stdout_file_path: None,
        stderr_file_path: None,
        state_reset: true,
        state_reset_reason: None,
        tool_calls: 0,
        exit_code: None,
    }
}
