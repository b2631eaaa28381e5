//! OpenAPI 3.0 schemas to the JSON Schema a tool declares: local `$ref`s
//! inlined (cycles cut, depth bounded), `nullable` as a `"null"` type,
//! draft-4 boolean exclusive bounds as numbers, and OpenAPI-only keywords
//! (`discriminator`, `xml`, `externalDocs`, `x-…`) dropped.

use serde_json::{Map, Value};

/// Inlines and converts schemas of one document.
pub struct Converter<'a> {
    /// The whole document, where `$ref` pointers are looked up.
    doc: &'a Value,
}

/// Keywords whose value is one schema.
const ONE_SCHEMA: [&str; 4] = ["items", "not", "additionalProperties", "contains"];
/// Keywords whose value is a list of schemas.
const SCHEMA_LISTS: [&str; 3] = ["allOf", "anyOf", "oneOf"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAPS: [&str; 2] = ["properties", "patternProperties"];
/// The most schema nodes one conversion visits; past it, what is left is
/// cut to its type (documents can fan out through `$ref`s exponentially).
const MAX_NODES: usize = 20_000;
/// The longest chain of `$ref`s followed inside one conversion.
const MAX_REFS: usize = 64;

/// One conversion's state: the references being expanded, and the nodes
/// it may still visit.
struct Walk {
    stack: Vec<String>,
    budget: usize,
}

/// OpenAPI keywords that JSON Schema does not have.
const DROPPED: [&str; 5] = [
    "discriminator",
    "xml",
    "externalDocs",
    "nullable",
    "example",
];

impl<'a> Converter<'a> {
    /// A converter resolving references in `doc`.
    pub fn new(doc: &'a Value) -> Converter<'a> {
        Converter { doc }
    }

    /// The value a local reference (`#/components/…`) points at.
    pub fn lookup(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }

    /// `schema` converted, with references inlined down to `depth` levels
    /// of nesting (deeper schemas keep only their type and description).
    pub fn convert(&self, schema: &Value, depth: usize) -> Value {
        let mut walk = Walk {
            stack: Vec::new(),
            budget: MAX_NODES,
        };
        self.walk(schema, depth, &mut walk)
    }

    /// `schema` converted as deep as fits in `max_bytes` of JSON (down to
    /// one level), so one tool's schema stays small enough to send.
    pub fn convert_within(&self, schema: &Value, max_depth: usize, max_bytes: usize) -> Value {
        let mut depth = max_depth;
        loop {
            let out = self.convert(schema, depth);
            if depth <= 1 || serde_json::to_vec(&out).map_or(0, |b| b.len()) <= max_bytes {
                return out;
            }
            depth -= 1;
        }
    }

    fn walk(&self, schema: &Value, depth: usize, walk: &mut Walk) -> Value {
        let Value::Object(object) = schema else {
            // `true`/`false` schemas and malformed ones pass through.
            return schema.clone();
        };
        walk.budget = walk.budget.saturating_sub(1);
        if walk.budget == 0 {
            return shallow(object);
        }
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
            if walk.stack.iter().any(|r| r == reference) || walk.stack.len() >= MAX_REFS {
                return serde_json::json!({
                    "type": "object",
                    "description": format!("A {name} (the same shape as its parent)."),
                });
            }
            let Some(target) = self.lookup(reference) else {
                return serde_json::json!({
                    "description": format!("(unresolved reference {reference})"),
                });
            };
            walk.stack.push(reference.to_owned());
            let mut out = self.walk(target, depth, walk);
            walk.stack.pop();
            // A sibling description (3.1 allows it) wins over the target's.
            if let (Some(description), Value::Object(out)) = (object.get("description"), &mut out) {
                out.insert("description".into(), description.clone());
            }
            return out;
        }
        if depth == 0 {
            return shallow(object);
        }
        let mut out = Map::new();
        for (key, value) in object {
            if key.starts_with("x-") || DROPPED.contains(&key.as_str()) {
                continue;
            }
            let converted = if ONE_SCHEMA.contains(&key.as_str()) && value.is_object() {
                self.walk(value, depth - 1, walk)
            } else if SCHEMA_LISTS.contains(&key.as_str()) {
                // A combination is a level too: chains of them are bounded.
                match value {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|item| self.walk(item, depth - 1, walk))
                            .collect(),
                    ),
                    other => other.clone(),
                }
            } else if SCHEMA_MAPS.contains(&key.as_str()) {
                match value {
                    Value::Object(map) => Value::Object(
                        map.iter()
                            .map(|(name, item)| (name.clone(), self.walk(item, depth - 1, walk)))
                            .collect(),
                    ),
                    other => other.clone(),
                }
            } else {
                value.clone()
            };
            out.insert(key.clone(), converted);
        }
        fix_keywords(object, &mut out);
        Value::Object(out)
    }
}

