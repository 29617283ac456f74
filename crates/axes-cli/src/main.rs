//! `axes`: see `axes --help`.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    axes_cli::cli::run(axes_cli::cli::Cli::parse())
}
