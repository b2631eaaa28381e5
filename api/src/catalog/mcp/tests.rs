use super::*;
use crate::catalog::toolkit::Inject;

fn toolkit(server: Server) -> Toolkit {
    Toolkit {
        slug: "edge".into(),
        name: "Edge".into(),
        description: "Edge cases.".into(),
        logo: String::new(),
        base_url: String::new(),
        categories: Vec::new(),
        auth: Auth {
            schemes: vec!["NO_AUTH".into()],
            inject: None,
            oauth2: None,
        },
        tools: Vec::new(),
        mcp: Some(server),
        tools_count: 0,
    }
}

fn stdio() -> Server {
    Server {
        command: vec!["edge-server".into()],
        timeout_secs: 60,
        connect_timeout_secs: 30,
        max_connections: 16,
        ..Server::default()
    }
}

fn listed(tools: Value) -> Vec<rmcp::model::Tool> {
    serde_json::from_value(tools).unwrap()
}

fn object() -> Value {
    json!({"type": "object", "properties": {}})
}

#[test]
fn tools_get_slugs_schemas_titles_and_hint_tags() {
    let server = stdio();
    let imported = tools_from(
        &toolkit(server.clone()),
        &server,
        &listed(json!([
            {"name": "get-sum", "description": "Adds.", "inputSchema": {"type": "object",
                "properties": {"a": {"type": "integer"}, "b": {}}, "required": ["a"]},
             "annotations": {"readOnlyHint": true, "openWorldHint": false}},
            {"name": "getSum", "title": "Sum again", "inputSchema": object()},
            {"name": "wipe", "inputSchema": object(), "annotations": {"destructiveHint": true, "title": "Wipe all"},
             "outputSchema": {"type": "object", "properties": {"gone": {"type": "integer"}}}},
            {"name": "", "inputSchema": {}},
            {"name": " ", "inputSchema": {}},
            {"name": "-", "inputSchema": {}},
        ])),
    );
    let slugs: Vec<&str> = imported
        .toolkit
        .tools
        .iter()
        .map(|t| t.slug.as_str())
        .collect();
    assert_eq!(
        slugs,
        [
            "EDGE_GET_SUM",
            "EDGE_GET_SUM_2",
            "EDGE_WIPE",
            "EDGE_OPERATION"
        ]
    );
    // A tool with no name cannot be called: skipped, not a broken load.
    assert_eq!(imported.skipped.len(), 2, "{:?}", imported.skipped);
    assert_eq!(imported.toolkit.tools[3].description, "-");
    assert_eq!(imported.renamed.len(), 1, "{:?}", imported.renamed);
    let sum = &imported.toolkit.tools[0];
    assert_eq!(sum.mcp.as_ref().unwrap().name, "get-sum");
    assert!(sum.mcp.as_ref().unwrap().retry_safe);
    assert_eq!(sum.tags, ["readOnlyHint"]);
    assert_eq!(sum.name, "get-sum");
    // A property with no type takes any value, said out loud.
    assert_eq!(
        sum.input_parameters["properties"]["b"]["type"],
        json!(ANY_TYPE)
    );
    assert!(
        sum.is_important(),
        "every tool of an MCP server is a main one by default"
    );
    let again = &imported.toolkit.tools[1];
    assert_eq!(
        (again.name.as_str(), again.description.as_str()),
        ("Sum again", "Sum again")
    );
    let wipe = &imported.toolkit.tools[2];
    assert_eq!(wipe.name, "Wipe all");
    assert_eq!(wipe.tags, ["destructiveHint"]);
    assert!(!wipe.mcp.as_ref().unwrap().retry_safe);
    assert_eq!(
        wipe.output_parameters["properties"]["gone"]["type"],
        "integer"
    );
    // A schema with no type is an object schema.
    assert_eq!(imported.toolkit.tools[3].input_parameters["type"], "object");
    let mut with_tools = toolkit(server);
    with_tools.tools = imported.toolkit.tools;
    assert_eq!(crate::catalog::toolkit::tests_validate(&with_tools), Ok(()));
}

