//! `uwsgi-lint lsp`: the language server (see `crate::lsp`).

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Speak the protocol on standard input/output (the only transport; accepted for editors that pass it).
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: &Args) -> Result<u8, String> {
    crate::lsp::run_stdio()?;
    Ok(0)
}
