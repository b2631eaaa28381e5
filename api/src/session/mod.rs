//! Sessions at run time: their config, their lazily started sandbox, and
//! the context meta tools run in.

pub mod app_tools;
pub mod approval;
pub mod bridge;
pub mod config;
pub mod custom_tools;
pub mod helpers;
pub mod hibernation;
pub mod proxy;
pub mod request;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::SessionRecord;
use crate::tool_error::ToolError;
use config::SessionConfig;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use toolshed_engine::{CellKind, CellOutcome, Sandbox, ToolBridge};

/// Marker in a session's data folder (beside, not inside, its home and
/// files): an interpreter was started for this session before, so a new one
/// means its variables were lost.
const STARTED_MARKER: &str = "interpreter-started";

/// The live sandboxes, one per session that used its workbench recently.
#[derive(Default)]
pub struct Sandboxes {
    live: Mutex<HashMap<String, Arc<LiveSandbox>>>,
    /// Each project's cell slots. Tokio's semaphore is fair (first come,
    /// first served), and each project has its own, so one project's queue
    /// never delays another's cells.
    cells: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    /// Each busy session's turn: its cells run one after another, and only
    /// the one whose turn it is holds (or waits for) a project cell slot.
    turns: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Per-session start locks (a session starts one sandbox at a time).
    starting: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Sessions whose evicted sandbox is writing its checkpoint: held until
    /// the file is complete, so the session's next start reads it.
    hibernating: std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// A session's sandbox and when it was last used.
pub struct LiveSandbox {
    sandbox: Sandbox,
    /// The project it counts against.
    project_id: String,
    /// Cells running or about to run in it: a busy sandbox is never evicted
    /// to make room.
    busy: std::sync::atomic::AtomicUsize,
    last_used: std::sync::Mutex<Instant>,
    /// The session's current config, read by the bridge on every tool call
    /// (so a PATCH applies from the next cell on, state kept).
    config: Arc<std::sync::RwLock<Arc<SessionConfig>>>,
    /// Cells started in it.
    cells: std::sync::atomic::AtomicU64,
    /// `cells` when the checkpoint on disk was taken.
    saved: std::sync::atomic::AtomicU64,
    /// Whether its session's checkpoint on disk holds this interpreter's
    /// state as of `saved` (it was resumed from it, or wrote it).
    on_disk: std::sync::atomic::AtomicBool,
}

impl LiveSandbox {
    /// Whether cells ran since the checkpoint on disk.
    fn changed(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.cells.load(Ordering::Acquire) != self.saved.load(Ordering::Acquire)
    }

