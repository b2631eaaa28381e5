//! Cells share one interpreter: variables, functions, classes and imports
//! persist; results, output and errors are reported per cell.

use crate::helpers::*;
use toolshed_engine::CellStatus;

#[tokio::test]
async fn globals_persist_across_cells() {
    let sb = sandbox();
    sb.ok("counter = 1\nitems = [1, 2, 3]").await;
    sb.ok("def double(x):\n    return 2 * x").await;
    sb.ok("class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n    def norm1(self):\n        return abs(self.x) + abs(self.y)").await;
    sb.ok("import collections as C").await;
    sb.ok("counter += 1\np = Point(3, -4)").await;
    assert_eq!(
        sb.ok("(counter, double(items[-1]), p.norm1(), C.Counter('aab')['a'])")
            .await
            .as_deref(),
        Some("(2, 6, 7, 2)")
    );
}

#[tokio::test]
async fn trailing_expression_is_the_result() {
    let sb = sandbox();
    assert_eq!(sb.ok("1 + 1").await.as_deref(), Some("2"));
    assert_eq!(sb.ok("'a' * 3").await.as_deref(), Some("'aaa'"));
    assert_eq!(sb.ok("x = 5").await, None);
    assert_eq!(sb.ok("None").await, None);
    assert_eq!(sb.ok("print('side effect')").await, None);
    assert_eq!(sb.ok("if True:\n    y = 1\ny").await.as_deref(), Some("1"));
    // `_` holds the last result, like a REPL.
    assert_eq!(sb.ok("40 + 2").await.as_deref(), Some("42"));
    assert_eq!(sb.ok("_ + 1").await.as_deref(), Some("43"));
}

#[tokio::test]
async fn a_cell_of_one_expression_is_its_result() {
    // Such a cell compiles only the expression: comments and blank lines in
    // front of it change nothing, line numbers still count them, and a
    // statement in front is still run.
    let sb = sandbox();
    assert_eq!(
        sb.ok("'just a string'").await.as_deref(),
        Some("'just a string'")
    );
    assert_eq!(
        sb.ok("# a comment\n\n(1 +\n 2)").await.as_deref(),
        Some("3")
    );
    assert_eq!(sb.ok("   ").await, None);
    assert_eq!(sb.ok("# only a comment").await, None);
    let out = sb.run("# a comment\n\n1 / 0").await;
    assert_eq!(out.status, CellStatus::Error);
    let err = out.error.expect("error");
    assert_eq!(err.kind, "ZeroDivisionError");
    assert!(
        err.traceback.contains("<cell>\", line 3"),
        "{}",
        err.traceback
    );
    assert_eq!(
        sb.ok("from __future__ import annotations\nz = 2\nz * 21")
            .await
            .as_deref(),
        Some("42")
    );
    assert_eq!(sb.ok("z").await.as_deref(), Some("2"));
}

#[tokio::test]
async fn stdout_and_stderr_are_captured_per_cell() {
    let sb = sandbox();
    let out = sb
        .run("import sys\nprint('one')\nprint('two', file=sys.stderr)\nsys.stdout.write('three')")
        .await;
    assert_eq!(out.status, CellStatus::Ok);
    assert_eq!(out.stdout, "one\nthree");
    assert_eq!(out.stderr, "two\n");
    assert_eq!(out.result.as_deref(), Some("5"));
    let next = sb.run("print('fresh')").await;
    assert_eq!(next.stdout, "fresh\n");
    assert_eq!(next.stderr, "");
}

#[tokio::test]
async fn exceptions_report_type_message_and_cell_line_numbers() {
    let sb = sandbox();
    let out = sb
        .run("x = 1\n\ndef boom():\n    raise ValueError('bad value')\n\nboom()")
        .await;
    assert_eq!(out.status, CellStatus::Error);
    let err = out.error.expect("error");
    assert_eq!(err.kind, "ValueError");
    assert_eq!(err.message, "bad value");
    assert!(
        err.traceback.contains("<cell>\", line 6"),
        "{}",
        err.traceback
    );
    assert!(
        err.traceback.contains("line 4, in boom"),
        "{}",
        err.traceback
    );
    assert!(
        !err.traceback.contains("<toolshed>"),
        "driver frames leak: {}",
        err.traceback
    );
    // The session survives, with its state.
    assert_eq!(sb.ok("x").await.as_deref(), Some("1"));
}

