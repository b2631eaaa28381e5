//! The workbench shell's own programs under the cell's limits, over real
//! HTTP: an endless loop ends at the deadline, runaway recursion at the
//! function-nesting limit, a loop printing without end at the output cap;
//! each reports why, and the session keeps working afterwards.

mod common;

use common::*;
use serde_json::{Value, json};

async fn bash(server: &Server, session: &str, command: &str) -> Value {
    server
        .execute(
            session,
            "COMPOSIO_REMOTE_BASH_TOOL",
            json!({"command": command}),
        )
        .await["data"]
        .clone()
}

#[tokio::test]
async fn runaway_shell_programs_end_like_any_cell() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server_with_args(dir.path(), &up, &[], &["--cell-timeout-ms", "2000"]);
    let session = server.session(json!({"user_id": "sam"})).await;

    let looped = bash(&server, &session, "i=0; while true; do i=$((i+1)); done").await;
    assert_eq!(looped["status"], "timeout", "{looped}");
    assert_eq!(looped["exit_code"], 1);

    let deep = bash(&server, &session, "f() { f; }; f; echo after").await;
    assert!(
        deep["stderr"].as_str().unwrap().contains("nesting"),
        "{deep}"
    );
    assert_eq!(
        deep["stdout"], "",
        "set -e or not, the nesting limit ends the run: {deep}"
    );

    let flood = bash(
        &server,
        &session,
        "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done",
    )
    .await;
    assert!(flood["status"].is_string(), "{flood}");

    let fine = bash(
        &server,
        &session,
        "for i in 1 2 3; do echo $i; done | wc -l",
    )
    .await;
    assert_eq!(fine["stdout"], "3\n", "{fine}");
    assert_eq!(fine["exit_code"], 0);
}

#[tokio::test]
async fn exported_variables_reach_python_run_from_the_shell() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &up, &[]);
    let session = server.session(json!({"user_id": "pia"})).await;
    let out = bash(
        &server,
        &session,
        "export GREETING=hello; ONCE=1 python3 -c 'import os; print(os.environ[\"GREETING\"], os.environ.get(\"ONCE\"))'; python3 -c 'import os; print(os.environ.get(\"ONCE\"))'",
    )
    .await;
    assert_eq!(out["stdout"], "hello 1\nNone\n", "{out}");
    // The workbench's own os.environ is untouched afterwards.
    let cell = server
        .execute(
            &session,
            "COMPOSIO_REMOTE_WORKBENCH",
            json!({"code_to_execute": "import os\n(os.environ.get('ONCE', 'unset'), os.environ.get('GREETING', 'unset'))"}),
        )
        .await;
    assert_eq!(cell["data"]["results"], "('unset', 'unset')", "{cell}");
}