    /// Whether the checkpoint on disk already is this interpreter's state,
    /// so hibernating it needs no new one (no cell ran since it was
    /// resumed or saved).
    fn saved_already(&self) -> bool {
        self.on_disk.load(std::sync::atomic::Ordering::Acquire) && !self.changed()
    }
}

/// A live session of a project: read in place when the database is free
/// this instant ([`crate::store::Store::try_session`]), else on the
/// blocking pool.
async fn read_session(
    state: &AppState,
    project_id: &str,
    session_id: &str,
) -> Result<Option<SessionRecord>, ApiError> {
    let found = match state.store.try_session(project_id, session_id) {
        Some(found) => found,
        None => {
            let (project, id) = (project_id.to_owned(), session_id.to_owned());
            state
                .store
                .run(move |store| store.session(&project, &id))
                .await
        }
    };
    found.map_err(ApiError::internal)
}

impl Sandboxes {
    /// The session's sandbox, started on first use (or after eviction).
    pub async fn get_or_start(
        &self,
        state: &AppState,
        project_id: &str,
        session_id: &str,
        config: &SessionConfig,
        make_bridge: impl FnOnce(Arc<std::sync::RwLock<Arc<SessionConfig>>>) -> Arc<dyn ToolBridge>,
    ) -> Result<Busy, ApiError> {
        if let Some(existing) = self.existing(session_id, config).await {
            return Ok(Busy::new(existing));
        }
        // One start per session at a time, without holding the map lock:
        // starting walks the workbench (for the quota) and instantiates,
        // which must not hold up other sessions.
        let starting = {
            let mut starting = self.starting.lock().await;
            starting.entry(session_id.to_owned()).or_default().clone()
        };
        let _guard = starting.lock().await;
        if let Some(existing) = self.existing(session_id, config).await {
            return Ok(Busy::new(existing));
        }
        // A call that waited (for a cell slot, for this lock) may outlive its
        // session: a deleted session never gets a new interpreter.
        if read_session(state, project_id, session_id).await?.is_none() {
            return Err(ApiError::NotFound(format!(
                "session {} not found",
                crate::error::clip(session_id, 64)
            )));
        }
        self.make_room(state, project_id).await?;
        self.hibernated(session_id).await;
        let shared_config = Arc::new(std::sync::RwLock::new(Arc::new(config.clone())));
        let bridge = make_bridge(shared_config.clone());
        let home = state.session_home(session_id);
        let files = state.session_files(session_id);
        let marker = files.parent().unwrap_or(&files).join(STARTED_MARKER);
        let builder = state
            .engine
            .sandbox(home, files)
            .limits(state.config.limits.clone())
            .bridge(bridge);
        let session = session_id.to_owned();
        let store = state.checkpoints.clone();
        let (sandbox, resumed) = tokio::task::spawn_blocking(move || {
            let restarted = marker.exists();
            let mut resumed = false;
            let sandbox = match store.get(&session)? {
                Some(stored) => {
                    let restore = builder.clone().restore(stored.image);
                    let restore = if store.changed(&session)? {
                        restore.state_reset_reason(format!(
                            "resumed from the checkpoint of {}; the cells run after it were lost (the server stopped without saving them)",
                            crate::timestamp::rfc3339(stored.written_at)
                        ))
                    } else {
                        restore
                    };
                    match restore.build() {
                        Ok(sandbox) => {
                            tracing::info!(%session, "resumed a hibernated interpreter");
                            resumed = true;
                            sandbox
                        }
                        Err(toolshed_engine::EngineError::Checkpoint(err)) => {
                            let kept = store.reject(&session).unwrap_or_else(|e| {
                                tracing::warn!(%session, error = %e, "could not move a refused checkpoint aside");
                                "nowhere: it could not be moved aside".into()
                            });
                            tracing::warn!(%session, error = %err, %kept, "a checkpoint cannot be restored; starting a fresh interpreter");
                            builder
                                .state_reset_reason(format!(
                                    "the saved interpreter could not be restored ({err}); it was kept as {kept}"
                                ))
                                .build()?
                        }
                        Err(err) => {
                            tracing::error!(%session, error = %crate::commands::error_chain(&err), "could not resume a hibernated interpreter; its checkpoint is kept for the next try");
                            return Err(err.into());
                        }
                    }
                }
                None if restarted => builder
                    .state_reset_reason(
                        "the server stopped before this interpreter was saved; variables are gone, files are kept",
                    )
                    .build()?,
                None => builder.build()?,
            };
            if let Some(dir) = marker.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&marker, b"")?;
            // The running interpreter now matches the checkpoint (or there
            // is none): nothing ran after it yet.
            store.clear_changed(&session)?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((sandbox, resumed))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::Internal)?;
        // Deleted while its interpreter was starting (or resuming): the
        // start recreated its folder; it goes again, with the interpreter.
        let gone = read_session(state, project_id, session_id).await?.is_none();
        if gone {
            drop(sandbox);
            let dir = state.config.data_dir.join("sessions").join(session_id);
            if let Err(err) = tokio::fs::remove_dir_all(&dir).await
                && err.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(session = %session_id, error = %err, "could not remove a deleted session's folder");
            }
            return Err(ApiError::NotFound(format!(
                "session {} not found",
                crate::error::clip(session_id, 64)
            )));
        }
        let entry = Arc::new(LiveSandbox {
            sandbox,
            project_id: project_id.to_owned(),
            busy: std::sync::atomic::AtomicUsize::new(0),
            last_used: std::sync::Mutex::new(Instant::now()),
            config: shared_config,
            cells: std::sync::atomic::AtomicU64::new(0),
            saved: std::sync::atomic::AtomicU64::new(0),
            on_disk: std::sync::atomic::AtomicBool::new(resumed),
        });
        self.live
            .lock()
            .await
            .insert(session_id.to_owned(), entry.clone());
        self.starting.lock().await.remove(session_id);
        Ok(Busy::new(entry))
    }

