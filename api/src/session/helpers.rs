//! Workbench helpers that run on the host, behind the bridge: a cell's
//! `invoke_llm(query)` asks the operator's OpenAI-compatible model
//! (`[llm]` in `--config`), and `web_search(query)` runs the catalog tool
//! the operator names (`[workbench] web_search_tool`) with the session
//! user's account. The guest sends only the query; the model's URL and key
//! stay here, and an upstream error reaches the cell without them.

use crate::catalog::Catalog;
use crate::session::app_tools::{self, AppTools, Caller};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use toolshed_engine::ToolResult;

/// The slug a cell's `invoke_llm` calls the bridge with.
pub const INVOKE_LLM: &str = "TOOLSHED_INVOKE_LLM";
/// The slug a cell's `web_search` calls the bridge with.
pub const WEB_SEARCH: &str = "TOOLSHED_WEB_SEARCH";
/// The slug a cell's `upload_local_file` calls the bridge with, once the
/// file (or the zip of several) is in the files mount.
pub const UPLOAD: &str = "TOOLSHED_UPLOAD_LOCAL_FILE";
/// Longest query sent on.
const MAX_QUERY_BYTES: usize = 256 << 10;
/// Largest model answer read.
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// `[llm]` of the config file.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// The API's base URL, up to `/v1` (`/chat/completions` is appended).
    pub base_url: String,
    /// The model to ask.
    pub model: String,
    /// The API key, or...
    #[serde(default)]
    pub api_key: Option<String>,
    /// ...the environment variable holding it.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// `max_tokens` of each request (default 1024).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Seconds a request may take (default 120).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// Never the key.
impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSettings")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("api_key_env", &self.api_key_env)
            .finish_non_exhaustive()
    }
}

/// `[workbench]` of the config file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkbenchSettings {
    /// The catalog tool `web_search` runs.
    #[serde(default)]
    pub web_search_tool: Option<String>,
    /// The argument the query goes in (default `query`).
    #[serde(default)]
    pub web_search_query_field: Option<String>,
}

/// The model `invoke_llm` asks.
struct Llm {
    url: String,
    model: String,
    key: Option<String>,
    max_tokens: u32,
    client: reqwest::Client,
}

/// Never the key: the server's config is logged with `{:?}`.
impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

/// The helpers' settings, checked.
#[derive(Debug, Default)]
pub struct Helpers {
    llm: Option<Llm>,
    web_search: Option<(String, String)>,
}

