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
    /// Interpreter state to carry across runs: loaded from FILE before the
    /// first cell when it exists, saved to it after the last (variables,
    /// functions, imports; files live in --workbench).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Write /tmp/perf-<pid>.map for `perf record`, which then names the
    /// interpreter's functions (docs/BENCHMARKS.md, "Where the
    /// interpreter's time goes").
    #[arg(long)]
    pub perf_map: bool,
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

    let config = EngineConfig {
        perf_map: args.perf_map,
        ..EngineConfig::default()
    };
    let engine = match tokio::task::spawn_blocking(|| Engine::new(config)).await {
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
    let mut builder = engine.sandbox(home, files).limits(limits);
    if let Some(path) = &args.state {
        match std::fs::read(path) {
            Ok(image) => builder = builder.restore(image),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                eprintln!("toolshed run: cannot read {}: {err}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let sandbox = match builder.build() {
        Ok(sandbox) => sandbox,
        Err(err) => {
            match &args.state {
                Some(path) => eprintln!("toolshed run: {}: {}", path.display(), error_chain(&err)),
                None => eprintln!("toolshed run: {}", error_chain(&err)),
            }
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
    if let Some(path) = &args.state
        && let Err(message) = save_state(&sandbox, path).await
    {
        eprintln!(
            "toolshed run: cannot save the state to {}: {message}",
            path.display()
        );
        return ExitCode::from(2);
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Writes the sandbox's checkpoint to `path` (temp file and rename, so an
/// interrupted save leaves the previous state). A sandbox whose last cell
/// reset the interpreter has no state: the file is removed.
async fn save_state(
    sandbox: &toolshed_engine::Sandbox,
    path: &std::path::Path,
) -> Result<(), String> {
    let image = sandbox.checkpoint().await.map_err(|e| error_chain(&e))?;
    let Some(image) = image else {
        eprintln!(
            "toolshed run: the interpreter was reset by the last cell; {} is removed",
            path.display()
        );
        return match std::fs::remove_file(path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err.to_string()),
            _ => Ok(()),
        };
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut tmp, &image).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.error.to_string())?;
    Ok(())
}
