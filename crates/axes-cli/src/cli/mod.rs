//! The `axes` command line: arguments, commands, output, and the exit
//! status contract of SPEC §7 (0 success, 1 store failure or problems found,
//! 2 bad usage or invalid input).

pub mod args;
pub mod commands;
pub mod logging;
pub mod output;
pub mod store;

use std::path::Path;
use std::process::ExitCode;

use axes_core::{ConfigError, Settings, StoreError};

pub use args::{Cli, Command};

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: the store failed, or `check` found problems.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: bad usage or invalid input (bad settings included).
pub const EXIT_USAGE: u8 = 2;

/// Invalid input given on the command line or on stdin (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// `check` found problems and printed them (exit status 1, no more output).
#[derive(Debug, thiserror::Error)]
#[error("{0} found")]
pub struct ProblemsFound(pub String);

/// Runs a parsed command line; returns the exit status.
pub fn run(cli: Cli) -> ExitCode {
    let verbosity = match cli.command {
        Command::Demo { .. } | Command::Serve { .. } => logging::VERBOSE,
        Command::Block { .. } | Command::Unblock { .. } => logging::QUIET_BLOCKS,
        _ => logging::QUIET,
    };
    logging::init(verbosity, cli.log_format);
    match commands::run(cli) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(err) => {
            if !err.is::<ProblemsFound>() {
                eprintln!("axes: {}", output::error_message(&err));
            }
            ExitCode::from(exit_status(&err))
        }
    }
}

/// The exit status for an error: 2 for bad input or settings, else 1.
pub fn exit_status(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<InvalidInput>() || cause.is::<ConfigError>() {
            return EXIT_USAGE;
        }
        if let Some(e) = cause.downcast_ref::<axes_core::Error>() {
            return match e {
                axes_core::Error::InvalidInput(_) | axes_core::Error::Config(_) => EXIT_USAGE,
                _ => EXIT_FAILURE,
            };
        }
        if cause.is::<StoreError>() {
            return EXIT_FAILURE;
        }
    }
    EXIT_FAILURE
}

/// Loads the settings (`--config FILE`, else `axes.toml` when present, then
/// `AXES_*`) and registers their secrets for redaction.
pub fn load_settings(config: Option<&Path>) -> Result<Settings, ConfigError> {
    let settings = Settings::load(config)?;
    output::register_secrets(&settings);
    Ok(settings)
}

/// A runtime for the async part of a command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
