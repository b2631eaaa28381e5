//! The API's wire types: typed request and response bodies, one module per
//! resource, so a handler returns a value whose shape the compiler checks
//! (and an OpenAPI document can be generated from) instead of building JSON
//! by hand.

pub mod account;
pub mod auth_config;
pub mod execute;
pub mod files;
pub mod log;
pub mod page;
pub mod session;
pub mod tool;
pub mod toolkit;
