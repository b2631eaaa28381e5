//! Auth configs: per project and toolkit, how connections authenticate.
//! Their secret settings (an OAuth client secret, ...) are sealed under the
//! master key like account credentials; an empty string stores "none".

use super::{AuthConfigFilter, AuthConfigRecord, Store, StoreError};
use rusqlite::{OptionalExtension, params};
use serde_json::Map;

type Result<T> = std::result::Result<T, StoreError>;

/// The columns every auth-config query reads, in [`config_row`]'s order.
const COLUMNS: &str = "id, project_id, toolkit, name, auth_scheme, managed, enabled, credentials, \
     settings, created_at, updated_at";

/// A row with its secrets still sealed.
struct SealedConfig {
    record: AuthConfigRecord,
    sealed: String,
    settings: String,
}

fn config_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SealedConfig> {
    Ok(SealedConfig {
        record: AuthConfigRecord {
            id: row.get(0)?,
            project_id: row.get(1)?,
            toolkit: row.get(2)?,
            name: row.get(3)?,
            auth_scheme: row.get(4)?,
            managed: row.get(5)?,
            enabled: row.get(6)?,
            credentials: Map::new(),
            settings: Map::new(),
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
        },
        sealed: row.get(7)?,
        settings: row.get(8)?,
    })
}

impl Store {
    fn open_config(&self, row: SealedConfig) -> Result<AuthConfigRecord> {
        let mut record = row.record;
        if !row.sealed.is_empty() {
            let plain = self.secrets.sealer.open(&row.sealed, &record.id)?;
            record.credentials = serde_json::from_slice(&plain)?;
        }
        record.settings = serde_json::from_str(&row.settings)?;
        Ok(record)
    }

    fn seal_config(&self, config: &AuthConfigRecord) -> Result<String> {
        if config.credentials.is_empty() {
            return Ok(String::new());
        }
        Ok(self.secrets.sealer.seal(
            serde_json::to_string(&config.credentials)?.as_bytes(),
            &config.id,
        )?)
    }

    /// Stores an auth config.
    pub fn create_auth_config(&self, config: &AuthConfigRecord) -> Result<()> {
        self.conn().execute(
            &format!(
                "INSERT INTO auth_configs ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                config.id,
                config.project_id,
                config.toolkit,
                config.name,
                config.auth_scheme,
                config.managed,
                config.enabled,
                self.seal_config(config)?,
                serde_json::to_string(&config.settings)?,
                config.created_at,
                config.updated_at,
            ],
        )?;
        Ok(())
    }

    /// Writes an auth config's name, flags, secrets and settings; false
    /// when it no longer exists.
    pub fn update_auth_config(&self, config: &AuthConfigRecord) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE auth_configs
             SET name = ?3, managed = ?4, enabled = ?5, credentials = ?6, settings = ?7,
                 updated_at = ?8
             WHERE project_id = ?1 AND id = ?2",
            params![
                config.project_id,
                config.id,
                config.name,
                config.managed,
                config.enabled,
                self.seal_config(config)?,
                serde_json::to_string(&config.settings)?,
                config.updated_at,
            ],
        )?;
        Ok(changed == 1)
    }

    /// Deletes an auth config and every account made under it (one
    /// transaction); false when there was none.
    pub fn delete_auth_config(&self, project_id: &str, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM connect_links WHERE project_id = ?1 AND account_id IN (
                 SELECT id FROM connected_accounts WHERE project_id = ?1 AND auth_config_id = ?2)",
            params![project_id, id],
        )?;
        tx.execute(
            "DELETE FROM connected_accounts WHERE project_id = ?1 AND auth_config_id = ?2",
            params![project_id, id],
        )?;
        let changed = tx.execute(
            "DELETE FROM auth_configs WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
        )?;
        tx.commit()?;
        drop(conn);
        self.account_changes.bump(project_id);
        Ok(changed == 1)
    }

    /// One auth config of a project.
    pub fn auth_config(&self, project_id: &str, id: &str) -> Result<Option<AuthConfigRecord>> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM auth_configs WHERE project_id = ?1 AND id = ?2"),
                params![project_id, id],
                config_row,
            )
            .optional()?;
        row.map(|row| self.open_config(row)).transpose()
    }

    /// One page of a project's auth configs matching `filter`, newest
    /// first, with how many match in all and each one's number of accounts.
    pub fn list_auth_configs(
        &self,
        project_id: &str,
        filter: &AuthConfigFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<(AuthConfigRecord, usize)>, usize)> {
        const MATCHES: &str = "c.project_id = ?1
             AND (?2 IS NULL OR c.toolkit = ?2)
             AND (?3 IS NULL OR c.managed = ?3)
             AND (?4 OR c.enabled)
             AND (?5 IS NULL OR instr(lower(c.name || ' ' || c.id || ' ' || c.toolkit), lower(?5)) > 0)";
        let search = filter.search.as_deref();
        let clamp = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let (rows, total): (Vec<(SealedConfig, i64)>, i64) = {
            let conn = self.conn();
            let total = conn.query_row(
                &format!("SELECT COUNT(*) FROM auth_configs c WHERE {MATCHES}"),
                params![
                    project_id,
                    filter.toolkit,
                    filter.managed,
                    filter.show_disabled,
                    search
                ],
                |row| row.get(0),
            )?;
            let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("c.{c}")).collect();
            let mut stmt = conn.prepare(&format!(
                "SELECT {}, (SELECT COUNT(*) FROM connected_accounts a
                             WHERE a.project_id = c.project_id AND a.auth_config_id = c.id)
                 FROM auth_configs c WHERE {MATCHES}
                 ORDER BY c.created_at DESC, c.rowid DESC LIMIT ?6 OFFSET ?7",
                columns.join(", ")
            ))?;
            let rows = stmt
                .query_map(
                    params![
                        project_id,
                        filter.toolkit,
                        filter.managed,
                        filter.show_disabled,
                        search,
                        clamp(limit),
                        clamp(offset)
                    ],
                    |row| Ok((config_row(row)?, row.get::<_, i64>(11)?)),
                )?
                .collect::<rusqlite::Result<_>>()?;
            (rows, total)
        };
        let configs = rows
            .into_iter()
            .map(|(row, accounts)| {
                Ok((
                    self.open_config(row)?,
                    usize::try_from(accounts).unwrap_or(0),
                ))
            })
            .collect::<Result<_>>()?;
        Ok((configs, usize::try_from(total).unwrap_or(0)))
    }

    /// The project's auth config for `toolkit` and `scheme` that new
    /// connections use by default (the oldest enabled one), if any.
    pub fn default_auth_config(
        &self,
        project_id: &str,
        toolkit: &str,
        scheme: Option<&str>,
    ) -> Result<Option<AuthConfigRecord>> {
        let row = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM auth_configs
                     WHERE project_id = ?1 AND toolkit = ?2 AND enabled
                       AND (?3 IS NULL OR auth_scheme = ?3)
                     ORDER BY created_at, rowid LIMIT 1"
                ),
                params![project_id, toolkit, scheme],
                config_row,
            )
            .optional()?;
        row.map(|row| self.open_config(row)).transpose()
    }
}
