//! [`AppState`]: what every request handler shares.

use crate::catalog::Catalog;
use crate::catalog::http::Executor;
use crate::session::Sandboxes;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use toolshed_engine::Engine;

/// Server-wide settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where SQLite and the sessions' directories live.
    pub data_dir: PathBuf,
    /// The URL clients reach this server at (used for MCP and file URLs);
    /// `None` derives it from each request's `Host` header.
    pub public_url: Option<String>,
    /// Limits of every session sandbox.
    pub limits: toolshed_engine::Limits,
    /// Sandboxes idle this long are evicted (files are kept).
    pub idle_timeout: std::time::Duration,
    /// A live sandbox idle this long after a cell is checkpointed (zero:
    /// only when evicted).
    pub checkpoint_after: std::time::Duration,
    /// Live sandboxes one project may have.
    pub max_sandboxes_per_project: usize,
    /// Memory all live sandboxes may reserve together (each counts its full
    /// limit): past it, idle sandboxes are evicted, least recently used
    /// first, and only then are new ones refused.
    pub sandbox_memory_budget_bytes: u64,
    /// Cells (Python or shell) one project may run at once; more wait
    /// their turn in arrival order for up to `cell_queue_wait`, then get 429.
    pub max_cells_per_project: usize,
    /// How long a cell waits for one of its project's cell slots.
    pub cell_queue_wait: std::time::Duration,
    /// `Host` values the MCP endpoint accepts (a name without a port
    /// matches any port): loopback names, the `--public-url` host and
    /// `--mcp-allowed-host`s.
    pub mcp_allowed_hosts: Vec<String>,
    /// How long a connect link stays usable; then its account turns EXPIRED.
    pub link_ttl: std::time::Duration,
    /// Requests per second one project may make (bursts of twice that);
    /// past it, 429.
    pub requests_per_second_per_project: u32,
    /// The workbench helpers that run here (`[llm]`, `[workbench]` of
    /// `--config`).
    pub helpers: Arc<crate::session::helpers::Helpers>,
    /// The operator's OAuth apps, by toolkit (`[oauth_apps]` of `--config`).
    pub oauth_apps: std::collections::BTreeMap<String, crate::oauth::apps::OperatorApp>,
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The data layer.
    pub store: Store,
    /// The sandbox engine.
    pub engine: Engine,
    /// Live sandboxes, one per session in use.
    pub sandboxes: Arc<Sandboxes>,
    /// The app tools (reloadable: take `catalog()` per request).
    pub live_catalog: Arc<crate::catalog::live::LiveCatalog>,
    /// Runs app tools over HTTP.
    pub executor: Executor,
    /// OAuth2 flows and token refreshes.
    pub oauth: crate::oauth::OAuth,
    /// Where hibernated interpreters are kept.
    pub checkpoints: Arc<dyn crate::session::hibernation::CheckpointStore>,
    /// Outstanding file upload/download URLs.
    pub tokens: Arc<crate::file_urls::Tokens>,
    /// Files staged for tool arguments.
    pub staged: crate::staged::Staged,
    /// Executes in flight, joined by identical retries.
    pub replays: Arc<crate::replay::Replays>,
    /// When this state was made (Unix seconds): when the catalog loaded.
    pub started_at: u64,
    /// Requests per second, per project.
    pub rate: Arc<governor::DefaultKeyedRateLimiter<String>>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// `http://<address>` once `serve` listens (the base of links when there
    /// is no `--public-url` and no request to take a host from).
    pub listen_url: Arc<std::sync::OnceLock<String>>,
}

