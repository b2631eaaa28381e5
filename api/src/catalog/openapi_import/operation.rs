//! One OpenAPI operation as one tool: its parameters and JSON (or form, or
//! multipart) body as arguments, its 2xx JSON response as the output
//! schema, its method as MCP hints.

use super::schema::{Converter, drop_patterns};
use crate::catalog::toolkit::{Http, Style, Tool};
use openapiv3::{
    OpenAPI, Operation, Parameter, ParameterSchemaOrContent, PathItem, QueryStyle, ReferenceOr,
    StatusCode,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// How deep argument schemas are inlined.
const INPUT_DEPTH: usize = 6;
/// How deep output schemas are inlined (responses nest whole objects).
const OUTPUT_DEPTH: usize = 3;
/// The most JSON an argument's schema or an output schema may take
/// (deeper levels are cut until it fits).
const MAX_SCHEMA_BYTES: usize = 16 * 1024;
/// The longest tool description kept from the document.
const MAX_DESCRIPTION: usize = 1_000;

/// What every operation of a document shares.
pub struct Context<'a> {
    /// The typed document.
    pub doc: &'a OpenAPI,
    /// Schema conversion over the raw document.
    pub converter: &'a Converter<'a>,
    /// The header or query parameter the credential goes in (never an
    /// argument).
    pub inject: Option<&'a str>,
    /// Static headers of every call (never arguments).
    pub headers: &'a BTreeMap<String, String>,
}

/// Where an argument goes.
enum Place {
    Path,
    Query,
    Header,
}