#[test]
fn unusable_tools_are_skipped_with_why() {
    let server = stdio();
    let huge: Map<String, Value> = (0..20_000)
        .map(|i| {
            (
                format!("p{i}"),
                json!({"type": "string", "description": "x".repeat(10)}),
            )
        })
        .collect();
    let imported = tools_from(
        &toolkit(server.clone()),
        &server,
        &listed(json!([
            {"name": "list", "inputSchema": {"type": "array"}},
            {"name": "bad", "inputSchema": {"type": "object", "properties": {"a": {"type": "nope"}}}},
            {"name": "odd", "inputSchema": {"type": "object", "properties": {"a": 5}}},
            {"name": "huge", "inputSchema": {"type": "object", "properties": huge}},
            {"name": "ok", "inputSchema": object(), "outputSchema": {"type": "array"}},
        ])),
    );
    let skipped: Vec<&str> = imported.skipped.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        skipped,
        ["list", "bad", "odd", "huge"],
        "{:?}",
        imported.skipped
    );
    assert!(imported.skipped[3].1.contains("KiB"));
    assert_eq!(imported.toolkit.tools.len(), 1);
    assert_eq!(
        imported.toolkit.tools[0].output_parameters,
        json!({"type": "object"})
    );
    assert_eq!(
        imported.notes.len(),
        1,
        "a non-object outputSchema is noted"
    );
}

#[test]
fn include_exclude_and_important_pick_tools_by_name() {
    let server = Server {
        include: vec!["get-*".into(), "wipe".into()],
        exclude: vec!["get-secret*".into()],
        important: Some(vec!["get-sum".into()]),
        ..stdio()
    };
    let imported = tools_from(
        &toolkit(server.clone()),
        &server,
        &listed(json!([
            {"name": "get-sum", "inputSchema": object()},
            {"name": "get-secrets", "inputSchema": object()},
            {"name": "wipe", "inputSchema": object()},
            {"name": "other", "inputSchema": object()},
        ])),
    );
    let tools: Vec<(&str, bool)> = imported
        .toolkit
        .tools
        .iter()
        .map(|t| (t.slug.as_str(), t.is_important()))
        .collect();
    assert_eq!(tools, [("EDGE_GET_SUM", true), ("EDGE_WIPE", false)]);
    assert_eq!(imported.skipped.len(), 2);
}

#[test]
fn descriptions_are_bounded() {
    let server = stdio();
    let imported = tools_from(
        &toolkit(server.clone()),
        &server,
        &listed(
            json!([{"name": "long", "description": "y".repeat(100_000), "inputSchema": object()}]),
        ),
    );
    assert!(imported.toolkit.tools[0].description.len() <= MAX_DESCRIPTION_BYTES + 32);
}

