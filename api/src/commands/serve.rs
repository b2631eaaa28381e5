//! `toolshed serve`: the HTTP server.

use super::config_file::ConfigFile;
use super::data_dir_lock::DataDirLock;
use super::{default_data_dir, error_chain, keys::ensure_project};
use crate::state::{AppState, ServerConfig};
use crate::store::Store;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use toolshed_engine::{Engine, EngineConfig, Limits};

/// How long a shutdown waits for requests (cells) in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Arguments of `toolshed serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is
    /// printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Where the database and the sessions' files live.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The URL clients use to reach this server (for MCP and file URLs).
    /// Required when `--addr` is not a loopback address; on loopback the
    /// default is taken from each request's Host header.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Evict a session's interpreter after this many idle seconds (its
    /// files are kept).
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub idle_timeout_secs: u64,
    /// Checkpoint a session's interpreter once it has been idle this many
    /// seconds after a cell, so a crash or `kill -9` loses at most the
    /// cells since (0: only when it is evicted or the server stops).
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub checkpoint_after_secs: u64,
    /// Folder of toolkit definitions (`*/toolkit.toml`; see docs/TOOLKITS.md).
    #[arg(long, value_name = "DIR", default_value_os_t = default_toolkits_dir())]
    pub toolkits: PathBuf,
    /// Config file (TOML): `[base_urls]` overrides per toolkit and the
    /// operator's OAuth apps (`[oauth_apps.<toolkit>]`); see the README.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Wall-clock deadline per workbench cell, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 180_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub cell_timeout_ms: u64,
    /// Memory limit of each session's sandbox, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(64..=4096))]
    pub sandbox_memory_mb: u64,
    /// Disk quota of each session (workbench and files mount together,
    /// including uploads and saved tool output), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub disk_quota_mb: u64,
    /// Live sandboxes one project may have (idle ones are evicted to make
    /// room; past it, 429).
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_sandboxes_per_project: u64,
    /// Cells one project may run at once; more wait their turn (first come,
    /// first served) for up to --cell-queue-wait-secs, then get 429 with
    /// Retry-After.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_cells_per_project: u64,
    /// How long a cell waits for one of its project's cell slots.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub cell_queue_wait_secs: u64,
    /// Memory all live sandboxes may reserve together, in MiB (each counts
    /// its full limit; idle ones are evicted to make room; past it, 503).
    /// Default: three quarters of the machine's memory.
    #[arg(long, value_name = "MIB")]
    pub max_sandbox_memory_mb: Option<u64>,
    /// Requests per second one project may make (bursts of twice that);
    /// past it, 429 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub requests_per_second_per_project: u32,
    /// A `Host` the MCP endpoint accepts besides localhost, 127.0.0.1, ::1
    /// and the --public-url host (repeatable; `host` or `host:port`).
    /// Others get 403, the DNS-rebinding guard the MCP spec asks for.
    #[arg(long = "mcp-allowed-host", value_name = "HOST")]
    pub mcp_allowed_hosts: Vec<String>,
    /// How long a connect link (the hosted page where a user completes a
    /// connected account) stays usable, in seconds; then the account turns
    /// EXPIRED (0 makes links expire at once, for testing).
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(0..=604_800))]
    pub link_ttl_secs: u64,
    /// Tool-execution logs older than this many days are deleted.
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=36_500))]
    pub log_retention_days: u64,
    /// At most this many tool-execution logs are kept (the newest).
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub log_retention_rows: u64,
}

/// What `serve` and `mcp` share: the locked data directory, the store
/// (migrated), the catalog and the engine, as the server's state.
pub struct Prepared {
    /// The shared state.
    pub state: AppState,
    /// Held while the process runs.
    pub lock: DataDirLock,
    /// Where the catalog came from, to reload it.
    pub catalog_source: CatalogSource,
}

/// The toolkits directory and base-URL overrides a catalog is loaded from.
#[derive(Clone, Debug)]
pub struct CatalogSource {
    dir: PathBuf,
    base_urls: std::collections::BTreeMap<String, String>,
}

impl CatalogSource {
    fn load(&self) -> Result<crate::catalog::Catalog, String> {
        crate::catalog::Catalog::load(&self.dir, &self.base_urls)
            .map_err(|err| format!("cannot load toolkits: {err}"))
    }
}