/// The tool for `method path` (its slug is set by the caller).
pub fn build<'a>(
    cx: &Context<'a>,
    path: &str,
    method: &str,
    item: &'a PathItem,
    op: &'a Operation,
) -> Result<Tool, String> {
    if !matches!(method, "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
        return Err(format!("method {method} is not supported"));
    }
    let mut properties = Map::new();
    let mut required: Vec<String> = Vec::new();
    let mut http = Http {
        method: method.to_owned(),
        path: path.to_owned(),
        query: Vec::new(),
        header: Vec::new(),
        body: Vec::new(),
        body_whole: None,
        form: Vec::new(),
        multipart: Vec::new(),
        headers: cx.headers.clone(),
        wire_names: BTreeMap::new(),
        styles: BTreeMap::new(),
        idempotent: None,
    };

    // Path-item parameters, overridden by the operation's of the same name
    // and place.
    let mut parameters: Vec<&'a Parameter> = Vec::new();
    for reference in item.parameters.iter().chain(&op.parameters) {
        let parameter = resolve_parameter(cx.doc, reference)?;
        let data = parameter.parameter_data_ref();
        parameters.retain(|p| {
            let d = p.parameter_data_ref();
            !(d.name == data.name
                && std::mem::discriminant(*p) == std::mem::discriminant(parameter))
        });
        parameters.push(parameter);
    }
    // Path parameters first: they keep their names when a query or header
    // parameter shares one. Placeholders the operation does not declare
    // are arguments too (a string each), claimed right after them.
    parameters.sort_by_key(|p| !matches!(p, Parameter::Path { .. }));
    let declared_paths = parameters
        .iter()
        .filter(|p| matches!(p, Parameter::Path { .. }))
        .count();
    for (index, parameter) in parameters.into_iter().enumerate() {
        if index == declared_paths {
            undeclared_placeholders(&http, &mut properties, &mut required);
        }
        let data = parameter.parameter_data_ref();
        let place = match parameter {
            Parameter::Path { .. } => Place::Path,
            Parameter::Query { .. } => Place::Query,
            Parameter::Header { .. } => {
                let reserved = crate::catalog::toolkit::RESERVED_HEADERS
                    .contains(&data.name.to_ascii_lowercase().as_str())
                    || cx
                        .inject
                        .is_some_and(|i| i.eq_ignore_ascii_case(&data.name))
                    || cx
                        .headers
                        .keys()
                        .any(|h| h.eq_ignore_ascii_case(&data.name));
                if reserved {
                    continue;
                }
                Place::Header
            }
            Parameter::Cookie { .. } if data.required => {
                return Err(format!(
                    "required cookie parameter {} is not supported",
                    data.name
                ));
            }
            Parameter::Cookie { .. } => continue,
        };
        if matches!(place, Place::Query) && cx.inject == Some(data.name.as_str()) {
            continue;
        }
        let raw = match &data.format {
            ParameterSchemaOrContent::Schema(schema) => to_value(schema)?,
            ParameterSchemaOrContent::Content(content) => content
                .values()
                .find_map(|media| media.schema.as_ref())
                .map(to_value)
                .transpose()?
                .unwrap_or_else(|| json!({"type": "string"})),
        };
        let mut schema = cx
            .converter
            .convert_within(&raw, INPUT_DEPTH, MAX_SCHEMA_BYTES);
        describe_argument(&mut schema, data.description.as_deref());
        let mut name = data.name.clone();
        if properties.contains_key(&name) {
            // A query or header parameter named like a path one.
            let prefix = match place {
                Place::Path => return Err(format!("path parameter {name} is declared twice")),
                Place::Query => "query",
                Place::Header => "header",
            };
            name = free_name(&properties, &format!("{prefix}_{name}"));
            http.wire_names.insert(name.clone(), data.name.clone());
        }
        match place {
            Place::Path => {
                if !path.contains(&format!("{{{name}}}")) {
                    return Err(format!("path parameter {name} is not in the path"));
                }
                required.push(name.clone());
            }
            Place::Query => {
                if let Parameter::Query { style, .. } = parameter {
                    // OpenAPI's default for the query is `form`, exploded.
                    let explode = data.explode.unwrap_or(*style == QueryStyle::Form);
                    match style {
                        QueryStyle::DeepObject => {
                            http.styles.insert(name.clone(), Style::Deep);
                        }
                        QueryStyle::Form if explode => {
                            http.styles.insert(name.clone(), Style::Repeat);
                        }
                        _ => {}
                    }
                }
                http.query.push(name.clone());
                if data.required {
                    required.push(name.clone());
                }
            }
            Place::Header => {
                http.header.push(name.clone());
                if data.required {
                    required.push(name.clone());
                }
            }
        }
        properties.insert(name, schema);
    }
    undeclared_placeholders(&http, &mut properties, &mut required);

    if let Some(body) = &op.request_body {
        request_body(cx, body, &mut properties, &mut required, &mut http)?;
    }
    for schema in properties.values_mut() {
        ensure_type(schema);
    }
    let mut input = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        input["required"] = json!(required);
    }
    if jsonschema::validator_for(&input).is_err() {
        drop_patterns(&mut input);
    }
    if let Err(e) = jsonschema::validator_for(&input) {
        return Err(format!("its argument schema does not compile: {e}"));
    }

    let mut tags: Vec<String> = op.tags.clone();
    tags.extend(
        match method {
            "GET" => &["readOnlyHint", "idempotentHint"][..],
            "PUT" => &["idempotentHint"][..],
            "DELETE" => &["destructiveHint", "idempotentHint"][..],
            _ => &[][..],
        }
        .iter()
        .map(|t| (*t).to_owned()),
    );
    tags.push("openWorldHint".into());
    let summary = op.summary.as_deref().map(str::trim).unwrap_or_default();
    let name = if summary.is_empty() {
        op.operation_id
            .clone()
            .unwrap_or_else(|| format!("{method} {path}"))
    } else {
        summary.trim_end_matches('.').to_owned()
    };
    Ok(Tool {
        slug: String::new(),
        name: name.clone(),
        description: description(&name, op.description.as_deref()),
        tags,
        http,
        input_parameters: input,
        output_parameters: output(cx, op)?,
        example: None,
        imported: true,
        graphql: None,
        mcp: None,
    })
}

