//! One module per command group.

mod blocks;
mod check;
mod demo;
mod hash_password;
mod list;
mod migrate;
mod reset;

use std::future::Future;
use std::path::Path;

use axes_core::{Axes, Settings};

use super::{Cli, Command, load_settings, runtime, store};

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_deref();
    match cli.command {
        // Needs no settings: works even when axes.toml is broken.
        Command::HashPassword { password_stdin: _ } => hash_password::run(),
        // Reports bad settings as a problem of its own.
        Command::Check => runtime()?.block_on(check::run(config)),
        Command::Migrate => with_settings(config, migrate::run),
        Command::Serve {
            listen,
            limits,
            purge,
        } => with_settings(config, |settings| async move {
            let axes = crate::serve::engine(settings).await?;
            crate::serve::run(axes, listen, &limits, &purge).await
        }),
        Command::Demo {
            listen,
            users,
            password_hasher,
            limits,
            purge,
        } => with_settings(config, |s| {
            demo::run(s, listen, users, password_hasher, limits, purge)
        }),
        Command::Purge => with_engine(config, |axes| async move { reset::purge(&axes).await }),
        Command::Reset => with_engine(config, |axes| async move { reset::all(&axes).await }),
        Command::ResetIp { ips } => {
            with_engine(config, |axes| async move { reset::ips(&axes, &ips).await })
        }
        Command::ResetUsername { usernames } => with_engine(config, |axes| async move {
            reset::usernames(&axes, &usernames).await
        }),
        Command::ResetIpUsername { ip, username } => with_engine(config, |axes| async move {
            reset::ip_username(&axes, &ip, &username).await
        }),
        Command::ResetLogs(age) => with_engine(config, |axes| async move {
            reset::logs(&axes, age.days()).await
        }),
        Command::ResetFailureLogs(age) => with_engine(config, |axes| async move {
            reset::failure_logs(&axes, age.days()).await
        }),
        Command::List {
            json,
            locked,
            blocks: true,
        } => {
            debug_assert!(!locked, "clap refuses --blocks with --locked");
            with_engine(
                config,
                |axes| async move { blocks::list(&axes, json).await },
            )
        }
        Command::List {
            json,
            locked,
            blocks: false,
        } => with_engine(config, |axes| async move {
            list::run(&axes, json, locked).await
        }),
        Command::Block { target, duration } => {
            // Bad input is refused before the store is opened.
            let duration = blocks::parse_for(duration.as_deref())?;
            with_engine(config, |axes| async move {
                blocks::block(&axes, &target, duration).await
            })
        }
        Command::Unblock { target } => with_engine(config, |axes| async move {
            blocks::unblock(&axes, &target).await
        }),
    }
}

/// Loads the settings, then runs `f` on a runtime.
fn with_settings<F, Fut>(config: Option<&Path>, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let settings = load_settings(config)?;
    runtime()?.block_on(f(settings))
}

/// Loads the settings, opens the store, builds the engine, then runs `f`.
fn with_engine<F, Fut>(config: Option<&Path>, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Axes) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    with_settings(config, |settings| async move {
        let axes = store::engine(settings).await?;
        f(axes).await
    })
}
