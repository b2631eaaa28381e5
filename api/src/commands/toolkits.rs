//! `toolshed toolkits import`: what an OpenAPI document (or a toolkit
//! overlay naming one) turns into, and what it leaves out and why.

use crate::catalog::openapi_import::{Overlay, Source};
use crate::catalog::toolkit;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `toolshed toolkits`.
#[derive(Debug, Args)]
pub struct ToolkitsArgs {
    #[command(subcommand)]
    command: ToolkitsCommand,
}

#[derive(Debug, Subcommand)]
enum ToolkitsCommand {
    /// Import an OpenAPI 3.0 document (JSON or YAML), a `toolkit.toml`
    /// overlay naming one, or a `toolkit.toml` with an `[mcp]` table (the
    /// server is started or reached and its tools listed), and report the
    /// tools it makes, what it skips and why, and the slugs it had to
    /// change. Nothing is written: put the files in a folder under the
    /// toolkits directory to serve them.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The document, or a `toolkit.toml` with an `[openapi]` table.
    path: PathBuf,
    /// The toolkit's slug (for a bare document; default: from the file
    /// name).
    #[arg(long)]
    slug: Option<String>,
    /// The upstream base URL (for a bare document without an absolute
    /// server URL).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print the whole toolkit (every tool with its schemas and binding)
    /// as JSON instead of the report.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: ToolkitsArgs) -> ExitCode {
    match args.command {
        ToolkitsCommand::Import(args) => import(args),
    }
}

fn import(args: ImportArgs) -> ExitCode {
    let started = Instant::now();
    let is_overlay = args.path.extension().is_some_and(|e| e == "toml");
    let result = if is_overlay {
        std::fs::read_to_string(&args.path)
            .map_err(|e| format!("{}: {e}", args.path.display()))
            .and_then(|text| {
                let is_mcp =
                    toml::from_str::<toml::Table>(&text).is_ok_and(|t| t.contains_key("mcp"));
                if is_mcp {
                    let parsed: toolkit::Toolkit = toml::from_str(&text)
                        .map_err(|e| format!("{}: {e}", args.path.display()))?;
                    toolkit::load_mcp(&args.path, parsed, toolkit::Cache::Bypass)
                } else {
                    toolkit::load_overlay(&args.path, &text, toolkit::Cache::Bypass)
                }
                .map_err(|e| e.to_string())
            })
    } else {
        let slug = args
            .slug
            .clone()
            .unwrap_or_else(|| default_slug(&args.path));
        let overlay = Overlay {
            slug,
            name: None,
            description: None,
            logo: String::new(),
            base_url: args.base_url.clone(),
            categories: Vec::new(),
            auth: None,
            openapi: Source {
                document: args.path.file_name().map(PathBuf::from).unwrap_or_default(),
                ..Source::default()
            },
            tools: Vec::new(),
        };
        toolkit::import_checked(&overlay, &args.path, toolkit::Cache::Bypass)
            .map_err(|e| e.to_string())
    };
    let imported = match result {
        Ok(imported) => imported,
        Err(message) => {
            eprintln!("toolshed toolkits import: {message}");
            return ExitCode::from(2);
        }
    };
    let elapsed = started.elapsed();
    if args.json {
        match serde_json::to_string_pretty(&imported.toolkit) {
            Ok(text) => {
                let _ = std::io::Write::write_all(
                    &mut std::io::stdout().lock(),
                    format!("{text}\n").as_bytes(),
                );
            }
            Err(e) => {
                eprintln!("toolshed toolkits import: {e}");
                return ExitCode::from(2);
            }
        }
        return ExitCode::SUCCESS;
    }
    let toolkit = &imported.toolkit;
    let mut report = String::new();
    use std::fmt::Write as _;
    let (source, served_by) = match &toolkit.mcp {
        Some(server) => (
            "tools listed by its MCP server",
            match &server.url {
                Some(url) => format!("MCP server {url}"),
                None => format!("MCP server `{}`", server.command.join(" ")),
            },
        ),
        None => ("operations", format!("base URL {}", toolkit.base_url)),
    };
    let _ = writeln!(
        report,
        "{}: {} tools from {} {source} in {} ms ({served_by}, auth {})",
        toolkit.slug,
        toolkit.tools.len(),
        imported.operations,
        elapsed.as_millis(),
        toolkit.auth.schemes.join("+"),
    );
    for tool in &toolkit.tools {
        let binding = match &tool.mcp {
            Some(mcp) => format!("mcp {}", mcp.name),
            None => format!("{} {}", tool.http.method, tool.http.path),
        };
        let _ = writeln!(report, "  tool     {}\t{binding}\t{}", tool.slug, tool.name);
    }
    for (operation, why) in &imported.renamed {
        let _ = writeln!(report, "  renamed  {operation}\t{why}");
    }
    for (operation, why) in &imported.skipped {
        let _ = writeln!(report, "  skipped  {operation}\t{why}");
    }
    for note in &imported.notes {
        let _ = writeln!(report, "  note     {note}");
    }
    let _ = writeln!(
        report,
        "{} tools, {} skipped, {} renamed",
        toolkit.tools.len(),
        imported.skipped.len(),
        imported.renamed.len()
    );
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), report.as_bytes());
    ExitCode::SUCCESS
}

/// `api.github.com.json` -> `api_github_com`.
fn default_slug(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let slug: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if slug.is_empty() {
        "imported".into()
    } else {
        slug
    }
}
