//! `demo`: the demo site of SPEC §9 (built in `crate::demo`).

use std::net::SocketAddr;

use axes_core::Settings;

use crate::demo::PasswordHasher;
use crate::serve::purge::{self, PurgeArgs};
use crate::server::Limits;

/// The user of the demo site when none is given.
pub const DEFAULT_USER: (&str, &str) = ("demo", "demo");

/// Builds the engine from the settings and serves the demo site.
pub async fn run(
    settings: Settings,
    listen: SocketAddr,
    mut users: Vec<(String, String)>,
    hasher: PasswordHasher,
    limits: Limits,
    purge: PurgeArgs,
) -> anyhow::Result<()> {
    if hasher == PasswordHasher::Fast {
        tracing::warn!(
            "--password-hasher fast: demo passwords are hashed with one unsalted SHA-256, \
             for benchmarks only; never use it for real accounts"
        );
    }
    if users.is_empty() {
        users.push((DEFAULT_USER.0.to_owned(), DEFAULT_USER.1.to_owned()));
    }
    // The warnings of `axes check` (the settings were validated on load).
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let axes = crate::demo::engine(settings).await?;
    let webhook = crate::serve::webhook::Webhook::start(&axes, &Default::default())?;
    let purging = purge::spawn(axes.clone(), &purge);
    let state = crate::demo::DemoState::with_password_hasher(axes, users, hasher)?;
    let served = crate::demo::serve(crate::serve::demo_with_admin(state), listen, &limits).await;
    if let Some(task) = purging {
        task.abort();
    }
    webhook.shutdown().await;
    served
}
