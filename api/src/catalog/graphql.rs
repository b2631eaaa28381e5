//! GraphQL bindings: a tool that is one named query or mutation, sent as
//! `POST {base_url}{path}` with `{query, variables, operationName}`. The
//! tool's arguments are the operation's variables (same names); the
//! answer's `errors` become the tool's error, and its `data` (or the field
//! `result` names in it) the tool's data. Documents are parsed with
//! `graphql-parser` when the toolkit loads.

use super::http::Execution;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A tool's GraphQL binding (`[tools.graphql]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Graphql {
    /// The operation: one query or mutation (fragments allowed) whose
    /// variables are the tool's arguments.
    pub document: String,
    /// The endpoint under the toolkit's base URL.
    #[serde(default = "default_path")]
    pub path: String,
    /// The field of `data` that is the tool's data, dotted for nested
    /// fields (e.g. `issues` or `issueCreate.issue`); default: all of
    /// `data`.
    #[serde(default)]
    pub result: Option<String>,
}

fn default_path() -> String {
    "/graphql".into()
}

/// What the loader learns from a document.
#[derive(Debug, PartialEq, Eq)]
pub struct Operation {
    /// The operation's name, sent as `operationName`.
    pub name: Option<String>,
    /// A mutation (not retried) rather than a query.
    pub mutation: bool,
    /// Each variable and whether it must be given (non-null, no default).
    pub variables: Vec<(String, bool)>,
}

/// Parses `document`: exactly one query or mutation, and its variables.
pub fn operation(document: &str) -> Result<Operation, String> {
    use graphql_parser::query::{Definition, OperationDefinition, Type};
    let parsed = graphql_parser::parse_query::<String>(document)
        .map_err(|e| format!("is not a GraphQL document: {e}"))?;
    let mut operations = parsed.definitions.iter().filter_map(|d| match d {
        Definition::Operation(op) => Some(op),
        Definition::Fragment(_) => None,
    });
    let (Some(op), None) = (operations.next(), operations.next()) else {
        return Err("must hold exactly one operation".into());
    };
    let (name, mutation, variables) = match op {
        OperationDefinition::Query(q) => (q.name.clone(), false, &q.variable_definitions),
        OperationDefinition::Mutation(m) => (m.name.clone(), true, &m.variable_definitions),
        OperationDefinition::SelectionSet(_) => (None, false, &Vec::new()),
        OperationDefinition::Subscription(_) => {
            return Err("a subscription cannot be a tool".into());
        }
    };
    let variables = variables
        .iter()
        .map(|v| {
            let required = matches!(v.var_type, Type::NonNullType(_)) && v.default_value.is_none();
            (v.name.clone(), required)
        })
        .collect();
    Ok(Operation {
        name,
        mutation,
        variables,
    })
}

/// The request body for a call with `arguments` (absent and null ones are
/// left out, so the operation's defaults apply).
pub fn request_body(graphql: &Graphql, operation_name: Option<&str>, arguments: &Value) -> Value {
    let variables: Map<String, Value> = arguments
        .as_object()
        .map(|args| {
            args.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut body = serde_json::json!({"query": graphql.document, "variables": variables});
    if let Some(name) = operation_name {
        body["operationName"] = Value::from(name);
    }
    body
}

/// The tool's outcome from the HTTP exchange: GraphQL `errors` (with any
/// status) fail the call with their messages; otherwise the data is
/// `data`, or the field `result` names.
pub fn settle(graphql: &Graphql, mut execution: Execution) -> Execution {
    let messages: Vec<String> = execution
        .data
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let message = e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("an error without a message");
                    match e.get("path").and_then(Value::as_array) {
                        Some(path) if !path.is_empty() => {
                            let at: Vec<String> = path
                                .iter()
                                .map(|p| match p {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect();
                            format!("{message} (at {})", at.join("."))
                        }
                        _ => message.to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if !messages.is_empty() {
        let shown: Vec<&str> = messages.iter().take(3).map(String::as_str).collect();
        let more = messages.len().saturating_sub(3);
        let mut text = format!("the GraphQL API answered with errors: {}", shown.join("; "));
        if more > 0 {
            text.push_str(&format!(" (and {more} more)"));
        }
        execution.successful = false;
        execution.error = Some(text);
        return execution;
    }
    if !execution.successful {
        return execution;
    }
    if execution.spooled.is_some() && execution.data.get("data").is_none() {
        // Too large to parse: the saved file holds the whole answer.
        return execution;
    }
    let Some(data) = execution.data.get("data").cloned() else {
        execution.successful = false;
        execution.error = Some("the GraphQL API answered without data or errors".into());
        return execution;
    };
    execution.data = match &graphql.result {
        None => data,
        Some(path) => path
            .split('.')
            .try_fold(&data, |value, field| value.get(field))
            .cloned()
            .unwrap_or(Value::Null),
    };
    execution
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_and_their_variables_are_read() {
        let op = operation(
            "query Issue($id: String!, $first: Int = 10, $after: String) { issue(id: $id) { id ...F } }
             fragment F on Issue { title }",
        )
        .unwrap();
        assert_eq!(op.name.as_deref(), Some("Issue"));
        assert!(!op.mutation);
        assert_eq!(
            op.variables,
            [
                ("id".to_owned(), true),
                ("first".to_owned(), false),
                ("after".to_owned(), false)
            ]
        );
        assert!(
            operation("mutation M($x: ID!) { a(x: $x) { ok } }")
                .unwrap()
                .mutation
        );
        for bad in [
            "query {",
            "query A { a } query B { b }",
            "subscription S { s }",
            "fragment F on X { a }",
        ] {
            assert!(operation(bad).is_err(), "{bad}");
        }
    }

    fn exec(data: Value) -> Execution {
        Execution {
            successful: true,
            data,
            error: None,
            status: Some(200),
            spooled: None,
        }
    }

    #[test]
    fn errors_fail_the_call_and_data_is_unwrapped() {
        let binding = Graphql {
            document: String::new(),
            path: default_path(),
            result: Some("issueCreate.issue".into()),
        };
        let ok = settle(
            &binding,
            exec(json!({"data": {"issueCreate": {"success": true, "issue": {"id": "i"}}}})),
        );
        assert!(ok.successful);
        assert_eq!(ok.data, json!({"id": "i"}));
        let failed = settle(
            &binding,
            exec(
                json!({"data": null, "errors": [{"message": "Entity not found", "path": ["issue"]}]}),
            ),
        );
        assert!(!failed.successful);
        assert_eq!(
            failed.error.as_deref(),
            Some("the GraphQL API answered with errors: Entity not found (at issue)")
        );
        let empty = settle(&binding, exec(json!({})));
        assert!(!empty.successful);
    }
}
