//! The `pipeline` command-line tool: pack, scan, redact, tokens, compress, route, serve.
//!
//! Machine-readable output is a public contract (see the README): fields are added, never
//! renamed. Exit codes: 0 success; 1 `scan` found something at or above `--fail-on`; 2 usage,
//! input or I/O errors. Every subcommand reads standard input for `-`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

const EXAMPLES: &str = "examples:
  pipeline pack \"how are cache misses loaded\" --root . --max-tokens 8000 --format json
  pipeline scan src/ config/ --format jsonl --fail-on sensitive
  git diff | pipeline redact -
  pipeline tokens README.md --encoding o200k
  pipeline compress src/main.rs --level balanced
  pipeline route \"why is this query slow on postgres\"
  PIPELINE_REDIS_URL=redis://127.0.0.1:6379 pipeline serve --listen 127.0.0.1:8077";

/// Route, cache, select, redact and compress code context for LLMs.
#[derive(Parser)]
#[command(name = "pipeline", version, about, after_help = EXAMPLES)]
struct Cli {
    /// Configuration file (default: ./pipeline.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Redis URL for the shared L2 cache (or PIPELINE_REDIS_URL).
    #[arg(long, global = true, value_name = "URL")]
    redis: Option<String>,
    /// PostgreSQL URL for the shared L3 cache (or PIPELINE_POSTGRES_URL).
    #[arg(long, global = true, value_name = "URL")]
    postgres: Option<String>,
    /// Largest input accepted from a file or stdin, in bytes.
    #[arg(long, global = true, default_value_t = 512 << 20, value_name = "BYTES")]
    max_input: u64,
    #[command(subcommand)]
    command: Command,
}

/// Output formats of `pack`.
#[derive(Clone, Copy, ValueEnum)]
enum PackOutput {
    Json,
    Markdown,
    Xml,
}

/// The format of the pack text inside `pack --format json`.
#[derive(Clone, Copy, ValueEnum)]
enum PackText {
    Markdown,
    Xml,
    Json,
}

impl From<PackText> for pipeline::PackFormat {
    fn from(p: PackText) -> Self {
        match p {
            PackText::Markdown => pipeline::PackFormat::Markdown,
            PackText::Xml => pipeline::PackFormat::Xml,
            PackText::Json => pipeline::PackFormat::Json,
        }
    }
}

/// Output formats of `scan`.
#[derive(Clone, Copy, ValueEnum)]
enum ScanOutput {
    Jsonl,
    Sarif,
    Text,
}

#[derive(Subcommand)]
enum Command {
    /// Build a context pack of the code relevant to QUERY under --root.
    Pack {
        /// The question.
        query: String,
        /// Project root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Token budget.
        #[arg(long)]
        max_tokens: Option<usize>,
        /// Output: json (the full response), markdown or xml (the pack text only).
        #[arg(long, value_enum, default_value = "markdown")]
        format: PackOutput,
        /// Only files with these extensions (comma separated, no dots).
        #[arg(long, value_delimiter = ',')]
        ext: Vec<String>,
        /// The caller's clearance: findings above it are redacted (default: `[security]
        /// clearance` of the config, else public).
        #[arg(long)]
        security_level: Option<String>,
        /// Tenant (cache namespace).
        #[arg(long)]
        tenant: Option<String>,
        /// Do not read or write any cache tier.
        #[arg(long)]
        no_cache: bool,
        /// With `--format json`: the format of the `pack` text inside the JSON (markdown, xml
        /// or json; default from the config, markdown).
        #[arg(long, value_enum)]
        pack_format: Option<PackText>,
    },
    /// Scan files, directories or stdin for secrets and PII.
    Scan {
        /// Files or directories (`-` for stdin).
        #[arg(required = true)]
        paths: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ScanOutput,
        /// Exit 1 when a finding is at or above this level.
        #[arg(long, default_value = "sensitive")]
        fail_on: String,
        /// Baseline file of accepted fingerprints.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Also scan files that .gitignore / .ignore exclude.
        #[arg(long)]
        no_ignore: bool,
    },
    /// Print the text with every finding replaced by a placeholder.
    Redact {
        /// A file, or `-` / nothing for stdin.
        file: Option<String>,
        /// mask, partial, hash or drop-line.
        #[arg(long, default_value = "mask")]
        mode: String,
    },
    /// Count tokens.
    Tokens {
        /// A file, or `-` / nothing for stdin.
        file: Option<String>,
        /// o200k or cl100k.
        #[arg(long, default_value = "o200k")]
        encoding: String,
    },
    /// Compress code without changing what it means.
    Compress {
        /// A file, or `-` / nothing for stdin.
        file: Option<String>,
        /// lossless, balanced, aggressive or skeleton.
        #[arg(long, default_value = "balanced")]
        level: String,
        /// Language (default: from the file's extension or shebang).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Rank routes (agents, categories) for QUERY and print them as JSON.
    Route {
        /// The question.
        query: String,
        /// A route table (TOML or JSON) instead of the default one.
        #[arg(long)]
        routes: Option<PathBuf>,
    },
    /// Run the HTTP service.
    Serve {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<String>,
        /// Directories requests may read under (repeatable; default: current directory).
        #[arg(long = "allow-root")]
        allowed_roots: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pipeline: {message}");
            ExitCode::from(2)
        }
    }
}