    /// Makes room for one more sandbox of `project_id`: within the
    /// project's count and the server's memory budget (each sandbox counts
    /// its full memory limit). Idle sandboxes are evicted to get there,
    /// least recently used first (their files stay; their sessions' next
    /// cell says `state_reset`); when only busy ones are left, the project's
    /// limit is a 429 and the server's budget a 503, both with Retry-After.
    async fn make_room(&self, state: &AppState, project_id: &str) -> Result<(), ApiError> {
        use std::sync::atomic::Ordering;
        let per_sandbox = state.config.limits.max_memory_bytes.max(1);
        let budget = state.config.sandbox_memory_budget_bytes;
        let per_project = state.config.max_sandboxes_per_project;
        let mut live = self.live.lock().await;
        loop {
            let mine = live.values().filter(|s| s.project_id == project_id).count();
            let over_project = mine >= per_project;
            let over_budget = (live.len() as u64 + 1).saturating_mul(per_sandbox) > budget;
            if !over_project && !over_budget {
                return Ok(());
            }
            let victim = live
                .iter()
                .filter(|(_, s)| s.busy.load(Ordering::Acquire) == 0)
                .filter(|(_, s)| !over_project || s.project_id == project_id)
                .min_by_key(|(_, s)| *s.last_used.lock().unwrap_or_else(|p| p.into_inner()))
                .map(|(id, _)| id.clone());
            match victim {
                Some(id) => {
                    tracing::info!(session = %id, over_project, over_budget, "evicting an idle sandbox to make room");
                    if let Some(victim) = live.remove(&id) {
                        self.hibernate(state, id, victim);
                    }
                }
                None if over_project => {
                    return Err(ApiError::TooManyRequests(format!(
                        "this project has {mine} sandboxes running cells, its limit; retry when one finishes"
                    )));
                }
                None => {
                    return Err(ApiError::Unavailable(
                        "the server's sandbox memory is in use by running cells; retry shortly"
                            .into(),
                    ));
                }
            }
        }
    }

    /// The session's turn lock (shared by its waiting cells).
    fn turn(&self, session_id: &str) -> Arc<Mutex<()>> {
        self.turns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(session_id.to_owned())
            .or_default()
            .clone()
    }

    /// Forgets the session's turn lock once no cell holds or waits for it
    /// (the map and `turn` are the only references left).
    fn end_turn(&self, session_id: &str, turn: &Arc<Mutex<()>>) {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        if Arc::strong_count(turn) == 2 {
            turns.remove(session_id);
        }
    }

