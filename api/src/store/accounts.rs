//! Connected accounts: a user's credentials for one toolkit, under one auth
//! config. Credentials are sealed under the master key (the account id is
//! the associated data) and only opened here.

use super::{AccountFilter, AccountRecord, Store, StoreError};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

type Result<T> = std::result::Result<T, StoreError>;

/// A change counter per project, bumped by every write to its accounts, so
/// waiters (COMPOSIO_WAIT_FOR_CONNECTIONS) wake on changes instead of
/// polling the database.
#[derive(Default)]
pub(super) struct AccountChanges {
    projects: std::sync::Mutex<HashMap<String, tokio::sync::watch::Sender<u64>>>,
}

impl AccountChanges {
    fn sender(&self, project_id: &str) -> tokio::sync::watch::Sender<u64> {
        let mut projects = self.projects.lock().unwrap_or_else(|p| p.into_inner());
        projects
            .entry(project_id.to_owned())
            .or_insert_with(|| tokio::sync::watch::channel(0).0)
            .clone()
    }

    pub(super) fn bump(&self, project_id: &str) {
        self.sender(project_id)
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    fn subscribe(&self, project_id: &str) -> tokio::sync::watch::Receiver<u64> {
        self.sender(project_id).subscribe()
    }
}

/// The columns every account query reads, in [`account_row`]'s order.
const COLUMNS: &str = "id, project_id, user_id, toolkit, auth_scheme, status, credentials, alias, \
     created_at, updated_at, auth_config_id, status_reason, enabled";

/// A row with its credentials still sealed.
struct SealedAccount {
    record: AccountRecord,
    sealed: String,
}

fn account_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SealedAccount> {
    Ok(SealedAccount {
        record: AccountRecord {
            id: row.get(0)?,
            project_id: row.get(1)?,
            user_id: row.get(2)?,
            toolkit: row.get(3)?,
            auth_scheme: row.get(4)?,
            status: row.get(5)?,
            credentials: serde_json::Value::Null,
            alias: row.get(7)?,
            created_at: row.get(8)?,
            updated_at: row.get(9)?,
            auth_config_id: row.get(10)?,
            status_reason: row.get(11)?,
            enabled: row.get(12)?,
        },
        sealed: row.get(6)?,
    })
}

/// Inserts `account` with its sealed credentials.
pub(super) fn insert_account(
    conn: &rusqlite::Connection,
    account: &AccountRecord,
    sealed: &str,
) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO connected_accounts ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            account.id,
            account.project_id,
            account.user_id,
            account.toolkit,
            account.auth_scheme,
            account.status,
            sealed,
            account.alias,
            account.created_at,
            account.updated_at,
            account.auth_config_id,
            account.status_reason,
            account.enabled,
        ],
    )?;
    Ok(())
}

impl Store {
    /// A receiver that sees every later write to `project_id`'s accounts.
    pub fn account_changes(&self, project_id: &str) -> tokio::sync::watch::Receiver<u64> {
        self.account_changes.subscribe(project_id)
    }

    fn open_account(&self, row: SealedAccount) -> Result<AccountRecord> {
        let mut record = row.record;
        let plain = self.secrets.sealer.open(&row.sealed, &record.id)?;
        record.credentials = serde_json::from_slice(&plain)?;
        Ok(record)
    }

    pub(super) fn seal_account(&self, account: &AccountRecord) -> Result<String> {
        Ok(self.secrets.sealer.seal(
            serde_json::to_string(&account.credentials)?.as_bytes(),
            &account.id,
        )?)
    }

    /// Stores a connected account.
    pub fn create_account(&self, account: &AccountRecord) -> Result<()> {
        let sealed = self.seal_account(account)?;
        insert_account(&self.conn(), account, &sealed)?;
        self.account_changes.bump(&account.project_id);
        Ok(())
    }

