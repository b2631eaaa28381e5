//! Retry safety for tool executes.
//!
//! Both Composio SDKs retry on 5xx answers and on their own timeouts (the
//! TypeScript one twice, after 60 s each), so without care a workbench cell
//! longer than a minute runs three times. Here:
//!
//! - an execute runs as a task of its own, so a caller that gives up (its
//!   timeout, a closed connection) does not cancel it halfway;
//! - an execute identical to one still running (same project, session,
//!   tool, arguments and options, compared by the SHA-256 of their
//!   canonical JSON) joins it and gets its answer instead of running again;
//! - with an `Idempotency-Key` header, a completed answer is kept for 24 h
//!   and a repeat gets it (`idempotent-replayed: true`); the key sent with
//!   a different request is a 422;
//! - a 500 from an execute says `x-should-retry: false`: the tool may have
//!   run, so the SDKs must not repeat it on their own.
//!
//! Identical executes without a key that arrive after the first finished
//! run again: calling a tool twice on purpose is normal.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoredReply;

/// The header a caller names a request with.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on an answer that was not produced for this request (joined or
/// stored).
pub const REPLAYED: &str = "idempotent-replayed";
/// Longest key accepted.
const MAX_KEY_BYTES: usize = 255;

type Answer = Result<Arc<Value>, Arc<ApiError>>;

/// Executes in flight, by project and key or request digest.
#[derive(Default)]
pub struct Replays {
    in_flight: Mutex<HashMap<String, Flight>>,
}

#[derive(Clone)]
struct Flight {
    request_hash: String,
    answer: watch::Receiver<Option<Answer>>,
}

/// The `Idempotency-Key` of a request, checked: printable ASCII, at most
/// 255 bytes.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_BYTES)
        .filter(|k| k.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Idempotency-Key: must be 1 to {MAX_KEY_BYTES} printable ASCII characters"
            ))
        })?;
    Ok(Some(key.to_owned()))
}

/// The SHA-256 (hex) of `request`'s canonical JSON (object keys sorted at
/// every level), so key order does not make two requests differ.
pub fn fingerprint(request: &Value) -> String {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), canonical(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let bytes = serde_json::to_vec(&canonical(request)).unwrap_or_default();
    format!("{:x}", Sha256::digest(bytes))
}

impl Replays {
    /// Answers an execute of `project`: a stored answer under `key`, the
    /// answer of an identical execute in flight, or `run`'s, run once in a
    /// task of its own. `request` is what makes two executes the same.
    pub async fn execute<F>(
        &self,
        state: &AppState,
        project: &str,
        key: Option<String>,
        request: &Value,
        run: F,
    ) -> Response
    where
        F: Future<Output = Result<Value, ApiError>> + Send + 'static,
    {
        let request_hash = fingerprint(request);
        if let Some(key) = &key {
            let (p, k) = (project.to_owned(), key.clone());
            let stored = state
                .store
                .run(move |store| store.idempotent_reply(&p, &k, crate::store::now()))
                .await;
            match stored {
                Ok(Some(stored)) if stored.request_hash != request_hash => {
                    return reused(key).into_response();
                }
                Ok(Some(stored)) => {
                    return match serde_json::from_str::<Value>(&stored.body) {
                        Ok(body) => replayed(Json(body).into_response()),
                        Err(err) => ApiError::internal(err).into_response(),
                    };
                }
                Ok(None) => {}
                Err(err) => return ApiError::internal(err).into_response(),
            }
        }
        let flight_key = match &key {
            Some(key) => format!("{project}\0key\0{key}"),
            None => format!("{project}\0request\0{request_hash}"),
        };
        let (mut answer, joined) = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            match in_flight.get(&flight_key) {
                Some(flight) if flight.request_hash != request_hash => {
                    return reused(key.as_deref().unwrap_or_default()).into_response();
                }
                Some(flight) => (flight.answer.clone(), true),
                None => {
                    let (tx, rx) = watch::channel(None);
                    in_flight.insert(
                        flight_key.clone(),
                        Flight {
                            request_hash: request_hash.clone(),
                            answer: rx.clone(),
                        },
                    );
                    let landing = Landing {
                        state: state.clone(),
                        flight_key,
                    };
                    let keep = key.map(|key| (project.to_owned(), key, request_hash));
                    tokio::spawn(async move {
                        let outcome = run.await;
                        if let (Ok(body), Some((project, key, request_hash))) = (&outcome, keep) {
                            let reply = StoredReply {
                                request_hash,
                                body: body.to_string(),
                            };
                            let kept = landing
                                .state
                                .store
                                .run(move |store| {
                                    store.put_idempotent_reply(
                                        &project,
                                        &key,
                                        &reply,
                                        crate::store::now(),
                                    )
                                })
                                .await;
                            if let Err(err) = kept {
                                tracing::warn!(error = %err, "could not keep an idempotent answer");
                            }
                        }
                        drop(landing);
                        let _ = tx.send(Some(outcome.map(Arc::new).map_err(Arc::new)));
                    });
                    (rx, false)
                }
            }
        };
        let outcome = match answer.wait_for(Option::is_some).await {
            Ok(done) => done.clone(),
            Err(_) => None,
        };
        let response = match outcome {
            Some(Ok(body)) => Json(body.as_ref().clone()).into_response(),
            Some(Err(err)) => err.duplicate().into_response(),
            None => ApiError::internal(std::io::Error::other(
                "the execute's task ended without an answer",
            ))
            .into_response(),
        };
        let mut response = if joined { replayed(response) } else { response };
        if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
        }
        response
    }

    /// How many executes are running (for tests and diagnostics).
    pub fn in_flight(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

/// Removes a flight from the map when its task ends, however it ends.
struct Landing {
    state: AppState,
    flight_key: String,
}

impl Drop for Landing {
    fn drop(&mut self) {
        self.state
            .replays
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.flight_key);
    }
}

