use super::*;
use serde_json::json;

fn overlay(slug: &str) -> Overlay {
    Overlay {
        slug: slug.into(),
        name: None,
        description: None,
        logo: String::new(),
        base_url: None,
        categories: Vec::new(),
        auth: None,
        openapi: Source {
            document: "openapi.json".into(),
            ..Source::default()
        },
        tools: Vec::new(),
    }
}

/// A small document with one of each thing the importer handles.
fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Pets", "description": "A pet store.\n\nMore text.", "version": "1"},
        "servers": [{"url": "https://{region}.pets.example/v1", "variables": {"region": {"default": "eu"}}}],
        "security": [{"key": []}],
        "components": {
            "securitySchemes": {
                "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "oauth": {"type": "oauth2", "flows": {"authorizationCode": {
                    "authorizationUrl": "https://pets.example/authorize",
                    "tokenUrl": "https://pets.example/token", "scopes": {}}}},
            },
            "parameters": {
                "petId": {"name": "petId", "in": "path", "required": true,
                          "schema": {"type": "integer"}, "description": "The pet."},
            },
            "schemas": {
                "Pet": {"type": "object", "required": ["name"], "properties": {
                    "id": {"type": "integer", "readOnly": true},
                    "name": {"type": "string", "nullable": true},
                    "parent": {"$ref": "#/components/schemas/Pet"},
                }},
            },
        },
        "paths": {
            "/pets": {
                "get": {"operationId": "listPets", "summary": "List pets", "tags": ["pets"],
                        "parameters": [
                            {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                            {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
                            {"name": "X-Api-Key", "in": "header", "schema": {"type": "string"}},
                            {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                        ],
                        "responses": {"200": {"description": "ok", "content": {"application/json": {
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}}},
                "post": {"operationId": "createPet", "summary": "Create a pet",
                         "requestBody": {"required": true, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/Pet"}}}},
                         "responses": {"201": {"description": "made", "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/Pet"}}}}}},
            },
            "/pets/{petId}": {
                "parameters": [{"$ref": "#/components/parameters/petId"}],
                "patch": {"operationId": "updatePet",
                          "requestBody": {"content": {"application/json": {"schema": {
                              "type": "object", "properties": {"petId": {"type": "string"}, "name": {"type": "string"}}}}}},
                          "responses": {"204": {"description": "done"}}},
                "delete": {"operationId": "deletePet", "deprecated": true, "responses": {"204": {"description": "gone"}}},
                "head": {"operationId": "headPet", "responses": {"200": {"description": "ok"}}},
            },
            "/pets/{petId}/tags": {
                "put": {"operationId": "set-pet.tags",
                        "parameters": [{"$ref": "#/components/parameters/petId"}],
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {
                            "type": "array", "items": {"type": "string"}}}}},
                        "responses": {"200": {"description": "ok"}}},
            },
            "/pets/{petId}/photo": {
                "post": {"parameters": [{"$ref": "#/components/parameters/petId"}],
                         "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
                             "type": "object", "required": ["file"], "properties": {
                                 "file": {"type": "string", "format": "binary"},
                                 "caption": {"type": "string"}}}}}},
                         "responses": {"200": {"description": "ok"}}},
            },
            "/pets/{petId}/notes": {
                "post": {"operationId": "addNote",
                         "parameters": [{"$ref": "#/components/parameters/petId"}],
                         "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {
                             "type": "object", "properties": {"text": {"type": "string"}}}}}},
                         "responses": {"200": {"description": "ok"}}},
                "put": {"operationId": "replaceNote",
                        "requestBody": {"required": true, "content": {"text/plain": {"schema": {"type": "string"}}}},
                        "responses": {"200": {"description": "ok"}}},
            },
        },
    })
}

fn run(doc: &Value, overlay: &Overlay) -> Imported {
    import(&doc.to_string(), overlay).unwrap()
}

fn tool<'a>(imported: &'a Imported, slug: &str) -> &'a Tool {
    imported
        .toolkit
        .tools
        .iter()
        .find(|t| t.slug == slug)
        .unwrap_or_else(|| panic!("no {slug} in {:?}", slugs(imported)))
}