    /// One of the project's cell slots, held while a cell runs: waits in
    /// arrival order up to `wait`, then 429.
    pub async fn cell_slot(
        &self,
        project_id: &str,
        per_project: usize,
        wait: Duration,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        let slots = self
            .cells
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(project_id.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(per_project.max(1))))
            .clone();
        match tokio::time::timeout(wait, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(ApiError::internal(std::io::Error::other(
                "cell slots closed",
            ))),
            Err(_elapsed) => Err(ApiError::TooManyRequests(format!(
                "this project is running {per_project} cells, its limit, and this one waited {} s for a turn; retry when some finish",
                wait.as_secs()
            ))),
        }
    }

    /// The live sandbox of a session, refreshed with its current config.
    async fn existing(&self, session_id: &str, config: &SessionConfig) -> Option<Arc<LiveSandbox>> {
        let live = self.live.lock().await;
        let existing = live.get(session_id)?;
        *existing.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        *existing.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config.clone());
        Some(existing.clone())
    }

    /// Drops the session's sandbox without keeping its state (the session
    /// is deleted, or its worker is gone).
    pub async fn stop(&self, session_id: &str) {
        self.live.lock().await.remove(session_id);
    }

    /// Evicts sandboxes idle for longer than `idle` (never one running a
    /// cell), each hibernated to its session's checkpoint; returns how many.
    pub async fn evict_idle(&self, state: &AppState, idle: Duration) -> usize {
        let mut live = self.live.lock().await;
        let idle_ones: Vec<String> = live
            .iter()
            .filter(|(_, s)| {
                s.busy.load(std::sync::atomic::Ordering::Acquire) == 0
                    && s.last_used
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .elapsed()
                        >= idle
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &idle_ones {
            if let Some(victim) = live.remove(id) {
                self.hibernate(state, id.clone(), victim);
            }
        }
        idle_ones.len()
    }

    /// Checkpoints every live sandbox that ran a cell since its last
    /// checkpoint and has been idle for `after` (it stays live); returns
    /// how many were written.
    pub async fn checkpoint_idle(&self, state: &AppState, after: Duration) -> usize {
        use std::sync::atomic::Ordering;
        let due: Vec<(String, Arc<LiveSandbox>)> = self
            .live
            .lock()
            .await
            .iter()
            .filter(|(_, s)| {
                s.busy.load(Ordering::Acquire) == 0
                    && s.changed()
                    && s.last_used
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .elapsed()
                        >= after
            })
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect();
        let mut written = 0;
        for (id, live) in due {
            // Busy while saving: not evicted halfway.
            let held = Busy::new(live);
            let generation = held.cells.load(Ordering::Acquire);
            match hibernation::save(state.checkpoints.clone(), id.clone(), &held.sandbox).await {
                Ok(saved) => {
                    held.on_disk.store(
                        matches!(saved, hibernation::Saved::Image(_)),
                        Ordering::Release,
                    );
                    // A cell that started meanwhile keeps the mark.
                    if held.cells.load(Ordering::Acquire) == generation {
                        held.saved.store(generation, Ordering::Release);
                        let (store, session) = (state.checkpoints.clone(), id.clone());
                        let _ = tokio::task::spawn_blocking(move || {
                            hibernation::clear_changed(store.as_ref(), &session)
                        })
                        .await;
                    }
                    written += 1;
                }
                Err(err) => {
                    tracing::warn!(session = %id, error = %err, "could not checkpoint an idle sandbox");
                }
            }
        }
        written
    }

    /// Hibernates every live sandbox and waits until each checkpoint is
    /// written (graceful shutdown). Returns how many were kept.
    pub async fn hibernate_all(&self, state: &AppState) -> usize {
        let all: Vec<(String, Arc<LiveSandbox>)> = self.live.lock().await.drain().collect();
        let saves = all.into_iter().map(|(id, victim)| {
            let store = state.checkpoints.clone();
            async move {
                if victim.saved_already() {
                    return 1;
                }
                let saved = hibernation::save(store.clone(), id.clone(), &victim.sandbox).await;
                if saved.is_ok() {
                    let (store, session) = (store, id.clone());
                    let _ = tokio::task::spawn_blocking(move || {
                        hibernation::clear_changed(store.as_ref(), &session)
                    })
                    .await;
                }
                match saved {
                    Ok(hibernation::Saved::Image(_)) => 1,
                    Ok(hibernation::Saved::Nothing) => 0,
                    Err(err) => {
                        tracing::warn!(session = %id, error = %err, "could not hibernate a sandbox at shutdown");
                        0
                    }
                }
            }
        });
        futures::future::join_all(saves).await.into_iter().sum()
    }

    /// Writes `victim`'s checkpoint in the background; the session's next
    /// start waits for it ([`Sandboxes::hibernated`]). Called with the live
    /// map locked, so no start can slip in between.
    fn hibernate(&self, state: &AppState, session_id: String, victim: Arc<LiveSandbox>) {
        if victim.saved_already() {
            tracing::debug!(session = %session_id, "evicted a sandbox unchanged since its checkpoint");
            return;
        }
        let lock = Arc::new(Mutex::new(()));
        let Ok(guard) = lock.clone().try_lock_owned() else {
            return;
        };
        self.hibernating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session_id.clone(), lock);
        let store = state.checkpoints.clone();
        tokio::spawn(async move {
            let saved = hibernation::save(store.clone(), session_id.clone(), &victim.sandbox).await;
            if saved.is_ok() {
                let session = session_id.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    hibernation::clear_changed(store.as_ref(), &session)
                })
                .await;
            }
            match saved {
                Ok(hibernation::Saved::Image(bytes)) => {
                    tracing::debug!(session = %session_id, bytes, "hibernated an evicted sandbox");
                }
                Ok(hibernation::Saved::Nothing) => {}
                Err(err) => {
                    tracing::warn!(session = %session_id, error = %err, "could not hibernate an evicted sandbox; its next cell starts fresh");
                }
            }
            // The interpreter goes only once its state is on disk.
            drop(victim);
            drop(guard);
        });
    }

    /// Waits until a hibernation of `session_id` in progress is written.
    async fn hibernated(&self, session_id: &str) {
        let pending = self
            .hibernating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(session_id)
            .cloned();
        if let Some(lock) = pending {
            let _done = lock.lock().await;
            let mut hibernating = self.hibernating.lock().unwrap_or_else(|p| p.into_inner());
            if hibernating
                .get(session_id)
                .is_some_and(|l| Arc::ptr_eq(l, &lock))
            {
                hibernating.remove(session_id);
            }
        }
    }

    /// How many sandboxes are live.
    pub async fn live_count(&self) -> usize {
        self.live.lock().await.len()
    }
}

