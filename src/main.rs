//! Thin entry point: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    uwsgi_lint::cli::main()
}
