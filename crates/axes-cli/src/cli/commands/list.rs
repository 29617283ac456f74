//! `list [--json] [--locked]`: every attempt record, or those whose client
//! is locked out now; a record of a layered rule or a trusted device says
//! so in a fourth column. Whether a client is locked is the engine's answer
//! ([`Axes::lockout_status`]: hooks and lists included), asked per record
//! only when it is printed (`--json`) or filtered on (`--locked`).

use axes_core::Axes;
use axes_core::store::{AttemptRecord, ListQuery, Order};
use chrono::SecondsFormat;
use serde::Serialize;

use crate::cli::output::{Out, printable};

/// One attempt record in `list --json`.
#[derive(Debug, Serialize)]
struct JsonRecord<'a> {
    id: &'a str,
    /// The record's counting namespace ("" for the default rule; a layered
    /// rule's or a trusted device's otherwise).
    scope: &'a str,
    ip_address: Option<&'a str>,
    username: Option<&'a str>,
    user_agent: &'a str,
    path: &'a str,
    http_accept: &'a str,
    get_data: &'a str,
    post_data: &'a str,
    failures: u32,
    attempt_time: String,
    /// Whether the engine refuses this client now.
    locked: bool,
    /// Seconds until the lockout lifts (`null`: not locked, or until reset).
    retry_after: Option<u64>,
}

/// Pages through all attempt records (oldest first) and prints them as they
/// come, so the memory used does not grow with the table.
pub async fn run(axes: &Axes, json: bool, only_locked: bool) -> anyhow::Result<()> {
    let show_ip = axes.settings().store_ip_address;
    let mut out = Out::new();
    let mut query = ListQuery {
        order: Order::OldestFirst,
        limit: ListQuery::MAX_LIMIT,
        ..ListQuery::all()
    };
    let mut first = true;
    if json {
        out.write("[")?;
    }
    loop {
        let page = axes.list_attempts(&query).await?;
        if page.items.is_empty() {
            break;
        }
        for record in &page.items {
            let ip = record.key.ip_address.as_deref().filter(|_| show_ip);
            let status = if json || only_locked {
                Some(axes.lockout_status(&record.key).await?)
            } else {
                None
            };
            let locked = status.as_ref().is_some_and(|s| s.is_locked());
            if only_locked && !locked {
                continue;
            }
            if json {
                let retry_after = status
                    .as_ref()
                    .and_then(|s| s.check.lockout.as_ref())
                    .and_then(|l| l.retry_after_secs());
                out.write(if first { "\n  " } else { ",\n  " })?;
                out.write(&serde_json::to_string(&json_record(
                    record,
                    ip,
                    locked,
                    retry_after,
                ))?)?;
            } else {
                let mut line = format!(
                    "{}\t{}\t{}",
                    printable(ip.unwrap_or("")),
                    printable(record.key.username.as_deref().unwrap_or("")),
                    record.failures
                );
                // A fourth column only for records of a layered rule or a
                // trusted device.
                if let Some(by) = axes_core::describe_scope(&record.key.scope) {
                    line.push('\t');
                    line.push_str(&printable(&by));
                }
                out.line(&line)?;
            }
            first = false;
        }
        query.offset += page.items.len() as u64;
        if query.offset >= page.total || out.is_closed() {
            break;
        }
    }
    if json {
        out.write(if first { "]\n" } else { "\n]\n" })?;
    }
    Ok(out.flush()?)
}

fn json_record<'a>(
    record: &'a AttemptRecord,
    ip: Option<&'a str>,
    locked: bool,
    retry_after: Option<u64>,
) -> JsonRecord<'a> {
    JsonRecord {
        id: &record.id,
        scope: &record.key.scope,
        ip_address: ip,
        username: record.key.username.as_deref(),
        user_agent: &record.key.user_agent,
        path: &record.details.path,
        http_accept: &record.details.http_accept,
        get_data: &record.details.get_data,
        post_data: &record.details.post_data,
        failures: record.failures,
        attempt_time: record
            .attempt_time
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        locked,
        retry_after,
    }
}
