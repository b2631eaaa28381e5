//! The SQLite backend of [`Store`]: one file, `toolshed.db`, in the data
//! directory, in WAL mode so a kill -9 loses no committed write.

use super::migrations::MIGRATIONS;
use super::{ApiKeyRecord, ConfigVersion, LogRecord, Project, SessionRecord, StoreError, now};
use crate::secrets::{Key, Pepper, Sealer};
use rusqlite::{Connection, OptionalExtension, params};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// The store. Cheap to clone; queries are short and run under one lock.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    pub(super) secrets: Arc<Secrets>,
    logs: Arc<LogWriter>,
    keys: Arc<KeyCache>,
    pub(super) account_changes: Arc<super::accounts::AccountChanges>,
}

/// Recent API-key lookups (by peppered hash), so a request does not take
/// the database lock to authenticate. Entries live [`KEY_CACHE_TTL`]: a key
/// revoked by another process (`toolshed keys revoke`) stops working within
/// that; one revoked by this process at once.
#[derive(Default)]
struct KeyCache {
    entries: Mutex<std::collections::HashMap<String, (Option<String>, std::time::Instant)>>,
}

/// How long an API-key lookup is reused.
const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);
/// Most cached lookups (unknown keys are cached too, so a flood of bad keys
/// does not reach the database; the cache is cleared when full).
const KEY_CACHE_ENTRIES: usize = 10_000;

impl KeyCache {
    fn get(&self, hash: &str) -> Option<Option<String>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (project, at) = entries.get(hash)?;
        (at.elapsed() < KEY_CACHE_TTL).then(|| project.clone())
    }

    fn put(&self, hash: String, project: Option<String>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= KEY_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (project, std::time::Instant::now()));
    }

    fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// Tool-execution logs are written by a thread of their own, in batches
/// (one transaction for whatever arrived while the previous one committed),
/// so a bulk job's thousands of calls do not each wait on the database lock
/// on an async worker. Reading a log flushes first.
struct LogWriter {
    tx: Mutex<std::sync::mpsc::Sender<LogMessage>>,
}

enum LogMessage {
    Write(LogRecord),
    /// Answered once every log queued before it is committed.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Most logs written in one transaction.
const MAX_LOG_BATCH: usize = 1000;

impl LogWriter {
    fn start(conn: Arc<Mutex<Connection>>) -> LogWriter {
        let (tx, rx) = std::sync::mpsc::channel::<LogMessage>();
        let spawned = std::thread::Builder::new()
            .name("toolshed-log-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_LOG_BATCH {
                        match rx.try_recv() {
                            Ok(message) => batch.push(message),
                            Err(_) => break,
                        }
                    }
                    let logs: Vec<&LogRecord> = batch
                        .iter()
                        .filter_map(|m| match m {
                            LogMessage::Write(log) => Some(log),
                            LogMessage::Flush(_) => None,
                        })
                        .collect();
                    if !logs.is_empty() {
                        let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                        if let Err(err) = insert_logs(&mut conn, &logs) {
                            tracing::error!(error = %err, count = logs.len(), "could not write tool-execution logs");
                        }
                    }
                    for message in batch {
                        if let LogMessage::Flush(done) = message {
                            let _ = done.send(());
                        }
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "could not start the log writer");
        }
        LogWriter { tx: Mutex::new(tx) }
    }

    fn send(&self, message: LogMessage) -> bool {
        self.tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(message)
            .is_ok()
    }
}

