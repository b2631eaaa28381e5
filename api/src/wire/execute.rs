//! The `execute` / `execute_meta` envelope.

use serde::Serialize;

/// The answer of `execute` and `execute_meta`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExecuteResponse {
    /// The tool's data, always an object.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Whether the call completed.
    pub result_type: ResultType,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Its tool-execution log.
    pub log_id: String,
    /// Always `null` (no metered "instant" tools here).
    #[schema(value_type = Option<Object>)]
    pub instant_charge: Option<serde_json::Value>,
    /// Always `null`: the TypeScript SDK's name for `instant_charge`.
    #[schema(value_type = Option<Object>)]
    pub premium_charge: Option<serde_json::Value>,
    /// Always empty (no hooks yet).
    #[schema(value_type = Vec<Object>)]
    pub hook_results: Vec<serde_json::Value>,
}

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    /// It succeeded.
    Completed,
    /// It ran and failed.
    Failed,
}

/// What `execute` and `execute_meta` answer: the call's result, or the
/// question it waits on (`result_type: input_required`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ExecuteReply {
    /// It ran.
    Ran(Box<ExecuteResponse>),
    /// It needs the user's approval first; nothing ran.
    InputRequired(crate::session::approval::InputRequired),
}
