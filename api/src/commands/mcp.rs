//! `toolshed mcp`: one session as an MCP server over stdio, for desktop
//! clients that start their servers as processes (Claude Desktop, Cursor,
//! the MCP Inspector). It opens the data directory itself and holds its
//! lock, so it never drives a session beside a running `toolshed serve`
//! (which answers the same over HTTP at `/tool_router/<session>/mcp`).

use super::error_chain;
use super::serve::{Prepared, ServeArgs, prepare};
use crate::keys;
use crate::session::SessionContext;
use crate::session::config::SessionConfig;
use crate::store::{SessionRecord, now};
use clap::Args;
use rmcp::ServiceExt;
use std::process::ExitCode;

/// Arguments of `toolshed mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The session to serve.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "user",
        required_unless_present = "user"
    )]
    pub session: Option<String>,
    /// Serve this user's newest session, or a new one if there is none
    /// (its id is logged to stderr), so restarting a desktop client keeps
    /// the session.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Data directory, toolkits and limits, as for `toolshed serve`
    /// (`--addr` and `--public-url` are not used).
    #[command(flatten)]
    pub server: ServeArgs,
}

/// Serves the session over stdin/stdout until the client closes it.
pub async fn run(args: McpArgs) -> ExitCode {
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("toolshed mcp: {message}");
            ExitCode::from(2)
        }
    }
}

async fn serve(args: McpArgs) -> Result<(), String> {
    let Prepared {
        state, lock: _lock, ..
    } = prepare(&args.server).await?;
    let store = state.store.clone();
    let record = match (args.session, args.user) {
        (Some(id), _) => {
            let lookup = id.clone();
            store
                .run(move |s| s.session_by_id(&lookup))
                .await
                .map_err(|e| error_chain(&e))?
                .ok_or_else(|| format!("no session {id} in this data directory"))?
        }
        (None, Some(user)) => {
            let project = {
                let store = store.clone();
                tokio::task::spawn_blocking(move || super::keys::ensure_project(&store))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| error_chain(&e))?
            };
            let newest = {
                let (project, user) = (project.clone(), user.clone());
                store
                    .run(move |s| s.sessions_for_user(&project, &user))
                    .await
                    .map_err(|e| error_chain(&e))?
                    .into_iter()
                    .next()
            };
            if let Some(record) = newest {
                tracing::warn!(session = %record.id, "serving the user's newest session");
                return finish(state, record).await;
            }
            let config = SessionConfig::from_request(&serde_json::json!({"user_id": user}))
                .map_err(|e| e.to_string())?;
            let record = SessionRecord {
                id: keys::new_id("trs_"),
                project_id: project,
                user_id: config.user_id.clone(),
                config: serde_json::to_value(&config).map_err(|e| e.to_string())?,
                config_version: 1,
                created_at: now(),
                mcp_token_generation: 0,
            };
            let stored = record.clone();
            store
                .run(move |s| s.create_session(&stored))
                .await
                .map_err(|e| error_chain(&e))?;
            tracing::warn!(session = %record.id, "created a session for this MCP connection");
            record
        }
        (None, None) => return Err("--session or --user is required".into()),
    };
    finish(state, record).await
}

/// Serves the session until the client closes stdin.
async fn finish(state: crate::state::AppState, record: SessionRecord) -> Result<(), String> {
    let store = state.store.clone();
    let session = SessionContext::from_record(&state, record).map_err(|e| e.to_string())?;
    let running = crate::mcp::Handler::for_session(session)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP handshake failed: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("the MCP connection ended abnormally: {e}"))?;
    store.logs_committed().await;
    Ok(())
}
