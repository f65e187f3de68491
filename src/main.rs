//! The `amc` binary: parse the command line, set up logging, run, and turn the result into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = amc::cli::Cli::parse();
    // The hook must stay fast and silent: it logs to its own file, not through tracing.
    if !matches!(cli.command, amc::cli::Command::Hook { .. }) {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
            )
            .with_writer(std::io::stderr)
            .init();
    }
    match amc::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("amc: {error:#}");
            ExitCode::FAILURE
        }
    }
}