fn slugs(imported: &Imported) -> Vec<&str> {
    imported
        .toolkit
        .tools
        .iter()
        .map(|t| t.slug.as_str())
        .collect()
}

#[test]
fn operations_become_tools() {
    let imported = run(&document(), &overlay("pets"));
    let toolkit = &imported.toolkit;
    assert_eq!(toolkit.base_url, "https://eu.pets.example/v1");
    assert_eq!(toolkit.name, "Pets");
    assert_eq!(toolkit.description, "A pet store.");
    assert_eq!(
        slugs(&imported),
        [
            "PETS_ADD_NOTE",
            "PETS_CREATE_PET",
            "PETS_LIST_PETS",
            "PETS_POST_PETS_PET_ID_PHOTO",
            "PETS_SET_PET_TAGS",
            "PETS_UPDATE_PET",
        ]
    );
    let skipped: BTreeMap<_, _> = imported.skipped.iter().cloned().collect();
    assert!(skipped["deletePet"].contains("deprecated"));
    assert!(skipped["headPet"].contains("HEAD"));
    assert!(skipped["replaceNote"].contains("text/plain"));

    let list = tool(&imported, "PETS_LIST_PETS");
    assert_eq!(list.http.query, ["limit"]);
    // The credential's header and cookies are never arguments.
    assert_eq!(list.http.header, ["X-Request-Id"]);
    assert!(
        list.input_parameters["properties"]
            .get("X-Api-Key")
            .is_none()
    );
    assert!(list.tags.contains(&"readOnlyHint".into()) && list.tags.contains(&"pets".into()));
    assert!(
        list.output_parameters["description"]
            .as_str()
            .unwrap()
            .contains("array")
    );
    assert_eq!(
        list.output_parameters["properties"]["name"]["type"],
        json!(["string", "null"])
    );

    let create = tool(&imported, "PETS_CREATE_PET");
    assert_eq!(
        create.http.body,
        ["name", "parent"],
        "readOnly id is left out"
    );
    assert_eq!(create.input_parameters["required"], json!(["name"]));
    // The recursive parent is cut, not followed forever.
    let parent = &create.input_parameters["properties"]["parent"];
    assert_eq!(parent["type"], "object");
    assert!(parent.get("properties").is_none(), "{parent}");

    // A body field named like the path parameter keeps its wire name.
    let update = tool(&imported, "PETS_UPDATE_PET");
    assert_eq!(update.http.body, ["body_petId", "name"]);
    assert_eq!(update.http.wire_names["body_petId"], "petId");
    assert_eq!(update.input_parameters["required"], json!(["petId"]));
    assert_eq!(
        update.input_parameters["properties"]["petId"]["type"],
        "integer"
    );

    let tags = tool(&imported, "PETS_SET_PET_TAGS");
    assert_eq!(tags.http.body_whole.as_deref(), Some("request_body"));
    assert_eq!(
        tags.input_parameters["properties"]["request_body"]["type"],
        "array"
    );
    assert!(tags.tags.contains(&"idempotentHint".into()));

    let photo = tool(&imported, "PETS_POST_PETS_PET_ID_PHOTO");
    assert_eq!(photo.http.multipart, ["file", "caption"]);
    assert_eq!(
        photo.input_parameters["properties"]["file"]["file_uploadable"],
        true
    );

    let note = tool(&imported, "PETS_ADD_NOTE");
    assert_eq!(note.http.form, ["text"]);

    assert_eq!(toolkit.auth.schemes, ["API_KEY"]);
    let inject = toolkit.auth.inject.as_ref().unwrap();
    assert_eq!(
        (inject.name.as_str(), inject.format.as_str()),
        ("X-Api-Key", "{api_key}")
    );
    assert!(imported.notes.iter().any(|n| n.contains("oauth")));
}

