//! Tool memory, the agent's side: the `memory` argument of
//! COMPOSIO_MULTI_EXECUTE_TOOL (`{"github": ["main repo is acme/widgets"]}`)
//! is checked and stored with the session (`crate::store::memory`), and
//! SEARCH_TOOLS returns, with each query's tools, the facts about their
//! apps and the facts that share a word with the query.

use crate::store::{MemoryLimits, MemoryWrite};
use crate::tool_error::ToolError;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Facts kept per session.
pub const MAX_FACTS: usize = 500;
/// Bytes of fact text kept per session.
pub const MAX_BYTES: usize = 128 << 10;
/// Longest fact, in characters.
pub const MAX_FACT_CHARS: usize = 1000;
/// Longest app name, in characters.
const MAX_APP_CHARS: usize = 64;
/// Most facts one call may record.
const MAX_FACTS_PER_CALL: usize = 100;

/// The bounds the store applies.
pub const LIMITS: MemoryLimits = MemoryLimits {
    max_facts: MAX_FACTS,
    max_bytes: MAX_BYTES,
};

/// What happened to the facts a call recorded (in the MULTI_EXECUTE
/// result).
#[derive(Debug, Serialize)]
pub struct MemoryReport {
    /// Facts stored.
    pub saved: usize,
    /// Facts the session already had.
    pub already_known: usize,
    /// Why some were not stored, when some were not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<MemoryWrite> for MemoryReport {
    fn from(write: MemoryWrite) -> MemoryReport {
        MemoryReport {
            saved: write.saved,
            already_known: write.already_known,
            error: (write.refused > 0).then(|| {
                format!(
                    "{} fact(s) not saved: this session's memory is full ({MAX_FACTS} facts, {} KiB); keep only ID mappings and preferences",
                    write.refused,
                    MAX_BYTES >> 10
                )
            }),
        }
    }
}

/// The (app, fact) pairs of a `memory` argument: an object of string
/// arrays keyed by app (lower-cased); `null` or `{}` is none. Anything
/// else is an argument error naming the field.
pub fn facts(memory: Option<&Value>) -> Result<Vec<(String, String)>, ToolError> {
    let Some(memory) = memory.filter(|m| !m.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(apps) = memory.as_object() else {
        return Err(ToolError::argument(
            "memory",
            "must be an object of app name to a list of facts, e.g. {\"github\": [\"main repo is acme/widgets\"]}",
        ));
    };
    let mut out = Vec::new();
    for (app, list) in apps {
        let field = format!("memory.{}", crate::error::clip(app, MAX_APP_CHARS));
        let name = app.trim().to_lowercase();
        if name.is_empty()
            || name.chars().count() > MAX_APP_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(ToolError::argument(
                &field,
                format!("an app name is 1 to {MAX_APP_CHARS} characters"),
            ));
        }
        let Some(list) = list.as_array() else {
            return Err(ToolError::argument(&field, "must be a list of strings"));
        };
        for (i, fact) in list.iter().enumerate() {
            let Some(fact) = fact.as_str() else {
                return Err(ToolError::argument(
                    &format!("{field}[{i}]"),
                    "must be a string",
                ));
            };
            let fact = fact.trim();
            if fact.is_empty() {
                continue;
            }
            if fact.chars().count() > MAX_FACT_CHARS {
                return Err(ToolError::argument(
                    &format!("{field}[{i}]"),
                    format!("at most {MAX_FACT_CHARS} characters: one short fact per item"),
                ));
            }
            out.push((name.clone(), fact.to_owned()));
        }
    }
    if out.len() > MAX_FACTS_PER_CALL {
        return Err(ToolError::argument(
            "memory",
            format!("at most {MAX_FACTS_PER_CALL} facts per call"),
        ));
    }
    Ok(out)
}

/// Words that say nothing about what a fact is about.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "that", "this", "are", "was", "has", "have", "into",
    "about", "all", "any", "can", "get", "list", "find", "show", "what", "who", "new", "use",
    "user", "users", "my", "our", "your",
];

fn content_words(text: &str) -> Vec<String> {
    crate::catalog::intent::words(text)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .map(|w| crate::catalog::intent::stem(&w).to_owned())
        .collect()
}

/// The facts of `memory` relevant to a query: every fact about one of
/// `apps` (the toolkits of the tools found), and facts about other apps
/// that share a word with `query` (or name the app in it).
pub fn relevant(
    memory: &BTreeMap<String, Vec<String>>,
    apps: &[String],
    query: &str,
) -> BTreeMap<String, Vec<String>> {
    let words = content_words(query);
    memory
        .iter()
        .filter_map(|(app, facts)| {
            let named = apps.iter().any(|a| a == app) || words.iter().any(|w| w == app);
            let kept: Vec<String> = facts
                .iter()
                .filter(|fact| named || content_words(fact).iter().any(|w| words.contains(w)))
                .cloned()
                .collect();
            (!kept.is_empty()).then(|| (app.clone(), kept))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn memory_arguments_are_checked() {
        assert!(facts(None).unwrap().is_empty());
        assert!(facts(Some(&json!({}))).unwrap().is_empty());
        assert_eq!(
            facts(Some(&json!({"GitHub": ["  repo is acme/widgets ", ""]}))).unwrap(),
            vec![("github".to_owned(), "repo is acme/widgets".to_owned())]
        );
        for bad in [
            json!(["x"]),
            json!("x"),
            json!({"github": "x"}),
            json!({"github": [1]}),
            json!({"": ["x"]}),
            json!({"github": ["x".repeat(MAX_FACT_CHARS + 1)]}),
            json!({"github": vec!["x"; MAX_FACTS_PER_CALL + 1].iter().enumerate().map(|(i, _)| i.to_string()).collect::<Vec<_>>()}),
        ] {
            assert!(facts(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn relevant_facts_are_those_of_the_apps_found_or_sharing_a_word() {
        let memory = BTreeMap::from([
            (
                "github".to_owned(),
                vec!["main repo is acme/widgets".to_owned()],
            ),
            (
                "slack".to_owned(),
                vec![
                    "channel general has ID C0001".to_owned(),
                    "the user prefers threads".to_owned(),
                ],
            ),
            ("gmail".to_owned(), vec!["boss is ada@acme.test".to_owned()]),
        ]);
        let found = relevant(&memory, &["github".to_owned()], "list open issues");
        assert_eq!(found.keys().collect::<Vec<_>>(), ["github"]);
        let found = relevant(&memory, &[], "post in the general channel");
        assert_eq!(found["slack"], ["channel general has ID C0001"]);
        assert!(!found.contains_key("github"));
        let found = relevant(&memory, &[], "email my boss");
        assert_eq!(found.keys().collect::<Vec<_>>(), ["gmail"]);
        assert!(relevant(&memory, &[], "zzz").is_empty());
    }
}
