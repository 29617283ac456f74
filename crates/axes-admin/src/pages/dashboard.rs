//! The dashboard: counts over the last 24 hours and 7 days, the clients
//! locked out now (and when each lockout lifts), and a chart of failures and
//! lockouts over time.

use axes_core::store::{ListQuery, Order};
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::{notice, store_error};
use crate::Shared;
use crate::chart::{self, Bucket};
use crate::lockouts::{self, LockedClient, SCAN_LIMIT};
use crate::query;
use crate::render::{Ctx, iso, span, time};

/// How many failure-log rows the chart and the lockout counts read at most.
const CHART_SCAN_ROWS: u64 = 5 * ListQuery::MAX_LIMIT;

/// How many of the newest attempt records the chart reads without a
/// failure log.
const CHART_SCAN_RECORDS: u64 = ListQuery::MAX_LIMIT;

/// Most locked-out clients listed.
const MAX_LOCKED_SHOWN: usize = 100;

#[derive(Debug, Serialize)]
struct Counts {
    label: &'static str,
    failures: u64,
    lockouts: u64,
    logins: u64,
    /// The lockout count is a lower bound (more rows than were read).
    lockouts_at_least: bool,
}

#[derive(Debug, Serialize)]
struct Locked {
    alternative: String,
    ip: Option<String>,
    username: Option<String>,
    user_agent: Option<String>,
    failures: u32,
    last_failure: String,
    last_failure_iso: String,
    lifts: String,
    lifts_iso: Option<String>,
    unlock_ip: Option<String>,
    unlock_username: Option<String>,
    delete_ids: Vec<String>,
    attempts_url: String,
}

fn locked_view(base: &str, l: &LockedClient, now: DateTime<Utc>, store_ip: bool) -> Locked {
    let lifts = match l.lifts_at {
        Some(t) => format!("in {} ({})", span(t - now), time(t)),
        None => "until reset".into(),
    };
    let unlock_ip = if l.by_ip && store_ip {
        l.ip_address.clone()
    } else {
        None
    };
    let unlock_username = if l.by_username {
        l.username.clone()
    } else {
        None
    };
    let delete_ids = if unlock_ip.is_none() && unlock_username.is_none() {
        l.record_ids.clone()
    } else {
        Vec::new()
    };
    let mut filter: Vec<(&str, &str)> = Vec::new();
    if let Some(ip) = &unlock_ip {
        filter.push(("ip", ip));
    }
    if let Some(u) = &unlock_username {
        filter.push(("username", u));
    }
    let qs = serde_urlencoded::to_string(&filter).unwrap_or_default();
    Locked {
        alternative: l.alternative.replace('+', " + "),
        ip: if store_ip { l.ip_address.clone() } else { None },
        username: l.username.clone(),
        user_agent: l.user_agent.clone(),
        failures: l.failures,
        last_failure: time(l.last_failure),
        last_failure_iso: iso(l.last_failure),
        lifts,
        lifts_iso: l.lifts_at.map(iso),
        unlock_ip,
        unlock_username,
        delete_ids,
        attempts_url: if qs.is_empty() {
            format!("{base}/attempts")
        } else {
            format!("{base}/attempts?{qs}")
        },
    }
}

