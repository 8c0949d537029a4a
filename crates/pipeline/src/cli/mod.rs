//! The subcommands' implementations: thin wrappers over the library and the component crates.

pub mod input;

use crate::{Cli, Command, PackOutput, ScanOutput};
use input::{read_input, to_text};
use pipeline::config::PipelineConfig;
use std::io::Write;
use std::process::ExitCode;

type CliResult = Result<ExitCode, String>;

/// Writes to stdout; a closed pipe (`pipeline ... | head`) ends quietly.
fn emit(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write to standard output: {e}")),
    }
}

fn config(cli: &Cli) -> Result<PipelineConfig, String> {
    let mut cfg = PipelineConfig::discover(cli.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(url) = &cli.redis {
        cfg.cache.redis_url = Some(url.clone());
    }
    if let Some(url) = &cli.postgres {
        cfg.cache.postgres_url = Some(url.clone());
    }
    Ok(cfg)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

pub fn run(cli: Cli) -> CliResult {
    let cfg = config(&cli)?;
    let limit = cli.max_input;
    match cli.command {
        Command::Tokens { file, encoding } => {
            let enc: token_opt::Encoding =
                encoding.parse().map_err(|e| format!("--encoding: {e}"))?;
            let tok = token_opt::Tokenizer::new(enc).map_err(|e| e.to_string())?;
            let bytes = read_input(file.as_deref(), limit)?;
            let (text, lossy) = to_text(&bytes);
            if lossy {
                eprintln!(
                    "pipeline: input is not valid UTF-8; invalid bytes were counted as U+FFFD"
                );
            }
            emit(&format!("{}\n", tok.count(&text)))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Compress { file, level, lang } => {
            let level: token_opt::Level = level.parse().map_err(|e| format!("--level: {e}"))?;
            let bytes = read_input(file.as_deref(), limit)?;
            let (text, lossy) = to_text(&bytes);
            if lossy {
                return Err("input is not valid UTF-8; compress only rewrites text".into());
            }
            let language = match lang {
                Some(l) => l.parse().map_err(|e| format!("--lang: {e}"))?,
                None => {
                    let first = text.lines().next().unwrap_or("");
                    token_opt::Language::detect(file.as_deref().unwrap_or(""), first)
                }
            };
            let out = token_opt::compress(&text, language, level).map_err(|e| e.to_string())?;
            if let Some(why) = &out.fallback {
                eprintln!("pipeline: {why}");
            }
            emit(&out.text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Route { query, routes } => {
            let routes = routes.or(cfg.routes.clone());
            let ranking =
                pipeline::route_query(&query, routes.as_deref()).map_err(|e| e.to_string())?;
            emit(&(serde_json::to_string_pretty(&ranking).map_err(|e| e.to_string())? + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan {
            paths,
            format,
            fail_on,
            baseline,
            no_ignore,
        } => {
            let fail_on: pipeline::Clearance =
                fail_on.parse().map_err(|e| format!("--fail-on: {e}"))?;
            let opts = pipeline::scan::ScanOptions {
                baseline: baseline.or(cfg.security.baseline_file.clone()),
                rules: cfg.security.rules_file.clone(),
                max_input: limit,
                no_ignore,
                fingerprint_key: cfg.security.fingerprint_key.clone(),
            };
            let report = pipeline::scan::scan_paths(&paths, &opts).map_err(|e| e.to_string())?;
            for problem in &report.problems {
                eprintln!("pipeline: {problem}");
            }
            let text = match format {
                ScanOutput::Jsonl => report.to_jsonl(),
                ScanOutput::Sarif => report.to_sarif(),
                ScanOutput::Text => report.to_text(),
            };
            emit(&text)?;
            if report.max_level_at_least(fail_on) {
                Ok(ExitCode::from(1))
            } else if !report.problems.is_empty() {
                Ok(ExitCode::from(2))
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Redact { file, mode } => {
            let bytes = read_input(file.as_deref(), limit)?;
            let out = pipeline::scan::redact_bytes(
                &bytes,
                &mode,
                cfg.security.rules_file.as_deref(),
                cfg.security.fingerprint_key.as_deref(),
            )
            .map_err(|e| e.to_string())?;
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(&out).and_then(|_| stdout.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(format!("cannot write to standard output: {e}")),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Pack {
            query,
            root,
            max_tokens,
            format,
            ext,
            security_level,
            tenant,
            no_cache,
            pack_format,
        } => {
            let mut cfg = cfg;
            if no_cache {
                cfg.cache.disabled = true;
            }
            // The allowed roots bind the service; a local command reads what its user names.
            cfg.server.allowed_roots.clear();
            let mut req = pipeline::Request::new(query, root);
            req.max_tokens = max_tokens.unwrap_or(cfg.pack.max_tokens);
            req.extensions = ext;
            req.security_level = match security_level {
                Some(l) => l.parse().map_err(|e| format!("--security-level: {e}"))?,
                None => cfg.security.clearance,
            };
            req.tenant = tenant.unwrap_or_else(|| cfg.tenant.clone());
            req.format = match (format, pack_format) {
                (PackOutput::Xml, _) => pipeline::PackFormat::Xml,
                (PackOutput::Markdown, _) => pipeline::PackFormat::Markdown,
                (PackOutput::Json, Some(f)) => f.into(),
                (PackOutput::Json, None) => cfg.pack.format,
            };
            let rt = runtime()?;
            let response = rt.block_on(async move {
                let p = pipeline::Pipeline::builder()
                    .config(cfg)
                    .progress(pipeline::Progress::terminal())
                    .build()
                    .await?;
                let r = p.process(req).await;
                p.shutdown(std::time::Duration::from_secs(5)).await;
                r
            });
            let response = response.map_err(|e| e.to_string())?;
            match format {
                PackOutput::Json => emit(
                    &(serde_json::to_string_pretty(&response).map_err(|e| e.to_string())? + "\n"),
                )?,
                PackOutput::Markdown | PackOutput::Xml => emit(&response.pack)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            listen,
            allowed_roots,
        } => {
            let mut cfg = cfg;
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            if !allowed_roots.is_empty() {
                cfg.server.allowed_roots = allowed_roots;
            }
            if cfg.server.allowed_roots.is_empty() {
                let here = std::env::current_dir()
                    .map_err(|e| format!("cannot read the current directory: {e}"))?;
                cfg.server.allowed_roots.push(here);
            }
            let rt = runtime()?;
            rt.block_on(async move {
                pipeline::init_tracing();
                let server = cfg.server.clone();
                let p = pipeline::Pipeline::builder().config(cfg).build().await?;
                pipeline::http::serve(p, server).await
            })
            .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
