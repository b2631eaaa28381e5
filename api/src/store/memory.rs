//! Tool memory: durable facts an agent records about a session's apps
//! ("the user's main repo is acme/widgets") through the `memory` argument
//! of COMPOSIO_MULTI_EXECUTE_TOOL, returned by later searches. Kept per
//! session and app, deduplicated by their normalised text, bounded, and
//! deleted with the session.

use super::{Store, StoreError};
use rusqlite::params;
use std::collections::BTreeMap;

/// The bounds of one session's memory.
#[derive(Clone, Copy, Debug)]
pub struct MemoryLimits {
    /// Facts kept per session.
    pub max_facts: usize,
    /// Bytes of fact text kept per session.
    pub max_bytes: usize,
}

/// What a write did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryWrite {
    /// Facts stored.
    pub saved: usize,
    /// Facts the session already had (compared without case and spacing).
    pub already_known: usize,
    /// Facts not stored because the session's memory is full.
    pub refused: usize,
}

/// `fact` compared without case and with runs of spaces as one.
pub fn fact_key(fact: &str) -> String {
    fact.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Store {
    /// Adds `facts` (app, fact) to the session's memory, in order, within
    /// `limits` (past them, the rest is refused and counted).
    pub fn add_memory(
        &self,
        session_id: &str,
        facts: &[(String, String)],
        limits: MemoryLimits,
        now: i64,
    ) -> Result<MemoryWrite, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (mut count, mut bytes): (i64, i64) = tx.query_row(
            "SELECT COUNT(*), COALESCE(SUM(length(CAST(fact AS BLOB))), 0) FROM session_memory WHERE session_id = ?1",
            params![session_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let mut write = MemoryWrite::default();
        for (app, fact) in facts {
            let key = fact_key(fact);
            let known: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM session_memory WHERE session_id = ?1 AND app = ?2 AND fact_key = ?3)",
                params![session_id, app, key],
                |row| row.get(0),
            )?;
            if known {
                write.already_known += 1;
                continue;
            }
            let size = fact.len() as i64;
            if count as usize >= limits.max_facts || (bytes + size) as usize > limits.max_bytes {
                write.refused += 1;
                continue;
            }
            tx.execute(
                "INSERT INTO session_memory (session_id, app, fact, fact_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![session_id, app, fact, key, now],
            )?;
            count += 1;
            bytes += size;
            write.saved += 1;
        }
        tx.commit()?;
        Ok(write)
    }

    /// The session's memory by app, each app's facts oldest first.
    pub fn memory(&self, session_id: &str) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT app, fact FROM session_memory WHERE session_id = ?1 ORDER BY created_at, rowid",
        )?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let rows = stmt.query_map(params![session_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (app, fact) = row?;
            out.entry(app).or_default().push(fact);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_deduplicated_bounded_and_go_with_the_session() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("p", "p").unwrap();
        let session = |id: &str| {
            store
                .create_session(&crate::store::SessionRecord {
                    id: id.into(),
                    project_id: "p".into(),
                    user_id: "u".into(),
                    config: serde_json::json!({}),
                    config_version: 1,
                    created_at: 0,
                    mcp_token_generation: 0,
                })
                .unwrap()
        };
        session("s1");
        session("s2");
        let limits = MemoryLimits {
            max_facts: 3,
            max_bytes: 1000,
        };
        let facts = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, f)| (a.to_string(), f.to_string()))
                .collect()
        };
        let write = store
            .add_memory(
                "s1",
                &facts(&[
                    ("github", "Main repo is acme/widgets"),
                    ("github", "main  repo is ACME/widgets"),
                    ("slack", "general is C0001"),
                ]),
                limits,
                1,
            )
            .unwrap();
        assert_eq!(
            write,
            MemoryWrite {
                saved: 2,
                already_known: 1,
                refused: 0
            }
        );
        let write = store
            .add_memory(
                "s1",
                &facts(&[("gmail", "boss is ada@acme.test"), ("gmail", "one more")]),
                limits,
                2,
            )
            .unwrap();
        assert_eq!((write.saved, write.refused), (1, 1));
        let memory = store.memory("s1").unwrap();
        assert_eq!(memory["github"], ["Main repo is acme/widgets"]);
        assert_eq!(memory.len(), 3);
        assert!(store.memory("s2").unwrap().is_empty());
        let tight = MemoryLimits {
            max_facts: 10,
            max_bytes: 5,
        };
        let write = store
            .add_memory("s2", &facts(&[("a", "123456")]), tight, 3)
            .unwrap();
        assert_eq!(write.refused, 1);
        assert!(store.delete_session("p", "s1").unwrap());
        assert!(store.memory("s1").unwrap().is_empty());
    }
}
