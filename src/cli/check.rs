//! `uwsgi-lint check [PATH]...`

use std::path::PathBuf;

use crate::diagnostic::Severity;
use crate::lint::{self, Settings};
use crate::uwsgi::version::Version;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to lint (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
    /// Always exit 0 when linting succeeded, whatever was found.
    #[arg(long)]
    pub exit_zero: bool,
    /// Only these rules: codes (`UW102`), families (`UW1`), names, or `ALL`.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (same forms as --select).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// The uWSGI version the configs run on (default: the newest 2.0.x).
    #[arg(long, value_parser = |s: &str| s.parse::<Version>())]
    pub uwsgi_version: Option<Version>,
    /// Colour in text output (`auto`: when stdout is a terminal and NO_COLOR is unset).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Read one file from standard input (give `-` as the path) and report it as NAME.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<PathBuf>,
    /// An environment variable the server would see. Repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = super::parse_env_pair)]
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Concise,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

pub fn run(args: &Args) -> Result<u8, String> {
    for sel in args.select.iter().chain(&args.ignore) {
        let known = sel.eq_ignore_ascii_case("ALL")
            || crate::rules::RULES.iter().any(|r| {
                r.name == sel
                    || r.code
                        .to_ascii_uppercase()
                        .starts_with(&sel.to_ascii_uppercase())
            });
        if !known {
            return Err(format!("`{sel}` matches no rule (see `uwsgi-lint rules`)"));
        }
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let settings = Settings {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        uwsgi_version: args.uwsgi_version,
        env: args.env.clone(),
    };
    let reading_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let report = match (&args.stdin_filename, reading_stdin) {
        (Some(name), _) => {
            use std::io::Read;
            let mut content = Vec::new();
            std::io::stdin()
                .read_to_end(&mut content)
                .map_err(|e| format!("reading standard input: {e}"))?;
            lint::lint_stdin(name, content, &settings)
        }
        (None, true) => {
            return Err("`-` reads standard input: give `--stdin-filename NAME` too".into());
        }
        (None, false) => lint::lint(&paths, &settings),
    }
    .map_err(|e| e.to_string())?;
    if report.files == 0 {
        return Err(format!(
            "nothing to lint: no uWSGI ini found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let rendered = match args.format {
        Format::Text | Format::Concise => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    use std::io::IsTerminal;
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let mut s = if args.format == Format::Concise {
                crate::output::concise::render(&report.sources, &report.diagnostics)
            } else {
                crate::output::text::render(&report.sources, &report.diagnostics, color)
            };
            let n = report.diagnostics.len();
            s.push_str(&format!(
                "{n} finding{} in {} uWSGI file{}\n",
                if n == 1 { "" } else { "s" },
                report.files,
                if report.files == 1 { "" } else { "s" }
            ));
            s
        }
        Format::Json => {
            crate::output::json::render(&report.sources, &report.diagnostics, report.files)
        }
    };
    super::emit(&rendered);
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    let failing = report.diagnostics.iter().any(|d| d.severity >= threshold);
    Ok(if failing && !args.exit_zero { 1 } else { 0 })
}
