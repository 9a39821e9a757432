//! `uwsgi-lint lsp`: the language server (see `crate::lsp`).

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Speak the protocol on standard input/output (the only transport; accepted for editors that pass it).
    #[arg(long)]
    pub stdio: bool,
}

/// Exit 0 after `shutdown` + `exit`, 1 when the client went away without
/// asking for a shutdown (as the protocol specifies).
pub fn run(_args: &Args) -> Result<u8, String> {
    Ok(if crate::lsp::run_stdio() { 0 } else { 1 })
}
