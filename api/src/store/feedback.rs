//! Feedback agents submit on tool results (COMPOSIO_SUBMIT_FEEDBACK), kept
//! for the operator (`toolshed feedback`).

use super::{Store, StoreError};
use rusqlite::params;

/// One piece of feedback.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedbackRecord {
    /// `fb_...`.
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The session it came from.
    pub session_id: String,
    /// empty_result, incorrect_result, failed or other.
    pub kind: String,
    /// The tool it is about, when named.
    pub tool_slug: Option<String>,
    /// The execution it is about, when named.
    pub log_id: Option<String>,
    /// What the agent said.
    pub text: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl Store {
    /// Keeps `feedback`.
    pub fn add_feedback(&self, feedback: &FeedbackRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO feedback (id, project_id, session_id, kind, tool_slug, log_id, text, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                feedback.id,
                feedback.project_id,
                feedback.session_id,
                feedback.kind,
                feedback.tool_slug,
                feedback.log_id,
                feedback.text,
                feedback.created_at
            ],
        )?;
        Ok(())
    }

    /// The newest `limit` pieces of feedback, newest first.
    pub fn list_feedback(&self, limit: usize) -> Result<Vec<FeedbackRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, project_id, session_id, kind, tool_slug, log_id, text, created_at
             FROM feedback ORDER BY created_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |row| {
            Ok(FeedbackRecord {
                id: row.get(0)?,
                project_id: row.get(1)?,
                session_id: row.get(2)?,
                kind: row.get(3)?,
                tool_slug: row.get(4)?,
                log_id: row.get(5)?,
                text: row.get(6)?,
                created_at: row.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