impl Helpers {
    /// Checks the settings against the catalog; errors name the key.
    pub fn new(
        llm: Option<LlmSettings>,
        workbench: WorkbenchSettings,
        catalog: &Catalog,
    ) -> Result<Helpers, String> {
        let llm = match llm {
            None => None,
            Some(settings) => {
                if !crate::catalog::toolkit::is_http_url(&settings.base_url) {
                    return Err("llm.base_url: must be an http(s) URL".into());
                }
                if settings.model.trim().is_empty() {
                    return Err("llm.model: must not be empty".into());
                }
                let key = match (&settings.api_key, &settings.api_key_env) {
                    (Some(_), Some(_)) => {
                        return Err("llm: give api_key or api_key_env, not both".into());
                    }
                    (Some(key), None) => Some(key.clone()),
                    (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
                        format!("llm.api_key_env: the environment variable {var} is not set")
                    })?),
                    (None, None) => None,
                };
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(
                        settings.timeout_secs.unwrap_or(120).max(1),
                    ))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| format!("llm: {e}"))?;
                Some(Llm {
                    url: format!(
                        "{}/chat/completions",
                        settings.base_url.trim_end_matches('/')
                    ),
                    model: settings.model,
                    key,
                    max_tokens: settings.max_tokens.unwrap_or(1024),
                    client,
                })
            }
        };
        let web_search = match workbench.web_search_tool {
            None => None,
            Some(slug) => {
                let tool = catalog.tool(&slug).ok_or_else(|| {
                    format!("workbench.web_search_tool: no tool {slug} is loaded")
                })?;
                let field = workbench
                    .web_search_query_field
                    .unwrap_or_else(|| "query".into());
                if tool.tool.input_parameters["properties"]
                    .get(&field)
                    .is_none()
                {
                    return Err(format!(
                        "workbench.web_search_query_field: {slug} has no argument {field}"
                    ));
                }
                Some((tool.tool.slug.clone(), field))
            }
        };
        Ok(Helpers { llm, web_search })
    }

    /// Whether `slug` is a helper's.
    pub fn handles(slug: &str) -> bool {
        slug == INVOKE_LLM || slug == WEB_SEARCH || slug == UPLOAD
    }

    /// Runs the helper `slug` for `caller` with the cell's `arguments`.
    pub async fn run(
        &self,
        slug: &str,
        tools: &AppTools,
        caller: &Caller<'_>,
        arguments: Value,
        tool_execution_enabled: bool,
        links: &FileLinks,
    ) -> ToolResult {
        if slug == UPLOAD {
            return links.link(tools, &arguments).await;
        }
        let Some(query) = arguments["query"].as_str().filter(|q| !q.trim().is_empty()) else {
            return ToolResult::err("query: must be a non-empty string");
        };
        if query.len() > MAX_QUERY_BYTES {
            return ToolResult::err(format!("query: at most {} KiB", MAX_QUERY_BYTES >> 10));
        }
        if slug == INVOKE_LLM {
            let effort = arguments["reasoning_effort"].as_str();
            return match &self.llm {
                Some(llm) => llm.ask(query, effort).await,
                None => ToolResult::err(
                    "invoke_llm: this server has no language model configured (the operator sets [llm] in the --config file)",
                ),
            };
        }
        let Some((tool, field)) = &self.web_search else {
            return ToolResult::err(
                "web_search: this server has no search tool configured (the operator sets [workbench] web_search_tool in the --config file)",
            );
        };
        if !tool_execution_enabled {
            return ToolResult::err(
                "tool execution from the workbench is disabled in this session's config",
            );
        }
        let mut args = serde_json::Map::new();
        args.insert(field.clone(), Value::String(query.to_owned()));
        match app_tools::execute(tools, caller, tool, &Value::Object(args), None).await {
            Ok(outcome) => ToolResult {
                successful: outcome.execution.successful,
                data: outcome.execution.data,
                error: outcome.execution.error,
            },
            Err(_) => ToolResult::err("the server could not record the call; try again"),
        }
    }
}

impl Llm {
    /// One chat completion: the answer's text, or why there is none (never
    /// the URL or the key).
    async fn ask(&self, query: &str, effort: Option<&str>) -> ToolResult {
        let messages = json!([{"role": "user", "content": query}]);
        match self.chat(messages, effort).await {
            Ok(answer) => ToolResult {
                successful: true,
                data: json!({"text": answer.text, "model": answer.model, "usage": answer.usage}),
                error: None,
            },
            Err(err) => ToolResult::err(format!("invoke_llm: {err}")),
        }
    }

    async fn chat(&self, messages: Value, effort: Option<&str>) -> Result<Answer, String> {
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
        });
        if let Some(effort) = effort {
            if !["minimal", "low", "medium", "high"].contains(&effort) {
                return Err("reasoning_effort: must be minimal, low, medium or high".into());
            }
            body["reasoning_effort"] = json!(effort);
        }
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) if err.is_timeout() => return Err("the model did not answer in time".into()),
            Err(_) => return Err("the model could not be reached".into()),
        };
        let status = response.status();
        let bytes = read_capped(response)
            .await
            .ok_or("the model's answer was too large or cut off")?;
        let doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            let said = doc["error"]["message"]
                .as_str()
                .map(|m| format!(": {}", crate::error::clip(m, 300)))
                .unwrap_or_default();
            return Err(format!("the model answered {status}{said}"));
        }
        let text = doc["choices"][0]["message"]["content"]
            .as_str()
            .ok_or("the model's answer has no text")?;
        Ok(Answer {
            text: text.to_owned(),
            model: doc["model"].clone(),
            usage: doc["usage"].clone(),
        })
    }
}

/// A model's answer.
struct Answer {
    text: String,
    model: Value,
    usage: Value,
}

impl Helpers {
    /// Asks the configured model for `system` + `user`: its text, or why
    /// there is none (no model configured, or it failed).
    pub async fn complete(&self, system: &str, user: &str) -> Result<String, String> {
        let llm = self.llm.as_ref().ok_or(
            "this server has no language model configured (the operator sets [llm] in the --config file)",
        )?;
        let messages = json!([
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]);
        llm.chat(messages, None).await.map(|answer| answer.text)
    }
}

