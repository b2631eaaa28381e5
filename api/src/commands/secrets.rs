//! `toolshed secrets rotate`: re-seal every stored credential under a new
//! master key.

use super::{default_data_dir, error_chain};
use crate::secrets::{Key, MASTER_KEY_FILE, MASTER_KEY_VAR, Sealer, write_key_file};
use crate::store::Store;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The environment variable with the new key, when the current one comes
/// from [`MASTER_KEY_VAR`].
pub const NEW_MASTER_KEY_VAR: &str = "TOOLSHED_NEW_MASTER_KEY";

/// Arguments of `toolshed secrets`.
#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// The server's data directory.
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: SecretsCommand,
}

#[derive(Debug, Subcommand)]
enum SecretsCommand {
    /// Re-seal every stored credential under a new master key. With the key
    /// in the data directory, a new one is generated and replaces it; with
    /// the key in TOOLSHED_MASTER_KEY, the new key is read from
    /// TOOLSHED_NEW_MASTER_KEY (then put it in TOOLSHED_MASTER_KEY). Stop the
    /// server first.
    Rotate,
}

/// Runs the command.
pub fn run(args: SecretsArgs) -> ExitCode {
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    match args.command {
        SecretsCommand::Rotate => match rotate(&data_dir) {
            Ok(count) => {
                eprintln!("re-sealed {count} credentials under the new master key");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("toolshed secrets rotate: {message}");
                ExitCode::from(2)
            }
        },
    }
}

fn rotate(data_dir: &std::path::Path) -> Result<usize, String> {
    let store = Store::open(data_dir).map_err(|e| error_chain(&e))?;
    let from_env = std::env::var_os(MASTER_KEY_VAR).is_some();
    let new_key = if from_env {
        let text = std::env::var(NEW_MASTER_KEY_VAR).map_err(|_| {
            format!(
                "{MASTER_KEY_VAR} is set: put the new key (64 hex digits) in {NEW_MASTER_KEY_VAR}"
            )
        })?;
        Key::from_hex(&text).ok_or_else(|| format!("{NEW_MASTER_KEY_VAR} must be 64 hex digits"))?
    } else {
        Key::generate().map_err(|e| error_chain(&e))?
    };
    // The new key is on disk before any row is sealed under it, and becomes
    // the master key only after every row is.
    let key_file = data_dir.join(MASTER_KEY_FILE);
    let pending = data_dir.join(format!("{MASTER_KEY_FILE}.new"));
    if !from_env {
        let _ = std::fs::remove_file(&pending);
        write_key_file(&pending, &new_key).map_err(|e| error_chain(&e))?;
    }
    let count = store
        .reseal_credentials(&Sealer::new(new_key))
        .map_err(|e| error_chain(&e))?;
    if !from_env {
        std::fs::rename(&pending, &key_file).map_err(|e| format!("{}: {e}", key_file.display()))?;
    }
    Ok(count)
}
