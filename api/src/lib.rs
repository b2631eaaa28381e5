//! The `toolshed` binary's library: the command-line commands (and, with the
//! session API, the HTTP server).
//!
//! # Layout
//!
//! - [`commands`]: one module per subcommand (`run`).
#![forbid(unsafe_code)]

pub mod commands;