/// What `upload_local_file` needs to make a download URL for a file of
/// one session's mount.
pub struct FileLinks {
    /// The server's URL tokens.
    pub tokens: std::sync::Arc<crate::file_urls::Tokens>,
    /// Where clients reach this server (`None`: no HTTP, no URLs).
    pub base: Option<String>,
    /// The session's project.
    pub project_id: String,
    /// The session.
    pub session_id: String,
    /// The session's files mount on the host.
    pub files: std::path::PathBuf,
}

impl FileLinks {
    /// A download URL for `mount_relative_path` of the cell's arguments:
    /// a regular file inside the mount (no `..`, no escaping symlink); the
    /// file is also staged, so its `s3key` works as a file argument of a
    /// tool.
    async fn link(&self, tools: &AppTools, arguments: &Value) -> ToolResult {
        let Some(rel) = arguments["mount_relative_path"].as_str() else {
            return ToolResult::err("mount_relative_path: must be a string");
        };
        let path = std::path::Path::new(rel);
        let inside = !rel.is_empty()
            && path
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return ToolResult::err(format!(
                "{}: not a path inside /mnt/files",
                crate::error::clip(rel, 256)
            ));
        }
        let Some(base) = &self.base else {
            return ToolResult::err(
                "upload_local_file: this server has no HTTP address to link to (start it with --public-url)",
            );
        };
        let opened = cap_std::fs::Dir::open_ambient_dir(&self.files, cap_std::ambient_authority())
            .and_then(|dir| dir.open(path))
            .and_then(|file| Ok((file.metadata()?, file)));
        let (size, file) = match opened {
            Ok((meta, file)) if meta.is_file() => (meta.len(), file.into_std()),
            _ => {
                return ToolResult::err(format!(
                    "{}: no such file in /mnt/files",
                    crate::error::clip(rel, 256)
                ));
            }
        };
        let target = crate::file_urls::Target::SessionFile {
            session_id: self.session_id.clone(),
            rel: path.to_owned(),
        };
        let token = match self.tokens.issue(&self.project_id, target, false) {
            Ok(token) => token,
            Err(err) => return ToolResult::err(err.to_string()),
        };
        let url = format!("{base}/api/v3.1/files/{token}");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mimetype = mime_guess::from_path(path)
            .first_or_octet_stream()
            .essence_str()
            .to_owned();
        let staged = tools
            .staged
            .stage_copy(
                &tools.store,
                &self.project_id,
                file,
                crate::staged::UploadRequest {
                    filename: name.clone(),
                    mimetype: mimetype.clone(),
                    md5: String::new(),
                    tool_slug: UPLOAD.to_owned(),
                    toolkit_slug: "workbench".to_owned(),
                },
            )
            .await;
        let (id, s3key, message) = match staged {
            Ok(record) => (
                Value::String(record.id),
                Value::String(record.key),
                "the URL works for an hour without a key; pass {name, mimetype, s3key} as a file argument of a tool (kept 7 days)".to_owned(),
            ),
            Err(err) => (
                Value::Null,
                Value::Null,
                format!("the URL works for an hour without a key; the file could not be staged for tool arguments: {err}"),
            ),
        };
        ToolResult {
            successful: true,
            data: json!({
                "url": url, "s3_url": url, "mount_relative_path": rel, "size": size,
                "expires_in_seconds": crate::file_urls::URL_TTL.as_secs(),
                "name": name, "mimetype": mimetype, "type": mimetype, "id": id, "s3key": s3key,
                "message": message,
            }),
            error: None,
        }
    }
}

/// The body of `response`, unless it is over [`MAX_ANSWER_BYTES`].
async fn read_capped(mut response: reqwest::Response) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_reaches_debug_output() {
        let settings = LlmSettings {
            base_url: "http://model.example/v1".into(),
            model: "m".into(),
            api_key: Some("sk-secret-canary".into()),
            api_key_env: None,
            max_tokens: None,
            timeout_secs: None,
        };
        assert!(!format!("{settings:?}").contains("sk-secret-canary"));
        let helpers = Helpers::new(
            Some(settings),
            WorkbenchSettings::default(),
            &Catalog::default(),
        )
        .unwrap();
        let shown = format!("{helpers:?}");
        assert!(
            shown.contains("redacted") && !shown.contains("sk-secret-canary"),
            "{shown}"
        );
    }
}
