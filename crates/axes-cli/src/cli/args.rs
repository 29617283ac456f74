//! The command line, as clap sees it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::logging::LogFormat;
use crate::demo::PasswordHasher;
use crate::serve::purge::PurgeArgs;
use crate::server::Limits;

/// The most days `--age` accepts (about 270 years): far beyond any log, and
/// well inside the range of the clock's arithmetic.
pub const MAX_AGE_DAYS: u32 = 100_000;

/// The default age of `reset-logs` and `reset-failure-logs`, as in django-axes.
pub const DEFAULT_AGE_DAYS: u32 = 30;

/// Brute-force login protection: reset and list lockouts, migrate the store,
/// check the settings, run the demo site.
///
/// Settings come from `axes.toml` in the working directory (or `--config
/// FILE`) and from `AXES_*` environment variables, the environment winning.
/// The log filter is `AXES_LOG` (e.g. `AXES_LOG=debug`).
#[derive(Debug, Parser)]
#[command(name = "axes", version, propagate_version = true)]
pub struct Cli {
    /// Settings file [default: axes.toml in the working directory, when present]
    #[arg(long, global = true, value_name = "FILE", env = "AXES_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log lines as text, or as one JSON object per line (for `serve` and `demo`)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reset all access attempts and lockouts
    Reset,

    /// Reset all access attempts and lockouts for given IP addresses
    ResetIp {
        /// IP addresses (IPv4 or IPv6)
        #[arg(required = true, value_name = "IP")]
        ips: Vec<String>,
    },

    /// Reset all access attempts and lockouts for given usernames
    ResetUsername {
        /// Usernames (normalised as at login: trimmed, lowercase, NFKC)
        #[arg(required = true, value_name = "USERNAME")]
        usernames: Vec<String>,
    },

    /// Reset all access attempts and lockouts for a given IP address and username
    ResetIpUsername {
        /// IP address (IPv4 or IPv6)
        #[arg(value_name = "IP")]
        ip: String,
        /// Username
        #[arg(value_name = "USERNAME")]
        username: String,
    },

    // The explicit `about` keeps the original's full stop, which a doc
    // comment would lose.
    #[command(about = "Reset access log records older than given days.")]
    ResetLogs(AgeArgs),

    #[command(about = "Reset access failure log records older than given days.")]
    ResetFailureLogs(AgeArgs),

    /// List access attempts (or, with --blocks, the blocks that refuse now)
    ///
    /// One line per attempt record: `ip<TAB>username<TAB>failures`. With
    /// --blocks, one line per block that refuses now (manual blocks, and
    /// lockouts lengthened by the progressive cool-off):
    /// `ip<TAB>username<TAB>until<TAB>kind<TAB>created_by`, `until` being
    /// an RFC 3339 time or `forever`.
    List {
        /// Print a JSON array instead (attempt records with `locked` and
        /// `retry_after`, as the engine decides them; or blocks)
        #[arg(long)]
        json: bool,
        /// Only records whose client the engine refuses now
        #[arg(long, conflicts_with = "blocks")]
        locked: bool,
        /// List the blocks that refuse now instead of the attempts
        #[arg(long)]
        blocks: bool,
    },

    /// Refuse an IP address, a username, or the pair, at once
    ///
    /// Every login attempt that matches is refused before its password is
    /// checked, and nothing is counted, until `axes unblock` (or for
    /// --for DURATION). Both --ip and --username: only that pair. Prints
    /// `Blocked …`.
    Block {
        /// What to block
        #[command(flatten)]
        target: BlockTargetArgs,
        /// How long: "30m", "2h", "7d" (a bare number is hours), at most
        /// 100 years [default: until unblocked]
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
    },

    /// Lift the block of an IP address, a username, or the pair
    ///
    /// Prints `Unblocked …` or `No block found.`. Give exactly the values
    /// the block was set with: `--ip` alone lifts the IP's block, not a
    /// block of that IP and a username.
    Unblock {
        /// Which block to lift
        #[command(flatten)]
        target: BlockTargetArgs,
    },

    /// Delete the attempts whose cool-off has passed
    ///
    /// Prints `N expired attempts removed.`; `axes serve` and `axes demo`
    /// also do it every --purge-interval.
    Purge,

    /// Create or upgrade the schema of the store
    Migrate,

    /// Validate the settings and the store connection
    ///
    /// Prints every problem found and exits with status 1 if there is any,
    /// else prints `OK`.
    Check,

    /// Run the service: the admin UI at /admin/ (admin_users accounts), /healthz
    ///
    /// Prints where it listens and the admin URL. Refuses to listen beyond
    /// loopback unless api_token is set.
    Serve {
        /// Address to listen on
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
        listen: SocketAddr,
        /// Timeouts and bounds of the HTTP server
        #[command(flatten)]
        limits: Limits,
        /// The periodic purge of expired attempts
        #[command(flatten)]
        purge: PurgeArgs,
    },