#[test]
fn the_overlay_selects_renames_and_adds() {
    let mut overlay = overlay("pets");
    overlay.openapi.include = vec!["tag:pets".into(), "*Pet".into()];
    overlay.openapi.exclude = vec!["updatePet".into()];
    overlay.openapi.rename = BTreeMap::from([("listPets".into(), "LIST_ALL".into())]);
    overlay.openapi.important = vec!["createPet".into()];
    overlay.base_url = Some("https://override.example".into());
    let imported = run(&document(), &overlay);
    assert_eq!(slugs(&imported), ["PETS_CREATE_PET", "PETS_LIST_ALL"]);
    assert_eq!(imported.toolkit.base_url, "https://override.example");
    assert!(tool(&imported, "PETS_CREATE_PET").is_important());
    assert!(!tool(&imported, "PETS_LIST_ALL").is_important());
}

#[test]
fn colliding_slugs_are_numbered_in_a_fixed_order() {
    let mut doc = document();
    doc["paths"]["/pets"]["get"]["operationId"] = json!("create-pet");
    let first = run(&doc, &overlay("pets"));
    let again = run(&doc, &overlay("pets"));
    assert_eq!(slugs(&first), slugs(&again));
    assert!(slugs(&first).contains(&"PETS_CREATE_PET_2"));
    assert_eq!(first.renamed.len(), 1, "{:?}", first.renamed);
}

#[test]
fn slugs_follow_the_catalog_rule() {
    assert_eq!(slug("GH_", "repos/get-content"), "GH_REPOS_GET_CONTENT");
    assert_eq!(slug("GH_", "listHTTPRoutes"), "GH_LIST_HTTP_ROUTES");
    assert_eq!(
        slug("GH_", "GetCustomersCustomer"),
        "GH_GET_CUSTOMERS_CUSTOMER"
    );
    assert_eq!(slug("GH_", "__weird--name!!"), "GH_WEIRD_NAME");
    assert_eq!(slug("GH_", "gh_already"), "GH_ALREADY");
    assert_eq!(slug("GH_", &"x".repeat(300)).len(), MAX_SLUG);
}

#[test]
fn yaml_documents_are_read() {
    let yaml = "openapi: 3.0.0\ninfo: {title: Y, version: '1'}\nservers: [{url: 'https://y.example'}]\npaths:\n  /ping:\n    get:\n      operationId: ping\n      responses: {'200': {description: ok}}\n";
    let imported = import(yaml, &overlay("y")).unwrap();
    assert_eq!(slugs(&imported), ["Y_PING"]);
    assert_eq!(imported.toolkit.auth.schemes, ["NO_AUTH"]);
}

