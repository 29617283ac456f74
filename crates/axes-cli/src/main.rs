//! `axes`: see `axes --help`.

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc, not the system allocator: a login makes some 130 small,
/// short-lived allocations (headers, the attempt, the response), and
/// glibc's malloc and free were 16 % of the instructions of a wrong login.
/// callgrind, `scripts/bench/callgrind.sh … fail`, 2026-12-02: the demo
/// unprotected 77 937 → 62 965 instructions per request, the memory store
/// 89 122 → 75 255, SQLite 199 865 → 177 252 (SQLite's own allocations
/// still go to the system allocator). Peak RSS after 1 000 000 distinct
/// clients on the memory store: 142 → 146 MiB. Library users pick their
/// own allocator; this is the `axes` binary's choice.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    axes_cli::cli::run(axes_cli::cli::Cli::parse())
}