/// Adds the path's placeholders no parameter declares, as required strings.
fn undeclared_placeholders(
    http: &Http,
    properties: &mut Map<String, Value>,
    required: &mut Vec<String>,
) {
    for placeholder in http.placeholders() {
        if !properties.contains_key(&placeholder) {
            properties.insert(
                placeholder.clone(),
                json!({"type": "string", "description": format!("The {placeholder} in the path.")}),
            );
            required.push(placeholder);
        }
    }
}

fn to_value<T: serde::Serialize>(item: &T) -> Result<Value, String> {
    serde_json::to_value(item).map_err(|e| format!("cannot read a schema: {e}"))
}

fn resolve_parameter<'a>(
    doc: &'a OpenAPI,
    reference: &'a ReferenceOr<Parameter>,
) -> Result<&'a Parameter, String> {
    follow(reference, "parameters", |name| {
        doc.components.as_ref()?.parameters.get(name)
    })
}

/// Follows `#/components/<kind>/<name>` references (at most 16, so a
/// reference loop is an error, not a hang).
fn follow<'a, T>(
    start: &'a ReferenceOr<T>,
    kind: &str,
    lookup: impl Fn(&str) -> Option<&'a ReferenceOr<T>>,
) -> Result<&'a T, String> {
    let prefix = format!("#/components/{kind}/");
    let mut current = start;
    for _ in 0..16 {
        match current {
            ReferenceOr::Item(item) => return Ok(item),
            ReferenceOr::Reference { reference } => {
                current = reference
                    .strip_prefix(&prefix)
                    .and_then(&lookup)
                    .ok_or_else(|| format!("reference {reference} is not found"))?;
            }
        }
    }
    Err(format!("{kind} references loop"))
}

fn request_body(
    cx: &Context<'_>,
    body: &ReferenceOr<openapiv3::RequestBody>,
    properties: &mut Map<String, Value>,
    required: &mut Vec<String>,
    http: &mut Http,
) -> Result<(), String> {
    let body = follow(body, "requestBodies", |name| {
        cx.doc.components.as_ref()?.request_bodies.get(name)
    })?;
    #[derive(PartialEq)]
    enum Kind {
        Json,
        Form,
        Multipart,
    }
    let chosen = body.content.iter().find_map(|(media, content)| {
        let media = media.to_ascii_lowercase();
        let kind = if media == "application/json" || media.ends_with("+json") {
            Kind::Json
        } else if media == "application/x-www-form-urlencoded" {
            Kind::Form
        } else if media == "multipart/form-data" {
            Kind::Multipart
        } else {
            return None;
        };
        Some((kind, content))
    });
    let Some((kind, content)) = chosen else {
        if body.required && !body.content.is_empty() {
            let types: Vec<&str> = body.content.keys().map(String::as_str).collect();
            return Err(format!(
                "its request body is only sent as {}",
                types.join(", ")
            ));
        }
        return Ok(());
    };
    if http.method == "GET" || (kind == Kind::Multipart && http.method == "DELETE") {
        if body.required {
            return Err(format!(
                "{} with a required {} body",
                http.method,
                if kind == Kind::Multipart {
                    "multipart"
                } else {
                    "request"
                }
            ));
        }
        return Ok(());
    }
    let raw = match &content.schema {
        Some(schema) => to_value(schema)?,
        None => json!({"type": "object"}),
    };
    let schema = cx
        .converter
        .convert_within(&raw, INPUT_DEPTH + 1, 4 * MAX_SCHEMA_BYTES);
    let fields = object_fields(&schema);
    let Some((fields, field_required)) = fields else {
        if kind != Kind::Json {
            return Err("its form body is not an object".into());
        }
        let name = free_name(properties, "request_body");
        let mut whole = schema;
        describe_argument(
            &mut whole,
            body.description.as_deref().or(Some("The request body.")),
        );
        properties.insert(name.clone(), whole);
        if body.required {
            required.push(name.clone());
        }
        http.body_whole = Some(name);
        return Ok(());
    };
    for (field, mut field_schema) in fields {
        if field_schema.get("readOnly") == Some(&Value::Bool(true)) {
            continue;
        }
        let name = if properties.contains_key(&field) {
            let name = free_name(properties, &format!("body_{field}"));
            http.wire_names.insert(name.clone(), field.clone());
            name
        } else {
            field.clone()
        };
        if kind == Kind::Multipart && is_binary(&field_schema) {
            mark_file(&mut field_schema);
        }
        if body.required && field_required.contains(&field) {
            required.push(name.clone());
        }
        if kind == Kind::Form {
            // Form fields are `form` style, exploded, unless their encoding
            // says `deepObject`; objects cannot be exploded flat, so they
            // go deep too (as Rails, PHP and Stripe read them).
            let deep = content
                .encoding
                .get(&field)
                .is_some_and(|e| e.style == Some(QueryStyle::DeepObject))
                || field_schema.get("type").and_then(Value::as_str) == Some("object");
            let style = if deep { Style::Deep } else { Style::Repeat };
            http.styles.insert(name.clone(), style);
        }
        match kind {
            Kind::Json => http.body.push(name.clone()),
            Kind::Form => http.form.push(name.clone()),
            Kind::Multipart => http.multipart.push(name.clone()),
        }
        properties.insert(name, field_schema);
    }
    Ok(())
}