/// `GET /` (`?range=24h|7d` picks the chart's span)
pub(crate) async fn page(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let pairs = query::pairs(raw.as_bytes());
    let week = query::last(&pairs, "range") == Some("7d");
    let axes = &state.axes;
    let settings = axes.settings();
    let now = axes.now();
    let limit = axes.failure_limit();
    let day_ago = now - Duration::hours(24);
    let week_ago = now - Duration::days(7);

    let since = |t: DateTime<Utc>| ListQuery {
        since: Some(t),
        limit: 1,
        ..ListQuery::all()
    };
    let logins = async |t| axes.list_access_logs(&since(t)).await.map(|p| p.total);
    let (logins_day, logins_week) = match (logins(day_ago).await, logins(week_ago).await) {
        (Ok(d), Ok(w)) => (d, w),
        (Err(e), _) | (_, Err(e)) => return store_error(&state, &ctx, &e),
    };

    // Newest attempt records: the lockouts now, and the chart without a failure log.
    let recent = match axes
        .list_attempts(&ListQuery {
            limit: CHART_SCAN_RECORDS,
            order: Order::NewestFirst,
            ..ListQuery::all()
        })
        .await
    {
        Ok(p) => p,
        Err(e) => return store_error(&state, &ctx, &e),
    };
    // Who is locked out: the engine's answer for the newest records.
    let asked = &recent.items[..recent.items.len().min(SCAN_LIMIT as usize)];
    let locked = match lockouts::locked_clients(axes, asked).await {
        Ok(l) => l,
        Err(e) => return store_error(&state, &ctx, &e),
    };
    let locked_total = locked.len();
    let locked: Vec<Locked> = locked
        .iter()
        .take(MAX_LOCKED_SHOWN)
        .map(|l| locked_view(&ctx.base, l, now, settings.store_ip_address))
        .collect();

    // Failure events over the last week: (time, failures, locked out).
    let from_failure_log = settings.enable_access_failure_log;
    let mut events: Vec<(DateTime<Utc>, u64, bool)> = Vec::new();
    let mut failures_day = 0u64;
    let mut failures_week = 0u64;
    let mut partial = false;
    if from_failure_log {
        let mut offset = 0;
        while offset < CHART_SCAN_ROWS {
            let q = ListQuery {
                since: Some(week_ago),
                offset,
                limit: ListQuery::MAX_LIMIT,
                ..ListQuery::all()
            };
            let page = match axes.list_failure_logs(&q).await {
                Ok(p) => p,
                Err(e) => return store_error(&state, &ctx, &e),
            };
            if offset == 0 {
                failures_week = page.total;
            }
            let n = page.items.len() as u64;
            events.extend(
                page.items
                    .iter()
                    .map(|r| (r.entry.attempt_time, 1, r.entry.locked_out)),
            );
            offset += n;
            if n < ListQuery::MAX_LIMIT {
                break;
            }
        }
        partial = (events.len() as u64) < failures_week;
        failures_day = match axes.list_failure_logs(&since(day_ago)).await {
            Ok(p) => p.total,
            Err(e) => return store_error(&state, &ctx, &e),
        };
    } else {
        events.extend(
            recent
                .items
                .iter()
                .filter(|r| r.attempt_time >= week_ago)
                .map(|r| (r.attempt_time, u64::from(r.failures), r.failures >= limit)),
        );
        partial = partial || recent.total > recent.items.len() as u64;
        for (t, n, _) in &events {
            failures_week += n;
            if *t >= day_ago {
                failures_day += n;
            }
        }
    }
    let lockouts_in = |from: DateTime<Utc>| -> u64 {
        events
            .iter()
            .filter(|(t, _, l)| *l && *t >= from)
            .map(|(_, n, _)| if from_failure_log { *n } else { 1 })
            .sum()
    };
    let counts = vec![
        Counts {
            label: "Last 24 hours",
            failures: failures_day,
            lockouts: lockouts_in(day_ago),
            logins: logins_day,
            lockouts_at_least: partial,
        },
        Counts {
            label: "Last 7 days",
            failures: failures_week,
            lockouts: lockouts_in(week_ago),
            logins: logins_week,
            lockouts_at_least: partial,
        },
    ];

    let (step, slots, every, fmt, span_label) = if week {
        (Duration::hours(4), 42, 6, "%a %d", "the last 7 days")
    } else {
        (Duration::hours(1), 24, 3, "%H:00", "the last 24 hours")
    };
    // Align the slots to whole hours so labels read well.
    let end = now
        - Duration::seconds(i64::from(chrono::Timelike::num_seconds_from_midnight(&now)) % 3600)
        + Duration::hours(1);
    let buckets: Vec<Bucket> = chart::bucketize(end, step, slots, events.iter().copied());
    let chart_title = format!("Failed attempts and lockouts over {span_label} (UTC)");
    let svg = chart::render(&buckets, every, fmt, &chart_title);
    let table: Vec<(String, u64, u64)> = buckets
        .iter()
        .filter(|b| b.failures > 0)
        .map(|b| (time(b.start), b.failures, b.lockouts))
        .collect();

    // Manual blocks that refuse now, among the newest page of them (the
    // Blocks page has them all).
    let blocks_query = axes_core::store::ListQuery {
        limit: axes_core::store::ListQuery::MAX_LIMIT,
        ..axes_core::store::ListQuery::all()
    };
    let (blocked_now, blocks_partial) = match axes
        .list_blocks(Some(axes_core::BlockKind::Manual), &blocks_query)
        .await
    {
        Ok(p) => (
            Some(p.items.iter().filter(|b| b.refuses(now)).count()),
            p.total > p.items.len() as u64,
        ),
        Err(e) => {
            tracing::warn!("axes admin: cannot list the blocks: {e}");
            (None, false)
        }
    };

    state.page(
        Some(&ctx),
        "dashboard.html",
        StatusCode::OK,
        context! {
            title => "Dashboard",
            nav => "dashboard",
            notice => notice(raw.as_bytes()),
            counts => Serde(counts),
            locked => Serde(locked),
            locked_total => locked_total,
            blocked_now => blocked_now,
            blocks_partial => blocks_partial,
            locked_more => locked_total.saturating_sub(MAX_LOCKED_SHOWN),
            scanned => asked.len(),
            scan_partial => recent.total > asked.len() as u64,
            chart => Value::from_safe_string(svg),
            chart_title => chart_title,
            chart_table => Serde(table),
            week => week,
            from_failure_log => from_failure_log,
            failure_limit => limit,
            cooloff => settings.cooloff().map(span),
            parameters => settings.lockout_parameters.to_string(),
            rules => settings.lockout_rules.iter().map(ToString::to_string).collect::<Vec<_>>(),
            now => time(now),
            store_kind => axes.store().kind(),
            store_ok => axes.store_status().available,
        },
    )
}
