//! Connect links: single-use, expiring tokens that let a user complete a
//! connected account in the browser. Only a keyed hash of each token is
//! stored (like API keys), so the database cannot replay one.

use super::{LinkRecord, Store, StoreError};
use rusqlite::{OptionalExtension, params};

type Result<T> = std::result::Result<T, StoreError>;

/// Why an INITIATED account became EXPIRED.
const EXPIRED_REASON: &str = "the connection link expired before the user completed it";

impl Store {
    /// Stores an INITIATED account and the link that completes it, in one
    /// transaction.
    pub fn create_linked_account(
        &self,
        account: &super::AccountRecord,
        token: &str,
        link: &LinkRecord,
    ) -> Result<()> {
        let sealed = self.seal_account(account)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        super::accounts::insert_account(&tx, account, &sealed)?;
        tx.execute(
            "INSERT INTO connect_links (token_hash, project_id, account_id, callback_url, expires_at, used_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            params![
                self.secrets.pepper.hash(token),
                link.project_id,
                link.account_id,
                link.callback_url,
                link.expires_at,
            ],
        )?;
        tx.commit()?;
        drop(conn);
        self.account_changes.bump(&account.project_id);
        Ok(())
    }

    /// The link `token` names, if any (used or not).
    pub fn link(&self, token: &str) -> Result<Option<LinkRecord>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT project_id, account_id, callback_url, expires_at, used_at
                 FROM connect_links WHERE token_hash = ?1",
                [self.secrets.pepper.hash(token)],
                |row| {
                    Ok(LinkRecord {
                        project_id: row.get(0)?,
                        account_id: row.get(1)?,
                        callback_url: row.get(2)?,
                        expires_at: row.get(3)?,
                        used_at: row.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Marks `token` used at `now`; false when it already was (two
    /// submissions race: exactly one wins).
    pub fn use_link(&self, token: &str, now: i64) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE connect_links SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL",
            params![self.secrets.pepper.hash(token), now],
        )?;
        Ok(changed == 1)
    }

    /// Turns the project's INITIATED accounts whose links expired unused
    /// (by `now`) EXPIRED; returns how many.
    pub fn expire_links(&self, project_id: &str, now: i64) -> Result<usize> {
        let expired = self.conn().execute(
            "UPDATE connected_accounts SET status = 'EXPIRED', status_reason = ?3, updated_at = ?2
             WHERE project_id = ?1 AND status = 'INITIATED' AND id IN (
                 SELECT account_id FROM connect_links
                 WHERE project_id = ?1 AND used_at IS NULL AND expires_at <= ?2)",
            params![project_id, now, EXPIRED_REASON],
        )?;
        if expired > 0 {
            self.account_changes.bump(project_id);
        }
        Ok(expired)
    }
}
