//! Outstanding file URLs: random tokens, each granting for an hour one
//! upload or the downloads of one path in a session's files mount, or the
//! upload of one staged file (a file-typed tool argument).
//!
//! Kept in memory (they expire within the hour). An upload URL works once;
//! every URL of a session dies with the session. Each project may hold
//! [`MAX_URLS_PER_PROJECT`] at once, so one tenant cannot grow the table
//! without bound; expired grants are dropped as new ones are issued, in
//! expiry order (the TTL is fixed, so that is issue order), never by a scan
//! of the whole table.

use crate::error::ApiError;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a file URL stays valid.
pub const URL_TTL: Duration = Duration::from_secs(3600);
/// Most unexpired URLs one project may hold.
pub const MAX_URLS_PER_PROJECT: usize = 10_000;

/// What a token is for.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A path in a session's files mount.
    SessionFile {
        /// The session whose files mount holds the path.
        session_id: String,
        /// The mount-relative path (checked when issued).
        rel: PathBuf,
    },
    /// A staged file of the project (its key; see `crate::staged`).
    Staged {
        /// The key the upload request returned.
        key: String,
    },
}

/// What a token grants.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The project the URL was issued to (its request rate applies).
    pub project_id: String,
    /// What it reaches.
    pub target: Target,
    /// An upload URL (single use) or a download URL.
    pub upload: bool,
    expires: Instant,
}

/// The table of outstanding URLs.
#[derive(Default)]
pub struct Tokens {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    grants: HashMap<String, Grant>,
    projects: HashMap<String, ProjectUrls>,
}

/// One project's URLs in issue (= expiry) order; `live` counts those still
/// in `grants` (used uploads and revoked ones leave stale entries behind,
/// dropped when their time comes).
#[derive(Default)]
struct ProjectUrls {
    order: VecDeque<(Instant, String)>,
    live: usize,
}

impl Tokens {
    /// Issues a URL token for `target`; 429 when the project already holds
    /// [`MAX_URLS_PER_PROJECT`] unexpired ones.
    pub fn issue(
        &self,
        project_id: &str,
        target: Target,
        upload: bool,
    ) -> Result<String, ApiError> {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.drop_expired(project_id, now);
        let live = table.projects.get(project_id).map_or(0, |p| p.live);
        if live >= MAX_URLS_PER_PROJECT {
            return Err(ApiError::TooManyRequests(format!(
                "this project holds {MAX_URLS_PER_PROJECT} unexpired file URLs, its limit; they expire {} minutes after they are made (upload URLs when used)",
                URL_TTL.as_secs() / 60
            )));
        }
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let expires = now + URL_TTL;
        table.grants.insert(
            token.clone(),
            Grant {
                project_id: project_id.to_owned(),
                target,
                upload,
                expires,
            },
        );
        let urls = table.projects.entry(project_id.to_owned()).or_default();
        urls.order.push_back((expires, token.clone()));
        urls.live += 1;
        Ok(token)
    }

    /// The grant behind a token of the given kind, once `admit` accepts its
    /// project (the request-rate check). Taking an upload URL consumes it
    /// (a failed upload needs a new URL).
    pub fn take(
        &self,
        token: &str,
        upload: bool,
        admit: impl FnOnce(&str) -> Result<(), ApiError>,
    ) -> Result<Grant, ApiError> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let grant = match table.grants.get(token) {
            Some(g) if g.upload == upload && g.expires > Instant::now() => g.clone(),
            _ => {
                return Err(ApiError::NotFound(
                    "this file URL is unknown, expired or already used".into(),
                ));
            }
        };
        admit(&grant.project_id)?;
        if upload {
            table.remove(token);
        }
        Ok(grant)
    }

    /// Revokes every URL of a session (it was deleted).
    pub fn revoke_session(&self, session_id: &str) {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let doomed: Vec<String> = table
            .grants
            .iter()
            .filter(|(_, g)| {
                matches!(&g.target, Target::SessionFile { session_id: s, .. } if s == session_id)
            })
            .map(|(token, _)| token.clone())
            .collect();
        for token in doomed {
            table.remove(&token);
        }
    }

    /// Unexpired URLs a project holds.
    pub fn live(&self, project_id: &str) -> usize {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.drop_expired(project_id, Instant::now());
        table.projects.get(project_id).map_or(0, |p| p.live)
    }
}

