//! Structure-preserving previews of large responses (for offload): the same
//! keys in the same order, arrays cut after the items that fit with a
//! marker saying exactly how many were left out, long strings cut with the
//! count of characters left out. Nothing is reordered; the full data is in
//! the file the marker names.

use serde_json::{Map, Value};

/// Strings longer than this are cut in previews.
const MAX_STRING_CHARS: usize = 300;

/// A preview of `value` of about `budget` characters of JSON at most.
pub fn preview(value: &Value, budget: usize) -> Value {
    let mut remaining = budget as i64;
    shrink(value, &mut remaining)
}

fn cost(value: &Value) -> i64 {
    serde_json::to_string(value)
        .map(|s| s.len() as i64)
        .unwrap_or(0)
}

fn shrink(value: &Value, remaining: &mut i64) -> Value {
    match value {
        Value::String(s) => {
            let count = s.chars().count();
            let out = if count > MAX_STRING_CHARS {
                let kept: String = s.chars().take(MAX_STRING_CHARS).collect();
                Value::String(format!(
                    "{kept}... ({} more characters)",
                    fmt_count(count - MAX_STRING_CHARS)
                ))
            } else {
                value.clone()
            };
            *remaining -= cost(&out);
            out
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                // Always keep the first item so the shape shows.
                if i > 0 && *remaining <= 0 {
                    let left = items.len() - i;
                    out.push(Value::String(format!(
                        "... {} more item{} (of {}; the full data is in the file)",
                        fmt_count(left),
                        if left == 1 { "" } else { "s" },
                        fmt_count(items.len())
                    )));
                    break;
                }
                out.push(shrink(item, remaining));
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                *remaining -= key.len() as i64 + 4;
                out.insert(key.clone(), shrink(item, remaining));
            }
            Value::Object(out)
        }
        other => {
            *remaining -= cost(other);
            other.clone()
        }
    }
}

/// `4950` -> `4,950`.
pub fn fmt_count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_structure_and_order_and_says_what_was_cut() {
        let items: Vec<Value> = (0..5000)
            .map(|i| json!({"id": i, "title": format!("issue {i}")}))
            .collect();
        let data = json!({"total": 5000, "items": items, "next": "x"});
        let p = preview(&data, 2000);
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["total", "items", "next"]);
        let shown = p["items"].as_array().unwrap();
        assert_eq!(shown[0], json!({"id": 0, "title": "issue 0"}));
        let marker = shown.last().unwrap().as_str().unwrap();
        let kept = shown.len() - 1;
        assert!(
            marker.starts_with(&format!(
                "... {} more items (of 5,000",
                fmt_count(5000 - kept)
            )),
            "{marker}"
        );
        // Items are in their original order.
        for (i, item) in shown[..kept].iter().enumerate() {
            assert_eq!(item["id"], i);
        }
        assert!(serde_json::to_string(&p).unwrap().len() < 3000);
    }

    #[test]
    fn cuts_long_strings_with_a_count() {
        let p = preview(&json!({"body": "a".repeat(1000)}), 10_000);
        assert!(
            p["body"]
                .as_str()
                .unwrap()
                .ends_with("... (700 more characters)")
        );
        assert_eq!(fmt_count(1234567), "1,234,567");
        assert_eq!(fmt_count(12), "12");
    }
}
