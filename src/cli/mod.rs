//! Command-line front end: one module per subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod advise;
pub mod check;
pub mod explain;
pub mod lsp;
pub mod show_config;

#[derive(Debug, Parser)]
#[command(
    name = "uwsgi-lint",
    version,
    about = "Lint uWSGI configurations and the deployments around them",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint uWSGI configs under the given paths.
    Check(check::Args),
    /// Recycling values that fit each deployment's memory limit.
    Advise(advise::Args),
    /// Print the effective option list, as uWSGI would collect it.
    ShowConfig(show_config::Args),
    /// Show a rule's documentation.
    Explain(explain::ExplainArgs),
    /// List every rule.
    Rules(explain::RulesArgs),
    /// Run the language server on stdin/stdout (for editors).
    Lsp(lsp::Args),
}

/// Exit codes (cli.md): 0 clean, 1 findings, 2 usage/configuration/I/O error.
pub const EXIT_ERROR: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Advise(args) => advise::run(&args),
        Command::ShowConfig(args) => show_config::run(&args),
        Command::Explain(args) => explain::explain(&args),
        Command::Rules(args) => explain::list(&args),
        Command::Lsp(args) => lsp::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("uwsgi-lint: error: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Write to stdout; a closed pipe (`uwsgi-lint rules | head`) is not an error.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `--cpus`: a finite count above zero (fractions as in `cpus: 0.5`).
pub fn parse_cpus(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n <= 4096.0 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a CPU count (a number above 0, up to 4096)"
        )),
    }
}

/// `--interval`: seconds between samples, 0 to one day.
pub fn parse_interval(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=86_400.0).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not an interval in seconds (0 to 86400)")),
    }
}

/// Parse `KEY=VALUE` for `--env`.
pub fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}