impl Table {
    fn remove(&mut self, token: &str) {
        if let Some(grant) = self.grants.remove(token)
            && let Some(urls) = self.projects.get_mut(&grant.project_id)
        {
            urls.live = urls.live.saturating_sub(1);
        }
    }

    /// Drops the project's grants that have expired (oldest first; stops at
    /// the first one that has not).
    fn drop_expired(&mut self, project_id: &str, now: Instant) {
        loop {
            let Some(urls) = self.projects.get_mut(project_id) else {
                return;
            };
            let expired = urls
                .order
                .front()
                .is_some_and(|(expires, _)| *expires <= now);
            match urls.order.pop_front() {
                Some((_, token)) if expired => self.remove(&token),
                Some(unexpired) => {
                    urls.order.push_front(unexpired);
                    return;
                }
                None => {
                    self.projects.remove(project_id);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit_all(_: &str) -> Result<(), ApiError> {
        Ok(())
    }

    fn file(session_id: &str, rel: &str) -> Target {
        Target::SessionFile {
            session_id: session_id.into(),
            rel: rel.into(),
        }
    }

    #[test]
    fn uploads_work_once_downloads_again_and_sessions_take_theirs_along() {
        let tokens = Tokens::default();
        let up = tokens.issue("p", file("s1", "a.txt"), true).unwrap();
        let down = tokens.issue("p", file("s1", "a.txt"), false).unwrap();
        let other = tokens.issue("p", file("s2", "b.txt"), false).unwrap();
        assert_eq!(tokens.live("p"), 3);
        // The wrong kind is unknown.
        assert!(tokens.take(&up, false, admit_all).is_err());
        assert_eq!(
            tokens.take(&up, true, admit_all).unwrap().target,
            file("s1", "a.txt")
        );
        assert!(
            tokens.take(&up, true, admit_all).is_err(),
            "upload URLs are single-use"
        );
        assert!(tokens.take(&down, false, admit_all).is_ok());
        assert!(tokens.take(&down, false, admit_all).is_ok());
        assert_eq!(tokens.live("p"), 2);
        tokens.revoke_session("s1");
        assert!(tokens.take(&down, false, admit_all).is_err());
        assert!(tokens.take(&other, false, admit_all).is_ok());
        assert_eq!(tokens.live("p"), 1);
    }

    #[test]
    fn a_refused_admission_does_not_consume_an_upload_url() {
        let tokens = Tokens::default();
        let up = tokens.issue("p", file("s", "a"), true).unwrap();
        let refused = tokens.take(&up, true, |project| {
            assert_eq!(project, "p");
            Err(ApiError::TooManyRequests("slow down".into()))
        });
        assert!(matches!(refused, Err(ApiError::TooManyRequests(_))));
        assert!(tokens.take(&up, true, admit_all).is_ok());
    }

    #[test]
    fn a_project_at_its_limit_is_refused_and_others_are_not() {
        let tokens = Tokens::default();
        for _ in 0..MAX_URLS_PER_PROJECT {
            tokens.issue("greedy", file("s", "f"), false).unwrap();
        }
        assert!(matches!(
            tokens.issue("greedy", file("s", "f"), false),
            Err(ApiError::TooManyRequests(_))
        ));
        assert!(tokens.issue("other", file("t", "f"), false).is_ok());
        // Using (uploads) or revoking frees room.
        tokens.revoke_session("s");
        assert_eq!(tokens.live("greedy"), 0);
        assert!(tokens.issue("greedy", file("s2", "f"), true).is_ok());
    }

    #[test]
    fn expired_grants_are_dropped_in_order() {
        let tokens = Tokens::default();
        let old = tokens.issue("p", file("s", "f"), false).unwrap();
        let young = tokens.issue("p", file("s", "g"), false).unwrap();
        let later = Instant::now() + URL_TTL + Duration::from_secs(1);
        {
            // Age the first grant past its expiry.
            let mut table = tokens.table.lock().unwrap();
            let first = table.grants.get_mut(&old).unwrap();
            first.expires = Instant::now();
            table.projects.get_mut("p").unwrap().order[0].0 = Instant::now();
        }
        assert!(tokens.take(&old, false, admit_all).is_err());
        assert_eq!(tokens.live("p"), 1);
        assert!(tokens.take(&young, false, admit_all).is_ok());
        let mut table = tokens.table.lock().unwrap();
        table.drop_expired("p", later);
        assert!(table.grants.is_empty());
        assert!(table.projects.is_empty());
    }
}
