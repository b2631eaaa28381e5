//! Project-level toolkits, as `composio.toolkits.*` calls them: the
//! catalog's toolkits (`GET /api/v3.1/toolkits`), one in full with its auth
//! fields (`GET /api/v3.1/toolkits/{slug}`) and their categories
//! (`GET /api/v3.1/toolkits/categories`).

use crate::catalog::toolkit::Toolkit;
use crate::error::ApiError;
use crate::extract::{Project, Query};
use crate::routes::page::PageRequest;
use crate::state::AppState;
use crate::wire::auth_config::input_fields;
use crate::wire::page::Page;
use crate::wire::tool::APP_TOOL_VERSION;
use crate::wire::toolkit::{
    AuthConfigDetail, AuthField, AuthFields, CatalogToolkit, CatalogToolkitMeta, Category,
    FieldSet, ProxyInfo, ToolkitDetail,
};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;
use std::collections::BTreeSet;

/// The toolkit routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v3.1/toolkits", get(list))
        .route("/api/v3.1/toolkits/categories", get(categories))
        .route("/api/v3.1/toolkits/{slug}", get(toolkit))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only toolkits in this category.
    category: Option<String>,
    /// Only toolkits whose slug, name or description contains this.
    search: Option<String>,
    /// `usage` (the default) or `alphabetically`: both sort by slug here.
    sort_by: Option<SortBy>,
    /// Accepted: every toolkit here is the server's.
    managed_by: Option<String>,
    /// Toolkits per page (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]*$")]
    cursor: Option<String>,
}

/// How toolkits are ordered (both by slug here).
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum SortBy {
    /// By use.
    Usage,
    /// By name.
    Alphabetically,
}

fn item(toolkit: &Toolkit, loaded_at: &str) -> CatalogToolkit {
    CatalogToolkit {
        slug: toolkit.slug.clone(),
        name: toolkit.name.clone(),
        kind: "native",
        is_local_toolkit: false,
        auth_schemes: toolkit.auth.schemes.clone(),
        composio_managed_auth_schemes: Vec::new(),
        no_auth: toolkit.auth.schemes.iter().all(|s| s == "NO_AUTH"),
        deprecated: serde_json::json!({"toolkitId": toolkit.slug}),
        meta: CatalogToolkitMeta {
            description: toolkit.description.clone(),
            logo: toolkit.logo.clone(),
            categories: toolkit.categories.iter().map(|c| Category::of(c)).collect(),
            tools_count: toolkit.tools_count,
            triggers_count: 0,
            version: APP_TOOL_VERSION,
            available_versions: [APP_TOOL_VERSION],
            created_at: loaded_at.to_owned(),
            updated_at: loaded_at.to_owned(),
        },
    }
}

/// When this server loaded its catalog.
fn loaded_at(state: &AppState) -> String {
    crate::timestamp::rfc3339(state.started_at)
}

