//! Access attempts: the records that count failures (and so the lockouts).

use axes_core::LockoutReason;
use axes_core::store::AttemptRecord;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Filters, Pager, list_query, not_found, notice, store_error};
use crate::Shared;
use crate::render::{Ctx, iso, span, time};

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    url: String,
    time: String,
    iso: String,
    username: Option<String>,
    ip: Option<String>,
    user_agent: String,
    path: String,
    failures: u32,
    /// What the record counts by besides the default rule (a layered rule,
    /// a trusted device).
    counted_by: Option<String>,
    /// Whether the engine refuses this client now.
    over_limit: bool,
}

fn row(base: &str, r: &AttemptRecord, locked: bool) -> Row {
    Row {
        id: r.id.clone(),
        url: format!("{base}/attempts/{}", urlencode(&r.id)),
        time: time(r.attempt_time),
        iso: iso(r.attempt_time),
        username: r.key.username.clone(),
        ip: r.key.ip_address.clone(),
        user_agent: r.key.user_agent.clone(),
        path: r.details.path.clone(),
        failures: r.failures,
        counted_by: axes_core::describe_scope(&r.key.scope),
        over_limit: locked,
    }
}

/// Percent-encodes an id for a path segment.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /attempts`
pub(crate) async fn list(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let (params, query, errors) = list_query(&state, raw.as_bytes());
    let path = format!("{}/attempts", ctx.base);
    let (items, total) = match query {
        Some(q) => match state.axes.list_attempts(&q).await {
            Ok(p) => (p.items, p.total),
            Err(e) => return store_error(&state, &ctx, &e),
        },
        None => (Vec::new(), 0),
    };
    let limit = state.axes.failure_limit();
    let layered = !state.axes.settings().lockout_rules.is_empty();
    // Whether each listed client is locked: the engine's answer (a page is
    // bounded, so are the questions).
    let mut rows: Vec<Row> = Vec::with_capacity(items.len());
    for r in &items {
        let locked = match state.axes.lockout_status(&r.key).await {
            Ok(s) => s.is_locked(),
            Err(e) => return store_error(&state, &ctx, &e),
        };
        rows.push(row(&ctx.base, r, locked));
    }
    let pager = Pager::new(&path, &params, total, rows.len() as u64);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    state.page(
        Some(&ctx),
        "attempts.html",
        status,
        context! {
            title => "Access attempts",
            nav => "attempts",
            rows => Serde(rows),
            pager => Serde(pager),
            filters => Serde(Filters::new(&path, &params)),
            errors => errors,
            notice => notice(raw.as_bytes()),
            failure_limit => limit,
            layered => layered,
            delete_action => format!("{path}/delete"),
            purge_action => state.axes.purge_window().is_some().then(|| format!("{}/purge", ctx.base)),
        },
    )
}

/// `GET /attempts/{id}`
pub(crate) async fn detail(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let r = match state.axes.get_attempt(&id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(&state, &ctx, "access attempt"),
        Err(e) => return store_error(&state, &ctx, &e),
    };
    let settings = state.axes.settings();
    // The client's state now, as the engine sees it (from the stored key:
    // an IPv6 client's /64 network is read as such).
    let lock = match state.axes.lockout_status(&r.key).await {
        Ok(s) => s,
        Err(e) => return store_error(&state, &ctx, &e),
    };
    let check = &lock.check;
    let status = match &check.lockout {
        Some(l) if l.reason == LockoutReason::Unidentified => {
            "Not counted: the record lacks a field the lockout parameters use.".to_owned()
        }
        Some(l) if l.reason == LockoutReason::Denied => {
            "Refused: the IP address is on the deny list (or off the allow list).".to_owned()
        }
        Some(l) => match l.retry_after {
            Some(d) => format!(
                "Locked out: {} failures (limit {}); lifts in {}.",
                check.failures,
                check.failure_limit,
                span(chrono::Duration::from_std(d).unwrap_or_default())
            ),
            None => format!(
                "Locked out: {} failures (limit {}), until reset.",
                check.failures, check.failure_limit
            ),
        },
        None => format!(
            "Not locked out: {} of {} failures.",
            check.failures, check.failure_limit
        ),
    };
    let mut fields: Vec<(&str, String)> = vec![
        ("Last failure", time(r.attempt_time)),
        (
            "Username",
            r.key.username.clone().unwrap_or_else(|| "—".into()),
        ),
    ];
    if settings.store_ip_address {
        fields.push((
            "IP address",
            r.key.ip_address.clone().unwrap_or_else(|| "—".into()),
        ));
    }
    if let Some(by) = axes_core::describe_scope(&r.key.scope) {
        fields.push(("Counted by", by));
    }
    fields.extend([
        ("User agent", r.key.user_agent.clone()),
        ("Failures", r.failures.to_string()),
        ("Path", r.details.path.clone()),
        ("Accept", r.details.http_accept.clone()),
        ("Query data", r.details.get_data.clone()),
        ("Form data", r.details.post_data.clone()),
        ("Record id", r.id.clone()),
    ]);
    state.page(
        Some(&ctx),
        "detail.html",
        StatusCode::OK,
        context! {
            title => "Access attempt",
            heading => "Access attempt",
            nav => "attempts",
            fields => Serde(fields),
            status => status,
            locked => lock.is_locked(),
            unlock_ip => if settings.store_ip_address { r.key.ip_address.clone() } else { None },
            unlock_username => r.key.username.clone(),
            id => r.id.clone(),
            delete_action => format!("{}/attempts/delete", ctx.base),
            back_url => format!("{}/attempts", ctx.base),
            back_label => "All access attempts",
        },
    )
}
