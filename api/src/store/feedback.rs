//! Feedback agents submit on tool results (COMPOSIO_SUBMIT_FEEDBACK), kept
//! for the operator (`toolshed feedback`).

use super::{Store, StoreError};
use rusqlite::params;

/// The most feedback rows a project keeps; past it, its oldest go first
/// (a tenant's agents cannot fill the disk with feedback).
pub const MAX_FEEDBACK_PER_PROJECT: i64 = 10_000;

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
    /// Keeps `feedback`, forgetting the project's oldest past
    /// [`MAX_FEEDBACK_PER_PROJECT`].
    pub fn add_feedback(&self, feedback: &FeedbackRecord) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
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
        conn.execute(
            "DELETE FROM feedback WHERE rowid IN (
                 SELECT rowid FROM feedback WHERE project_id = ?1
                 ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?2)",
            params![feedback.project_id, MAX_FEEDBACK_PER_PROJECT],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_keeps_its_newest_feedback_within_the_cap() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("p", "p").unwrap();
        store.create_project("q", "q").unwrap();
        let piece = |id: String, project: &str, at: i64| FeedbackRecord {
            id,
            project_id: project.into(),
            session_id: "s".into(),
            kind: "other".into(),
            tool_slug: None,
            log_id: None,
            text: "x".into(),
            created_at: at,
        };
        store.add_feedback(&piece("fb_q".into(), "q", 0)).unwrap();
        for k in 0..=MAX_FEEDBACK_PER_PROJECT {
            store
                .add_feedback(&piece(format!("fb_{k}"), "p", k))
                .unwrap();
        }
        let count = |project: &str| -> i64 {
            store
                .conn()
                .query_row(
                    "SELECT COUNT(*) FROM feedback WHERE project_id = ?1",
                    params![project],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(count("p"), MAX_FEEDBACK_PER_PROJECT);
        assert_eq!(count("q"), 1, "another project's feedback is untouched");
        let oldest: String = store
            .conn()
            .query_row(
                "SELECT id FROM feedback WHERE project_id = 'p' ORDER BY created_at LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(oldest, "fb_1", "the oldest went first");
    }
}
