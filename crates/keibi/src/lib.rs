//! The `keibi` binary's library half: command-line definitions, commands, and output
//! formatting. `main.rs` only calls [`run`]; integration tests run the built binary.

pub mod alloc;
pub mod aws;
mod baselines;
pub mod cli;
mod cmd;
mod demo;
pub mod locale;
pub mod output;
mod progress;
pub mod timearg;

use anyhow::Result;

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: cli::Cli) -> Result<u8> {
    // The language of the command's own messages from the flags and the environment;
    // a command that reads a settings file resolves it again with its `display:`. A
    // wrong value is reported by the command that needs the locale.
    let _ = locale::resolve(&cli.global, None);
    match cli.command {
        cli::Command::Events(args) => cmd::events::run(&args, &cli.global),
        cli::Command::Timeline(args) => cmd::timeline::run(&args, &cli.global),
        cli::Command::Scan(args) => cmd::scan::run(&args, &cli.global),
        cli::Command::Learn(args) => cmd::learn::run(&args, &cli.global),
        cli::Command::Rules(c) => cmd::rules::run(&c, &cli.global),
        cli::Command::Demo(args) => cmd::demo::run(&args, &cli.global),
        cli::Command::Findings(args) => cmd::findings::run(&args, &cli.global),
        cli::Command::Actions(args) => cmd::actions::run(&args, &cli.global),
        cli::Command::Init(args) => cmd::init::run(&args, &cli.global),
        cli::Command::Config(c) => cmd::config::run(&c, &cli.global),
        cli::Command::Run(args) => cmd::run::run(&args, &cli.global),
        cli::Command::Audit(args) => cmd::audit::run(&args, &cli.global),
        cli::Command::Notify(c) => cmd::notify::run(&c, &cli.global),
        cli::Command::Users(args) => cmd::users::run(&args, &cli.global),
        cli::Command::Dashboard(args) => cmd::dashboard::run(&args, &cli.global),
        cli::Command::Stream(c) => cmd::stream::run(&c, &cli.global),
    }
}

/// Whether an error is a closed output pipe (`keibi events ... | head`), which is not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
