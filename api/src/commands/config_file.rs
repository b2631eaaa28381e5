//! The `--config` file of `serve` and `mcp` (TOML): per-toolkit base-URL
//! overrides and the operator's OAuth apps. Unknown keys are refused, so a
//! typo is an error at start-up rather than a setting silently ignored.
//!
//! ```toml
//! [base_urls]
//! github = "https://github.example.com/api/v3"
//!
//! [oauth_apps.gmail]
//! client_id = "1234.apps.googleusercontent.com"
//! client_secret = "..."
//!
//! [llm]                      # invoke_llm in the workbench
//! base_url = "https://api.openai.com/v1"
//! model = "gpt-4o-mini"
//! api_key_env = "OPENAI_API_KEY"
//!
//! [workbench]                # web_search in the workbench
//! web_search_tool = "EXA_SEARCH"
//! ```

use crate::oauth::apps::OperatorApp;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The file's contents.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Upstream base URL per toolkit slug.
    #[serde(default)]
    pub base_urls: BTreeMap<String, String>,
    /// OAuth app per toolkit slug.
    #[serde(default)]
    pub oauth_apps: BTreeMap<String, OperatorApp>,
    /// The model the workbench's `invoke_llm` asks.
    #[serde(default)]
    pub llm: Option<crate::session::helpers::LlmSettings>,
    /// Settings of the workbench's helpers (`web_search_tool`).
    #[serde(default)]
    pub workbench: crate::session::helpers::WorkbenchSettings,
}

impl ConfigFile {
    /// Reads and parses `path`; the error is one line naming the file.
    pub fn load(path: &Path) -> Result<ConfigFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_apps_and_refuses_unknown_keys() {
        let file: ConfigFile = toml::from_str(
            "[base_urls]\ngithub = \"http://x\"\n[oauth_apps.gmail]\nclient_id = \"a\"\nclient_secret = \"b\"\ntoken_url = \"http://t\"\n",
        )
        .unwrap();
        assert_eq!(file.base_urls["github"], "http://x");
        assert!(file.oauth_apps["gmail"].has_client());
        assert!(
            toml::from_str::<ConfigFile>("[oauth_apps.gmail]\nclient_sercet = \"b\"\n").is_err()
        );
        assert!(toml::from_str::<ConfigFile>("[base_url]\n").is_err());
    }
}