/// Opens everything `args` names. Errors are one line for the user.
pub async fn prepare(args: &ServeArgs) -> Result<Prepared, String> {
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let lock = DataDirLock::acquire(&data_dir)?;
    let store = Store::open(&data_dir)
        .map_err(|err| format!("{}: {}", data_dir.display(), error_chain(&err)))?;
    let file = match args.config.as_deref() {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let catalog_source = CatalogSource {
        dir: args.toolkits.clone(),
        base_urls: file.base_urls.clone(),
    };
    // Listing MCP servers' tools blocks: off the runtime's workers.
    let load = catalog_source.clone();
    let catalog = tokio::task::spawn_blocking(move || load.load())
        .await
        .map_err(|err| format!("loading toolkits failed: {err}"))??;
    crate::oauth::apps::check(&file.oauth_apps, &catalog).map_err(|err| match &args.config {
        Some(path) => format!("{}: {err}", path.display()),
        None => err,
    })?;
    let helpers = crate::session::helpers::Helpers::new(file.llm, file.workbench, &catalog)
        .map_err(|err| match &args.config {
            Some(path) => format!("{}: {err}", path.display()),
            None => err,
        })?;
    let engine = match tokio::task::spawn_blocking(|| Engine::new(EngineConfig::default())).await {
        Ok(Ok(engine)) => engine,
        Ok(Err(err)) => return Err(error_chain(&err)),
        Err(err) => return Err(format!("engine start-up failed: {err}")),
    };
    let mcp_allowed_hosts = mcp_allowed_hosts(args.public_url.as_deref(), &args.mcp_allowed_hosts);
    let config = ServerConfig {
        data_dir,
        public_url: args.public_url.clone(),
        limits: Limits {
            timeout: Duration::from_millis(args.cell_timeout_ms),
            max_memory_bytes: args.sandbox_memory_mb << 20,
            max_disk_bytes: args.disk_quota_mb << 20,
            ..Limits::default()
        },
        idle_timeout: Duration::from_secs(args.idle_timeout_secs.max(1)),
        checkpoint_after: Duration::from_secs(args.checkpoint_after_secs),
        max_sandboxes_per_project: usize::try_from(args.max_sandboxes_per_project)
            .unwrap_or(usize::MAX),
        max_cells_per_project: usize::try_from(args.max_cells_per_project).unwrap_or(usize::MAX),
        cell_queue_wait: Duration::from_secs(args.cell_queue_wait_secs),
        sandbox_memory_budget_bytes: args
            .max_sandbox_memory_mb
            .map(|mb| mb << 20)
            .unwrap_or_else(default_memory_budget),
        requests_per_second_per_project: args.requests_per_second_per_project,
        mcp_allowed_hosts,
        link_ttl: Duration::from_secs(args.link_ttl_secs),
        oauth_apps: file.oauth_apps,
        helpers: std::sync::Arc::new(helpers),
    };
    Ok(Prepared {
        state: AppState::new(store, engine, catalog, config),
        lock,
        catalog_source,
    })
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> ExitCode {
    if !args.addr.ip().is_loopback() && args.public_url.is_none() {
        eprintln!(
            "toolshed serve: --public-url is required when listening on {} (a non-loopback address): \
             file URLs must not be built from the Host header clients send",
            args.addr
        );
        return ExitCode::from(2);
    }
    let Prepared {
        state,
        lock: _lock,
        catalog_source,
    } = match prepare(&args).await {
        Ok(prepared) => prepared,
        Err(message) => {
            eprintln!("toolshed serve: {message}");
            return ExitCode::from(2);
        }
    };
    if let Err(message) = bootstrap_keys(&state.store) {
        eprintln!("toolshed serve: {message}");
        return ExitCode::from(2);
    }
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("toolshed serve: cannot listen on {}: {err}", args.addr);
            return ExitCode::from(2);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("toolshed listening on http://{addr}");
    let _ = state.listen_url.set(format!("http://{addr}"));

    let reloader = tokio::spawn(reload_on_hangup(state.clone(), catalog_source));
    let evictor = tokio::spawn(evict_idle(state.clone()));
    let checkpointer = tokio::spawn(checkpoint_idle(state.clone()));
    let pruner = tokio::spawn(prune_logs(
        state.clone(),
        Duration::from_secs(args.log_retention_days.saturating_mul(86_400)),
        args.log_retention_rows,
    ));
    let app = crate::app(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // Small JSON replies should not wait on Nagle's algorithm.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        let _ = stop_tx.send(());
    });
    let served = tokio::spawn(async move { server.await });
    // Wait for the server to stop by itself, or bound the drain after a signal.
    let result = tokio::select! {
        result = served => result,
        () = async {
            let _ = stop_rx.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("requests still running after the grace period; exiting");
            Ok(Ok(()))
        }
    };
    reloader.abort();
    evictor.abort();
    checkpointer.abort();
    pruner.abort();
    // Every interpreter's state is kept for after the restart.
    let kept = state.sandboxes.hibernate_all(&state).await;
    if kept > 0 {
        tracing::info!(kept, "hibernated the live interpreters");
    }
    // MCP servers toolshed started stop with it.
    state.executor.mcp_pool().clear();
    // Tool-execution logs still queued are written before exiting.
    let store = state.store.clone();
    let _ = tokio::task::spawn_blocking(move || store.flush_logs()).await;
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            eprintln!("toolshed serve: {err}");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("toolshed serve: {err}");
            ExitCode::from(1)
        }
    }
}

