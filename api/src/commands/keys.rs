//! `toolshed keys create|list|revoke`: manage API keys.

use super::{default_data_dir, error_chain};
use crate::keys;
use crate::store::Store;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `toolshed keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// The server's data directory.
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key for the first project (or a new one) and print it (once).
    Create {
        /// Create a new project with this name and give the key to it.
        #[arg(long, value_name = "NAME")]
        new_project: Option<String>,
    },
    /// List keys (ids and prefixes; keys themselves are never stored).
    List,
    /// Revoke a key by id.
    Revoke {
        /// The key's id (`key_…`, from `toolshed keys list`).
        id: String,
    },
}

/// Runs the command.
pub fn run(args: KeysArgs) -> ExitCode {
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let store = match Store::open(&data_dir) {
        Ok(store) => store,
        Err(err) => {
            eprintln!(
                "toolshed keys: {}: {}",
                data_dir.display(),
                error_chain(&err)
            );
            return ExitCode::from(2);
        }
    };
    let result = match args.command {
        KeysCommand::Create { new_project } => match new_project {
            Some(name) => store.create_project(&keys::new_id("proj_"), &name).map(|p| p.id),
            None => ensure_project(&store),
        }
        .and_then(|project| {
            let key = keys::generate();
            store
                .add_api_key(&keys::new_id("key_"), &project, &key, &keys::display_prefix(&key))
                .map(|record| {
                    println!("{key}");
                    eprintln!("created {} for project {project}; store the key now, it is not shown again", record.id);
                })
        }),
        KeysCommand::List => store.api_keys().map(|keys| {
            for key in keys {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{}…\t{state}", key.id, key.project_id, key.prefix);
            }
        }),
        KeysCommand::Revoke { id } => match store.revoke_api_key(&id) {
            Ok(true) => {
                eprintln!("revoked {id}");
                Ok(())
            }
            Ok(false) => {
                eprintln!("toolshed keys: no active key {id}");
                return ExitCode::from(1);
            }
            Err(err) => Err(err),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("toolshed keys: {}", error_chain(&err));
            ExitCode::from(2)
        }
    }
}

/// The first project, created if there is none.
pub fn ensure_project(store: &Store) -> Result<String, crate::store::StoreError> {
    if let Some(project) = store.projects()?.into_iter().next() {
        return Ok(project.id);
    }
    Ok(store.create_project(&keys::new_id("proj_"), "default")?.id)
}
