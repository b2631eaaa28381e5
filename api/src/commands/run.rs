//! `toolshed run`: run Python files as consecutive cells of one sandbox.
//!
//! Prints one JSON envelope per cell on stdout (one line each) and exits
//! with status 1 if any cell did not end `ok`, 2 on bad usage.

use super::error_chain;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use toolshed_engine::{Engine, EngineConfig, Limits};

/// Arguments of `toolshed run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Host directory to use as the workbench (/home/user). Default: a new
    /// temporary directory, removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub workbench: Option<PathBuf>,
    /// Host directory to use as the files mount (/mnt/files). Default:
    /// `files` next to the workbench.
    #[arg(long, value_name = "DIR")]
    pub files: Option<PathBuf>,
    /// Wall-clock deadline per cell, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 180_000, value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    pub timeout_ms: u64,
    /// Memory limit of the sandbox, in MiB.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(16..=4096))]
    pub memory_mb: u64,
    /// Python files to run, in order, as cells of one sandbox (`-` reads
    /// one cell from standard input).
    #[arg(required = true, value_name = "CELL.py")]
    pub cells: Vec<PathBuf>,
}

/// Runs the command.
pub async fn run(args: RunArgs) -> ExitCode {
    let mut sources = Vec::with_capacity(args.cells.len());
    for path in &args.cells {
        let source = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(path)
        };
        match source {
            Ok(source) => sources.push(source),
            Err(err) => {
                eprintln!("toolshed run: cannot read {}: {err}", path.display());
                return ExitCode::from(2);
            }
        }
    }

    let temp = match args.workbench {
        Some(_) => None,
        None => match tempfile::Builder::new().prefix("toolshed-run-").tempdir() {
            Ok(dir) => Some(dir),
            Err(err) => {
                eprintln!("toolshed run: cannot create a temporary workbench: {err}");
                return ExitCode::from(2);
            }
        },
    };
    let home = match (&args.workbench, &temp) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temp)) => temp.path().join("home"),
        (None, None) => unreachable!("a temporary directory exists when no workbench is given"),
    };
    let files = args.files.clone().unwrap_or_else(|| {
        home.parent()
            .map(|p| p.join("files"))
            .unwrap_or_else(|| PathBuf::from("files"))
    });

    let engine = match tokio::task::spawn_blocking(|| Engine::new(EngineConfig::default())).await {
        Ok(Ok(engine)) => engine,
        Ok(Err(err)) => {
            eprintln!("toolshed run: {}", error_chain(&err));
            return ExitCode::from(2);
        }
        Err(err) => {
            eprintln!("toolshed run: engine start-up failed: {err}");
            return ExitCode::from(2);
        }
    };
    let limits = Limits {
        timeout: Duration::from_millis(args.timeout_ms),
        max_memory_bytes: args.memory_mb << 20,
        ..Limits::default()
    };
    let sandbox = match engine.sandbox(home, files).limits(limits).build() {
        Ok(sandbox) => sandbox,
        Err(err) => {
            eprintln!("toolshed run: {}", error_chain(&err));
            return ExitCode::from(2);
        }
    };

    let mut all_ok = true;
    for source in &sources {
        match sandbox.run_cell(source).await {
            Ok(outcome) => {
                all_ok &= outcome.is_ok();
                match serde_json::to_string(&outcome) {
                    Ok(line) => println!("{line}"),
                    Err(err) => {
                        eprintln!("toolshed run: cannot encode the result: {err}");
                        return ExitCode::from(2);
                    }
                }
            }
            Err(err) => {
                eprintln!("toolshed run: {}", error_chain(&err));
                return ExitCode::from(2);
            }
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