/// First start: make the default project and its key. `TOOLSHED_API_KEY`
/// sets the key (for scripted deployments); otherwise a new key is printed
/// once. Only a peppered hash is stored.
fn bootstrap_keys(store: &Store) -> Result<(), String> {
    let project = ensure_project(store).map_err(|e| error_chain(&e))?;
    if let Some(key) = std::env::var("TOOLSHED_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
    {
        let key = key.trim();
        if !store.has_api_key(key).map_err(|e| error_chain(&e))? {
            store
                .add_api_key(
                    &crate::keys::new_id("key_"),
                    &project,
                    key,
                    &crate::keys::display_prefix(key),
                )
                .map_err(|e| error_chain(&e))?;
        }
        return Ok(());
    }
    if store.api_keys().map_err(|e| error_chain(&e))?.is_empty() {
        let key = crate::keys::generate();
        store
            .add_api_key(
                &crate::keys::new_id("key_"),
                &project,
                &key,
                &crate::keys::display_prefix(&key),
            )
            .map_err(|e| error_chain(&e))?;
        println!("created API key (shown once; store it now): {key}");
    }
    Ok(())
}

async fn evict_idle(state: AppState) {
    let idle = state.config.idle_timeout;
    let mut tick =
        tokio::time::interval((idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)));
    loop {
        tick.tick().await;
        let evicted = state.sandboxes.evict_idle(&state, idle).await;
        if evicted > 0 {
            tracing::info!(evicted, "evicted idle sandboxes (files kept)");
        }
    }
}

/// Checkpoints sandboxes idle for `--checkpoint-after-secs` after a cell.
async fn checkpoint_idle(state: AppState) {
    let after = state.config.checkpoint_after;
    if after.is_zero() {
        return;
    }
    let mut tick = tokio::time::interval(
        (after / 2).clamp(Duration::from_millis(250), Duration::from_secs(30)),
    );
    loop {
        tick.tick().await;
        let written = state.sandboxes.checkpoint_idle(&state, after).await;
        if written > 0 {
            tracing::debug!(written, "checkpointed idle interpreters");
        }
    }
}

/// The `Host` values the MCP endpoint accepts: loopback names, the public
/// URL's host and the operator's additions.
fn mcp_allowed_hosts(public_url: Option<&str>, extra: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let Some(host) = public_url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
    {
        hosts.push(host);
    }
    hosts.extend(extra.iter().cloned());
    hosts
}

/// Three quarters of the machine's memory (`MemTotal` in /proc/meminfo),
/// or 16 GiB when it cannot be read.
fn default_memory_budget() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib.saturating_mul(1024) / 4 * 3)
        })
        .unwrap_or(16 << 30)
}

/// How often old tool-execution logs are deleted.
const LOG_PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// Keeps the tool-execution logs within their retention (age and count), so
/// the database does not grow without bound. Runs at start, then every
/// [`LOG_PRUNE_INTERVAL`], on a blocking thread.
async fn prune_logs(state: AppState, max_age: Duration, max_rows: u64) {
    let mut tick = tokio::time::interval(LOG_PRUNE_INTERVAL);
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let max_age_secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        match tokio::task::spawn_blocking(move || store.prune_logs(max_age_secs, max_rows)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(deleted)) => tracing::info!(deleted, "pruned old tool-execution logs"),
            Ok(Err(err)) => tracing::warn!(error = %err, "could not prune tool-execution logs"),
            Err(err) => tracing::warn!(error = %err, "log pruning failed"),
        }
    }
}

/// Reloads the toolkits directory on each SIGHUP. A catalog that does not
/// load, or that an operator's OAuth app no longer fits, is refused and
/// the one being served stays; requests already running keep the catalog
/// they started with.
async fn reload_on_hangup(state: AppState, source: CatalogSource) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hangups.recv().await.is_some() {
            let load = source.clone();
            let loaded = match tokio::task::spawn_blocking(move || load.load()).await {
                Ok(loaded) => loaded,
                Err(err) => Err(format!("the reload stopped: {err}")),
            };
            let checked = loaded.and_then(|catalog| {
                crate::oauth::apps::check(&state.config.oauth_apps, &catalog)?;
                Ok(catalog)
            });
            match checked {
                Ok(catalog) => {
                    let (toolkits, tools) = (catalog.toolkits().count(), catalog.tools().count());
                    // Connections to MCP servers a toolkit no longer names close.
                    state.executor.mcp_pool().retain(|slug, server| {
                        catalog
                            .toolkit(slug)
                            .is_some_and(|t| t.mcp.as_ref() == Some(server))
                    });
                    state.live_catalog.replace(catalog);
                    tracing::info!(toolkits, tools, "reloaded the toolkits");
                }
                Err(err) => {
                    tracing::error!(error = %err, "toolkits not reloaded; still serving the previous ones");
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (state, source);
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The toolkits shipped in the source tree (`fixtures/toolkits`), found
/// from the current directory or next to the binary's workspace.
fn default_toolkits_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLSHED_TOOLKITS_DIR") {
        return PathBuf::from(dir);
    }
    let candidates = [
        PathBuf::from("fixtures/toolkits"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/toolkits"),
    ];
    candidates
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| candidates[0].clone())
}
