//! `reset`, `reset-ip`, `reset-username`, `reset-ip-username`, `reset-logs`,
//! `reset-failure-logs`, `purge`.

use axes_core::Axes;

use crate::cli::output::{attempts_removed, expired_removed, logs_removed, print_line};

/// `reset`: every attempt record.
pub async fn all(axes: &Axes) -> anyhow::Result<()> {
    let n = axes.reset(None, None).await?;
    Ok(print_line(&attempts_removed(n))?)
}

/// `reset-ip IP…`: the sum of the per-IP resets. Every IP is validated
/// before anything is deleted.
pub async fn ips(axes: &Axes, ips: &[String]) -> anyhow::Result<()> {
    for ip in ips {
        axes.reset_filter(Some(ip), None)?;
    }
    let mut n = 0;
    for ip in ips {
        n += axes.reset(Some(ip), None).await?;
    }
    Ok(print_line(&attempts_removed(n))?)
}

/// `reset-username NAME…`: the sum of the per-username resets.
pub async fn usernames(axes: &Axes, usernames: &[String]) -> anyhow::Result<()> {
    for username in usernames {
        axes.reset_filter(None, Some(username))?;
    }
    let mut n = 0;
    for username in usernames {
        n += axes.reset(None, Some(username)).await?;
    }
    Ok(print_line(&attempts_removed(n))?)
}

/// `reset-ip-username IP NAME`: records matching both.
pub async fn ip_username(axes: &Axes, ip: &str, username: &str) -> anyhow::Result<()> {
    let n = axes.reset(Some(ip), Some(username)).await?;
    Ok(print_line(&attempts_removed(n))?)
}

/// `reset-logs`: access-log rows older than `days`.
pub async fn logs(axes: &Axes, days: u32) -> anyhow::Result<()> {
    let n = axes.reset_logs(Some(days)).await?;
    Ok(print_line(&logs_removed(n))?)
}

/// `reset-failure-logs`: failure-log rows older than `days`.
pub async fn failure_logs(axes: &Axes, days: u32) -> anyhow::Result<()> {
    let n = axes.reset_failure_logs(Some(days)).await?;
    Ok(print_line(&logs_removed(n))?)
}

/// `purge`: attempt records whose cool-off has passed.
pub async fn purge(axes: &Axes) -> anyhow::Result<()> {
    let n = axes.purge_expired().await?;
    Ok(print_line(&expired_removed(n))?)
}
