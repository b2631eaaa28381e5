//! Connect links: single-use, expiring tokens that let a user complete a
//! connected account in the browser. Only a keyed hash of each token is
//! stored (like API keys), so the database cannot replay one.

use super::{LinkRecord, Store, StoreError};
use rusqlite::{OptionalExtension, params};

type Result<T> = std::result::Result<T, StoreError>;

/// How a link is named: by the token in its URL, or by the `state` of the
/// OAuth2 flow it started.
#[derive(Clone, Copy, Debug)]
pub enum LinkKey<'a> {
    /// The link's token.
    Token(&'a str),
    /// Its OAuth2 flow's state.
    State(&'a str),
}

/// Why an INITIATED account became EXPIRED.
const EXPIRED_REASON: &str = "the connection link expired before the user completed it";

fn insert_link(
    conn: &rusqlite::Connection,
    pepper: &crate::secrets::Pepper,
    token: &str,
    link: &LinkRecord,
    state: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO connect_links (token_hash, project_id, account_id, callback_url, expires_at, used_at, state_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)",
        params![
            pepper.hash(token),
            link.project_id,
            link.account_id,
            link.callback_url,
            link.expires_at,
            state.map(|s| pepper.hash(s)),
        ],
    )?;
    Ok(())
}

impl Store {
    /// A keyed digest of `input` for `purpose` (hex): values only this data
    /// directory can derive, such as an OAuth2 link's `state`.
    pub fn keyed_digest(&self, purpose: &str, input: &str) -> String {
        self.secrets.pepper.hash(&format!("{purpose}:{input}"))
    }

    /// Stores an INITIATED account and the link that completes it, in one
    /// transaction; `state` is the OAuth2 flow's, for OAUTH2 links.
    pub fn create_linked_account(
        &self,
        account: &super::AccountRecord,
        token: &str,
        link: &LinkRecord,
        state: Option<&str>,
    ) -> Result<()> {
        let sealed = self.seal_account(account)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        super::accounts::insert_account(&tx, account, &sealed)?;
        insert_link(&tx, &self.secrets.pepper, token, link, state)?;
        tx.commit()?;
        drop(conn);
        self.account_changes.bump(&account.project_id);
        Ok(())
    }

    /// Makes `account` (already stored) INITIATED again with a new link;
    /// its earlier unused links are spent.
    pub fn relink_account(
        &self,
        account: &super::AccountRecord,
        token: &str,
        link: &LinkRecord,
        state: Option<&str>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE connect_links SET used_at = ?3
             WHERE project_id = ?1 AND account_id = ?2 AND used_at IS NULL",
            params![account.project_id, account.id, account.updated_at],
        )?;
        tx.execute(
            "UPDATE connected_accounts SET status = ?3, status_reason = ?4, updated_at = ?5
             WHERE project_id = ?1 AND id = ?2",
            params![
                account.project_id,
                account.id,
                account.status,
                account.status_reason,
                account.updated_at
            ],
        )?;
        insert_link(&tx, &self.secrets.pepper, token, link, state)?;
        tx.commit()?;
        drop(conn);
        self.account_changes.bump(&account.project_id);
        Ok(())
    }

    /// A link by its token or its OAuth2 `state`, with its account; a link
    /// found expired (by `at`) turns its INITIATED account EXPIRED first.
    pub fn link_and_account(
        &self,
        key: LinkKey<'_>,
        at: i64,
    ) -> Result<(Option<LinkRecord>, Option<super::AccountRecord>)> {
        let link = match key {
            LinkKey::Token(token) => self.link(token)?,
            LinkKey::State(state) => self.link_by_state(state)?,
        };
        if let Some(link) = link.as_ref().filter(|l| l.expires_at <= at) {
            self.expire_links(&link.project_id, at)?;
        }
        let account = match &link {
            Some(link) => self.account(&link.project_id, &link.account_id)?,
            None => None,
        };
        Ok((link, account))
    }

    /// The link `token` names, if any (used or not).
    pub fn link(&self, token: &str) -> Result<Option<LinkRecord>> {
        self.link_where("token_hash", token)
    }

    /// The OAuth2 link whose flow has `state`, if any (used or not).
    pub fn link_by_state(&self, state: &str) -> Result<Option<LinkRecord>> {
        self.link_where("state_hash", state)
    }

    fn link_where(&self, column: &'static str, secret: &str) -> Result<Option<LinkRecord>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT project_id, account_id, callback_url, expires_at, used_at
                     FROM connect_links WHERE {column} = ?1"
                ),
                [self.secrets.pepper.hash(secret)],
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
        self.use_link_where("token_hash", token, now)
    }

    /// [`Store::use_link`] for the OAuth2 link whose flow has `state`.
    pub fn use_link_by_state(&self, state: &str, now: i64) -> Result<bool> {
        self.use_link_where("state_hash", state, now)
    }

    fn use_link_where(&self, column: &'static str, secret: &str, now: i64) -> Result<bool> {
        let changed = self.conn().execute(
            &format!(
                "UPDATE connect_links SET used_at = ?2 WHERE {column} = ?1 AND used_at IS NULL"
            ),
            params![self.secrets.pepper.hash(secret), now],
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