fn insert_logs(conn: &mut Connection, logs: &[&LogRecord]) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO tool_logs (id, project_id, session_id, tool_slug, successful, error, duration_ms, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for log in logs {
            stmt.execute(params![
                log.id,
                log.project_id,
                log.session_id,
                log.tool_slug,
                log.successful,
                log.error,
                log.duration_ms,
                log.created_at
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// What seals credentials and keys API-key hashes (see [`crate::secrets`]).
pub(super) struct Secrets {
    pub(super) sealer: Sealer,
    pub(super) pepper: Pepper,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

type Result<T> = std::result::Result<T, StoreError>;

impl Store {
    /// Opens (creating if needed) `toolshed.db` in `data_dir` and migrates it.
    /// The data directory is made private (0700) and the database files
    /// 0600; credentials are sealed under the master key
    /// ([`Sealer::load`]), and rows stored in plaintext by older versions are
    /// sealed now.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir)?;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
        let db = data_dir.join("toolshed.db");
        let conn = Connection::open(&db)?;
        let secrets = Secrets {
            sealer: Sealer::load(data_dir)?,
            pepper: Pepper::load(data_dir)?,
        };
        let store = Self::init(conn, secrets)?;
        for name in ["toolshed.db", "toolshed.db-wal", "toolshed.db-shm"] {
            let path = data_dir.join(name);
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(store)
    }

    /// An in-memory store with fresh random secrets, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let secrets = Secrets {
            sealer: Sealer::new(Key::generate()?),
            pepper: Pepper::new(Key::generate()?),
        };
        Self::init(Connection::open_in_memory()?, secrets)
    }

    fn init(mut conn: Connection, secrets: Secrets) -> Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let applied: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        let conn = Arc::new(Mutex::new(conn));
        let store = Store {
            logs: Arc::new(LogWriter::start(conn.clone())),
            conn,
            secrets: Arc::new(secrets),
            keys: Arc::default(),
            account_changes: Arc::default(),
        };
        store.seal_plaintext_credentials()?;
        Ok(store)
    }

    /// Seals credentials that an older version stored in plaintext, in one
    /// transaction.
    fn seal_plaintext_credentials(&self) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let plain: Vec<(String, String)> = {
            let mut stmt = tx.prepare(
                "SELECT id, credentials FROM connected_accounts WHERE credentials NOT LIKE 'v1:%'",
            )?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<std::result::Result<_, _>>()?
        };
        for (id, credentials) in &plain {
            let sealed = self.secrets.sealer.seal(credentials.as_bytes(), id)?;
            tx.execute(
                "UPDATE connected_accounts SET credentials = ?1 WHERE id = ?2",
                params![sealed, id],
            )?;
        }
        tx.commit()?;
        if !plain.is_empty() {
            tracing::info!(
                count = plain.len(),
                "sealed plaintext credentials under the master key"
            );
        }
        Ok(plain.len())
    }

    /// Re-seals every stored credential under `new` (one transaction);
    /// returns how many. The caller makes `new` the master key afterwards.
    pub fn reseal_credentials(&self, new: &Sealer) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let rows: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT id, credentials FROM connected_accounts")?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<std::result::Result<_, _>>()?
        };
        for (id, stored) in &rows {
            let plain = self.secrets.sealer.open(stored, id)?;
            tx.execute(
                "UPDATE connected_accounts SET credentials = ?1 WHERE id = ?2",
                params![new.seal(&plain, id)?, id],
            )?;
        }
        // Auth configs' secrets too (an empty string stores none).
        let configs: Vec<(String, String)> = {
            let mut stmt =
                tx.prepare("SELECT id, credentials FROM auth_configs WHERE credentials != ''")?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<std::result::Result<_, _>>()?
        };
        for (id, stored) in &configs {
            let plain = self.secrets.sealer.open(stored, id)?;
            tx.execute(
                "UPDATE auth_configs SET credentials = ?1 WHERE id = ?2",
                params![new.seal(&plain, id)?, id],
            )?;
        }
        tx.commit()?;
        Ok(rows.len() + configs.len())
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (every write is one statement or one transaction).
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // --- projects and keys ------------------------------------------------

    /// Every project, oldest first.
    pub fn projects(&self) -> Result<Vec<Project>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, name FROM projects ORDER BY created_at, id")?;
        let rows = stmt.query_map([], |row| {
            Ok(Project {
                id: row.get(0)?,
                name: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Creates a project.
    pub fn create_project(&self, id: &str, name: &str) -> Result<Project> {
        self.conn().execute(
            "INSERT INTO projects (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, name, now()],
        )?;
        Ok(Project {
            id: id.to_owned(),
            name: name.to_owned(),
        })
    }

    /// Stores a key (its peppered hash only).
    pub fn add_api_key(
        &self,
        id: &str,
        project_id: &str,
        key: &str,
        prefix: &str,
    ) -> Result<ApiKeyRecord> {
        let key_hash = self.secrets.pepper.hash(key);
        self.keys.clear();
        let created_at = now();
        self.conn().execute(
            "INSERT INTO api_keys (id, project_id, key_hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, project_id, key_hash, prefix, created_at],
        )?;
        Ok(ApiKeyRecord {
            id: id.to_owned(),
            project_id: project_id.to_owned(),
            prefix: prefix.to_owned(),
            created_at,
            revoked_at: None,
        })
    }

    /// Whether this key exists (revoked or not).
    pub fn has_api_key(&self, key: &str) -> Result<bool> {
        self.upgrade_legacy_hash(key)?;
        let found: Option<i64> = self
            .conn()
            .query_row(
                "SELECT 1 FROM api_keys WHERE key_hash = ?1",
                [self.secrets.pepper.hash(key)],
                |row| row.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// The project of a key if a recent lookup is cached (see
    /// `KeyCache`): no database access, so async code may call it.
    pub fn cached_project_for_api_key(&self, key: &str) -> Option<Option<String>> {
        self.keys.get(&self.secrets.pepper.hash(key))
    }

    /// The project of a live key (cached for a moment, see `KeyCache`).
    pub fn project_for_api_key(&self, key: &str) -> Result<Option<String>> {
        let hash = self.secrets.pepper.hash(key);
        if let Some(project) = self.keys.get(&hash) {
            return Ok(project);
        }
        let project = self.lookup_api_key(key)?;
        self.keys.put(hash, project.clone());
        Ok(project)
    }

    fn lookup_api_key(&self, key: &str) -> Result<Option<String>> {
        let lookup = |hash: &str| -> Result<Option<String>> {
            Ok(self
                .conn()
                .query_row(
                    "SELECT project_id FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
                    [hash],
                    |row| row.get(0),
                )
                .optional()?)
        };
        if let Some(project) = lookup(&self.secrets.pepper.hash(key))? {
            return Ok(Some(project));
        }
        if self.upgrade_legacy_hash(key)? {
            return lookup(&self.secrets.pepper.hash(key));
        }
        Ok(None)
    }

    /// Older versions stored plain SHA-256 hashes: when such a key is
    /// presented, its row gets the peppered hash. Returns whether one did.
    fn upgrade_legacy_hash(&self, key: &str) -> Result<bool> {
        let updated = self.conn().execute(
            "UPDATE api_keys SET key_hash = ?1 WHERE key_hash = ?2",
            params![self.secrets.pepper.hash(key), crate::keys::hash(key)],
        )?;
        Ok(updated > 0)
    }

    /// Every key, oldest first.
    pub fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, project_id, prefix, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(ApiKeyRecord {
                id: row.get(0)?,
                project_id: row.get(1)?,
                prefix: row.get(2)?,
                created_at: row.get(3)?,
                revoked_at: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Revokes a key by id; false if there is no such live key.
    ///
    /// The MCP tokens of the project's sessions are rotated with it: whoever
    /// held the key could have read them from `mcp.headers`.
    pub fn revoke_api_key(&self, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now()],
        )?;
        if changed == 1 {
            tx.execute(
                "UPDATE sessions SET mcp_token_generation = mcp_token_generation + 1
                 WHERE project_id = (SELECT project_id FROM api_keys WHERE id = ?1)",
                params![id],
            )?;
        }
        tx.commit()?;
        self.keys.clear();
        Ok(changed == 1)
    }

    // --- sessions -----------------------------------------------------------

    /// Stores a new session (version 1) and its first history entry.
    pub fn create_session(&self, record: &SessionRecord) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let config = serde_json::to_string(&record.config)?;
        tx.execute(
            "INSERT INTO sessions (id, project_id, user_id, config, config_version, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![record.id, record.project_id, record.user_id, config, record.config_version, record.created_at],
        )?;
        tx.execute(
            "INSERT INTO session_config_history (session_id, version, config, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![record.id, record.config_version, config, record.created_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A live session of a project.
    pub fn session(&self, project_id: &str, id: &str) -> Result<Option<SessionRecord>> {
        session_in(&self.conn(), project_id, id)
    }

    /// [`Store::session`] if the database is free this instant; `None` if
    /// another thread holds it (the caller then waits on the blocking pool,
    /// [`Store::run`]). Every session request reads its session: read in
    /// place, it skips two thread hand-offs when nothing else is writing.
    pub fn try_session(&self, project_id: &str, id: &str) -> Option<Result<Option<SessionRecord>>> {
        let conn = match self.conn.try_lock() {
            Ok(conn) => conn,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(session_in(&conn, project_id, id))
    }

    /// A live session of any project (for its MCP token, which names no
    /// project).
    pub fn session_by_id(&self, id: &str) -> Result<Option<SessionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, project_id, user_id, config, config_version, created_at, mcp_token_generation FROM sessions
             WHERE id = ?1 AND deleted_at IS NULL",
        )?;
        let mut rows = stmt.query_map(params![id], session_row)?;
        rows.next().transpose()?.map(finish_session).transpose()
    }

    /// The session's MCP token: `tsm_` and 40 hex digits of an HMAC (under
    /// the API-key pepper) of the session id and its token generation.
    /// Nothing secret is stored: a copy of the database does not yield
    /// tokens, and rotating one ([`Store::rotate_mcp_token`]) makes the old
    /// one stop matching.
    pub fn mcp_token(&self, session: &SessionRecord) -> String {
        let mac = self.secrets.pepper.hash(&format!(
            "mcp-session-token\0{}\0{}",
            session.id, session.mcp_token_generation
        ));
        format!("tsm_{}", &mac[..40])
    }

    /// Whether `token` is the session's current MCP token (compared in
    /// constant time).
    pub fn is_mcp_token(&self, session: &SessionRecord, token: &str) -> bool {
        let expected = self.mcp_token(session);
        expected.len() == token.len()
            && expected
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Invalidates a session's MCP token; returns the session with its new
    /// generation, or `None` if there is no such live session.
    pub fn rotate_mcp_token(&self, project_id: &str, id: &str) -> Result<Option<SessionRecord>> {
        let changed = self.conn().execute(
            "UPDATE sessions SET mcp_token_generation = mcp_token_generation + 1
             WHERE id = ?1 AND project_id = ?2 AND deleted_at IS NULL",
            params![id, project_id],
        )?;
        if changed == 0 {
            return Ok(None);
        }
        self.session(project_id, id)
    }

    /// The ids of every live session, with their projects.
    pub fn session_ids(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT project_id, id FROM sessions WHERE deleted_at IS NULL ORDER BY project_id, id",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Live sessions of one user, newest first.
    pub fn sessions_for_user(&self, project_id: &str, user_id: &str) -> Result<Vec<SessionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, project_id, user_id, config, config_version, created_at, mcp_token_generation FROM sessions
             WHERE project_id = ?1 AND user_id = ?2 AND deleted_at IS NULL ORDER BY created_at DESC, rowid DESC",
        )?;
        let rows = stmt.query_map(params![project_id, user_id], session_row)?;
        rows.map(|row| finish_session(row?)).collect()
    }

    /// Replaces a session's config if its version is still `expected`
    /// (compare-and-swap); returns the new version, or `None` on a mismatch.
    pub fn update_session_config(
        &self,
        project_id: &str,
        id: &str,
        expected: i64,
        config: &serde_json::Value,
    ) -> Result<Option<i64>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let text = serde_json::to_string(config)?;
        let next = expected + 1;
        let changed = tx.execute(
            "UPDATE sessions SET config = ?1, config_version = ?2
             WHERE id = ?3 AND project_id = ?4 AND config_version = ?5 AND deleted_at IS NULL",
            params![text, next, id, project_id, expected],
        )?;
        if changed != 1 {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO session_config_history (session_id, version, config, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, next, text, now()],
        )?;
        tx.commit()?;
        Ok(Some(next))
    }

    /// A session's config history, newest first, starting below `before`.
    pub fn config_history(
        &self,
        id: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ConfigVersion>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT version, config, created_at FROM session_config_history
             WHERE session_id = ?1 AND version < ?2 ORDER BY version DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![id, before.unwrap_or(i64::MAX), limit as i64],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (version, config, created_at) = row?;
            out.push(ConfigVersion {
                version,
                config: serde_json::from_str(&config)?,
                created_at,
            });
        }
        Ok(out)
    }

    /// Marks a session deleted (its tool memory goes with it); false if it
    /// did not exist.
    pub fn delete_session(&self, project_id: &str, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE sessions SET deleted_at = ?3 WHERE id = ?1 AND project_id = ?2 AND deleted_at IS NULL",
            params![id, project_id, now()],
        )?;
        if changed == 1 {
            for table in ["session_memory", "approval_requests", "approval_grants"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE session_id = ?1"),
                    params![id],
                )?;
            }
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    // --- logs -----------------------------------------------------------------

    /// Records one tool execution (queued for the log writer; written
    /// within one batch).
    pub fn add_log(&self, log: &LogRecord) -> Result<()> {
        if self.logs.send(LogMessage::Write(log.clone())) {
            return Ok(());
        }
        // The writer is gone: write it here.
        insert_logs(&mut self.conn(), &[log])
    }

    /// Waits until every log queued so far is written. Blocks: for the
    /// CLI and blocking threads; async code awaits [`Store::logs_committed`].
    pub fn flush_logs(&self) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.logs.send(LogMessage::Flush(done)) {
            let _ = wait.blocking_recv();
        }
    }

    /// Resolves once every log queued so far is committed (the writer
    /// commits whatever arrived while the previous batch was written, so
    /// this costs one batch, not one transaction per log). Responses that
    /// return a `log_id` await this, so an acknowledged log survives a
    /// kill -9.
    pub async fn logs_committed(&self) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.logs.send(LogMessage::Flush(done)) {
            let _ = wait.await;
        }
    }

    /// Deletes tool-execution logs older than `max_age_secs` and all but the
    /// newest `max_rows`; returns how many were deleted.
    pub fn prune_logs(&self, max_age_secs: i64, max_rows: u64) -> Result<usize> {
        let conn = self.conn();
        let old = conn.execute(
            "DELETE FROM tool_logs WHERE created_at < ?1",
            params![now().saturating_sub(max_age_secs)],
        )?;
        let excess = conn.execute(
            "DELETE FROM tool_logs WHERE rowid IN
               (SELECT rowid FROM tool_logs ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?1)",
            params![i64::try_from(max_rows).unwrap_or(i64::MAX)],
        )?;
        Ok(old + excess)
    }

    /// One log of a project (after the logs queued so far are written).
    pub fn log(&self, project_id: &str, id: &str) -> Result<Option<LogRecord>> {
        self.flush_logs();
        Ok(self
            .conn()
            .query_row(
                "SELECT id, project_id, session_id, tool_slug, successful, error, duration_ms, created_at
                 FROM tool_logs WHERE project_id = ?1 AND id = ?2",
                params![project_id, id],
                |row| {
                    Ok(LogRecord {
                        id: row.get(0)?,
                        project_id: row.get(1)?,
                        session_id: row.get(2)?,
                        tool_slug: row.get(3)?,
                        successful: row.get(4)?,
                        error: row.get(5)?,
                        duration_ms: row.get(6)?,
                        created_at: row.get(7)?,
                    })
                },
            )
            .optional()?)
    }
}

type SessionRow = (String, String, String, String, i64, i64, i64);

fn session_in(conn: &Connection, project_id: &str, id: &str) -> Result<Option<SessionRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, project_id, user_id, config, config_version, created_at, mcp_token_generation FROM sessions
         WHERE id = ?1 AND project_id = ?2 AND deleted_at IS NULL",
    )?;
    let mut rows = stmt.query_map(params![id, project_id], session_row)?;
    rows.next().transpose()?.map(finish_session).transpose()
}