/// What survives of a schema nested too deep: its type, description,
/// format and enum.
fn shallow(object: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in ["type", "description", "format", "enum"] {
        if let Some(value) = object.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    if !out.contains_key("type") {
        if object.contains_key("properties") {
            out.insert("type".into(), "object".into());
        } else if object.contains_key("items") {
            out.insert("type".into(), "array".into());
        }
    }
    Value::Object(out)
}

/// The keywords whose meaning differs between OpenAPI 3.0 and JSON Schema.
fn fix_keywords(source: &Map<String, Value>, out: &mut Map<String, Value>) {
    if source.get("nullable").and_then(Value::as_bool) == Some(true) {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Some(Value::Array(mut types)) if !types.contains(&Value::from("null")) => {
                types.push("null".into());
                out.insert("type".into(), Value::Array(types));
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match source.get(flag) {
            Some(Value::Bool(true)) => match source.get(bound) {
                Some(limit) => {
                    out.insert(flag.into(), limit.clone());
                    out.remove(bound);
                }
                None => {
                    out.remove(flag);
                }
            },
            Some(Value::Bool(false)) => {
                out.remove(flag);
            }
            _ => {}
        }
    }
    if let Some(example) = source.get("example") {
        out.entry("examples")
            .or_insert_with(|| Value::Array(vec![example.clone()]));
    }
    // Swagger's `file` type, left in some converted documents.
    if out.get("type").and_then(Value::as_str) == Some("file") {
        out.insert("type".into(), "string".into());
        out.insert("format".into(), "binary".into());
    }
    // `required: true` on a property is Swagger 2.0; JSON Schema wants a list.
    if out.get("required").is_some_and(|r| !r.is_array()) {
        out.remove("required");
    }
}

/// Removes every `pattern` (some documents carry regexes that are not
/// ECMA 262, which the validator cannot compile).
pub fn drop_patterns(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object.get("pattern").is_some_and(Value::is_string) {
                object.remove("pattern");
            }
            if let Some(Value::Object(map)) = object.get_mut("patternProperties") {
                let values: Vec<Value> = std::mem::take(map).into_iter().map(|(_, v)| v).collect();
                object.remove("patternProperties");
                if object.get("additionalProperties").is_none()
                    && let Some(first) = values.into_iter().next()
                {
                    object.insert("additionalProperties".into(), first);
                }
            }
            object.values_mut().for_each(drop_patterns);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_patterns),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_inlined_and_cycles_cut() {
        let doc = json!({"components": {"schemas": {
            "node": {"type": "object", "properties": {
                "name": {"type": "string", "nullable": true},
                "child": {"$ref": "#/components/schemas/node"},
            }},
        }}});
        let converter = Converter::new(&doc);
        let out = converter.convert(&json!({"$ref": "#/components/schemas/node"}), 8);
        assert_eq!(out["properties"]["name"]["type"], json!(["string", "null"]));
        assert_eq!(out["properties"]["child"]["type"], "object");
        assert!(out["properties"]["child"].get("properties").is_none());
    }

    #[test]
    fn depth_is_bounded_and_keywords_fixed() {
        let doc = json!({});
        let converter = Converter::new(&doc);
        let deep = json!({"type": "object", "x-extra": 1, "discriminator": {}, "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "object", "properties": {
                "c": {"type": "string"}}}}},
            "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "example": 3},
        }});
        let out = converter.convert(&deep, 2);
        assert!(out.get("x-extra").is_none() && out.get("discriminator").is_none());
        assert_eq!(
            out["properties"]["a"]["properties"]["b"],
            json!({"type": "object"})
        );
        assert_eq!(out["properties"]["n"]["exclusiveMinimum"], 0);
        assert!(out["properties"]["n"].get("minimum").is_none());
        assert_eq!(out["properties"]["n"]["examples"], json!([3]));
    }

    #[test]
    fn fan_out_and_long_chains_are_bounded() {
        // 40 levels of two references each: 2^40 walks without a budget.
        let mut schemas = serde_json::Map::new();
        for i in 0..40 {
            let next = format!("#/components/schemas/S{}", i + 1);
            schemas.insert(
                format!("S{i}"),
                json!({"anyOf": [{"$ref": next}, {"$ref": next}]}),
            );
        }
        schemas.insert("S40".into(), json!({"type": "string"}));
        // A chain of 100,000 references: a stack overflow without a bound.
        for i in 0..100_000 {
            schemas.insert(
                format!("C{i}"),
                json!({"$ref": format!("#/components/schemas/C{}", i + 1)}),
            );
        }
        let doc = json!({"components": {"schemas": schemas}});
        let converter = Converter::new(&doc);
        let out = converter.convert(&json!({"$ref": "#/components/schemas/S0"}), 6);
        assert!(serde_json::to_vec(&out).unwrap().len() < 1 << 20);
        let out = converter.convert(&json!({"$ref": "#/components/schemas/C0"}), 6);
        assert_eq!(out["type"], "object");
    }

    #[test]
    fn dangling_and_external_references_do_not_fail() {
        let doc = json!({});
        let converter = Converter::new(&doc);
        let out = converter.convert(&json!({"$ref": "other.yaml#/x"}), 4);
        assert!(out["description"].as_str().unwrap().contains("unresolved"));
    }
}