fn reused(key: &str) -> ApiError {
    ApiError::Unprocessable(format!(
        "Idempotency-Key {} was used for a different request; use a new key for a new request",
        crate::error::clip(key, 64)
    ))
}

fn replayed(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Two identical executes while the first runs: the second never runs
    /// its own future and gets the first's answer, marked replayed; the
    /// same request after it finished runs again. Single-threaded, so the
    /// second caller has joined once the test yields to it.
    #[tokio::test(flavor = "current_thread")]
    async fn an_identical_execute_in_flight_is_joined_not_run_again() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(dir.path(), 4).await;
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let request = serde_json::json!({"tool": "T", "arguments": {"a": 1}});
        let counted = |gate: Option<tokio::sync::oneshot::Receiver<()>>| {
            let runs = runs.clone();
            async move {
                let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(gate) = gate {
                    let _ = gate.await;
                }
                Ok(serde_json::json!({"run": n}))
            }
        };
        let first = tokio::spawn({
            let (state, request, run) = (state.clone(), request.clone(), counted(Some(released)));
            async move {
                state
                    .replays
                    .execute(&state, "p", None, &request, run)
                    .await
            }
        });
        tokio::task::yield_now().await;
        assert_eq!(state.replays.in_flight(), 1);
        let second = tokio::spawn({
            let (state, request, run) = (state.clone(), request.clone(), counted(None));
            async move {
                state
                    .replays
                    .execute(&state, "p", None, &request, run)
                    .await
            }
        });
        tokio::task::yield_now().await;
        // Another project's identical request is not the same execute.
        let other = state
            .replays
            .execute(&state, "q", None, &request, counted(None))
            .await;
        assert_eq!(other.status(), StatusCode::OK);
        release.send(()).unwrap();
        let (first, second) = (first.await.unwrap(), second.await.unwrap());
        assert!(first.headers().get(REPLAYED).is_none());
        assert_eq!(second.headers().get(REPLAYED).unwrap(), "true");
        let body = |r: Response| async move {
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        };
        assert_eq!(body(first).await, serde_json::json!({"run": 1}));
        assert_eq!(body(second).await, serde_json::json!({"run": 1}));
        assert_eq!(runs.load(Ordering::SeqCst), 2, "run once, plus project q's");
        assert_eq!(state.replays.in_flight(), 0);
        let later = state
            .replays
            .execute(&state, "p", None, &request, counted(None))
            .await;
        assert_eq!(body(later).await, serde_json::json!({"run": 3}));
    }

    /// A failed execute's 500 tells the SDKs not to repeat it.
    #[tokio::test]
    async fn an_internal_error_says_do_not_retry() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(dir.path(), 4).await;
        let failed = state
            .replays
            .execute(&state, "p", None, &Value::Null, async {
                Err(ApiError::internal(std::io::Error::other("boom")))
            })
            .await;
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.headers().get("x-should-retry").unwrap(), "false");
        let busy = state
            .replays
            .execute(&state, "p", None, &Value::Null, async {
                Err(ApiError::Unavailable("full".into()))
            })
            .await;
        assert!(busy.headers().get("x-should-retry").is_none());
    }

    #[test]
    fn fingerprints_ignore_key_order_only() {
        let a = serde_json::json!({"slug": "X", "arguments": {"a": 1, "b": [{"c": 2, "d": 3}]}});
        let b = serde_json::json!({"arguments": {"b": [{"d": 3, "c": 2}], "a": 1}, "slug": "X"});
        let c = serde_json::json!({"arguments": {"b": [{"d": 3, "c": 2}], "a": 2}, "slug": "X"});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn keys_are_checked() {
        let mut headers = HeaderMap::new();
        assert_eq!(idempotency_key(&headers).unwrap(), None);
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_static("run-42"));
        assert_eq!(
            idempotency_key(&headers).unwrap().as_deref(),
            Some("run-42")
        );
        for bad in ["", &"k".repeat(256)] {
            headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_str(bad).unwrap());
            assert!(idempotency_key(&headers).is_err(), "{bad}");
        }
        headers.insert(
            IDEMPOTENCY_KEY,
            HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        );
        assert!(idempotency_key(&headers).is_err());
    }
}
