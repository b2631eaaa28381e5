//! Property tests of the JSON <-> Python conversion at the guest boundary:
//! arbitrary JSON documents go into a cell (parsed by the Rust `json.loads`
//! fast path), through a tool batch (Python -> JSON in Rust, the host's
//! echo, JSON -> Python in Rust) and back out through Python's own `json`
//! module, and must come back unchanged. A bounded number of cases per run.

use crate::helpers::*;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::Arc;
use toolshed_engine::Limits;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e15f64..1e15).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

#[test]
fn json_crosses_the_guest_boundary_unchanged() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let sb = sandbox_with(Limits::default(), Arc::new(TestBridge::default()));
    let config = ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(values in prop::collection::vec(json_value(), 1..8))| {
        let documents: Vec<Value> = values.iter().map(|v| serde_json::json!({"v": v})).collect();
        let text = serde_json::to_string(&documents).unwrap();
        let encoded = base64_encode(text.as_bytes());
        let code = format!(
            "import base64, json\n\
             docs = json.loads(base64.b64decode('{encoded}').decode())\n\
             res = run_composio_tools([('ECHO', d) for d in docs])\n\
             assert all(not e for _, e in res), res\n\
             print(json.dumps([r['data'] for r, _ in res]))"
        );
        let out = runtime.block_on(sb.run(&code));
        prop_assert!(out.is_ok(), "{:#?}", out);
        let back: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
        prop_assert_eq!(back, documents);
    });
}

/// Standard base64 (the cell decodes it), so any text survives embedding.
fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Found by the property test above: the Rust `json.loads` fast path must
/// round floats correctly, as CPython does.
#[tokio::test]
async fn fast_json_floats_are_correctly_rounded() {
    let sb = sandbox();
    let out = sb
        .ok("import json\n[json.loads(t) == float(t) for t in ('-386993159818718.44', '0.1', '1e-320', '2.2250738585072014e-308', '123456789012345.67')]")
        .await;
    assert_eq!(out.as_deref(), Some("[True, True, True, True, True]"));
}
