//! File-typed arguments. A property marked `file_uploadable = true` (or an
//! array whose `items` are) takes Composio's `FileUploadable` object,
//! `{name, mimetype, s3key}`, where `s3key` names a staged file
//! (`crate::staged`); the SDKs turn a local path into one before the call.
//! The executor sends the file's bytes as a multipart part.

use serde_json::{Value, json};

/// The schema of one `FileUploadable`, as Composio publishes it.
fn file_schema(description: Option<&Value>) -> Value {
    let mut schema = json!({
        "type": "object",
        "title": "FileUploadable",
        "file_uploadable": true,
        "properties": {
            "name": {"type": "string", "description": "The file's name."},
            "mimetype": {"type": "string", "description": "Its media type, e.g. text/csv."},
            "s3key": {"type": "string", "description": "The key files/upload/request returned (or upload_local_file in the workbench)."}
        },
        "required": ["name", "mimetype", "s3key"],
        "additionalProperties": false
    });
    if let Some(description) = description {
        schema["description"] = description.clone();
    }
    schema
}

fn marked(schema: &Value) -> bool {
    schema.get("file_uploadable").and_then(Value::as_bool) == Some(true)
}

/// Completes every `file_uploadable` property of `input_parameters` (and
/// the items of array properties) to the full `FileUploadable` schema, so
/// toolkit files need only the mark and a description.
pub fn complete(input_parameters: &mut Value) {
    let Some(properties) = input_parameters
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for schema in properties.values_mut() {
        if marked(schema) {
            *schema = file_schema(schema.get("description"));
        } else if let Some(items) = schema.get_mut("items").filter(|items| marked(items)) {
            *items = file_schema(items.get("description"));
        }
    }
}

/// A file-typed argument of a tool.
#[derive(Clone, Debug, PartialEq)]
pub struct FileArgument {
    /// Its name.
    pub name: String,
    /// Whether it takes a list of files.
    pub many: bool,
}

/// The file-typed arguments of `input_parameters` (top-level properties).
pub fn arguments(input_parameters: &Value) -> Vec<FileArgument> {
    let Some(properties) = input_parameters
        .get("properties")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    properties
        .iter()
        .filter_map(|(name, schema)| {
            let many = schema.get("items").is_some_and(marked);
            (marked(schema) || many).then(|| FileArgument {
                name: name.clone(),
                many,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_properties_become_file_objects() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "file": {"file_uploadable": true, "description": "The file."},
                "files": {"type": "array", "items": {"file_uploadable": true}},
                "title": {"type": "string"}
            }
        });
        complete(&mut schema);
        assert_eq!(schema["properties"]["file"]["type"], "object");
        assert_eq!(schema["properties"]["file"]["description"], "The file.");
        assert_eq!(
            schema["properties"]["files"]["items"]["required"],
            json!(["name", "mimetype", "s3key"])
        );
        assert_eq!(
            arguments(&schema),
            vec![
                FileArgument {
                    name: "file".into(),
                    many: false
                },
                FileArgument {
                    name: "files".into(),
                    many: true
                }
            ]
        );
        assert!(jsonschema::meta::validate(&schema).is_ok());
    }
}
