//! `uwsgi-lint show-config FILE[:section]`: the effective option list.

use serde::Serialize;

use crate::source::SourceMap;
use crate::uwsgi::magic::HostFacts;
use crate::uwsgi::options::CATALOGUE_VERSION;
use crate::uwsgi::resolve::{self, Invocation, Layer, ResolveOptions, Resolved};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ini file, optionally with a section: `uwsgi.ini:prod`.
    pub file: String,
    /// An environment variable uWSGI would see (`$(VAR)`, `if-env`, `UWSGI_*`). Repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = super::parse_env_pair)]
    pub env: Vec<(String, String)>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Extra uWSGI command-line arguments, after `--`: `-- --processes 8`.
    #[arg(last = true, value_name = "UWSGI-ARGS")]
    pub uwsgi_args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    file: &'a str,
    section: &'a str,
    options: Vec<JsonOption>,
    events: Vec<JsonEvent>,
}

#[derive(Serialize)]
struct JsonOption {
    key: String,
    /// `null` for a command-line flag given without a value.
    value: Option<String>,
    file: Option<String>,
    line: Option<usize>,
    /// `file`, `env` or `cli`.
    layer: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<resolve::Unknown>,
}

#[derive(Serialize)]
struct JsonEvent {
    kind: resolve::EventKind,
    message: String,
    fatal: bool,
    file: Option<String>,
    line: Option<usize>,
}

fn location(sources: &SourceMap, layer: &Layer) -> (Option<String>, Option<usize>) {
    match layer {
        Layer::File { file, key, .. } => {
            let f = sources.get(*file);
            (Some(f.name.clone()), Some(f.line_col(key.start).line))
        }
        _ => (None, None),
    }
}

/// Resolve `spec` as `uwsgi --ini spec [args]` would, from the current directory.
pub fn resolve_spec(args: &Args, sources: &mut SourceMap) -> Resolved {
    let mut inv = Invocation::ini(&args.file, &args.uwsgi_args);
    inv.env = args.env.clone();
    let host = HostFacts::local(CATALOGUE_VERSION);
    let opts = ResolveOptions {
        foreign_host: false,
        fallback_to_including_dir: true,
        ..ResolveOptions::default()
    };
    resolve::resolve(&inv, &host, &opts, sources)
}

pub fn run(args: &Args) -> Result<u8, String> {
    let (path, _) = split_section(&args.file);
    if !std::path::Path::new(path).is_file() {
        return Err(format!("`{path}`: no such file"));
    }
    let mut sources = SourceMap::new();
    let resolved = resolve_spec(args, &mut sources);
    match args.format {
        Format::Text => {
            super::emit(&resolved.show_config_text());
            for e in &resolved.events {
                let (file, line) = location(&sources, &e.origin.layer);
                let at = match (file, line) {
                    (Some(f), Some(l)) => format!("{f}:{l}: "),
                    _ => String::new(),
                };
                eprintln!(
                    "{at}{}: {}",
                    if e.fatal { "error" } else { "note" },
                    e.message
                );
            }
        }
        Format::Json => {
            let (_, section) = split_section(&args.file);
            let doc = JsonOut {
                file: path,
                section: section.unwrap_or("uwsgi"),
                options: resolved
                    .entries
                    .iter()
                    .map(|e| {
                        let (file, line) = location(&sources, &e.origin.layer);
                        JsonOption {
                            key: e.key_str(),
                            value: e
                                .value
                                .as_ref()
                                .map(|v| String::from_utf8_lossy(v).into_owned()),
                            file,
                            line,
                            layer: match e.origin.layer {
                                Layer::File { .. } => "file",
                                Layer::Env { .. } => "env",
                                Layer::Cli { .. } => "cli",
                            },
                            unknown: e.unknown.clone(),
                        }
                    })
                    .collect(),
                events: resolved
                    .events
                    .iter()
                    .map(|e| {
                        let (file, line) = location(&sources, &e.origin.layer);
                        JsonEvent {
                            kind: e.kind,
                            message: e.message.clone(),
                            fatal: e.fatal,
                            file,
                            line,
                        }
                    })
                    .collect(),
            };
            super::emit(&(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"));
        }
    }
    Ok(if resolved.fatal().is_some() { 1 } else { 0 })
}

/// `file.ini:section` → (`file.ini`, Some(`section`)); `:section` alone keeps it whole.
pub fn split_section(spec: &str) -> (&str, Option<&str>) {
    match spec.rsplit_once(':') {
        Some((f, s)) if !f.is_empty() && !f.contains("://") && !s.contains('/') => {
            (f, (!s.is_empty()).then_some(s))
        }
        _ => (spec, None),
    }
}
