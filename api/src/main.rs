//! The `toolshed` binary: parses the command line and hands over to
//! [`toolshed_api::commands`].

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use toolshed_api::commands;

/// toolshed: sandboxed, persistent Python workbenches and tools for AI agents.
#[derive(Debug, Parser)]
#[command(name = "toolshed", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP server (Composio v3.1 session API).
    Serve(commands::serve::ServeArgs),
    /// Run Python files as consecutive cells of one sandbox and print one
    /// JSON envelope per cell.
    Run(commands::run::RunArgs),
    /// Serve one session as an MCP server over stdin/stdout (for desktop
    /// clients that start servers as processes).
    Mcp(commands::mcp::McpArgs),
    /// Print the HTTP API's OpenAPI 3.1 document.
    Openapi,
    /// Manage API keys.
    Keys(commands::keys::KeysArgs),
    /// Manage the master key that seals stored credentials.
    Secrets(commands::secrets::SecretsArgs),
    /// Disk taken by hibernated interpreters, per project.
    Checkpoints(commands::checkpoints::CheckpointsArgs),
    /// What agents reported with COMPOSIO_SUBMIT_FEEDBACK.
    Feedback(commands::feedback::FeedbackArgs),
    /// Toolkits from OpenAPI documents.
    Toolkits(commands::toolkits::ToolkitsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr; RUST_LOG filters them (default: info for `serve`,
    // warn otherwise) and TOOLSHED_LOG_FORMAT=json makes them JSON lines.
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    // rmcp logs every agent mistake and disconnect as a warning: errors only.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{default_level},rmcp=error"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if std::env::var("TOOLSHED_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("toolshed: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Run(args) => commands::run::run(args).await,
            Command::Mcp(args) => commands::mcp::run(args).await,
            Command::Openapi => {
                // A reader that stops early (`| head`) is not an error.
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                match out
                    .write_all(toolshed_api::openapi::json().as_bytes())
                    .and_then(|()| out.flush())
                {
                    Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                        eprintln!("toolshed openapi: {err}");
                        ExitCode::FAILURE
                    }
                    _ => ExitCode::SUCCESS,
                }
            }
            Command::Keys(args) => commands::keys::run(args),
            Command::Secrets(args) => commands::secrets::run(args),
            Command::Checkpoints(args) => commands::checkpoints::run(args),
            Command::Feedback(args) => commands::feedback::run(args),
            Command::Toolkits(args) => commands::toolkits::run(args),
        }
    })
}