/// `GET /api/v3.1/toolkits`: the catalog's toolkits.
#[utoipa::path(
    operation_id = "toolkits_list", get, path = "/api/v3.1/toolkits", tag = "toolkits", params(ListQuery),
    responses((status = 200, body = crate::wire::page::Page<crate::wire::toolkit::CatalogToolkit>), (status = 400, description = "Bad input (the message names the field)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Project(_project): Project,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<CatalogToolkit>>, ApiError> {
    let _ = (&query.managed_by, query.sort_by);
    let page = PageRequest::new(query.limit, query.cursor.as_deref(), 100, 1000)?;
    let search = query.search.as_deref().map(str::to_lowercase);
    let loaded = loaded_at(&state);
    let mut all: Vec<CatalogToolkit> = state
        .catalog()
        .toolkits()
        .filter(|t| {
            query
                .category
                .as_deref()
                .is_none_or(|c| t.categories.iter().any(|own| own.eq_ignore_ascii_case(c)))
        })
        .filter(|t| {
            search.as_deref().is_none_or(|s| {
                [&t.slug, &t.name, &t.description]
                    .iter()
                    .any(|field| field.to_lowercase().contains(s))
            })
        })
        .map(|t| item(t, &loaded))
        .collect();
    all.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(axum::Json(page.envelope(all)))
}

/// `GET /api/v3.1/toolkits/categories`: every category of the catalog.
#[utoipa::path(
    operation_id = "toolkits_categories", get, path = "/api/v3.1/toolkits/categories", tag = "toolkits",
    responses((status = 200, body = crate::wire::page::Page<crate::wire::toolkit::Category>),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn categories(
    State(state): State<AppState>,
    Project(_project): Project,
) -> Result<axum::Json<Page<Category>>, ApiError> {
    let catalog = state.catalog();
    let all: BTreeSet<&str> = catalog
        .toolkits()
        .flat_map(|t| t.categories.iter().map(String::as_str))
        .collect();
    let items: Vec<Category> = all.into_iter().map(Category::of).collect();
    let n = items.len().max(1);
    Ok(axum::Json(
        PageRequest::new(Some(n), None, n, n)?.envelope(items),
    ))
}

/// The fields of `scheme`: what a custom auth config and a connection ask
/// for.
fn auth_fields(scheme: &str) -> AuthFields {
    let field = |name: &str, label: &str, description: &str, required, is_secret| AuthField {
        name: name.to_owned(),
        display_name: label.to_owned(),
        kind: "string".into(),
        description: description.to_owned(),
        required,
        default: None,
        is_secret,
        user_visible: true,
    };
    let connection = input_fields(scheme)
        .into_iter()
        .map(|f| {
            field(
                f.name,
                f.display_name,
                &format!("The account's {}", f.display_name.to_lowercase()),
                f.required,
                f.is_secret,
            )
        })
        .collect();
    let creation = if scheme == "OAUTH2" {
        vec![
            field(
                "client_id",
                "Client ID",
                "Your OAuth app's client id",
                true,
                false,
            ),
            field(
                "client_secret",
                "Client secret",
                "Your OAuth app's client secret",
                true,
                true,
            ),
            field(
                "scopes",
                "Scopes",
                "Scopes to ask for, comma-separated",
                false,
                false,
            ),
        ]
    } else {
        Vec::new()
    };
    AuthFields {
        auth_config_creation: FieldSet::of(creation),
        connected_account_initiation: FieldSet::of(connection),
    }
}

/// `GET /api/v3.1/toolkits/{slug}`: one toolkit with its auth schemes'
/// fields.
#[utoipa::path(
    operation_id = "toolkits_get", get, path = "/api/v3.1/toolkits/{slug}", tag = "toolkits", params(("slug" = String, Path, description = "A toolkit slug")),
    responses((status = 200, body = crate::wire::toolkit::ToolkitDetail),
        (status = 401, description = "Missing or unknown API key", body = crate::error::ErrorBody),
        (status = 404, description = "No such toolkit", body = crate::error::ErrorBody),
        (status = 429, description = "Over a per-project limit; see Retry-After", body = crate::error::ErrorBody))
)]
async fn toolkit(
    State(state): State<AppState>,
    Project(_project): Project,
    Path(slug): Path<String>,
) -> Result<axum::Json<ToolkitDetail>, ApiError> {
    let catalog = state.catalog();
    let toolkit = catalog.toolkit(&slug.to_ascii_lowercase()).ok_or_else(|| {
        ApiError::NotFound(format!(
            "toolkit {} not found",
            crate::error::clip(&slug, 64)
        ))
    })?;
    let scopes = toolkit
        .auth
        .oauth2
        .as_ref()
        .map(|o| o.scopes.clone())
        .unwrap_or_default();
    let auth_config_details = toolkit
        .auth
        .schemes
        .iter()
        .filter(|s| s.as_str() != "NO_AUTH")
        .map(|scheme| AuthConfigDetail {
            name: Category::of(&scheme.to_ascii_lowercase()).name,
            mode: scheme.clone(),
            auth_hint_url: None,
            required_scopes: if scheme == "OAUTH2" {
                scopes.clone()
            } else {
                Vec::new()
            },
            proxy: ProxyInfo {
                base_url: toolkit.base_url.clone(),
            },
            fields: auth_fields(scheme),
        })
        .collect();
    Ok(axum::Json(ToolkitDetail {
        toolkit: item(toolkit, &loaded_at(&state)),
        enabled: true,
        composio_managed_auth: Vec::new(),
        base_url: toolkit.base_url.clone(),
        auth_config_details,
    }))
}