#[test]
fn the_table_is_checked_field_by_field() {
    let no_auth = Auth {
        schemes: vec!["NO_AUTH".into()],
        inject: None,
        oauth2: None,
    };
    let keyed = |location: &str, name: &str| Auth {
        schemes: vec!["API_KEY".into()],
        inject: Some(Inject {
            location: location.into(),
            name: name.into(),
            format: "{api_key}".into(),
        }),
        oauth2: None,
    };
    let http = || Server {
        command: Vec::new(),
        url: Some("https://mcp.example.com/mcp".into()),
        ..stdio()
    };
    assert_eq!(stdio().check(&no_auth), Ok(()));
    assert_eq!(http().check(&keyed("header", "Authorization")), Ok(()));
    assert_eq!(http().check(&keyed("query", "key")), Ok(()));
    assert_eq!(stdio().check(&keyed("env", "EDGE_TOKEN")), Ok(()));
    let bad: Vec<(Server, Auth, &str)> = vec![
        (
            Server {
                command: Vec::new(),
                ..stdio()
            },
            no_auth.clone(),
            "mcp.command",
        ),
        (
            Server {
                url: Some("https://x".into()),
                ..stdio()
            },
            no_auth.clone(),
            "mcp.url",
        ),
        (
            Server {
                url: Some("ftp://x/mcp".into()),
                ..http()
            },
            no_auth.clone(),
            "mcp.url",
        ),
        (
            Server {
                command: vec![" ".into()],
                ..stdio()
            },
            no_auth.clone(),
            "mcp.command[0]",
        ),
        (
            Server {
                env: [("A".to_owned(), "b".to_owned())].into(),
                ..http()
            },
            no_auth.clone(),
            "mcp.env",
        ),
        (
            Server {
                headers: [("X-A".to_owned(), "b".to_owned())].into(),
                ..stdio()
            },
            no_auth.clone(),
            "mcp.headers",
        ),
        (
            Server {
                headers: [("Content-Type".to_owned(), "x".to_owned())].into(),
                ..http()
            },
            no_auth.clone(),
            "mcp.headers.Content-Type",
        ),
        (
            Server {
                headers: [("Mcp-Session-Id".to_owned(), "x".to_owned())].into(),
                ..http()
            },
            no_auth.clone(),
            "mcp.headers.Mcp-Session-Id",
        ),
        (
            Server {
                env: [("BAD-NAME".to_owned(), "x".to_owned())].into(),
                ..stdio()
            },
            no_auth.clone(),
            "mcp.env.BAD-NAME",
        ),
        (
            Server {
                env: [(
                    "A".to_owned(),
                    "${TOOLSHED_TEST_UNSET_VARIABLE_0}".to_owned(),
                )]
                .into(),
                ..stdio()
            },
            no_auth.clone(),
            "mcp.env.A",
        ),
        (
            Server {
                listing_headers: [("X-A".to_owned(), "b".to_owned())].into(),
                ..stdio()
            },
            no_auth.clone(),
            "mcp.headers",
        ),
        (
            Server {
                listing_env: [("A".to_owned(), "b".to_owned())].into(),
                ..http()
            },
            no_auth.clone(),
            "mcp.env",
        ),
        (
            Server {
                listing_headers: [("Content-Length".to_owned(), "1".to_owned())].into(),
                ..http()
            },
            no_auth.clone(),
            "mcp.listing_headers.Content-Length",
        ),
        (
            Server {
                timeout_secs: 0,
                ..stdio()
            },
            no_auth.clone(),
            "mcp.timeout_secs",
        ),
        (
            Server {
                connect_timeout_secs: 100_000,
                ..stdio()
            },
            no_auth.clone(),
            "mcp.connect_timeout_secs",
        ),
        (
            Server {
                max_connections: 0,
                ..stdio()
            },
            no_auth.clone(),
            "mcp.max_connections",
        ),
        (
            Server {
                include: vec!["[".into()],
                ..stdio()
            },
            no_auth.clone(),
            "mcp.include[0]",
        ),
        (http(), keyed("env", "TOKEN"), "auth.inject.in"),
        (stdio(), keyed("header", "X-Key"), "auth.inject.in"),
        (
            http(),
            keyed("header", "Mcp-Session-Id"),
            "auth.inject.name",
        ),
    ];
    for (server, auth, field) in bad {
        let (got, problem) = server.check(&auth).unwrap_err();
        assert_eq!(got, field, "{problem}");
    }
}

#[test]
fn variables_expand_and_unset_ones_are_named_not_shown() {
    let path = std::env::var("PATH").unwrap();
    assert_eq!(expand("[${PATH}]").unwrap(), format!("[{path}]"));
    assert_eq!(expand("plain $HOME").unwrap(), "plain $HOME");
    let missing = expand("${TOOLSHED_TEST_UNSET_VARIABLE_1}").unwrap_err();
    assert!(missing.contains("TOOLSHED_TEST_UNSET_VARIABLE_1 is not set"));
    assert!(expand("${OPEN").is_err());
    assert!(expand("${A-B}").is_err());
}

#[test]
fn an_mcp_toolkit_file_is_refused_with_tools_or_a_base_url_and_loads_empty_when_its_server_is_down()
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("toolkit.toml");
    let base = "slug = \"down\"\nname = \"Down\"\ndescription = \"d\"\n[auth]\nschemes = [\"NO_AUTH\"]\n[mcp]\ncommand = [\"./no-such-server\"]\nconnect_timeout_secs = 5\n";
    std::fs::write(&path, base).unwrap();
    let toolkit = crate::catalog::toolkit::load(&path).unwrap();
    assert!(toolkit.tools.is_empty() && toolkit.mcp.is_some());
    let parsed: Toolkit = toml::from_str(base).unwrap();
    let err =
        crate::catalog::toolkit::load_mcp(&path, parsed, crate::catalog::toolkit::Cache::Bypass)
            .unwrap_err();
    assert_eq!(err.field, "mcp");
    assert!(!err.problem.contains("no-such-server"), "{}", err.problem);
    for (extra, field) in [
        ("base_url = \"https://x.example\"\n", "base_url"),
        (
            "[[tools]]\nslug = \"DOWN_X\"\nname = \"x\"\ndescription = \"x\"\ninput_parameters = { type = \"object\" }\n",
            "tools",
        ),
    ] {
        let text = if extra.starts_with("base_url") {
            format!("{extra}{base}")
        } else {
            format!("{base}{extra}")
        };
        std::fs::write(&path, text).unwrap();
        let err = crate::catalog::toolkit::load(&path).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
}