    /// Writes an account's status, reason, credentials, alias and enabled
    /// flag; false when it no longer exists.
    pub fn update_account(&self, account: &AccountRecord) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE connected_accounts
             SET status = ?3, status_reason = ?4, credentials = ?5, alias = ?6, enabled = ?7,
                 updated_at = ?8
             WHERE project_id = ?1 AND id = ?2",
            params![
                account.project_id,
                account.id,
                account.status,
                account.status_reason,
                self.seal_account(account)?,
                account.alias,
                account.enabled,
                account.updated_at,
            ],
        )?;
        self.account_changes.bump(&account.project_id);
        Ok(changed == 1)
    }

    /// Deletes an account; false when there was none.
    pub fn delete_account(&self, project_id: &str, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM connect_links WHERE project_id = ?1 AND account_id = ?2",
            params![project_id, id],
        )?;
        let changed = tx.execute(
            "DELETE FROM connected_accounts WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
        )?;
        tx.commit()?;
        drop(conn);
        self.account_changes.bump(project_id);
        Ok(changed == 1)
    }

    /// One account of a project.
    pub fn account(&self, project_id: &str, id: &str) -> Result<Option<AccountRecord>> {
        let row = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM connected_accounts WHERE project_id = ?1 AND id = ?2"
                ),
                params![project_id, id],
                account_row,
            )
            .optional()?;
        row.map(|row| self.open_account(row)).transpose()
    }

    /// Accounts of one user (optionally of one toolkit), oldest first
    /// (insertion order within a second).
    pub fn accounts_for_user(
        &self,
        project_id: &str,
        user_id: &str,
        toolkit: Option<&str>,
    ) -> Result<Vec<AccountRecord>> {
        let rows: Vec<SealedAccount> = {
            let conn = self.conn();
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM connected_accounts
                 WHERE project_id = ?1 AND user_id = ?2 AND (?3 IS NULL OR toolkit = ?3)
                 ORDER BY created_at, rowid"
            ))?;
            stmt.query_map(params![project_id, user_id, toolkit], account_row)?
                .collect::<rusqlite::Result<_>>()?
        };
        rows.into_iter().map(|row| self.open_account(row)).collect()
    }

    /// One page of a project's accounts matching `filter`, oldest first,
    /// and how many match in all.
    pub fn list_accounts(
        &self,
        project_id: &str,
        filter: &AccountFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<AccountRecord>, usize)> {
        // Each list filter is bound as one JSON array (NULL for "any"), so
        // the statement stays fixed whatever the number of values.
        let list = |values: &Option<Vec<String>>| -> Result<Option<String>> {
            Ok(values.as_ref().map(serde_json::to_string).transpose()?)
        };
        let (users, toolkits, statuses, configs, ids) = (
            list(&filter.users)?,
            list(&filter.toolkits)?,
            list(&filter.statuses)?,
            list(&filter.auth_configs)?,
            list(&filter.ids)?,
        );
        const MATCHES: &str = "project_id = ?1
             AND (?2 IS NULL OR user_id IN (SELECT value FROM json_each(?2)))
             AND (?3 IS NULL OR toolkit IN (SELECT value FROM json_each(?3)))
             AND (?4 IS NULL OR status IN (SELECT value FROM json_each(?4)))
             AND (?5 IS NULL OR auth_config_id IN (SELECT value FROM json_each(?5)))
             AND (?6 IS NULL OR id IN (SELECT value FROM json_each(?6)))";
        let clamp = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let (rows, total): (Vec<SealedAccount>, i64) = {
            let conn = self.conn();
            let total = conn.query_row(
                &format!("SELECT COUNT(*) FROM connected_accounts WHERE {MATCHES}"),
                params![project_id, users, toolkits, statuses, configs, ids],
                |row| row.get(0),
            )?;
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM connected_accounts WHERE {MATCHES}
                 ORDER BY created_at, rowid LIMIT ?7 OFFSET ?8"
            ))?;
            let rows = stmt
                .query_map(
                    params![
                        project_id,
                        users,
                        toolkits,
                        statuses,
                        configs,
                        ids,
                        clamp(limit),
                        clamp(offset)
                    ],
                    account_row,
                )?
                .collect::<rusqlite::Result<_>>()?;
            (rows, total)
        };
        let accounts = rows
            .into_iter()
            .map(|row| self.open_account(row))
            .collect::<Result<_>>()?;
        Ok((accounts, usize::try_from(total).unwrap_or(0)))
    }
}