    /// Run a small site protected by axes (GET /login, POST /login, POST /logout, /admin/)
    Demo {
        /// Address to listen on
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
        listen: SocketAddr,
        /// A user of the demo site, as NAME:PASSWORD (repeatable) [default: demo:demo]
        #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = parse_user)]
        users: Vec<(String, String)>,
        /// How the users' passwords are hashed. `fast` (one unsalted
        /// SHA-256) is for benchmarks only, so that they measure axes rather
        /// than argon2: never for real accounts
        #[arg(
            long,
            value_name = "HASHER",
            value_enum,
            default_value_t = PasswordHasher::Argon2
        )]
        password_hasher: PasswordHasher,
        /// Timeouts and bounds of the HTTP server
        #[command(flatten)]
        limits: Limits,
        /// The periodic purge of expired attempts
        #[command(flatten)]
        purge: PurgeArgs,
    },

    /// Hash a password for `admin_users` (prints an argon2id PHC string)
    ///
    /// Reads the password as one line from standard input.
    HashPassword {
        /// Read the password from standard input (the default; no prompt)
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The target of `block` and `unblock`: an IP, a username, or both.
#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub struct BlockTargetArgs {
    /// IP address (IPv4 or IPv6)
    #[arg(long, value_name = "IP")]
    pub ip: Option<String>,
    /// Username (normalised as at login: trimmed, lowercase, NFKC)
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
}

/// The age of `reset-logs` and `reset-failure-logs`.
#[derive(Debug, Args)]
pub struct AgeArgs {
    /// Maximum age for records to keep in days [default: 30]
    #[arg(
        long,
        value_name = "DAYS",
        value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_AGE_DAYS)),
        conflicts_with = "days"
    )]
    pub age: Option<u32>,

    /// The same as --age DAYS
    #[arg(
        value_name = "DAYS",
        value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_AGE_DAYS))
    )]
    pub days: Option<u32>,
}

impl AgeArgs {
    /// The age given, or the default of 30 days.
    pub fn days(&self) -> u32 {
        self.age.or(self.days).unwrap_or(DEFAULT_AGE_DAYS)
    }
}

/// Parses `NAME:PASSWORD` (the password may contain `:`).
fn parse_user(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((name, password)) if !name.trim().is_empty() && !password.is_empty() => {
            Ok((name.trim().to_owned(), password.to_owned()))
        }
        _ => Err("expected NAME:PASSWORD with a non-empty name and password".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn users_parse() {
        assert_eq!(
            parse_user("alice:pa:ss").unwrap(),
            ("alice".into(), "pa:ss".into())
        );
        assert!(parse_user("alice").is_err());
        assert!(parse_user(":pw").is_err());
        assert!(parse_user("alice:").is_err());
    }

    #[test]
    fn block_targets() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        match parse(&["axes", "block", "--ip", "10.0.0.1", "--for", "2h"])
            .unwrap()
            .command
        {
            Command::Block { target, duration } => {
                assert_eq!(target.ip.as_deref(), Some("10.0.0.1"));
                assert_eq!(target.username, None);
                assert_eq!(duration.as_deref(), Some("2h"));
            }
            other => panic!("{other:?}"),
        }
        match parse(&["axes", "unblock", "--username", "bob", "--ip", "::1"])
            .unwrap()
            .command
        {
            Command::Unblock { target } => {
                assert_eq!(target.ip.as_deref(), Some("::1"));
                assert_eq!(target.username.as_deref(), Some("bob"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["axes", "block"]).is_err());
        assert!(parse(&["axes", "block", "--for", "2h"]).is_err());
        assert!(parse(&["axes", "unblock"]).is_err());
        assert!(parse(&["axes", "block", "--ip", "a", "--ip", "b"]).is_err());
        assert!(parse(&["axes", "list", "--blocks", "--locked"]).is_err());
    }

    #[test]
    fn age_forms() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let days = |args: &[&str]| match parse(args).unwrap().command {
            Command::ResetLogs(a) | Command::ResetFailureLogs(a) => a.days(),
            other => panic!("{other:?}"),
        };
        assert_eq!(days(&["axes", "reset-logs"]), 30);
        assert_eq!(days(&["axes", "reset-logs", "--age", "7"]), 7);
        assert_eq!(days(&["axes", "reset-logs", "7"]), 7);
        assert_eq!(days(&["axes", "reset-failure-logs", "--age=0"]), 0);
        assert!(parse(&["axes", "reset-logs", "7", "--age", "8"]).is_err());
        assert!(parse(&["axes", "reset-logs", "--age", "-1"]).is_err());
        assert!(parse(&["axes", "reset-logs", "--age", "100001"]).is_err());
    }
}