#[test]
fn bad_documents_get_clear_errors() {
    let cases = [
        ("{not json", "JSON"),
        ("swagger: '2.0'\ninfo: {title: x}\n", "Swagger"),
        (
            "{\"openapi\": \"4.0.0\", \"info\": {\"title\": \"x\", \"version\": \"1\"}, \"paths\": {}}",
            "4.0.0",
        ),
        ("{\"info\": {}}", "no \"openapi\""),
        (
            "{\"openapi\": \"3.0.0\", \"info\": {\"title\": 5}, \"paths\": {}}",
            "info.title",
        ),
    ];
    for (text, expected) in cases {
        let err = import(text, &overlay("x")).unwrap_err().to_string();
        assert!(err.contains(expected), "{text}: {err}");
    }
    // No absolute server and no base_url.
    let mut doc = document();
    doc["servers"] = json!([{"url": "/v1"}]);
    let err = import(&doc.to_string(), &overlay("pets"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("base_url"), "{err}");
    // A bad include pattern names its field.
    let mut bad = overlay("pets");
    bad.openapi.include = vec!["[".into()];
    let err = import(&document().to_string(), &bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("openapi.include[0]"), "{err}");
}

#[test]
fn openapi_3_1_documents_are_read() {
    let mut doc = document();
    doc["openapi"] = json!("3.1.0");
    doc["components"]["schemas"]["Pet"]["properties"]["name"] = json!({"type": ["string", "null"]});
    doc["components"]["schemas"]["Pet"]["properties"]["age"] =
        json!({"type": "integer", "exclusiveMinimum": 0});
    let imported = run(&doc, &overlay("pets"));
    let create = tool(&imported, "PETS_CREATE_PET");
    let props = &create.input_parameters["properties"];
    assert_eq!(props["name"]["type"], json!(["string", "null"]));
    assert_eq!(props["age"]["exclusiveMinimum"], 0);
    assert_eq!(slugs(&imported).len(), 6);
}

/// Shapes found by importing all 2,639 documents of the APIs.guru snapshot.
#[test]
fn odd_documents_seen_in_the_wild_import() {
    let doc = json!({
        "openapi": "3.0.0",
        "info": {"title": "Odd", "version": "1"},
        "servers": [{"url": "https://odd.example/api"}],
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {"authorizationCode": {
            "authorizationUrl": "/oauth/authorize", "tokenUrl": "oauth/token", "scopes": {}}}}}},
        "paths": {
            // An operationId with no letters or digits.
            "/": {"get": {"operationId": "/", "responses": {"200": {"description": "ok"}}}},
            // A placeholder twice, and one no parameter declares next to a
            // query parameter of the same name.
            "/regions/{location}/items/{location}": {"get": {"operationId": "twice",
                "parameters": [{"name": "location", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}}},
            "/search?query={query}": {"get": {"operationId": "search",
                "parameters": [{"name": "query", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}}},
            // A multipart body on DELETE.
            "/icon": {"delete": {"operationId": "deleteIcon",
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {"f": {"type": "string", "format": "binary"}}}}}},
                "responses": {"204": {"description": "gone"}}}},
        },
    });
    let imported = run(&doc, &overlay("odd"));
    assert_eq!(slugs(&imported), ["ODD_GET", "ODD_SEARCH", "ODD_TWICE"]);
    let search = tool(&imported, "ODD_SEARCH");
    assert_eq!(search.http.query, ["query_query"]);
    assert_eq!(search.http.wire_names["query_query"], "query");
    let oauth = imported.toolkit.auth.oauth2.as_ref().unwrap();
    assert_eq!(
        oauth.authorize_url,
        "https://odd.example/api/oauth/authorize"
    );
    assert_eq!(oauth.token_url, "https://odd.example/api/oauth/token");
    assert!(
        imported
            .skipped
            .iter()
            .any(|(op, why)| op == "deleteIcon" && why.contains("multipart"))
    );
}

#[test]
fn documents_the_model_chokes_on_still_import() {
    // A named schema openapiv3 cannot read (an integer `format`): the
    // model reads a copy without it; the schema comes from the raw JSON.
    let mut doc = document();
    doc["components"]["schemas"]["Pet"]["properties"]["name"]["format"] = json!(0);
    let imported = run(&doc, &overlay("pets"));
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("components.schemas"))
    );
    let list = tool(&imported, "PETS_LIST_PETS");
    assert_eq!(list.output_parameters["properties"]["name"]["format"], 0);
    // As an argument schema it does not compile: that one operation is
    // skipped, with the reason.
    let skipped: BTreeMap<_, _> = imported.skipped.iter().cloned().collect();
    assert!(skipped["createPet"].contains("compile"), "{skipped:?}");
    // A request body that refers to itself is skipped, not followed forever.
    let mut doc = document();
    doc["components"]["requestBodies"] =
        json!({"Loop": {"$ref": "#/components/requestBodies/Loop"}});
    doc["paths"]["/pets"]["post"]["requestBody"] =
        json!({"$ref": "#/components/requestBodies/Loop"});
    let imported = run(&doc, &overlay("pets"));
    let skipped: BTreeMap<_, _> = imported.skipped.iter().cloned().collect();
    assert!(skipped["createPet"].contains("loop"), "{skipped:?}");
    // An overlay slug that is not the catalog's slug rule is refused first.
    for bad in ["Pets", "pets-store", "", "pé"] {
        let err = import(&document().to_string(), &overlay(bad)).unwrap_err();
        assert!(err.to_string().starts_with("slug:"), "{bad}: {err}");
    }
}
