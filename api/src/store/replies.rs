//! Execute answers kept under the caller's `Idempotency-Key`: a repeat of
//! the same request within [`REPLY_TTL_SECS`] gets the first answer instead
//! of running the tool again.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};

/// How long an answer is kept: 24 h.
pub const REPLY_TTL_SECS: i64 = 24 * 60 * 60;
/// The most answer bytes a project keeps; past it, its oldest answers go
/// first (a tenant cannot fill the disk with keys).
pub const MAX_PROJECT_REPLY_BYTES: i64 = 64 << 20;

/// An answer kept under a key.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredReply {
    /// The digest of the request it answered.
    pub request_hash: String,
    /// The answer's JSON body.
    pub body: String,
}

impl Store {
    /// The answer kept under `key` in `project_id`, unless older than the
    /// TTL at `now`.
    pub fn idempotent_reply(
        &self,
        project_id: &str,
        key: &str,
        now: i64,
    ) -> Result<Option<StoredReply>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT request_hash, body FROM idempotent_replies
                 WHERE project_id = ?1 AND key = ?2 AND created_at > ?3",
                params![project_id, key, now - REPLY_TTL_SECS],
                |row| {
                    Ok(StoredReply {
                        request_hash: row.get(0)?,
                        body: row.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Keeps `reply` under `key` (replacing an expired one) and forgets
    /// every answer past the TTL.
    pub fn put_idempotent_reply(
        &self,
        project_id: &str,
        key: &str,
        reply: &StoredReply,
        now: i64,
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM idempotent_replies WHERE created_at <= ?1",
            params![now - REPLY_TTL_SECS],
        )?;
        conn.execute(
            "INSERT OR REPLACE INTO idempotent_replies (project_id, key, request_hash, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![project_id, key, reply.request_hash, reply.body, now],
        )?;
        conn.execute(
            "DELETE FROM idempotent_replies WHERE rowid IN (
                 SELECT rowid FROM (
                     SELECT rowid, SUM(length(body)) OVER (ORDER BY created_at DESC, rowid DESC) AS kept
                     FROM idempotent_replies WHERE project_id = ?1)
                 WHERE kept > ?2)",
            params![project_id, MAX_PROJECT_REPLY_BYTES],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_kept_per_project_for_a_day() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("p", "p").unwrap();
        store.create_project("q", "q").unwrap();
        let reply = StoredReply {
            request_hash: "h".into(),
            body: "{}".into(),
        };
        store.put_idempotent_reply("p", "k", &reply, 1000).unwrap();
        assert_eq!(
            store.idempotent_reply("p", "k", 1000).unwrap(),
            Some(reply.clone())
        );
        assert_eq!(store.idempotent_reply("q", "k", 1000).unwrap(), None);
        let later = 1000 + REPLY_TTL_SECS;
        assert_eq!(store.idempotent_reply("p", "k", later).unwrap(), None);
        // Expired answers are dropped when the next one is kept.
        store
            .put_idempotent_reply("p", "other", &reply, later)
            .unwrap();
        let rows: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM idempotent_replies", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[test]
    fn a_project_keeps_its_newest_answers_within_its_budget() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("p", "p").unwrap();
        store.create_project("q", "q").unwrap();
        let big = StoredReply {
            request_hash: "h".into(),
            body: "x".repeat((MAX_PROJECT_REPLY_BYTES / 3 + 1) as usize),
        };
        store.put_idempotent_reply("q", "other", &big, 1).unwrap();
        for (k, key) in ["a", "b", "c", "d"].iter().enumerate() {
            store
                .put_idempotent_reply("p", key, &big, 10 + k as i64)
                .unwrap();
        }
        let kept: Vec<bool> = ["a", "b", "c", "d"]
            .iter()
            .map(|k| store.idempotent_reply("p", k, 20).unwrap().is_some())
            .collect();
        assert_eq!(kept, [false, false, true, true]);
        // Another project's answers are not its to evict.
        assert!(store.idempotent_reply("q", "other", 20).unwrap().is_some());
    }
}
