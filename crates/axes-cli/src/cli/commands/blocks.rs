//! `block`, `unblock`, `list --blocks`: manual blocks (SPEC §7), set by the
//! engine ([`Axes::block`], [`Axes::unblock`], [`Axes::list_blocks`]).

use std::time::Duration;

use axes_core::settings::parse_duration;
use axes_core::store::{ListQuery, Order};
use axes_core::{Axes, Block, BlockKind};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::cli::InvalidInput;
use crate::cli::args::BlockTargetArgs;
use crate::cli::output::{Out, print_line, printable};

/// Who the CLI's blocks are set by (`created_by`).
pub const CREATED_BY: &str = "cli";

/// Parses `--for DURATION` ("30m", "2h", "7d"; a bare number is hours, as
/// in the settings). Zero and over-long durations are refused by the
/// engine, with its message.
pub fn parse_for(text: Option<&str>) -> Result<Option<Duration>, InvalidInput> {
    text.map(|t| {
        parse_duration(t).map_err(|e| InvalidInput(format!("--for {}: {e}", printable(t))))
    })
    .transpose()
}

/// A time as the CLI prints it: RFC 3339, UTC, whole seconds.
fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `Blocked ip 203.0.113.7 until 2026-12-02T01:00:00Z.` or `Blocked
/// username "mallory".`
pub fn blocked_line(block: &Block) -> String {
    match block.until {
        Some(until) => format!("Blocked {} until {}.", block.target, rfc3339(until)),
        None => format!("Blocked {}.", block.target),
    }
}

/// `block (--ip IP | --username NAME)… [--for DURATION]`.
pub async fn block(
    axes: &Axes,
    target: &BlockTargetArgs,
    duration: Option<Duration>,
) -> anyhow::Result<()> {
    let block = axes
        .block(
            target.ip.as_deref(),
            target.username.as_deref(),
            duration,
            CREATED_BY,
        )
        .await?;
    Ok(print_line(&blocked_line(&block))?)
}

/// `unblock (--ip IP | --username NAME)…`: `Unblocked …` or `No block
/// found.`
pub async fn unblock(axes: &Axes, target: &BlockTargetArgs) -> anyhow::Result<()> {
    let ip = target.ip.as_deref();
    let username = target.username.as_deref();
    let canonical = axes.block_target(ip, username)?;
    let line = if axes.unblock(ip, username).await? {
        format!("Unblocked {canonical}.")
    } else {
        "No block found.".to_owned()
    };
    Ok(print_line(&line)?)
}

/// One block in `list --blocks --json`.
#[derive(Debug, Serialize)]
struct JsonBlock<'a> {
    /// `manual` or `lockout`.
    kind: &'static str,
    ip_address: Option<&'a str>,
    username: Option<&'a str>,
    user_agent: Option<&'a str>,
    /// RFC 3339; `null`: until unblocked (manual) or reset (lockout).
    until: Option<String>,
    created_at: String,
    created_by: &'a str,
    lockouts: u32,
}

fn json_block(b: &Block) -> JsonBlock<'_> {
    JsonBlock {
        kind: b.kind.as_str(),
        ip_address: b.target.ip_address.as_deref(),
        username: b.target.username.as_deref(),
        user_agent: b.target.user_agent.as_deref(),
        until: b.until.map(rfc3339),
        created_at: rfc3339(b.created_at),
        created_by: &b.created_by,
        lockouts: b.lockouts,
    }
}

/// `list --blocks [--json]`: the blocks that refuse now, manual blocks and
/// lockout rows alike (a lockout row refuses only once the progressive
/// cool-off lengthens a lockout), newest first, paged through so that
/// memory does not grow with the table. One line each:
/// `ip<TAB>username<TAB>until<TAB>kind<TAB>created_by` (`until`: RFC 3339
/// or `forever`).
pub async fn list(axes: &Axes, json: bool) -> anyhow::Result<()> {
    let now = axes.now();
    let mut out = Out::new();
    let mut query = ListQuery {
        order: Order::NewestFirst,
        limit: ListQuery::MAX_LIMIT,
        ..ListQuery::all()
    };
    let mut first = true;
    if json {
        out.write("[")?;
    }
    loop {
        let page = axes.list_blocks(None, &query).await?;
        if page.items.is_empty() {
            break;
        }
        for b in page.items.iter().filter(|b| b.refuses(now)) {
            if json {
                out.write(if first { "\n  " } else { ",\n  " })?;
                out.write(&serde_json::to_string(&json_block(b))?)?;
            } else {
                out.line(&text_line(b))?;
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

/// The text line of a block.
fn text_line(b: &Block) -> String {
    let mut by = b.created_by.clone();
    if b.kind == BlockKind::Lockout && by.is_empty() {
        by = format!("{} lockouts", b.lockouts);
    }
    format!(
        "{}\t{}\t{}\t{}\t{}",
        printable(b.target.ip_address.as_deref().unwrap_or("")),
        printable(b.target.username.as_deref().unwrap_or("")),
        b.until.map_or_else(|| "forever".to_owned(), rfc3339),
        b.kind.as_str(),
        printable(&by),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axes_core::BlockTarget;
    use chrono::TimeZone;

    fn manual(ip: Option<&str>, user: Option<&str>, until: Option<DateTime<Utc>>) -> Block {
        Block {
            kind: BlockKind::Manual,
            target: BlockTarget::new(ip.map(Into::into), user.map(Into::into), None).unwrap(),
            until,
            created_at: Utc.with_ymd_and_hms(2026, 12, 1, 23, 0, 0).unwrap(),
            created_by: "cli".into(),
            lockouts: 0,
        }
    }

    #[test]
    fn lines_say_what_was_blocked_and_until_when() {
        let until = Utc.with_ymd_and_hms(2026, 12, 2, 1, 0, 0).unwrap();
        assert_eq!(
            blocked_line(&manual(Some("203.0.113.7"), None, Some(until))),
            "Blocked ip 203.0.113.7 until 2026-12-02T01:00:00Z."
        );
        assert_eq!(
            blocked_line(&manual(None, Some("mallory"), None)),
            "Blocked username \"mallory\"."
        );
        assert_eq!(
            text_line(&manual(Some("10.0.0.1"), Some("a\tb"), None)),
            "10.0.0.1\ta\\tb\tforever\tmanual\tcli"
        );
        let mut lockout = manual(None, Some("bob"), Some(until));
        lockout.kind = BlockKind::Lockout;
        lockout.created_by = String::new();
        lockout.lockouts = 3;
        assert_eq!(
            text_line(&lockout),
            "\tbob\t2026-12-02T01:00:00Z\tlockout\t3 lockouts"
        );
        let json = serde_json::to_value(json_block(&lockout)).unwrap();
        assert_eq!(json["kind"], "lockout");
        assert_eq!(json["until"], "2026-12-02T01:00:00Z");
        assert_eq!(json["ip_address"], serde_json::Value::Null);
        assert_eq!(json["lockouts"], 3);
    }

    #[test]
    fn durations_are_the_settings_durations() {
        assert_eq!(parse_for(None).unwrap(), None);
        assert_eq!(
            parse_for(Some("30m")).unwrap(),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            parse_for(Some("7d")).unwrap(),
            Some(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(
            parse_for(Some("2")).unwrap(),
            Some(Duration::from_secs(7200))
        );
        assert!(parse_for(Some("soon")).is_err());
        assert!(parse_for(Some("1000years")).is_err());
        assert!(parse_for(Some("")).is_err());
    }
}
