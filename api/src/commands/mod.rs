//! One module per `toolshed` subcommand.

pub mod checkpoints;
pub mod config_file;
pub mod data_dir_lock;
pub mod feedback;
pub mod keys;
pub mod mcp;
pub mod run;
pub mod secrets;
pub mod serve;
pub mod toolkits;

use std::path::PathBuf;

/// `$TOOLSHED_DATA_DIR`, else `$XDG_DATA_HOME/toolshed`, else
/// `~/.local/share/toolshed`.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLSHED_DATA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("toolshed");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".local/share/toolshed");
    }
    PathBuf::from("toolshed-data")
}

/// An error and its causes on one line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