/// A live sandbox marked busy while held: it is not evicted to make room
/// until this is dropped.
pub struct Busy {
    live: Arc<LiveSandbox>,
}

impl Busy {
    fn new(live: Arc<LiveSandbox>) -> Busy {
        live.busy.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Busy { live }
    }
}

impl std::ops::Deref for Busy {
    type Target = LiveSandbox;

    fn deref(&self) -> &LiveSandbox {
        &self.live
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.live
            .busy
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Everything a meta tool needs about its session.
#[derive(Clone)]
pub struct SessionContext {
    /// Shared server state.
    pub state: AppState,
    /// The stored session.
    pub record: SessionRecord,
    /// Its parsed config.
    pub config: SessionConfig,
    /// The approvals this request carries (see [`approval`]).
    pub approved: std::sync::Arc<approval::Approved>,
    /// The custom tools this request carries (see [`custom_tools`]).
    pub customs: std::sync::Arc<custom_tools::Customs>,
}

impl SessionContext {
    /// The same session, for a request carrying `approved`.
    pub fn with_approved(&self, approved: approval::Approved) -> SessionContext {
        SessionContext {
            approved: std::sync::Arc::new(approved),
            ..self.clone()
        }
    }

    /// The same session, for a request carrying `customs`.
    pub fn with_customs(&self, customs: custom_tools::Customs) -> SessionContext {
        SessionContext {
            customs: std::sync::Arc::new(customs),
            ..self.clone()
        }
    }

    /// Loads a session of the caller's project, or 404.
    pub async fn load(
        state: &AppState,
        project_id: &str,
        session_id: &str,
    ) -> Result<SessionContext, ApiError> {
        let record = read_session(state, project_id, session_id)
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "session {} not found",
                    crate::error::clip(session_id, 64)
                ))
            })?;
        SessionContext::from_record(state, record)
    }

    /// The context of a session already read from the store.
    pub fn from_record(
        state: &AppState,
        record: SessionRecord,
    ) -> Result<SessionContext, ApiError> {
        let config: SessionConfig =
            serde_json::from_value(record.config.clone()).map_err(ApiError::internal)?;
        Ok(SessionContext {
            state: state.clone(),
            record,
            config,
            approved: Default::default(),
            customs: Default::default(),
        })
    }

    /// Runs `work` on tokio's blocking pool: for CPU-bound work (search
    /// ranking, schema lookups) and the database reads it makes, so they
    /// never occupy an async worker.
    pub async fn blocking<T, F>(&self, work: F) -> Result<T, ToolError>
    where
        F: FnOnce(&SessionContext) -> Result<T, ToolError> + Send + 'static,
        T: Send + 'static,
    {
        let ctx = self.clone();
        tokio::task::spawn_blocking(move || work(&ctx))
            .await
            .map_err(ToolError::internal)?
    }

    /// Runs a Python cell in the session's sandbox.
    pub async fn run_cell(&self, code: &str) -> Result<CellOutcome, ApiError> {
        self.run(CellKind::Python, code).await
    }

    /// Runs a command line in the session's sandbox shell.
    pub async fn run_bash(&self, command: &str) -> Result<CellOutcome, ApiError> {
        self.run(CellKind::Bash, command).await
    }

    async fn run(&self, kind: CellKind, code: &str) -> Result<CellOutcome, ApiError> {
        let turn = self.state.sandboxes.turn(&self.record.id);
        let outcome = {
            let _turn = turn.lock().await;
            self.run_in_turn(kind, code).await
        };
        self.state.sandboxes.end_turn(&self.record.id, &turn);
        outcome
    }

    async fn run_in_turn(&self, kind: CellKind, code: &str) -> Result<CellOutcome, ApiError> {
        let _slot = self
            .state
            .sandboxes
            .cell_slot(
                &self.record.project_id,
                self.state.config.max_cells_per_project,
                self.state.config.cell_queue_wait,
            )
            .await?;
        let live = self
            .state
            .sandboxes
            .get_or_start(
                &self.state,
                &self.record.project_id,
                &self.record.id,
                &self.config,
                |config| {
                    Arc::new(bridge::SessionBridge {
                        tools: self.state.app_tools(),
                        project_id: self.record.project_id.clone(),
                        session_id: self.record.id.clone(),
                        user_id: self.record.user_id.clone(),
                        config,
                        helpers: self.state.config.helpers.clone(),
                        links: helpers::FileLinks {
                            tokens: self.state.tokens.clone(),
                            base: self.state.public_base(),
                            project_id: self.record.project_id.clone(),
                            session_id: self.record.id.clone(),
                            files: self.state.session_files(&self.record.id),
                        },
                    })
                },
            )
            .await?;
        if !live.changed() {
            // The first cell since the checkpoint on disk: if the server
            // dies before the next one, resuming must say what was lost.
            hibernation::mark_changed(&self.state.checkpoints, &self.record.id).await;
        }
        live.cells.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let outcome = match kind {
            CellKind::Python => live.sandbox.run_cell(code).await,
            CellKind::Bash => live.sandbox.run_bash(code).await,
        };
        if let Err(err) = &outcome {
            // The sandbox's worker is gone: forget it, so the session's next
            // cell starts a fresh interpreter (and says state_reset).
            tracing::error!(session = %self.record.id, error = %err, "the session's sandbox stopped; it will be replaced");
            self.state.sandboxes.stop(&self.record.id).await;
        }
        let outcome = outcome.map_err(ApiError::internal);
        *live.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        outcome
    }

    /// The `session` object meta tools echo: the workflow id the caller
    /// sent (or this session's) and instructions.
    pub fn workflow_session(&self, echoed: Option<&str>) -> WorkflowSession {
        WorkflowSession {
            generate_id: echoed.is_none(),
            id: echoed
                .map(|id| crate::error::clip(id, 128))
                .unwrap_or_else(|| workflow_id(&self.record.id)),
            instructions: "Pass this session id as session_id in later meta tool calls.",
        }
    }

    /// The last characters of the session id, as the sandbox's suffix.
    pub fn sandbox_suffix(&self) -> String {
        let id = &self.record.id;
        id[id.len().saturating_sub(6)..].to_owned()
    }
}