/// The properties and required names of an object schema (with `allOf`
/// members merged), or `None` for any other shape.
fn object_fields(schema: &Value) -> Option<(Map<String, Value>, Vec<String>)> {
    let mut fields = Map::new();
    let mut required = Vec::new();
    let is_object = |s: &Value| match s.get("type") {
        None => s.get("properties").is_some() || s.get("allOf").is_some(),
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(t)) => t.contains(&Value::from("object")),
        Some(_) => false,
    };
    for choice in ["oneOf", "anyOf"] {
        if let Some(Value::Array(variants)) = schema.get(choice) {
            // Of alternative shapes, the first object with named fields
            // (e.g. `{labels: [...]}` next to a bare list of labels).
            return variants
                .iter()
                .filter(|v| v.get("oneOf").is_none() && v.get("anyOf").is_none())
                .find_map(|v| object_fields(v).filter(|(fields, _)| !fields.is_empty()));
        }
    }
    if !is_object(schema) {
        return None;
    }
    let mut members = vec![schema];
    if let Some(Value::Array(all)) = schema.get("allOf") {
        members.extend(all.iter());
    }
    for member in members {
        if member.get("allOf").is_some() && !std::ptr::eq(member, schema) {
            return None;
        }
        if let Some(Value::Object(props)) = member.get("properties") {
            for (k, v) in props {
                fields.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Array(names)) = member.get("required") {
            required.extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    let open = |s: &Value| {
        s.get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false))
    };
    if fields.is_empty() && open(schema) {
        // A map of anything: one argument holds it whole.
        return None;
    }
    Some((fields, required))
}

fn free_name(properties: &Map<String, Value>, wanted: &str) -> String {
    let mut name = wanted.to_owned();
    let mut n = 2;
    while properties.contains_key(&name) {
        name = format!("{wanted}_{n}");
        n += 1;
    }
    name
}

fn is_binary(schema: &Value) -> bool {
    let binary = |s: &Value| {
        s.get("format")
            .and_then(Value::as_str)
            .is_some_and(|f| f == "binary" || f == "base64")
    };
    binary(schema) || schema.get("items").is_some_and(binary)
}

/// Marks a binary multipart field (or its items) as a staged file argument.
fn mark_file(schema: &mut Value) {
    let target = if schema.get("items").is_some() {
        &mut schema["items"]
    } else {
        schema
    };
    if let Value::Object(object) = target {
        object.remove("format");
        object.insert("file_uploadable".into(), Value::Bool(true));
    }
}

