//! The `keibi` command: parses arguments, sets up output, runs a command, and maps
//! the outcome to an exit code (0 ran, 1 the check asked for failed, 2 error).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    keibi::alloc::configure();
    let cli = keibi::cli::Cli::parse();
    match keibi::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if keibi::is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("{}", keibi::locale::error_line(&e));
            ExitCode::from(2)
        }
    }
}
