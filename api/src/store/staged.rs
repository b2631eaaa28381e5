//! Staged files: what the SDKs upload before a tool call with a file
//! argument (`files/upload/request`), by project and key. The bytes are in
//! the data directory (`crate::staged`); these rows say what they are.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};

/// One staged file.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedRecord {
    /// `sf_...`: also the name of its bytes on disk.
    pub id: String,
    /// The project it belongs to.
    pub project_id: String,
    /// What tool calls name it by (`s3key`).
    pub key: String,
    /// The file's name as the client gave it.
    pub filename: String,
    /// Its media type, as signed into the upload URL.
    pub mimetype: String,
    /// The MD5 (hex) the client declared; the upload must match it.
    pub md5: String,
    /// The tool it was staged for.
    pub tool_slug: String,
    /// That tool's toolkit.
    pub toolkit_slug: String,
    /// Its size once uploaded; `None` while the upload URL is outstanding.
    pub size: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

/// One project's staged files, for the quota.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StagedUsage {
    /// Rows, uploaded or not.
    pub files: i64,
    /// Bytes of the uploaded ones.
    pub bytes: i64,
}

const COLUMNS: &str =
    "id, project_id, key, filename, mimetype, md5, tool_slug, toolkit_slug, size, created_at";

fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<StagedRecord> {
    Ok(StagedRecord {
        id: row.get(0)?,
        project_id: row.get(1)?,
        key: row.get(2)?,
        filename: row.get(3)?,
        mimetype: row.get(4)?,
        md5: row.get(5)?,
        tool_slug: row.get(6)?,
        toolkit_slug: row.get(7)?,
        size: row.get(8)?,
        created_at: row.get(9)?,
    })
}

impl Store {
    /// Records a staged file (its upload still to come).
    pub fn add_staged(&self, file: &StagedRecord) -> Result<(), StoreError> {
        self.conn().execute(
            &format!("INSERT INTO staged_files ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                file.id,
                file.project_id,
                file.key,
                file.filename,
                file.mimetype,
                file.md5,
                file.tool_slug,
                file.toolkit_slug,
                file.size,
                file.created_at
            ],
        )?;
        Ok(())
    }

    /// The staged file `key` of `project_id`, if any.
    pub fn staged(&self, project_id: &str, key: &str) -> Result<Option<StagedRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM staged_files WHERE project_id = ?1 AND key = ?2"),
                params![project_id, key],
                record,
            )
            .optional()?)
    }

    /// Records that the bytes of `id` (`size` of them) arrived.
    pub fn set_staged_size(&self, id: &str, size: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE staged_files SET size = ?2 WHERE id = ?1",
            params![id, size],
        )?;
        Ok(())
    }

    /// Forgets a staged file.
    pub fn remove_staged(&self, id: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM staged_files WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// How much `project_id` has staged.
    pub fn staged_usage(&self, project_id: &str) -> Result<StagedUsage, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM staged_files WHERE project_id = ?1",
            params![project_id],
            |row| {
                Ok(StagedUsage {
                    files: row.get(0)?,
                    bytes: row.get(1)?,
                })
            },
        )?)
    }

    /// A page of `project_id`'s uploaded files, newest first, filtered by
    /// toolkit and tool; and how many match in all.
    pub fn list_staged(
        &self,
        project_id: &str,
        toolkit_slug: Option<&str>,
        tool_slug: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<StagedRecord>, usize), StoreError> {
        let conn = self.conn();
        let filter = "WHERE project_id = ?1 AND size IS NOT NULL
             AND (?2 IS NULL OR toolkit_slug = ?2) AND (?3 IS NULL OR tool_slug = ?3)";
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM staged_files {filter}"),
            params![project_id, toolkit_slug, tool_slug],
            |row| row.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM staged_files {filter}
             ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
        ))?;
        let rows = stmt
            .query_map(
                params![
                    project_id,
                    toolkit_slug,
                    tool_slug,
                    limit as i64,
                    offset as i64
                ],
                record,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, usize::try_from(total).unwrap_or(0)))
    }

    /// Removes the rows of files staged at or before `cutoff` and returns
    /// their ids (whose bytes the caller deletes).
    pub fn expire_staged(&self, cutoff: i64) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("DELETE FROM staged_files WHERE created_at <= ?1 RETURNING id")?;
        let ids = stmt
            .query_map(params![cutoff], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(id: &str, project: &str, key: &str, at: i64) -> StagedRecord {
        StagedRecord {
            id: id.into(),
            project_id: project.into(),
            key: key.into(),
            filename: "a.txt".into(),
            mimetype: "text/plain".into(),
            md5: "00".into(),
            tool_slug: "SLACK_UPLOAD_FILE".into(),
            toolkit_slug: "slack".into(),
            size: None,
            created_at: at,
        }
    }

    #[test]
    fn staged_files_are_per_project_listed_when_uploaded_and_expire() {
        let store = Store::open_in_memory().unwrap();
        store.create_project("p", "p").unwrap();
        store.create_project("q", "q").unwrap();
        store.add_staged(&staged("sf_1", "p", "k1", 10)).unwrap();
        store.add_staged(&staged("sf_2", "p", "k2", 20)).unwrap();
        store.add_staged(&staged("sf_3", "q", "k1", 30)).unwrap();
        assert!(store.add_staged(&staged("sf_4", "p", "k1", 40)).is_err());
        assert_eq!(store.staged("p", "k1").unwrap().unwrap().id, "sf_1");
        assert_eq!(store.staged("q", "k1").unwrap().unwrap().id, "sf_3");
        assert_eq!(store.staged("q", "k2").unwrap(), None);
        // Only uploaded files are listed.
        assert_eq!(store.list_staged("p", None, None, 0, 10).unwrap().1, 0);
        store.set_staged_size("sf_1", 5).unwrap();
        store.set_staged_size("sf_2", 7).unwrap();
        let (page, total) = store.list_staged("p", Some("slack"), None, 0, 1).unwrap();
        assert_eq!((page[0].id.as_str(), total), ("sf_2", 2));
        assert_eq!(
            store
                .list_staged("p", None, Some("OTHER"), 0, 10)
                .unwrap()
                .1,
            0
        );
        assert_eq!(
            store.staged_usage("p").unwrap(),
            StagedUsage {
                files: 2,
                bytes: 12
            }
        );
        assert_eq!(store.expire_staged(20).unwrap().len(), 2);
        assert_eq!(store.staged_usage("p").unwrap(), StagedUsage::default());
        assert!(store.staged("q", "k1").unwrap().is_some());
    }
}
