//! The `amc` binary: parse the command line, set up logging, run, and turn the result into an exit code.

use std::process::ExitCode;

use amc::{
    cli::{logging, Cli, Command},
    config::{settings::process_env, Layers},
};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The hook must stay fast and silent: it logs to its own file, not through tracing.
    if !matches!(cli.command, Command::Hook { .. }) {
        // A config file that does not load is reported by the command itself; the format then comes from the
        // flag or the environment.
        let layers = Layers::load(process_env(), cli.config.clone(), []).ok();
        match logging::resolve(cli.log_format, layers.as_ref()) {
            Ok(format) => logging::init(format),
            Err(error) => {
                eprintln!("amc: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    match amc::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("amc: {error:#}");
            ExitCode::FAILURE
        }
    }
}
