//! HTTP routes, one module per resource.

pub mod auth_configs;
pub mod connect_page;
pub mod connected_accounts;
pub mod files;
pub mod links;
pub mod logs;
pub mod oauth_callback;
pub mod page;
pub mod revocation;
pub mod sessions;
pub mod staged;
pub mod toolkits;
pub mod tools;