fn session_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn finish_session(row: SessionRow) -> Result<SessionRecord> {
    let (id, project_id, user_id, config, config_version, created_at, mcp_token_generation) = row;
    Ok(SessionRecord {
        id,
        project_id,
        user_id,
        config: serde_json::from_str(&config)?,
        config_version,
        created_at,
        mcp_token_generation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AccountRecord;
    use serde_json::json;

    fn session(id: &str, project: &str) -> SessionRecord {
        SessionRecord {
            id: id.into(),
            project_id: project.into(),
            user_id: "alice".into(),
            config: json!({"user_id": "alice"}),
            config_version: 1,
            created_at: now(),
            mcp_token_generation: 0,
        }
    }

    #[test]
    fn migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_project("proj_1", "default").unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.projects().unwrap().len(), 1);
    }

    #[test]
    fn accounts_of_a_version_2_database_get_an_auth_config_each_scheme() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join("toolshed.db")).unwrap();
            for migration in &MIGRATIONS[..2] {
                conn.execute_batch(migration).unwrap();
            }
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute_batch(
                "INSERT INTO projects VALUES ('proj_1', 'default', 0);
                 INSERT INTO connected_accounts VALUES
                   ('ca_1', 'proj_1', 'ann', 'github', 'BEARER_TOKEN', 'ACTIVE', '{\"token\": \"a\"}', NULL, 1, 1),
                   ('ca_2', 'proj_1', 'bob', 'github', 'BEARER_TOKEN', 'ACTIVE', '{\"token\": \"b\"}', NULL, 2, 2),
                   ('ca_3', 'proj_1', 'ann', 'github', 'API_KEY', 'ACTIVE', '{\"api_key\": \"c\"}', NULL, 3, 3);",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let one = store.account("proj_1", "ca_1").unwrap().unwrap();
        let two = store.account("proj_1", "ca_2").unwrap().unwrap();
        let three = store.account("proj_1", "ca_3").unwrap().unwrap();
        assert_eq!(
            one.credentials,
            json!({"token": "a"}),
            "sealed and readable"
        );
        assert!(one.auth_config_id.starts_with("ac_") && one.auth_config_id.len() == 23);
        assert_eq!(
            one.auth_config_id, two.auth_config_id,
            "one config per scheme"
        );
        assert_ne!(one.auth_config_id, three.auth_config_id);
        assert!(one.enabled && one.status_reason.is_none());
        let config = store
            .auth_config("proj_1", &three.auth_config_id)
            .unwrap()
            .unwrap();
        assert_eq!(
            (config.toolkit.as_str(), config.auth_scheme.as_str()),
            ("github", "API_KEY")
        );
        assert!(config.managed && config.enabled && config.credentials.is_empty());
        let filter = crate::store::AuthConfigFilter::default();
        let (configs, total) = store.list_auth_configs("proj_1", &filter, 0, 10).unwrap();
        assert_eq!(total, 2);
        let counts: Vec<usize> = configs.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [1, 2], "newest first, with their account counts");
    }

    #[test]
    fn auth_config_secrets_are_sealed_and_deleting_a_config_deletes_its_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_project("proj_1", "default").unwrap();
        let mut config = crate::store::AuthConfigRecord {
            id: "ac_1".into(),
            project_id: "proj_1".into(),
            toolkit: "gmail".into(),
            name: "mine".into(),
            auth_scheme: "OAUTH2".into(),
            managed: false,
            enabled: true,
            credentials: serde_json::from_value(
                json!({"client_id": "cid", "client_secret": "canary-secret-77"}),
            )
            .unwrap(),
            settings: serde_json::Map::new(),
            created_at: now(),
            updated_at: now(),
        };
        store.create_auth_config(&config).unwrap();
        store.flush_logs();
        assert!(!contains(&database_bytes(dir.path()), "canary-secret-77"));
        config.enabled = false;
        config.name = "renamed".into();
        assert!(store.update_auth_config(&config).unwrap());
        assert_eq!(
            store.auth_config("proj_1", "ac_1").unwrap(),
            Some(config.clone())
        );
        assert_eq!(
            store.auth_config("proj_2", "ac_1").unwrap(),
            None,
            "another project's"
        );
        assert_eq!(
            store.default_auth_config("proj_1", "gmail", None).unwrap(),
            None,
            "disabled"
        );
        let mut under = account("ca_1", "t");
        under.auth_config_id = "ac_1".into();
        store.create_account(&under).unwrap();
        assert!(store.delete_auth_config("proj_1", "ac_1").unwrap());
        assert_eq!(store.account("proj_1", "ca_1").unwrap(), None);
        assert!(!store.delete_auth_config("proj_1", "ac_1").unwrap());
    }

    fn account(id: &str, secret: &str) -> AccountRecord {
        AccountRecord {
            id: id.into(),
            project_id: "proj_1".into(),
            user_id: "alice".into(),
            toolkit: "github".into(),
            auth_scheme: "BEARER_TOKEN".into(),
            status: "ACTIVE".into(),
            credentials: json!({"token": secret}),
            alias: None,
            created_at: now(),
            updated_at: now(),
            auth_config_id: "ac_1".into(),
            status_reason: None,
            enabled: true,
        }
    }

    /// Every byte of the database files, for canary searches.
    fn database_bytes(dir: &Path) -> Vec<u8> {
        let mut all = Vec::new();
        for name in ["toolshed.db", "toolshed.db-wal"] {
            if let Ok(bytes) = std::fs::read(dir.join(name)) {
                all.extend(bytes);
            }
        }
        all
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    #[test]
    fn credentials_are_sealed_at_rest_and_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_project("proj_1", "p").unwrap();
        store
            .create_account(&account("ca_1", "CANARY-7f3a9"))
            .unwrap();
        let read = store.account("proj_1", "ca_1").unwrap().unwrap();
        assert_eq!(read.credentials["token"], "CANARY-7f3a9");
        drop(store);
        assert!(!contains(&database_bytes(dir.path()), "CANARY-7f3a9"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&dir.path().join("toolshed.db")), 0o600);
        assert_eq!(
            mode(&dir.path().join(crate::secrets::MASTER_KEY_FILE)),
            0o600
        );
    }

    #[test]
    fn plaintext_rows_of_older_versions_are_sealed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_project("proj_1", "p").unwrap();
        store.create_account(&account("ca_1", "x")).unwrap();
        // What an older version wrote.
        store
            .conn()
            .execute(
                "UPDATE connected_accounts SET credentials = ?1 WHERE id = 'ca_1'",
                [r#"{"token":"LEGACY-CANARY"}"#],
            )
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let read = store.account("proj_1", "ca_1").unwrap().unwrap();
        assert_eq!(read.credentials["token"], "LEGACY-CANARY");
        let stored: String = store
            .conn()
            .query_row("SELECT credentials FROM connected_accounts", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(stored.starts_with("v1:") && !stored.contains("LEGACY"));
    }

    #[test]
    fn resealed_credentials_open_under_the_new_key_only() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("proj_1", "p").unwrap();
        store.create_account(&account("ca_1", "rotate-me")).unwrap();
        let new = Sealer::new(Key::generate().unwrap());
        assert_eq!(store.reseal_credentials(&new).unwrap(), 1);
        let stored: String = store
            .conn()
            .query_row("SELECT credentials FROM connected_accounts", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(new.open(&stored, "ca_1").is_ok());
        assert!(
            store.account("proj_1", "ca_1").is_err(),
            "the old key no longer opens it"
        );
    }

    #[test]
    fn legacy_sha256_key_hashes_are_upgraded_when_used() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("proj_1", "p").unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO api_keys (id, project_id, key_hash, prefix, created_at) VALUES ('key_1', 'proj_1', ?1, 'ts_', 0)",
                [crate::keys::hash("ts_legacy")],
            )
            .unwrap();
        assert_eq!(
            store.project_for_api_key("ts_legacy").unwrap().as_deref(),
            Some("proj_1")
        );
        let stored: String = store
            .conn()
            .query_row("SELECT key_hash FROM api_keys", [], |r| r.get(0))
            .unwrap();
        assert_ne!(
            stored,
            crate::keys::hash("ts_legacy"),
            "upgraded to the peppered hash"
        );
        assert_eq!(
            store.project_for_api_key("ts_legacy").unwrap().as_deref(),
            Some("proj_1")
        );
        assert_eq!(store.project_for_api_key("ts_other").unwrap(), None);
    }

    /// A successful log `log_{i}` of `proj_1`.
    fn log(i: i64, created_at: i64) -> LogRecord {
        LogRecord {
            id: format!("log_{i}"),
            project_id: "proj_1".into(),
            session_id: None,
            tool_slug: "T".into(),
            successful: true,
            error: None,
            duration_ms: 1,
            created_at,
        }
    }

    #[test]
    fn queued_logs_are_written_in_batches_and_readable_at_once() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("proj_1", "p").unwrap();
        for i in 0..2500 {
            store.add_log(&log(i, now())).unwrap();
        }
        // Reading flushes: the last one queued is there.
        assert!(store.log("proj_1", "log_2499").unwrap().is_some());
        let count: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM tool_logs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2500);
    }

    #[test]
    fn log_retention_deletes_by_age_and_keeps_the_newest() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("proj_1", "p").unwrap();
        for (i, age) in [(0, 100), (1, 50), (2, 10), (3, 5), (4, 1)] {
            store.add_log(&log(i, now() - age)).unwrap();
        }
        store.flush_logs();
        // Older than 60 s: log_0 goes; then only the newest 2 stay.
        assert_eq!(store.prune_logs(60, 2).unwrap(), 3);
        assert!(store.log("proj_1", "log_4").unwrap().is_some());
        assert!(store.log("proj_1", "log_3").unwrap().is_some());
        assert!(store.log("proj_1", "log_2").unwrap().is_none());
        assert!(store.log("proj_1", "log_0").unwrap().is_none());
    }

    #[test]
    fn keys_resolve_to_projects_until_revoked() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("proj_1", "p").unwrap();
        let key = store
            .add_api_key("key_1", "proj_1", "ts_secret_key", "ts_abc")
            .unwrap();
        assert_eq!(
            store
                .project_for_api_key("ts_secret_key")
                .unwrap()
                .as_deref(),
            Some("proj_1")
        );
        // A second lookup comes from the cache; revoking clears it.
        assert_eq!(
            store
                .project_for_api_key("ts_secret_key")
                .unwrap()
                .as_deref(),
            Some("proj_1")
        );
        assert_eq!(store.project_for_api_key("ts_unknown").unwrap(), None);
        assert!(store.revoke_api_key(&key.id).unwrap());
        assert!(!store.revoke_api_key(&key.id).unwrap());
        assert_eq!(store.project_for_api_key("ts_secret_key").unwrap(), None);
        assert!(store.has_api_key("ts_secret_key").unwrap());
    }

    #[test]
    fn sessions_are_scoped_to_their_project_and_versioned() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("p1", "a").unwrap();
        store.create_project("p2", "b").unwrap();
        store.create_session(&session("trs_1", "p1")).unwrap();
        assert!(store.session("p1", "trs_1").unwrap().is_some());
        assert!(store.session("p2", "trs_1").unwrap().is_none());
        assert_eq!(
            store
                .update_session_config("p1", "trs_1", 1, &json!({"v": 2}))
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            store
                .update_session_config("p1", "trs_1", 1, &json!({"v": 3}))
                .unwrap(),
            None
        );
        let history = store.config_history("trs_1", None, 10).unwrap();
        assert_eq!(
            history.iter().map(|h| h.version).collect::<Vec<_>>(),
            vec![2, 1]
        );
        assert!(store.delete_session("p1", "trs_1").unwrap());
        assert!(store.session("p1", "trs_1").unwrap().is_none());
        assert!(!store.delete_session("p1", "trs_1").unwrap());
    }

    #[test]
    fn a_session_is_read_in_place_only_while_the_database_is_free() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("p1", "a").unwrap();
        store.create_session(&session("trs_1", "p1")).unwrap();
        let read = store.try_session("p1", "trs_1").expect("free").unwrap();
        assert_eq!(read.map(|s| s.config_version), Some(1));
        // The same answers as `session`: scoped to the project, gone once
        // deleted, the current config version.
        assert!(
            store
                .try_session("p2", "trs_1")
                .expect("free")
                .unwrap()
                .is_none()
        );
        store
            .update_session_config("p1", "trs_1", 1, &json!({"v": 2}))
            .unwrap();
        let read = store.try_session("p1", "trs_1").expect("free").unwrap();
        assert_eq!(read.map(|s| s.config_version), Some(2));
        // Held by another writer: the caller is told to wait elsewhere.
        let held = store.conn();
        assert!(store.try_session("p1", "trs_1").is_none());
        drop(held);
        store.delete_session("p1", "trs_1").unwrap();
        assert!(
            store
                .try_session("p1", "trs_1")
                .expect("free")
                .unwrap()
                .is_none()
        );
    }
}