/// The `session` object of meta-tool results.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WorkflowSession {
    /// The workflow id to echo back.
    pub id: String,
    /// Whether the id was made here (the call passed none).
    pub generate_id: bool,
    /// What to do with it.
    pub instructions: &'static str,
}

/// A short, stable workflow id for a session (a word, as Composio's are).
pub fn workflow_id(session_id: &str) -> String {
    const WORDS: [&str; 16] = [
        "gate", "lead", "tide", "fern", "moss", "reef", "dune", "glen", "peak", "cove", "vale",
        "ridge", "brook", "cliff", "field", "grove",
    ];
    let hash = session_id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    WORDS[(hash % 16) as usize].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SessionRecord, now};

    /// A server state over `dir` with sessions `ids` in project `p`, at
    /// most `max_cells` cells running at once.
    async fn state_with(dir: &std::path::Path, ids: &[&str], max_cells: usize) -> AppState {
        let state = AppState::for_tests(dir, max_cells).await;
        state.store.create_project("p", "p").unwrap();
        let config = SessionConfig::from_request(&serde_json::json!({"user_id": "u"})).unwrap();
        for id in ids {
            state
                .store
                .create_session(&SessionRecord {
                    id: (*id).into(),
                    project_id: "p".into(),
                    user_id: "u".into(),
                    config: serde_json::to_value(&config).unwrap(),
                    config_version: 1,
                    created_at: now(),
                    mcp_token_generation: 0,
                })
                .unwrap();
        }
        state
    }

    /// Polls until `path` exists (a cell's signal that it got there).
    async fn wait_for(path: &std::path::Path) {
        for _ in 0..3000 {
            if path.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{} never appeared", path.display());
    }

    /// A session whose cell is queued (waiting for the project's only cell
    /// slot) when its idle sandbox is evicted: the cell runs once the slot
    /// frees, in the resumed interpreter.
    #[tokio::test]
    async fn a_sandbox_evicted_while_a_cell_waits_for_it_resumes_for_that_cell() {
        let dir = tempfile::tempdir().unwrap();
        let state = state_with(dir.path(), &["trs_slow", "trs_queued"], 1).await;
        let slow = SessionContext::load(&state, "p", "trs_slow").await.unwrap();
        let queued = SessionContext::load(&state, "p", "trs_queued")
            .await
            .unwrap();
        let kept = queued.run_cell("kept = [1, 2, 3]").await.unwrap();
        assert!(kept.is_ok());
        let files = state.session_files("trs_slow");
        let running = tokio::spawn({
            let slow = slow.clone();
            async move {
                slow.run_cell(
                    "import os, time\nopen('/mnt/files/started', 'w').write('1')\n\
                     while not os.path.exists('/mnt/files/go'):\n    time.sleep(0.01)\n'done'",
                )
                .await
            }
        });
        wait_for(&files.join("started")).await;
        let waiting = tokio::spawn({
            let queued = queued.clone();
            async move { queued.run_cell("sum(kept)").await }
        });
        // Its turn is taken: the cell is now waiting for the slot.
        for _ in 0..3000 {
            let turns = state
                .sandboxes
                .turns
                .lock()
                .unwrap()
                .contains_key("trs_queued");
            if turns {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            state.sandboxes.evict_idle(&state, Duration::ZERO).await,
            1,
            "the idle sandbox goes; the running one stays"
        );
        assert!(!waiting.is_finished());
        std::fs::write(files.join("go"), b"").unwrap();
        assert_eq!(
            running.await.unwrap().unwrap().result.as_deref(),
            Some("'done'")
        );
        let resumed = waiting.await.unwrap().unwrap();
        assert_eq!(resumed.result.as_deref(), Some("6"));
        assert!(!resumed.state_reset);
    }

    #[tokio::test]
    async fn idle_sandboxes_are_hibernated_and_resume_with_their_state() {
        let dir = tempfile::tempdir().unwrap();
        let state = state_with(dir.path(), &["trs_evict"], 32).await;
        let ctx = SessionContext::load(&state, "p", "trs_evict")
            .await
            .unwrap();
        let first = ctx
            .run_cell("x = 1\nopen('/mnt/files/f', 'w').write('kept')")
            .await
            .unwrap();
        assert!(first.is_ok() && !first.state_reset);
        assert_eq!(
            state
                .sandboxes
                .evict_idle(&state, Duration::from_secs(60))
                .await,
            0
        );
        assert_eq!(state.sandboxes.live_count().await, 1);
        assert_eq!(state.sandboxes.evict_idle(&state, Duration::ZERO).await, 1);
        assert_eq!(state.sandboxes.live_count().await, 0);
        let next = ctx
            .run_cell("(open('/mnt/files/f').read(), 'x' in globals())")
            .await
            .unwrap();
        assert_eq!(next.result.as_deref(), Some("('kept', True)"));
        assert!(
            !next.state_reset,
            "the cell after an eviction resumes the hibernated state"
        );
        // The checkpoint stays; the cell that ran since is marked, so a
        // crash now would resume it and say what was lost.
        let store = &state.checkpoints;
        assert!(store.get("trs_evict").unwrap().is_some());
        assert!(store.changed("trs_evict").unwrap());
        assert!(store.bytes("trs_evict").unwrap() > 0);
        let written = state
            .sandboxes
            .checkpoint_idle(&state, Duration::ZERO)
            .await;
        assert_eq!(written, 1);
        assert!(!store.changed("trs_evict").unwrap());
        let written = state
            .sandboxes
            .checkpoint_idle(&state, Duration::ZERO)
            .await;
        assert_eq!(written, 0, "nothing ran since");
        // Evicting it now writes nothing: the checkpoint on disk is its
        // state (a new one would differ, if only in its clock).
        let before = store.get("trs_evict").unwrap().unwrap().image;
        assert_eq!(state.sandboxes.evict_idle(&state, Duration::ZERO).await, 1);
        assert_eq!(state.sandboxes.live_count().await, 0);
        assert!(store.get("trs_evict").unwrap().unwrap().image == before);

        // A sandbox running a cell is never evicted, however idle the
        // timeout says it is.
        let running = tokio::spawn({
            let ctx = ctx.clone();
            async move {
                ctx.run_cell("y = 2\nopen('/mnt/files/started', 'w').write('1')\nimport time\ntime.sleep(2)\n'done'")
                    .await
            }
        });
        wait_for(&state.session_files("trs_evict").join("started")).await;
        assert_eq!(state.sandboxes.evict_idle(&state, Duration::ZERO).await, 0);
        let outcome = running.await.unwrap().unwrap();
        assert_eq!(outcome.result.as_deref(), Some("'done'"));
        let after = ctx.run_cell("y").await.unwrap();
        assert_eq!(after.result.as_deref(), Some("2"));
        assert!(!after.state_reset);
    }
}
