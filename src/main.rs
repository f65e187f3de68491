//! The `amc` binary: parse the command line, set up logging, run, and turn the result into an exit code.

use std::process::ExitCode;

use amc::{
    cli::{logging, Cli, Command},
    config::{settings::process_env, Layers},
};
use clap::Parser;

/// jemalloc, not the system allocator. Under the soak (README, Hardening) glibc's malloc let the server's RSS grow by
/// ~40 MB in two minutes while its live heap grew by ~4 MB: the collector runs each pass on a new thread, and glibc
/// spreads threads over up to 8 arenas per core whose freed holes it seldom returns. With jemalloc a 90 s soak grew
/// 2.8 % instead of 23 %, and a 10-minute one 12.5 % instead of 19.3 %, with 19–27 MiB less RSS (docs/performance.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