#[tokio::test]
async fn syntax_errors_are_reported_without_running_anything() {
    let sb = sandbox();
    let out = sb.run("y = 1\ndef broken(:\n    pass").await;
    assert_eq!(out.status, CellStatus::Error);
    let err = out.error.unwrap();
    assert_eq!(err.kind, "SyntaxError");
    assert!(err.traceback.contains("line 2"), "{}", err.traceback);
    let out = sb.run("y").await;
    assert_eq!(out.error.unwrap().kind, "NameError");
}

#[tokio::test]
async fn output_before_an_error_is_kept() {
    let sb = sandbox();
    let out = sb.run("print('before')\n1/0").await;
    assert_eq!(out.status, CellStatus::Error);
    assert_eq!(out.stdout, "before\n");
    assert_eq!(out.error.unwrap().kind, "ZeroDivisionError");
}

#[tokio::test]
async fn sandboxes_do_not_share_state() {
    let a = sandbox();
    let b = sandbox();
    a.ok("secret = 'a'").await;
    let out = b.run("secret").await;
    assert_eq!(out.error.unwrap().kind, "NameError");
}

#[tokio::test]
async fn each_sandbox_gets_its_own_randomness() {
    let a = sandbox();
    let b = sandbox();
    let code =
        "import random, uuid, secrets\n(random.random(), str(uuid.uuid4()), secrets.token_hex(8))";
    let ra = a.ok(code).await.unwrap();
    let rb = b.ok(code).await.unwrap();
    assert_ne!(ra, rb);
    // Each part on its own: `random` too, not only the OS entropy behind
    // uuid and secrets (one snapshot once gave every sandbox one sequence).
    for part in 0..3 {
        let (pa, pb) = (
            ra.split(", ").nth(part).unwrap(),
            rb.split(", ").nth(part).unwrap(),
        );
        assert_ne!(pa, pb, "part {part} repeats across sandboxes");
    }
}

#[tokio::test]
async fn json_helpers_run_in_rust() {
    let sb = sandbox();
    let out = sb
        .ok("import _toolshed\nd = _toolshed.loads('{\"b\": \"\\u00e9\", \"a\": [1, 2.5, null, true]}')\n(d, _toolshed.dumps(d))")
        .await;
    assert_eq!(
        out.as_deref(),
        Some("({'b': 'é', 'a': [1, 2.5, None, True]}, '{\"b\":\"é\",\"a\":[1,2.5,null,true]}')")
    );
}

#[tokio::test]
async fn json_loads_fast_path_matches_python_semantics() {
    let sb = sandbox();
    let code = r#"
import json
checks = {}
checks['order'] = list(json.loads('{"z": 1, "a": 2, "m": 3}')) == ['z', 'a', 'm']
checks['dup'] = json.loads('{"k": 1, "k": 2}') == {'k': 2}
checks['bigint'] = json.loads('[123456789012345678901234567890]')[0] == 123456789012345678901234567890
checks['nan'] = json.loads('[NaN]')[0] != json.loads('[NaN]')[0]
checks['bytes'] = json.loads(b'{"x": [1, 2]}') == {'x': [1, 2]}
checks['unicode'] = json.loads('"\\ud83d\\ude00 \\u00e9"') == '\U0001F600 \u00e9'
checks['floats'] = json.loads('[1.5, -0.0, 1e300, 2]') == [1.5, -0.0, 1e300, 2]
checks['hook'] = json.loads('{"a": 1}', object_hook=lambda d: sorted(d)) == ['a']
try:
    json.loads('{"a": }')
    checks['error'] = False
except json.JSONDecodeError as e:
    checks['error'] = e.pos == 6
with open('data.json', 'w') as f:
    json.dump({'rows': list(range(5))}, f)
checks['load'] = json.load(open('data.json')) == {'rows': [0, 1, 2, 3, 4]}
[k for k, v in checks.items() if v is not True]
"#;
    assert_eq!(sb.ok(code).await.as_deref(), Some("[]"));
}
