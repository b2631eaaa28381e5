//! Approvals: calls waiting for the user's answer, by the `request_state`
//! their execute returned (single use, [`PENDING_TTL_SECS`]), and the tools
//! a session's user approved for the rest of the session. Both go with the
//! session.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;

/// How long a call waits for its answer: 24 h.
pub const PENDING_TTL_SECS: i64 = 24 * 60 * 60;

/// A call waiting for the user's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingApproval {
    /// The `request_state` returned with the question.
    pub id: String,
    /// The session.
    pub session_id: String,
    /// A digest of the call (tool and arguments) it was asked for.
    pub call_hash: String,
    /// Request id -> the tool slug it asks about.
    pub requests: BTreeMap<String, String>,
    /// Unix seconds.
    pub created_at: i64,
}

impl Store {
    /// Records a call waiting for answers, forgetting expired ones.
    pub fn add_pending_approval(&self, pending: &PendingApproval) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM approval_requests WHERE created_at <= ?1",
            params![pending.created_at - PENDING_TTL_SECS],
        )?;
        conn.execute(
            "INSERT INTO approval_requests (id, session_id, call_hash, requests, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                pending.id,
                pending.session_id,
                pending.call_hash,
                serde_json::to_string(&pending.requests)?,
                pending.created_at
            ],
        )?;
        Ok(())
    }

    /// Takes (removes and returns) the session's unexpired pending call
    /// `id`.
    pub fn take_pending_approval(
        &self,
        session_id: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<PendingApproval>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "DELETE FROM approval_requests WHERE id = ?1 AND session_id = ?2 AND created_at > ?3
                 RETURNING call_hash, requests, created_at",
                params![id, session_id, now - PENDING_TTL_SECS],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(call_hash, requests, created_at)| {
            Ok(PendingApproval {
                id: id.to_owned(),
                session_id: session_id.to_owned(),
                call_hash,
                requests: serde_json::from_str(&requests)?,
                created_at,
            })
        })
        .transpose()
    }

    /// Remembers that the session's user approved `tool_slug` for the
    /// rest of the session.
    pub fn grant_approval(
        &self,
        session_id: &str,
        tool_slug: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO approval_grants (session_id, tool_slug, created_at) VALUES (?1, ?2, ?3)",
            params![session_id, tool_slug, now],
        )?;
        Ok(())
    }

    /// Whether the session's user approved `tool_slug` for the session.
    pub fn approval_granted(&self, session_id: &str, tool_slug: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS(SELECT 1 FROM approval_grants WHERE session_id = ?1 AND tool_slug = ?2)",
            params![session_id, tool_slug],
            |row| row.get(0),
        )?)
    }
}
