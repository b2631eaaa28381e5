//! `toolshed feedback`: what agents reported with COMPOSIO_SUBMIT_FEEDBACK,
//! newest first, one tab-separated line each.

use super::{default_data_dir, error_chain};
use crate::store::Store;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `toolshed feedback`.
#[derive(Debug, Args)]
pub struct FeedbackArgs {
    /// The data directory (default: as for `serve`).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// How many, newest first.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

/// Runs the command.
pub fn run(args: FeedbackArgs) -> ExitCode {
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let listed = Store::open(&data_dir).and_then(|store| store.list_feedback(args.limit));
    let items = match listed {
        Ok(items) => items,
        Err(err) => {
            eprintln!(
                "toolshed feedback: {}: {}",
                data_dir.display(),
                error_chain(&err)
            );
            return ExitCode::from(2);
        }
    };
    println!("created_at\tproject\tsession\tkind\ttool\tlog_id\tfeedback");
    for item in items {
        // One line each: the text's own tabs and newlines become spaces.
        let text: String = item
            .text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            crate::timestamp::rfc3339(u64::try_from(item.created_at).unwrap_or(0)),
            item.project_id,
            item.session_id,
            item.kind,
            item.tool_slug.unwrap_or_default(),
            item.log_id.unwrap_or_default(),
            text
        );
    }
    ExitCode::SUCCESS
}
