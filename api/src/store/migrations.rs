//! Schema migrations, applied in order at open; `PRAGMA user_version`
//! records how many have run.

/// Every migration, oldest first. Never edit one that has shipped: append.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: projects, keys, sessions, accounts, logs.
    r#"
    CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        user_id TEXT NOT NULL,
        config TEXT NOT NULL,
        config_version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER
    );
    CREATE INDEX sessions_by_user ON sessions(project_id, user_id);
    CREATE TABLE session_config_history (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        version INTEGER NOT NULL,
        config TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, version)
    );
    CREATE TABLE connected_accounts (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        user_id TEXT NOT NULL,
        toolkit TEXT NOT NULL,
        auth_scheme TEXT NOT NULL,
        status TEXT NOT NULL,
        credentials TEXT NOT NULL,
        alias TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX accounts_by_user ON connected_accounts(project_id, user_id, toolkit);
    CREATE TABLE tool_logs (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        session_id TEXT,
        tool_slug TEXT NOT NULL,
        successful INTEGER NOT NULL,
        error TEXT,
        duration_ms INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    "#,
    // 2: per-session MCP tokens are derived from the pepper and this
    // generation; rotating one increments it.
    r#"
    ALTER TABLE sessions ADD COLUMN mcp_token_generation INTEGER NOT NULL DEFAULT 0;
    "#,
    // 3: auth configs; every account belongs to one, and has a status
    // reason and an enabled flag. Existing accounts get one auth config per
    // (project, toolkit, scheme), as toolshed implied them before.
    r#"
    CREATE TABLE auth_configs (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        toolkit TEXT NOT NULL,
        name TEXT NOT NULL,
        auth_scheme TEXT NOT NULL,
        managed INTEGER NOT NULL,
        enabled INTEGER NOT NULL,
        credentials TEXT NOT NULL,
        settings TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX auth_configs_by_toolkit ON auth_configs(project_id, toolkit);
    ALTER TABLE connected_accounts ADD COLUMN auth_config_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE connected_accounts ADD COLUMN status_reason TEXT;
    ALTER TABLE connected_accounts ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
    INSERT INTO auth_configs
        SELECT 'ac_' || lower(hex(randomblob(10))), project_id, toolkit,
               toolkit || ' ' || auth_scheme, auth_scheme, 1, 1, '', '{}',
               MIN(created_at), MIN(created_at)
        FROM connected_accounts GROUP BY project_id, toolkit, auth_scheme;
    UPDATE connected_accounts SET auth_config_id = (
        SELECT a.id FROM auth_configs a
        WHERE a.project_id = connected_accounts.project_id
          AND a.toolkit = connected_accounts.toolkit
          AND a.auth_scheme = connected_accounts.auth_scheme);
    CREATE INDEX accounts_by_auth_config ON connected_accounts(project_id, auth_config_id);
    "#,
    // 4: connect links (only a keyed hash of each token is stored).
    r#"
    CREATE TABLE connect_links (
        token_hash TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        account_id TEXT NOT NULL,
        callback_url TEXT,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
    );
    CREATE INDEX connect_links_by_account ON connect_links(project_id, account_id);
    "#,
    // 5: an OAuth2 link's `state` (its keyed digest), to find the link when
    // the provider sends the browser back.
    r#"
    ALTER TABLE connect_links ADD COLUMN state_hash TEXT;
    CREATE UNIQUE INDEX connect_links_by_state ON connect_links(state_hash)
        WHERE state_hash IS NOT NULL;
    "#,
    // 6: executes answered under an `Idempotency-Key`, replayed for 24 h.
    r#"
    CREATE TABLE idempotent_replies (
        project_id TEXT NOT NULL REFERENCES projects(id),
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (project_id, key)
    );
    CREATE INDEX idempotent_replies_by_age ON idempotent_replies(created_at);
    "#,
    // 7: feedback agents submit on tool results (COMPOSIO_SUBMIT_FEEDBACK).
    r#"
    CREATE TABLE feedback (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        tool_slug TEXT,
        log_id TEXT,
        text TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX feedback_by_age ON feedback(created_at);
    "#,
    // 8: staged files, uploaded for file-typed tool arguments (the SDKs'
    // `files/upload/request`); the bytes live in the data directory.
    r#"
    CREATE TABLE staged_files (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id),
        key TEXT NOT NULL,
        filename TEXT NOT NULL,
        mimetype TEXT NOT NULL,
        md5 TEXT NOT NULL,
        tool_slug TEXT NOT NULL,
        toolkit_slug TEXT NOT NULL,
        size INTEGER,
        created_at INTEGER NOT NULL,
        UNIQUE (project_id, key)
    );
    CREATE INDEX staged_files_by_age ON staged_files(created_at);
    "#,
    // 9: tool memory: facts agents record with COMPOSIO_MULTI_EXECUTE_TOOL's
    // `memory`, by session and app, deduplicated by their normalised text.
    r#"
    CREATE TABLE session_memory (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        app TEXT NOT NULL,
        fact TEXT NOT NULL,
        fact_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, app, fact_key)
    );
    "#,
    // 10: approvals: calls waiting for the user's answer (the
    // `request_state` an execute returned), and the tools a session's user
    // approved for the rest of the session.
    r#"
    CREATE TABLE approval_requests (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        call_hash TEXT NOT NULL,
        requests TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX approval_requests_by_age ON approval_requests(created_at);
    CREATE TABLE approval_grants (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        tool_slug TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, tool_slug)
    );
    "#,
];