/// Gives a top-level argument a description (the parameter's, if the
/// schema has none).
fn describe_argument(schema: &mut Value, description: Option<&str>) {
    if let (Value::Object(object), Some(text)) = (schema, description)
        && !object.contains_key("description")
        && !text.trim().is_empty()
    {
        object.insert("description".into(), Value::from(text.trim()));
    }
}

/// A top-level argument must say its type: inferred where the schema
/// implies one, else any JSON value.
fn ensure_type(schema: &mut Value) {
    let Value::Object(object) = schema else {
        *schema = json!({"type": ["string", "number", "boolean", "object", "array"]});
        return;
    };
    if object.contains_key("type")
        || ["anyOf", "oneOf", "allOf"]
            .iter()
            .any(|k| object.contains_key(*k))
    {
        return;
    }
    let inferred = if object.contains_key("properties") {
        json!("object")
    } else if object.contains_key("items") {
        json!("array")
    } else if let Some(Value::Array(values)) = object.get("enum") {
        if values.iter().all(Value::is_string) {
            json!("string")
        } else {
            json!(["string", "number", "boolean", "null"])
        }
    } else {
        json!(["string", "number", "boolean", "object", "array"])
    };
    object.insert("type".into(), inferred);
}

/// The schema of the first 2xx JSON response, as an object schema.
fn output(cx: &Context<'_>, op: &Operation) -> Result<Value, String> {
    let mut success: Vec<(&StatusCode, &ReferenceOr<openapiv3::Response>)> = op
        .responses
        .responses
        .iter()
        .filter(|(code, _)| match code {
            StatusCode::Code(n) => (200..300).contains(n),
            StatusCode::Range(n) => *n == 2,
        })
        .collect();
    success.sort_by_key(|(code, _)| match code {
        StatusCode::Code(n) => *n,
        StatusCode::Range(_) => 299,
    });
    let Some((code, response)) = success.first() else {
        return Ok(json!({"type": "object"}));
    };
    let response = follow(response, "responses", |name| {
        cx.doc.components.as_ref()?.responses.get(name)
    })?;
    let schema = response
        .content
        .iter()
        .find(|(media, _)| media.contains("json"))
        .and_then(|(_, media)| media.schema.as_ref());
    let Some(schema) = schema else {
        return Ok(json!({
            "type": "object",
            "description": format!("HTTP {code}: {}", response.description.trim()),
        }));
    };
    let schema = cx
        .converter
        .convert_within(&to_value(schema)?, OUTPUT_DEPTH, MAX_SCHEMA_BYTES);
    let types = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(t)) => t.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"object") || (types.is_empty() && schema.get("properties").is_some()) {
        let mut schema = schema;
        schema["type"] = json!("object");
        return Ok(schema);
    }
    if types.contains(&"array") {
        let mut out = json!({
            "type": "object",
            "description": "The response body is a JSON array; the properties below describe one element.",
        });
        if let Some(properties) = schema.get("items").and_then(|i| i.get("properties")) {
            out["properties"] = properties.clone();
        }
        return Ok(out);
    }
    Ok(json!({
        "type": "object",
        "description": "The response body is not a JSON object; the result's data holds it.",
    }))
}

/// The tool's description: the operation's, or its name, trimmed to
/// MAX_DESCRIPTION characters at a sentence where possible.
fn description(name: &str, text: Option<&str>) -> String {
    let text = text.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return format!("{name}.");
    }
    let mut out = text.to_owned();
    if !out
        .to_ascii_lowercase()
        .contains(&name.to_ascii_lowercase())
    {
        out = format!("{name}. {out}");
    }
    truncate(&out, MAX_DESCRIPTION)
}

/// The first paragraph of `text`, at most `max` characters.
pub fn first_paragraph(text: &str, max: usize) -> String {
    let paragraph = text.trim().split("\n\n").next().unwrap_or_default();
    truncate(paragraph.trim(), max)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(". ") {
        Some(end) if end > max / 2 => cut[..=end].to_owned(),
        _ => format!("{}…", cut.trim_end()),
    }
}
