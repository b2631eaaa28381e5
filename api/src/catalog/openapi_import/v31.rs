//! OpenAPI 3.1 documents read through the 3.0 model: 3.1 changed the
//! document's structure little and its schemas a lot (they are JSON Schema
//! 2020-12). Before `openapiv3` reads a 3.1 document, its schema keywords
//! that 3.0 spells differently are rewritten to the 3.0 spelling, which
//! `schema.rs` turns back into JSON Schema:
//!
//! - `type: [T, "null"]` becomes `type: T, nullable: true`; other lists of
//!   types become an `anyOf` of one schema per type;
//! - numeric `exclusiveMinimum`/`exclusiveMaximum` become a bound with the
//!   boolean flag;
//! - `const: V` becomes `enum: [V]`;
//! - a list of `examples` becomes its first as `example`;
//! - a `$ref` with sibling keywords becomes an `allOf` of the reference
//!   and the siblings (3.0 ignores a reference's siblings).
//!
//! The document also gets an empty `paths` when it has only webhooks.

use serde_json::{Map, Value, json};

/// Rewrites a 3.1 document in place so the 3.0 model reads it.
pub fn downgrade(doc: &mut Value) {
    if let Value::Object(object) = doc {
        object.insert("openapi".into(), Value::from("3.0.3"));
        object.entry("paths").or_insert_with(|| json!({}));
        object.remove("webhooks");
        object.remove("jsonSchemaDialect");
    }
    walk(doc, false);
}

/// Keys whose value maps names to things (properties, schemas, paths,
/// media types, ...): the map itself is not a schema, so a property named
/// `const` or `type` is left alone; its values are walked.
const NAME_MAPS: [&str; 18] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "schemas",
    "paths",
    "responses",
    "parameters",
    "requestBodies",
    "content",
    "headers",
    "examples",
    "links",
    "callbacks",
    "securitySchemes",
    "variables",
    "encoding",
    "mapping",
];

fn walk(value: &mut Value, name_map: bool) {
    match value {
        Value::Object(object) => {
            if !name_map {
                rewrite(object);
                boolean_schemas(object);
            }
            for (key, child) in object.iter_mut() {
                // Inside a name map every value is an entry, never a map.
                let child_is_map =
                    !name_map && NAME_MAPS.contains(&key.as_str()) && child.is_object();
                walk(child, child_is_map);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| walk(item, false)),
        _ => {}
    }
}

/// JSON Schema's `true` and `false` schemas where 3.0 wants objects:
/// `true` accepts anything (`{}`), `false` nothing (`{"not": {}}`).
fn boolean_schemas(object: &mut Map<String, Value>) {
    let as_object = |value: &mut Value| {
        if let Value::Bool(accepts) = value {
            *value = if *accepts {
                json!({})
            } else {
                json!({"not": {}})
            };
        }
    };
    for key in ["items", "not", "schema", "contains"] {
        if let Some(value) = object.get_mut(key) {
            as_object(value);
        }
    }
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(map)) = object.get_mut(key) {
            map.values_mut().for_each(as_object);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(items)) = object.get_mut(key) {
            items.iter_mut().for_each(as_object);
        }
    }
}

/// The 3.1 spellings of one schema object, in 3.0 terms.
fn rewrite(object: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = object.get("type").cloned() {
        let named: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        let nullable = named.len() < types.len();
        match named.as_slice() {
            [one] => {
                object.insert("type".into(), one.clone());
            }
            [] => {
                object.remove("type");
            }
            several => {
                object.remove("type");
                let variants: Vec<Value> = several.iter().map(|t| json!({"type": t})).collect();
                object.insert("anyOf".into(), Value::Array(variants));
            }
        }
        if nullable {
            object.insert("nullable".into(), Value::Bool(true));
        }
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(limit) = object.get(flag).filter(|v| v.is_number()).cloned() {
            object.insert(bound.into(), limit);
            object.insert(flag.into(), Value::Bool(true));
        }
    }
    if let Some(constant) = object.remove("const") {
        object.insert("enum".into(), Value::Array(vec![constant]));
    }
    if let Some(Value::Array(examples)) = object.get("examples") {
        let first = examples.first().cloned();
        object.remove("examples");
        if let Some(first) = first {
            object.entry("example").or_insert(first);
        }
    }
    let schema_ref = object
        .get("$ref")
        .and_then(Value::as_str)
        .is_some_and(|r| r.contains("/schemas/"));
    if object.contains_key("$ref") && object.len() > 1 && !schema_ref {
        // A reference to a parameter, body or response: 3.1 lets it carry
        // a summary and description, 3.0 nothing.
        object.retain(|k, _| k == "$ref");
    }
    if schema_ref && object.len() > 1 {
        let reference = object.remove("$ref").unwrap_or_default();
        // Annotations a 3.0 reference could not carry stay beside it.
        let siblings: Map<String, Value> = std::mem::take(object);
        let description = siblings.get("description").cloned();
        let mut all = vec![json!({"$ref": reference})];
        let constraints: Map<String, Value> = siblings
            .into_iter()
            .filter(|(k, _)| k != "description" && k != "summary")
            .collect();
        if !constraints.is_empty() {
            all.push(Value::Object(constraints));
        }
        object.insert("allOf".into(), Value::Array(all));
        if let Some(description) = description {
            object.insert("description".into(), description);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_keywords_take_their_3_0_spelling() {
        let mut doc = json!({
            "openapi": "3.1.0",
            "webhooks": {},
            "components": {"schemas": {"Pet": {"type": "object", "properties": {
                "name": {"type": ["string", "null"], "examples": ["Rex"]},
                "age": {"type": "integer", "exclusiveMinimum": 0},
                "kind": {"const": "dog"},
                "tag": {"type": ["string", "integer"]},
                "owner": {"$ref": "#/components/schemas/Owner", "description": "Who owns it."},
                "const": {"type": "string"},
                "properties": {"type": "object", "readOnly": true},
            }}}},
            "paths": {"/p": {"get": {"parameters": [{"$ref": "#/components/parameters/q", "description": "Q."}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"never": false, "any": true}}}}}}}}},
        });
        downgrade(&mut doc);
        assert_eq!(doc["openapi"], "3.0.3");
        let props = &doc["paths"]["/p"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["properties"];
        assert_eq!(props["never"], json!({"not": {}}));
        assert_eq!(props["any"], json!({}));
        assert_eq!(
            doc["paths"]["/p"]["get"]["parameters"][0],
            json!({"$ref": "#/components/parameters/q"})
        );
        let props = &doc["components"]["schemas"]["Pet"]["properties"];
        assert_eq!(
            props["name"],
            json!({"type": "string", "nullable": true, "example": "Rex"})
        );
        assert_eq!(
            props["age"],
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(props["kind"], json!({"enum": ["dog"]}));
        // Properties named like keywords are names, not keywords.
        assert_eq!(props["const"], json!({"type": "string"}));
        assert_eq!(
            props["properties"],
            json!({"type": "object", "readOnly": true})
        );
        assert_eq!(
            props["tag"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(
            props["owner"],
            json!({"allOf": [{"$ref": "#/components/schemas/Owner"}], "description": "Who owns it."})
        );
    }
}
