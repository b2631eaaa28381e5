//! Execute answers kept under the caller's `Idempotency-Key`: a repeat of
//! the same request within [`REPLY_TTL_SECS`] gets the first answer instead
//! of running the tool again.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};

/// How long an answer is kept: 24 h.
pub const REPLY_TTL_SECS: i64 = 24 * 60 * 60;

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
}
