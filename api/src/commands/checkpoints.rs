//! `toolshed checkpoints`: how much disk hibernated interpreters take, per
//! project (checkpoints do not count against a session's quota, so the
//! operator sees them here).

use super::{default_data_dir, error_chain};
use crate::session::hibernation::{CheckpointStore, LocalDir};
use crate::store::Store;
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `toolshed checkpoints`.
#[derive(Debug, Args)]
pub struct CheckpointsArgs {
    /// The data directory (default: as for `serve`).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// One project's line.
#[derive(Default)]
struct Usage {
    sessions: u64,
    hibernated: u64,
    bytes: u64,
}

/// Runs the command: one line per project with sessions.
pub fn run(args: CheckpointsArgs) -> ExitCode {
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let store = match Store::open(&data_dir) {
        Ok(store) => store,
        Err(err) => {
            eprintln!(
                "toolshed checkpoints: {}: {}",
                data_dir.display(),
                error_chain(&err)
            );
            return ExitCode::from(2);
        }
    };
    let sessions = match store.session_ids() {
        Ok(sessions) => sessions,
        Err(err) => {
            eprintln!("toolshed checkpoints: {}", error_chain(&err));
            return ExitCode::from(2);
        }
    };
    let checkpoints = LocalDir::new(data_dir.join("sessions"));
    let mut usage: BTreeMap<String, Usage> = BTreeMap::new();
    for (project, session) in sessions {
        let line = usage.entry(project).or_default();
        line.sessions += 1;
        match checkpoints.bytes(&session) {
            Ok(0) => {}
            Ok(bytes) => {
                line.hibernated += 1;
                line.bytes += bytes;
            }
            Err(err) => eprintln!("toolshed checkpoints: session {session}: {err}"),
        }
    }
    println!("project\tsessions\twith_checkpoint\tcheckpoint_bytes");
    for (project, line) in usage {
        println!(
            "{project}\t{}\t{}\t{}",
            line.sessions, line.hibernated, line.bytes
        );
    }
    ExitCode::SUCCESS
}
