//! The failure log (opt-in: `enable_access_failure_log`): one row per failed
//! attempt, with whether it was locked out.

use axes_core::store::FailureLogRecord;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::attempts::urlencode;
use super::{Filters, Pager, list_query, not_found, notice, store_error};
use crate::Shared;
use crate::render::{Ctx, iso, time};

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
    locked_out: bool,
}

fn row(base: &str, r: &FailureLogRecord) -> Row {
    Row {
        id: r.id.clone(),
        url: format!("{base}/failure-logs/{}", urlencode(&r.id)),
        time: time(r.entry.attempt_time),
        iso: iso(r.entry.attempt_time),
        username: r.entry.key.username.clone(),
        ip: r.entry.key.ip_address.clone(),
        user_agent: r.entry.key.user_agent.clone(),
        path: r.entry.path.clone(),
        locked_out: r.entry.locked_out,
    }
}

/// `GET /failure-logs`
pub(crate) async fn list(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let (params, query, errors) = list_query(&state, raw.as_bytes());
    let path = format!("{}/failure-logs", ctx.base);
    let (items, total) = match query {
        Some(q) => match state.axes.list_failure_logs(&q).await {
            Ok(p) => (p.items, p.total),
            Err(e) => return store_error(&state, &ctx, &e),
        },
        None => (Vec::new(), 0),
    };
    let rows: Vec<Row> = items.iter().map(|r| row(&ctx.base, r)).collect();
    let pager = Pager::new(&path, &params, total, rows.len() as u64);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    state.page(
        Some(&ctx),
        "failure_logs.html",
        status,
        context! {
            title => "Failure logs",
            nav => "failure_logs",
            rows => Serde(rows),
            pager => Serde(pager),
            filters => Serde(Filters::new(&path, &params)),
            errors => errors,
            notice => notice(raw.as_bytes()),
            delete_action => format!("{path}/delete"),
            prune_log => "failure",
            disabled => !state.axes.settings().enable_access_failure_log,
        },
    )
}

/// `GET /failure-logs/{id}`
pub(crate) async fn detail(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let r = match state.axes.get_failure_log(&id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(&state, &ctx, "failure log entry"),
        Err(e) => return store_error(&state, &ctx, &e),
    };
    let e = &r.entry;
    let mut fields: Vec<(&str, String)> = vec![
        ("Time", time(e.attempt_time)),
        (
            "Username",
            e.key.username.clone().unwrap_or_else(|| "—".into()),
        ),
    ];
    let store_ip = state.axes.settings().store_ip_address;
    if store_ip {
        fields.push((
            "IP address",
            e.key.ip_address.clone().unwrap_or_else(|| "—".into()),
        ));
    }
    fields.extend([
        ("User agent", e.key.user_agent.clone()),
        ("Path", e.path.clone()),
        ("Accept", e.http_accept.clone()),
        (
            "Locked out",
            if e.locked_out { "yes" } else { "no" }.to_owned(),
        ),
        ("Entry id", r.id.clone()),
    ]);
    state.page(
        Some(&ctx),
        "detail.html",
        StatusCode::OK,
        context! {
            title => "Failure log entry",
            heading => "Failure log entry",
            nav => "failure_logs",
            fields => Serde(fields),
            status => (),
            locked => false,
            unlock_ip => if store_ip { e.key.ip_address.clone() } else { None },
            unlock_username => e.key.username.clone(),
            id => r.id.clone(),
            delete_action => format!("{}/failure-logs/delete", ctx.base),
            back_url => format!("{}/failure-logs", ctx.base),
            back_label => "All failure log entries",
        },
    )
}