#[cfg(test)]
impl AppState {
    /// A state over `data_dir` with an in-memory database, the default
    /// engine and limits, no toolkits, and at most `max_cells` cells running
    /// per project (for unit tests).
    pub(crate) async fn for_tests(data_dir: &std::path::Path, max_cells: usize) -> AppState {
        let engine = tokio::task::spawn_blocking(|| Engine::new(Default::default()))
            .await
            .expect("the engine starts")
            .expect("the engine starts");
        AppState::new(
            Store::open_in_memory().expect("an in-memory database"),
            engine,
            Catalog::default(),
            ServerConfig {
                data_dir: data_dir.to_owned(),
                public_url: None,
                limits: Default::default(),
                idle_timeout: std::time::Duration::from_secs(60),
                checkpoint_after: std::time::Duration::ZERO,
                max_sandboxes_per_project: 10,
                max_cells_per_project: max_cells,
                cell_queue_wait: std::time::Duration::from_secs(60),
                mcp_allowed_hosts: Vec::new(),
                sandbox_memory_budget_bytes: 16 << 30,
                requests_per_second_per_project: 1000,
                link_ttl: std::time::Duration::from_secs(600),
                oauth_apps: Default::default(),
                helpers: Default::default(),
            },
        )
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A limiter of `per_second` requests per project, bursts of twice that.
fn rate_limiter(per_second: u32) -> governor::DefaultKeyedRateLimiter<String> {
    let rate = std::num::NonZeroU32::new(per_second.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    let burst =
        rate.saturating_mul(std::num::NonZeroU32::new(2).unwrap_or(std::num::NonZeroU32::MIN));
    governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst))
}

impl AppState {
    /// Builds the state.
    pub fn new(store: Store, engine: Engine, catalog: Catalog, config: ServerConfig) -> AppState {
        AppState {
            store,
            engine,
            sandboxes: Arc::new(Sandboxes::default()),
            live_catalog: Arc::new(crate::catalog::live::LiveCatalog::new(catalog)),
            executor: Executor::default(),
            oauth: crate::oauth::OAuth::new(config.oauth_apps.clone()),
            checkpoints: Arc::new(crate::session::hibernation::LocalDir::new(
                config.data_dir.join("sessions"),
            )),
            tokens: Arc::default(),
            staged: crate::staged::Staged::new(config.data_dir.join("uploads")),
            rate: Arc::new(rate_limiter(config.requests_per_second_per_project)),
            replays: Arc::new(crate::replay::Replays::default()),
            started_at: u64::try_from(crate::store::now()).unwrap_or(0),
            config: Arc::new(config),
            listen_url: Arc::default(),
        }
    }

    /// The catalog being served now; a request keeps the one it took for
    /// its whole run, whatever a reload does meanwhile.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.live_catalog.current()
    }

    /// Where clients reach this server, outside a request: `--public-url`,
    /// else the address `serve` listens on; `None` when nothing serves
    /// HTTP (the stdio MCP mode without `--public-url`).
    pub fn public_base(&self) -> Option<String> {
        self.config
            .public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned())
            .or_else(|| self.listen_url.get().cloned())
    }

    /// Host directory of a session's workbench (`/home/user`).
    pub fn session_home(&self, session_id: &str) -> PathBuf {
        self.config
            .data_dir
            .join("sessions")
            .join(session_id)
            .join("home")
    }

    /// Host directory of a session's files mount (`/mnt/files`).
    pub fn session_files(&self, session_id: &str) -> PathBuf {
        self.config
            .data_dir
            .join("sessions")
            .join(session_id)
            .join("files")
    }

    /// What running app tools needs (a sandbox's bridge holds this, not
    /// the whole state).
    pub fn app_tools(&self) -> crate::session::app_tools::AppTools {
        crate::session::app_tools::AppTools {
            catalog: self.live_catalog.clone(),
            executor: self.executor.clone(),
            oauth: self.oauth.clone(),
            store: self.store.clone(),
            staged: self.staged.clone(),
        }
    }

    /// A session's files mount as a capability (created if missing): every
    /// open, create, rename and delete through it resolves inside the
    /// mount, and symlinks the sandbox plants can never lead outside.
    pub fn session_files_dir(&self, session_id: &str) -> std::io::Result<cap_std::fs::Dir> {
        let root = self.session_files(session_id);
        std::fs::create_dir_all(&root)?;
        cap_std::fs::Dir::open_ambient_dir(&root, cap_std::ambient_authority())
    }

    /// Bytes a session may still store under its disk quota (workbench and
    /// files mount together, measured as the sandbox's quota measures them).
    /// What the server writes on a session's behalf (uploads, saved tool
    /// output) is charged to the same quota.
    pub async fn session_disk_free(&self, session_id: &str) -> u64 {
        let home = self.session_home(session_id);
        let files = self.session_files(session_id);
        let limits = self.config.limits.clone();
        tokio::task::spawn_blocking(move || {
            toolshed_engine::DiskUsage::of_sandbox(&home, &files, limits.max_disk_inodes)
                .bytes_free(&limits)
        })
        .await
        .unwrap_or(0)
    }
}
